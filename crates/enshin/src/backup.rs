//! `enshin backup …`: take a backup of the embedded default now, list the backups, verify them.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use enshin_server::Config;
use enshin_server::backup::{Pick, backup_now, drill, list, verify};
use serde_json::json;

/// `enshin backup …`
#[derive(Subcommand)]
pub enum BackupCommand {
    /// Back up the database and the access log now (and the keyring, apart); safe while serve runs.
    Now {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the backups, oldest first.
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore the newest backup into a scratch directory and report what a real restore would
    /// give: recovery time and point, integrity, access-log verification, rows per clinic.
    Drill {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a backup (or all) completely: manifest, hashes, every encrypted chunk; exit 1 on damage.
    Verify {
        /// The backup's name (as listed); all when absent.
        backup: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Runs a backup command: exit 1 when verify found damage.
pub async fn backup(config: &Config, command: BackupCommand) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        BackupCommand::Now { json } => {
            let made = match backup_now(config).await {
                Ok(made) => made,
                Err(e) => {
                    enshin_server::backup::record_failure(config);
                    return Err(e.into());
                }
            };
            let bytes: u64 = made.files.iter().map(|f| f.bytes).sum();
            if json {
                let _ = writeln!(
                    out,
                    "{}",
                    json!({
                        "id": made.id,
                        "dir": made.dir,
                        "keyring_dir": made.keyring_dir,
                        "bytes": bytes,
                        "took_ms": made.took_ms,
                    })
                );
            } else {
                let _ = writeln!(
                    out,
                    "backup {} written to {} ({bytes} bytes, {} ms); keyring copied to {}",
                    made.id,
                    made.dir.display(),
                    made.took_ms,
                    made.keyring_dir.display()
                );
                let _ = writeln!(
                    out,
                    "keep the master key ({}) safe and apart from both: without it no backup can be read",
                    config.master_key_file.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::List { json } => {
            let listed = list(config)?;
            if json {
                let list: Vec<_> = listed
                    .iter()
                    .map(|l| json!({ "id": l.id, "created_at": time(l.created_at), "bytes": l.bytes, "keyring": l.keyring }))
                    .collect();
                let _ = writeln!(out, "{}", json!({ "backups": list }));
            } else if listed.is_empty() {
                let _ = writeln!(out, "no backups in {}", config.backup_dir.display());
            } else {
                for l in &listed {
                    let keyring = if l.keyring {
                        ""
                    } else {
                        "  (no keyring backup)"
                    };
                    let _ = writeln!(
                        out,
                        "{}  {}  {} bytes{keyring}",
                        l.id,
                        time(l.created_at),
                        l.bytes
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Drill { json } => {
            let d = drill(config).await?;
            let ok = d.integrity == "ok" && d.access_log_ok;
            if json {
                let clinics: Vec<_> = d
                    .clinics
                    .iter()
                    .map(|c| json!({ "id": c.id, "name": c.name, "patients": c.patients, "appointments": c.appointments, "notes": c.notes }))
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    json!({
                        "ok": ok,
                        "backup": d.id,
                        "rpo_ms": d.age_ms,
                        "rto_ms": d.restore_ms,
                        "integrity": d.integrity,
                        "schema_version": d.schema_version,
                        "access_log_ok": d.access_log_ok,
                        "access_log_entries": d.access_log_entries,
                        "clinics": clinics,
                    })
                );
            } else {
                let _ = writeln!(out, "drill of backup {}", d.id);
                let _ = writeln!(
                    out,
                    "  recovery point: the backup was {} s old",
                    d.age_ms / 1000
                );
                let _ = writeln!(
                    out,
                    "  recovery time: restored and migrated in {} ms",
                    d.restore_ms
                );
                let _ = writeln!(out, "  database integrity: {}", d.integrity);
                let _ = writeln!(out, "  schema version: {}", d.schema_version);
                let _ = writeln!(
                    out,
                    "  access log: {} entries, {}",
                    d.access_log_entries,
                    if d.access_log_ok {
                        "verifies"
                    } else {
                        "DOES NOT VERIFY"
                    }
                );
                for c in &d.clinics {
                    let _ = writeln!(
                        out,
                        "  clinic {} {}: {} patients, {} appointments, {} notes",
                        c.id, c.name, c.patients, c.appointments, c.notes
                    );
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        BackupCommand::Verify { backup, json } => {
            let results = verify(config, backup.as_deref()).await?;
            let ok = results.iter().all(|(_, problems)| problems.is_empty());
            if json {
                let list: Vec<_> = results
                    .iter()
                    .map(|(id, problems)| json!({ "id": id, "ok": problems.is_empty(), "problems": problems }))
                    .collect();
                let _ = writeln!(out, "{}", json!({ "ok": ok, "backups": list }));
            } else {
                for (id, problems) in &results {
                    if problems.is_empty() {
                        let _ = writeln!(out, "{id}: intact");
                    }
                    for p in problems {
                        let _ = writeln!(out, "{id}: DAMAGED: {p}");
                    }
                }
                if results.is_empty() {
                    let _ = writeln!(out, "no backups in {}", config.backup_dir.display());
                }
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// `enshin restore`: which backup, and whether the access log goes back too.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup's name (as `backup list` shows it).
    #[arg(conflicts_with_all = ["latest", "before"], required_unless_present_any = ["latest", "before"])]
    backup: Option<String>,
    /// The newest backup.
    #[arg(long)]
    latest: bool,
    /// The newest backup taken before this time (RFC 3339, e.g. 2026-11-28T09:00:00+09:00).
    #[arg(long, value_name = "TIME", conflicts_with = "latest")]
    before: Option<String>,
    /// Also put back the access log as it was (only when the live one is lost: entries written
    /// after the backup are then gone, and `audit verify` will say so against the checkpoint file).
    #[arg(long)]
    with_access_log: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Restores a backup over the data directory (stop `serve` first).
pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let before = match &args.before {
        Some(text) => Some(
            text.parse::<jiff::Timestamp>()
                .map_err(|e| anyhow::anyhow!("--before {text}: not an RFC 3339 time ({e})"))?
                .as_millisecond(),
        ),
        None => None,
    };
    let which = match (&args.backup, before) {
        (Some(name), _) => Pick::Named(name),
        (None, Some(ms)) => Pick::Before(ms),
        (None, None) => Pick::Latest,
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("restoring {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let restored =
        enshin_server::backup::restore(config, which, args.with_access_log, &progress).await;
    bar.finish_and_clear();
    let r = restored?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            json!({
                "id": r.id,
                "taken_at": time(r.created_at),
                "took_ms": r.took_ms,
                "replaced_dir": r.replaced_dir,
                "keys_restored": r.keys_restored,
                "keys_kept_destroyed": r.keys_kept_destroyed,
                "access_log": r.access_log,
            })
        );
    } else {
        let _ = writeln!(
            out,
            "restored backup {} (taken {}) in {} ms; the replaced files are in {}",
            r.id,
            time(r.created_at),
            r.took_ms,
            r.replaced_dir.display()
        );
        if !r.keys_restored.is_empty() {
            let _ = writeln!(out, "clinic keys put back: {}", r.keys_restored.join(", "));
        }
        if !r.keys_kept_destroyed.is_empty() {
            let _ = writeln!(
                out,
                "clinic keys that stay destroyed (their data stays unreadable): {}",
                r.keys_kept_destroyed.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "{}; run `enshin audit verify` and `enshin records verify`, then start serve",
            if r.access_log {
                "the access log was put back too: entries after the backup are gone"
            } else {
                "the access log was kept as it is"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
