//! `enshin clinic terminate` and `enshin verify deletion-certificate`: a clinic leaving the
//! service (DATA-5), and the check of the certificate that proves it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use enshin_core::exit::Certificate;
use enshin_server::audit::load_or_create_key;
use enshin_server::clock::now_ms;
use enshin_server::config::Config;
use enshin_server::datadir::open_keyring;
use enshin_server::exit::{certificate_html, delete_clinic, give_notice, withdraw_notice};
use enshin_store::Store;
use enshin_store::audit::AuditStore;

use crate::audit::record_cli_action;
use crate::signer::{Standing, standing};

/// Arguments of `clinic terminate`.
#[derive(Args)]
pub struct TerminateArgs {
    /// The clinic's id.
    id: String,
    /// Step 1, the notice: the termination date (YYYY-MM-DD, Japan). The clinic keeps working
    /// and can export until then; giving it again moves the date.
    #[arg(long, conflicts_with_all = ["delete", "withdraw"])]
    on: Option<String>,
    /// Withdraw the notice (the clinic asked in writing to stay); refused once deletion began.
    #[arg(long, conflicts_with = "delete")]
    withdraw: bool,
    /// Step 2, on or after that date: delete the clinic's rows, destroy its data key in the
    /// keyring and every keyring backup, and write the signed deletion certificate.
    #[arg(long)]
    delete: bool,
    /// Where the certificate goes (JSON and printable HTML); default DATA_DIR/deletion-certificates.
    #[arg(long, requires = "delete")]
    out: Option<PathBuf>,
}

/// Runs `clinic terminate`.
pub async fn terminate(config: &Config, store: &Store, args: TerminateArgs) -> anyhow::Result<()> {
    let by = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let now = now_ms();
    let audit = AuditStore::connect(&config.audit_database_url()).await?;
    audit.migrate().await?;
    if let Some(date) = &args.on {
        let t = give_notice(store, &args.id, date, &by, now).await?;
        record_cli_action(
            config,
            audit,
            "clinic_termination_noticed",
            ("clinic", args.id.clone()),
        )
        .await?;
        say!(
            "clinic {} ({}) terminates on {} (Japan): it can export until then; delete with `enshin clinic terminate {} --delete` on or after that date",
            t.clinic_id,
            t.clinic_name,
            t.effective_on,
            t.clinic_id
        );
        return Ok(());
    }
    if args.withdraw {
        withdraw_notice(store, &args.id).await?;
        record_cli_action(
            config,
            audit,
            "clinic_termination_withdrawn",
            ("clinic", args.id.clone()),
        )
        .await?;
        say!("clinic {}: termination withdrawn; it stays", args.id);
        return Ok(());
    }
    anyhow::ensure!(
        args.delete,
        "give the termination date (--on YYYY-MM-DD), --withdraw, or on or after the date --delete"
    );
    let keyring = open_keyring(config)?;
    let signer = load_or_create_key(&config.data_dir.join("audit-cli.key"))?;
    let certificate = delete_clinic(config, store, &keyring, &args.id, &signer, now).await?;
    record_cli_action(config, audit, "clinic_deleted", ("clinic", args.id.clone())).await?;
    let dir = args
        .out
        .unwrap_or_else(|| config.data_dir.join("deletion-certificates"));
    let written = write_certificate(&dir, &certificate)?;
    let c = &certificate.body;
    say!(
        "clinic {} ({}) deleted: {} row(s); data key destroyed in the keyring and {} keyring backup(s)",
        c.clinic_id,
        c.clinic_name,
        c.deleted.values().sum::<u64>(),
        c.keyring_copies_destroyed.len()
    );
    if !c.backups_with_ciphertext.is_empty() {
        say!(
            "{} data backup(s) still hold its rows as ciphertext no key opens",
            c.backups_with_ciphertext.len()
        );
    }
    for path in written {
        say!("certificate: {}", path.display());
    }
    Ok(())
}

fn write_certificate(dir: &Path, certificate: &Certificate) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = format!("deletion-certificate-{}", certificate.body.clinic_id);
    let json = dir.join(format!("{stem}.json"));
    let html = dir.join(format!("{stem}.html"));
    std::fs::write(&json, serde_json::to_string_pretty(certificate)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    std::fs::write(&html, certificate_html(certificate))
        .with_context(|| format!("writing {}", html.display()))?;
    Ok(vec![json, html])
}

/// `enshin verify …`: checks of documents the service signed.
#[derive(Subcommand)]
pub enum VerifyCommand {
    /// Check a deletion certificate's signature, and that its key is a writer of this
    /// service's access log (when the database is reachable); exit 1 if not.
    DeletionCertificate {
        /// The certificate (JSON).
        file: PathBuf,
    },
    /// Check a clinic's export (ZIP): the manifest's signature and key as above, and every
    /// file against its SHA-256; exit 1 and name each missing, extra or altered file.
    Export {
        /// The export (ZIP).
        file: PathBuf,
    },
    /// Check a published revision of the conformance disclosure (its signed JSON): the
    /// signature over the document, and its key as above; exit 1 if not.
    Disclosure {
        /// The signed JSON (`/disclosure.json`).
        file: PathBuf,
    },
}

/// Runs `enshin verify`.
pub async fn verify(config: &Config, command: VerifyCommand) -> anyhow::Result<ExitCode> {
    let file = match command {
        VerifyCommand::DeletionCertificate { file } => file,
        VerifyCommand::Export { file } => return crate::export::verify(config, &file).await,
        VerifyCommand::Disclosure { file } => return crate::disclose::verify(config, &file).await,
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let certificate: Certificate = match serde_json::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            say!("NOT VALID: not a deletion certificate ({e})");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Err(e) = certificate.verify() {
        say!("NOT VALID: {e}");
        return Ok(ExitCode::FAILURE);
    }
    let c = &certificate.body;
    match standing(config, &c.signer, &c.public_key).await {
        Standing::Writer => {
            say!(
                "valid: signed by access-log writer {} of this service; clinic {} ({}) deleted at {}",
                c.signer,
                c.clinic_id,
                c.clinic_name,
                jiff::Timestamp::from_millisecond(c.deleted_at)
                    .map_or_else(|_| c.deleted_at.to_string(), |t| t.to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        Standing::Stranger => {
            say!(
                "NOT VALID: the signature holds, but key {} is not a writer of this service's access log",
                c.signer
            );
            Ok(ExitCode::FAILURE)
        }
        Standing::Unchecked => {
            say!(
                "signature valid; the signer {} was not checked against the access log (database not reachable)",
                c.signer
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
