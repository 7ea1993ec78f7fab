//! `enshin backup …`: take a backup of the embedded default now, list the backups, verify them.

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;
use enshin_server::Config;
use enshin_server::backup::{backup_now, list, verify};
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
            let made = backup_now(config).await?;
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
