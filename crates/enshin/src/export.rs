//! `enshin clinic export` and `enshin verify export`: the operator's export of a clinic's whole
//! data set on the clinic's written request (DATA-6), and the check of any export's ZIP.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use enshin_core::audit::entry::Outcome;
use enshin_core::export::{Requested, request_reference};
use enshin_server::audit::{event_entry, load_or_create_key};
use enshin_server::config::Config;
use enshin_server::datadir::open_keyring;
use enshin_server::export::{Progress, Source, verify_zip, write_export};
use enshin_store::Store;
use enshin_store::audit::AuditStore;

use crate::audit::record_cli_entry;
use crate::signer::{conclude, standing};

/// Arguments of `clinic export`.
#[derive(Args)]
pub struct ExportArgs {
    /// The clinic's id.
    id: String,
    /// The reference of the clinic's written request (its letter's number: letters, digits,
    /// `-_./`); recorded in the access log, which the clinic's admin sees, and in the manifest.
    #[arg(long)]
    request: String,
    /// The ZIP to write; it must not exist [default: ./enshin-export-ID.zip].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `clinic export`: writes the ZIP under a temporary name, records the export in the access
/// log, and only then gives the file its name.
pub async fn export(config: &Config, store: &Store, args: ExportArgs) -> anyhow::Result<()> {
    let reference = request_reference(&args.request)?;
    let clinic_name = store.clinic_name(&args.id).await?.with_context(|| {
        format!(
            "no clinic {} (a deleted clinic has nothing left to export)",
            args.id
        )
    })?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("enshin-export-{}.zip", args.id)));
    anyhow::ensure!(
        !out.exists(),
        "{} exists: give another --out",
        out.display()
    );
    let partial = out.with_extension("zip.partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let keyring = open_keyring(config)?;
    let signer = load_or_create_key(&config.data_dir.join("audit-cli.key"))?;
    let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("exporting {bar:30} {pos}/{len} patients")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |p: Progress| {
        bar.set_length(p.patients as u64);
        bar.set_position(p.done as u64);
    };
    let source = Source {
        store,
        keyring: &keyring,
    };
    let requested = Requested {
        by: "operator".into(),
        principal: operator.clone(),
        reference: Some(reference.clone()),
    };
    // Reached before the export is made, so an unreachable access log costs no work.
    let audit = AuditStore::connect(&config.audit_database_url()).await?;
    audit.migrate().await?;
    let written = write_export(&source, &args.id, requested, &signer, &file, &mut progress).await;
    bar.finish_and_clear();
    let exported = match written {
        Ok(e) => e,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("the export failed: {}", e.message);
        }
    };
    file.sync_all()?;
    let entry = enshin_core::audit::entry::Entry {
        target_type: Some("clinic".into()),
        target_id: Some(args.id.clone()),
        clinic_id: Some(args.id.clone()),
        principal_id: Some(operator),
        principal_kind: Some("operator".into()),
        access: Some(format!("written_request:{reference}")),
        subjects: exported.patients.clone(),
        outcome: Outcome::Allowed,
        ..event_entry("cli", "clinic_exported")
    };
    if let Err(e) = record_cli_entry(config, audit, entry).await {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context("the export was not recorded in the access log, so it was removed"));
    }
    std::fs::rename(&partial, &out).with_context(|| format!("naming {}", out.display()))?;
    say!(
        "clinic {} ({}) exported on written request {}: {} patient(s), {} file(s), {} bytes → {}",
        args.id,
        clinic_name,
        reference,
        exported.patients.len(),
        exported.files.len(),
        std::fs::metadata(&out).map(|m| m.len()).unwrap_or_default(),
        out.display()
    );
    Ok(())
}

/// Runs `verify export FILE`: exit 0 when whole and signed by this service, 1 otherwise.
pub async fn verify(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let zip = std::fs::File::open(file).with_context(|| format!("reading {}", file.display()))?;
    let manifest = match verify_zip(zip) {
        Ok(m) => m,
        Err(problems) => {
            for p in problems {
                say!("NOT VALID: {p}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let whole = format!(
        "{} file(s) match the manifest; clinic {} ({})",
        manifest.files.len(),
        manifest.clinic_id,
        manifest.clinic_name
    );
    let standing = standing(config, &manifest.signer, &manifest.public_key).await;
    Ok(conclude(standing, &manifest.signer, &whole))
}
