//! `enshin audit …`: verify the access log, prove an entry's inclusion, check a proof offline
//! (LOG-4). Reading the log is an operator's task (LOG-3); these commands read, never write.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use enshin_core::audit::proof::InclusionProof;
use enshin_server::Config;
use enshin_server::audit::writer_id;
use enshin_server::audit_verify::{prove, verify};
use enshin_store::audit::AuditStore;
use serde_json::json;

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
