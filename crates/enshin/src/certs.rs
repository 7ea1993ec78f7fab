//! `enshin cert …`: clinic client certificates (AUTH-1, NET-2). Issue writes a PKCS#12 bundle
//! whose password is printed once; revocation ends the certificate's sessions at once and its
//! handshakes on every instance within `crl_reload_secs`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use enshin_core::pki::BundleCipher;
use enshin_server::Config;
use enshin_server::certs::{
    IssueRequest, expires_soon, issue, normalize_serial, revoke, validity_from_now,
};
use enshin_server::clock::{japan_time, now_ms};
use enshin_server::datadir::open_ca;
use enshin_store::files::write_new_private;
use serde_json::json;

use crate::admin::store;

/// Certificate commands.
#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a client certificate for a clinic and write it as a PKCS#12 bundle (.p12).
    Issue {
        /// The clinic's id.
        #[arg(long)]
        clinic: String,
        /// Where to write the bundle (must not exist yet; written with mode 0600).
        #[arg(long, value_name = "FILE.p12")]
        out: PathBuf,
        /// Which PC or purpose, shown to the clinic's admins [default: the file name].
        #[arg(long)]
        label: Option<String>,
        /// Validity in days [default: the client_cert_days setting, 365].
        #[arg(long)]
        days: Option<i64>,
        /// Encrypt the bundle with 3DES/SHA-1 for systems that cannot read AES bundles
        /// (macOS before 14, Windows before 10 1709).
        #[arg(long)]
        legacy: bool,
        /// Print one JSON object {"serial", "path", "password", "not_after"}.
        #[arg(long)]
        json: bool,
    },
    /// List certificates: serial, clinic, label, expiry, last use, revocation.
    List {
        /// Only this clinic's.
        #[arg(long)]
        clinic: Option<String>,
        /// Only those still in force that expire within 30 days.
        #[arg(long)]
        expiring: bool,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a certificate: its sessions end now, its handshakes stop within seconds.
    Revoke {
        /// The serial number (hex, as `cert list` prints it).
        serial: String,
        /// Why (kept with the revocation).
        #[arg(long)]
        reason: String,
    },
}

/// Runs a certificate command.
pub async fn cert(config: &Config, command: CertCommand) -> anyhow::Result<()> {
    let store = store(config).await?;
    let result = run(config, &store, command).await;
    store.close().await;
    result
}

async fn run(
    config: &Config,
    store: &enshin_store::Store,
    command: CertCommand,
) -> anyhow::Result<()> {
    match command {
        CertCommand::Issue {
            clinic,
            out,
            label,
            days,
            legacy,
            json,
        } => {
            let days = days.unwrap_or(config.client_cert_days);
            anyhow::ensure!(
                (1..=825).contains(&days),
                "--days must be from 1 to 825 (browsers refuse longer certificates)"
            );
            anyhow::ensure!(
                !out.exists(),
                "{} exists; choose another file (a bundle is never overwritten)",
                out.display()
            );
            let ca = open_ca(config)?;
            let label = label.unwrap_or_else(|| {
                out.file_stem()
                    .map_or_else(|| "PC".into(), |s| s.to_string_lossy().into_owned())
            });
            let (not_before, not_after) = validity_from_now(days);
            let cipher = if legacy {
                BundleCipher::Legacy
            } else {
                BundleCipher::Modern
            };
            let request = IssueRequest {
                clinic_id: &clinic,
                label: &label,
                not_before,
                not_after,
                cipher,
            };
            let bundle = issue(store, &ca, &request).await?;
            write_new_private(&out, &bundle.pkcs12)
                .with_context(|| format!("writing {}", out.display()))?;
            let not_after_ms = bundle.issued.not_after.unix_timestamp() * 1000;
            if json {
                say!(
                    "{}",
                    json!({
                        "serial": bundle.issued.serial_hex,
                        "path": out,
                        "password": *bundle.password,
                        "not_after": not_after_ms,
                    })
                );
            } else {
                say!(
                    "issued certificate {} for clinic {clinic} (\"{label}\"), valid until {} (Japan time)",
                    bundle.issued.serial_hex,
                    japan_time(not_after_ms)
                );
                say!("bundle: {} (mode 0600)", out.display());
                say!(
                    "bundle password (shown once, stored nowhere): {}",
                    *bundle.password
                );
                say!("give the bundle and the password to the clinic by different channels");
            }
            Ok(())
        }
        CertCommand::List {
            clinic,
            expiring,
            json,
        } => {
            let now = now_ms();
            let certs: Vec<_> = store
                .list_certificates(clinic.as_deref())
                .await?
                .into_iter()
                .filter(|c| !expiring || expires_soon(c, now))
                .collect();
            if json {
                let rows: Vec<_> = certs
                    .iter()
                    .map(|c| {
                        json!({
                            "serial": c.serial,
                            "clinic_id": c.clinic_id,
                            "label": c.label,
                            "not_after": c.not_after,
                            "issued_at": c.issued_at,
                            "last_used_at": c.last_used_at,
                            "revoked_at": c.revoked_at,
                            "revoked_reason": c.revoked_reason,
                            "expires_soon": expires_soon(c, now),
                        })
                    })
                    .collect();
                say!("{}", serde_json::Value::Array(rows));
                return Ok(());
            }
            if certs.is_empty() {
                say!("no certificates");
            }
            for c in &certs {
                let state = match (&c.revoked_at, c.not_after <= now) {
                    (Some(at), _) => format!("revoked {}", japan_time(*at)),
                    (None, true) => "expired".to_owned(),
                    (None, false) if expires_soon(c, now) => "EXPIRES SOON".to_owned(),
                    (None, false) => "in force".to_owned(),
                };
                let used = c.last_used_at.map_or_else(|| "never".into(), japan_time);
                say!(
                    "{}  clinic {}  \"{}\"  until {}  last used {}  {}",
                    c.serial,
                    c.clinic_id,
                    c.label,
                    japan_time(c.not_after),
                    used,
                    state
                );
            }
            Ok(())
        }
        CertCommand::Revoke { serial, reason } => {
            let normalized = normalize_serial(&serial)
                .with_context(|| format!("\"{serial}\" is not a serial number (hex)"))?;
            let ended = revoke(store, &normalized, &reason).await?;
            say!(
                "revoked {normalized}; {ended} session(s) ended; every instance refuses it within {} s",
                config.crl_reload.as_secs()
            );
            Ok(())
        }
    }
}
