//! `enshin audit …`: verify the access log, prove an entry's inclusion, check a proof offline
//! (LOG-4). Reading the log is an operator's task (LOG-3); these commands read, never write.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use enshin_core::audit::entry::{Entry, Outcome, Sealed};
use enshin_core::audit::proof::InclusionProof;
use enshin_core::audit::review::{Known, Review, review};
use enshin_server::Config;
use enshin_server::audit::{event_entry, load_or_create_key, start, writer_id};
use enshin_server::audit_verify::{prove, verify};
use enshin_store::audit::{AuditFilter, AuditStore, Position};
use serde_json::json;

/// Search filters.
#[derive(clap::Args)]
pub struct FilterArgs {
    /// First day, YYYY-MM-DD (Japan time) [default: the beginning].
    #[arg(long)]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (Japan time), included [default: today].
    #[arg(long)]
    to: Option<String>,
    /// Only this clinic's entries.
    #[arg(long)]
    clinic: Option<String>,
    /// Only this principal's (account id).
    #[arg(long)]
    principal: Option<String>,
    /// Only entries about this target id.
    #[arg(long)]
    target: Option<String>,
    /// Only this outcome.
    #[arg(long, value_parser = ["allowed", "denied", "failed"])]
    outcome: Option<String>,
}

fn period(from: Option<&str>, to: Option<&str>) -> anyhow::Result<(i64, i64)> {
    let first = from.map(japan_day_start).transpose()?.unwrap_or(0);
    let last = match to {
        Some(day) => japan_day_start(day)?,
        None => japan_day_start(&enshin_server::clock::today_in_japan())?,
    };
    anyhow::ensure!(first <= last, "--from must not be after --to");
    Ok((first, last + DAY_MS))
}

impl FilterArgs {
    fn filter(&self) -> anyhow::Result<AuditFilter> {
        let (from, to) = period(self.from.as_deref(), self.to.as_deref())?;
        Ok(AuditFilter {
            from,
            to,
            clinic_id: self.clinic.clone(),
            principal_id: self.principal.clone(),
            target_id: self.target.clone(),
            outcome: self.outcome.clone(),
        })
    }
}

/// Records an operator's command-line action (a reading of the log, a clinic's termination)
/// through the command line's own designated writer.
pub(crate) async fn record_cli_action(
    config: &Config,
    store: AuditStore,
    action: &str,
    target: (&str, String),
) -> anyhow::Result<()> {
    let reviewer = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let entry = Entry {
        target_type: Some(target.0.into()),
        target_id: Some(target.1),
        principal_id: Some(reviewer),
        principal_kind: Some("operator".into()),
        outcome: Outcome::Allowed,
        ..event_entry("cli", action)
    };
    record_cli_entry(config, store, entry).await
}

/// Records `entry` through the command line's own writer and waits until it is durable.
pub(crate) async fn record_cli_entry(
    config: &Config,
    store: AuditStore,
    entry: Entry,
) -> anyhow::Result<()> {
    let key = load_or_create_key(&config.data_dir.join("audit-cli.key"))?;
    let (log, task) = start(store, key, config.data_dir.join("audit-checkpoints.log")).await?;
    log.record(entry).await?;
    drop(log);
    task.await?;
    Ok(())
}

/// Access-log commands.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every writer's tree, check the chain and the signed checkpoints; exit 1 and
    /// name the first bad index on any edit, deletion, insertion, reordering or truncation.
    Verify {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print an inclusion proof of one entry (JSON) that `check-proof` verifies offline.
    Prove {
        /// The entry's index in its writer's log.
        index: u64,
        /// The writer (needed when several instances wrote).
        #[arg(long)]
        writer: Option<String>,
    },
    /// Check an inclusion proof made by `prove`, without the database.
    CheckProof {
        /// The proof file (JSON).
        file: PathBuf,
    },
    /// Search the log (LOG-3): by time, clinic, principal, target, outcome; a page at a time.
    Search {
        #[command(flatten)]
        filter: FilterArgs,
        /// Entries per page.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this position (printed at the end of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Export one clinic's entries for an incident investigation, as JSON Lines or as a FHIR R4
    /// AuditEvent Bundle (mode 0600); the export is recorded.
    Export {
        /// The clinic.
        #[arg(long)]
        clinic: String,
        /// First day, YYYY-MM-DD (Japan time) [default: the beginning].
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (Japan time), included [default: today].
        #[arg(long)]
        to: Option<String>,
        /// `jsonl` or `fhir`.
        #[arg(long, value_parser = ["jsonl", "fhir"])]
        format: String,
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// The periodic review (LOG-6): per clinic, volume, off-hours access, bulk reads, repeated
    /// failures, new certificates and addresses, refused certificates. The review is recorded.
    Review {
        /// First day, YYYY-MM-DD (Japan time).
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD (Japan time), included.
        #[arg(long)]
        to: String,
        /// Also write the report as HTML to this file.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
}

async fn store(config: &Config) -> anyhow::Result<AuditStore> {
    enshin_server::datadir::ensure_database_dir(config)?;
    let store = AuditStore::connect(&config.audit_database_url()).await?;
    store.migrate().await?;
    Ok(store)
}

/// Runs an audit command: exit 1 when it ran and found a problem.
pub async fn audit(config: &Config, command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { json } => {
            let store = store(config).await?;
            let report = verify(&store, &config.data_dir.join("audit-checkpoints.log")).await;
            store.close().await;
            let report = report?;
            if json {
                let writers: Vec<_> = report
                    .writers
                    .iter()
                    .map(|(w, r)| {
                        json!({
                            "writer": w,
                            "entries": r.entries,
                            "checkpoints": r.checkpoints,
                            "signed_size": r.last_signed.map(|(s, _)| s),
                            "problem": r.finding.as_ref().map(|f| f.to_string()),
                            "first_bad_index": r.finding.as_ref().map(|f| f.index()),
                        })
                    })
                    .collect();
                say!(
                    "{}",
                    json!({
                        "ok": report.ok(),
                        "writers": writers,
                        "unreadable_checkpoint_file_lines": report.unreadable_file_lines,
                    })
                );
            } else {
                for (writer, r) in &report.writers {
                    match &r.finding {
                        None => say!(
                            "writer {writer}: {} entries, {} signed checkpoints, OK (signed up to {})",
                            r.entries,
                            r.checkpoints,
                            r.last_signed.map_or(0, |(s, _)| s)
                        ),
                        Some(finding) => say!(
                            "writer {writer}: TAMPERED: {finding} (first bad index {})",
                            finding.index()
                        ),
                    }
                }
                for line in &report.unreadable_file_lines {
                    say!("checkpoint file line {line}: not a checkpoint (TAMPERED?)");
                }
                if report.writers.is_empty() {
                    say!("the access log is empty");
                }
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AuditCommand::Prove { index, writer } => {
            let store = store(config).await?;
            let proof = prove(&store, writer.as_deref(), index).await;
            store.close().await;
            say!("{}", serde_json::to_string_pretty(&proof?)?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Review { from, to, html } => run_review(config, &from, &to, html).await,
        AuditCommand::Search {
            filter,
            limit,
            after,
            json,
        } => {
            let filter = filter.filter()?;
            let after = after
                .as_deref()
                .map(|a| {
                    a.parse::<Position>().map_err(|()| {
                        anyhow::anyhow!("--after is the position printed by the previous page")
                    })
                })
                .transpose()?;
            let store = store(config).await?;
            let page = store
                .search(&filter, after.as_ref(), limit.clamp(1, 10_000))
                .await;
            store.close().await;
            let page = page?;
            for (_, body) in &page {
                let Some(s) = Sealed::from_bytes(body.as_bytes()) else {
                    continue;
                };
                if json {
                    say!("{body}");
                } else {
                    let e = &s.entry;
                    say!(
                        "{}  {} {}  {} {}  {}  {}  clinic {}  target {}  from {}",
                        enshin_server::clock::japan_time(e.at_ms),
                        e.listener,
                        e.action,
                        e.status,
                        e.outcome.as_str(),
                        e.principal_id.as_deref().unwrap_or("-"),
                        e.role.as_deref().unwrap_or("-"),
                        e.clinic_id.as_deref().unwrap_or("-"),
                        e.target_id.as_deref().unwrap_or("-"),
                        e.source.as_deref().unwrap_or("-"),
                    );
                }
            }
            if page.len() as u32 == limit.clamp(1, 10_000)
                && let Some((position, _)) = page.last()
            {
                eprintln!("more: --after {position}");
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export {
            clinic,
            from,
            to,
            format,
            out,
        } => {
            anyhow::ensure!(
                !out.exists(),
                "{} exists; choose another file",
                out.display()
            );
            let (from_ms, to_ms) = period(from.as_deref(), to.as_deref())?;
            let filter = AuditFilter {
                from: from_ms,
                to: to_ms,
                clinic_id: Some(clinic.clone()),
                ..AuditFilter::default()
            };
            let store = store(config).await?;
            let mut entries = Vec::new();
            let mut after: Option<Position> = None;
            loop {
                let page = store.search(&filter, after.as_ref(), 10_000).await?;
                let Some((position, _)) = page.last() else {
                    break;
                };
                after = Some(position.clone());
                entries.extend(
                    page.into_iter()
                        .filter_map(|(_, b)| Sealed::from_bytes(b.as_bytes())),
                );
            }
            let text = if format == "fhir" {
                serde_json::to_string_pretty(&enshin_core::audit::fhir::bundle(
                    &entries,
                    enshin_server::clock::now_ms(),
                ))?
            } else {
                entries
                    .iter()
                    .map(|s| String::from_utf8_lossy(&s.to_bytes()).into_owned() + "\n")
                    .collect()
            };
            enshin_store::files::write_new_private(&out, text.as_bytes())
                .with_context(|| format!("writing {}", out.display()))?;
            say!(
                "exported {} entries of clinic {clinic} to {} ({format})",
                entries.len(),
                out.display()
            );
            record_cli_action(config, store, "audit_export", ("clinic", clinic)).await?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::CheckProof { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let proof: InclusionProof =
                serde_json::from_str(&text).context("the file is not an inclusion proof")?;
            match proof.check(writer_id) {
                Ok(()) => {
                    say!(
                        "OK: entry {} is in writer {}'s log as signed at size {}",
                        proof.index,
                        proof.writer,
                        proof.size
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    say!("NOT VALID: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// A day `YYYY-MM-DD` in Japan as unix ms at its start.
fn japan_day_start(day: &str) -> anyhow::Result<i64> {
    enshin_server::clock::japan_day_start(day)
        .with_context(|| format!("\"{day}\" is not a date written YYYY-MM-DD"))
}

const DAY_MS: i64 = 86_400_000;
/// Certificates and addresses count as new if not seen in this many days before the period.
const LOOK_BACK_DAYS: i64 = 90;

fn parse_entries(bodies: Vec<String>) -> impl Iterator<Item = enshin_core::audit::entry::Entry> {
    bodies
        .into_iter()
        .filter_map(|b| Sealed::from_bytes(b.as_bytes()).map(|s| s.entry))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn review_lines(review: &Review) -> Vec<(String, Vec<String>)> {
    review
        .clinics
        .iter()
        .map(|(clinic, r)| {
            let name = clinic.as_deref().map_or_else(
                || "(no clinic: patients, unknown log-ins, TLS)".to_owned(),
                |c| format!("clinic {c}"),
            );
            let mut lines = vec![
                format!(
                    "requests {}, refused {}, failed {}",
                    r.total, r.denied, r.failed
                ),
                format!("outside 07:00-21:00 Japan time: {}", r.off_hours),
                format!(
                    "client certificates refused at the handshake: {}",
                    r.refused_certificates
                ),
            ];
            for (who, n) in &r.bulk_readers {
                lines.push(format!("BULK READ: {who} read {n} distinct records"));
            }
            for (who, n) in &r.repeated_failures {
                lines.push(format!("REPEATED FAILURES: {who}: {n}"));
            }
            for serial in &r.new_certificates {
                lines.push(format!("new certificate: {serial}"));
            }
            for address in &r.new_addresses {
                lines.push(format!("new address: {address}"));
            }
            (name, lines)
        })
        .collect()
}

async fn run_review(
    config: &Config,
    from: &str,
    to: &str,
    html: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let (first, end) = (japan_day_start(from)?, japan_day_start(to)? + DAY_MS);
    anyhow::ensure!(first < end, "--from must not be after --to");
    let store = store(config).await?;
    let mut known = Known::default();
    for entry in parse_entries(
        store
            .entries_between(first - LOOK_BACK_DAYS * DAY_MS, first)
            .await?,
    ) {
        known.note(&entry);
    }
    let report = review(
        parse_entries(store.entries_between(first, end).await?),
        &known,
    );
    let sections = review_lines(&report);
    say!("access review {from} to {to} (Japan time)");
    for (name, lines) in &sections {
        say!("\n{name}");
        for line in lines {
            say!("  {line}");
        }
    }
    if sections.is_empty() {
        say!("no access in this period");
    }
    if let Some(path) = &html {
        let mut page = format!(
            "<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>アクセスログ点検 {from}〜{to}</title>\
             <h1>アクセスログ点検 / Access review {from} – {to}</h1>"
        );
        for (name, lines) in &sections {
            page.push_str(&format!("<h2>{}</h2><ul>", escape(name)));
            for line in lines {
                let flagged = line.starts_with("BULK") || line.starts_with("REPEATED");
                page.push_str(&format!(
                    "<li{}>{}</li>",
                    if flagged {
                        " style=\"color:#b3261e;font-weight:bold\""
                    } else {
                        ""
                    },
                    escape(line)
                ));
            }
            page.push_str("</ul>");
        }
        page.push_str("</html>\n");
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
        say!("\nHTML report: {}", path.display());
    }
    // The review itself is an access to the log and is recorded (LOG-6).
    record_cli_action(
        config,
        store,
        "audit_review",
        ("period", format!("{from}..{to}")),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}
