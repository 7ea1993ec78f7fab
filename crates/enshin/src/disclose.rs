//! `enshin disclose`: the conformance disclosure generated from this deployment (DISC-1), and
//! `enshin verify disclosure`: the check of a published revision's signed JSON.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use enshin_core::audit::entry::Outcome;
use enshin_core::disclosure::{Lang, Signed, markdown};
use enshin_core::password::CommonPasswords;
use enshin_server::app::Addrs;
use enshin_server::audit::{event_entry, load_or_create_key};
use enshin_server::config::Config;
use enshin_server::datadir::open_keyring;
use enshin_server::disclosure::{Sources, generate, publish};
use enshin_store::Store;
use enshin_store::audit::AuditStore;

use crate::audit::record_cli_entry;
use crate::signer::{conclude, standing};

/// The document's form.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// One HTML file with its style inside.
    Html,
    /// The JSON document (both languages), as published revisions keep it.
    Json,
}

/// The document's language.
#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    /// 日本語 (the document of record).
    Ja,
    /// English.
    En,
}

/// Arguments of `disclose`.
#[derive(Args)]
pub struct DiscloseArgs {
    /// The document's form.
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    /// The language of md and html.
    #[arg(long, value_enum, default_value = "ja")]
    lang: LangArg,
    /// Also keep the document as the next published revision, signed with the command line's
    /// access-log key (clinics and patients see the newest revision).
    #[arg(long)]
    publish: bool,
    /// Write the document to FILE instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The listeners of the running instance (its ports.json), or else the configured addresses.
fn listener_addrs(config: &Config) -> Addrs {
    let configured = Addrs {
        patient: config.patient_addr,
        clinic: config.clinic_addr,
        operator: config.operator_addr,
    };
    let Ok(text) = std::fs::read_to_string(config.data_dir.join("ports.json")) else {
        return configured;
    };
    let Ok(ports) = serde_json::from_str::<serde_json::Value>(&text) else {
        return configured;
    };
    let addr = |name: &str, fallback: SocketAddr| {
        ports[name]["address"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or(fallback)
    };
    Addrs {
        patient: addr("patient", configured.patient),
        clinic: addr("clinic", configured.clinic),
        operator: addr("operator", configured.operator),
    }
}

/// Runs `disclose`: exit 0 when the document shows no non-conformance, 1 when it does (so a
/// scheduled run can raise an alarm).
pub async fn disclose(config: &Config, args: DiscloseArgs) -> anyhow::Result<ExitCode> {
    enshin_server::datadir::ensure_database_dir(config)?;
    let store = Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    let audit = AuditStore::connect(&config.audit_database_url()).await?;
    audit.migrate().await?;
    let keyring = open_keyring(config).map_err(|e| e.to_string());
    let ca_pem =
        std::fs::read_to_string(config.data_dir.join("pki").join("ca.crt")).unwrap_or_default();
    let common = CommonPasswords::bundled();
    let sources = Sources {
        config,
        store: &store,
        audit_store: &audit,
        keyring: keyring.as_ref().map_err(Clone::clone),
        ca_pem: &ca_pem,
        addrs: listener_addrs(config),
        common_passwords: &common,
    };
    let mut doc = generate(&sources).await;
    if args.publish {
        let key = load_or_create_key(&config.data_dir.join("audit-cli.key"))?;
        let operator = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let stored = publish(&store, doc, &key, &format!("cli:{operator}")).await?;
        let entry = enshin_core::audit::entry::Entry {
            target_type: Some("disclosure".into()),
            target_id: Some(stored.revision.to_string()),
            principal_id: Some(operator),
            principal_kind: Some("operator".into()),
            outcome: Outcome::Allowed,
            ..event_entry("cli", "disclosure_published")
        };
        record_cli_entry(config, audit.clone(), entry).await?;
        doc = serde_json::from_str(&stored.document)?;
        eprintln!("published revision {}", stored.revision);
    }
    store.close().await;
    audit.close().await;
    let lang = match args.lang {
        LangArg::Ja => Lang::Ja,
        LangArg::En => Lang::En,
    };
    let text = match args.format {
        Format::Md => markdown(&doc, lang),
        Format::Html => enshin_server::web::disclosure_html(&doc, lang),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&doc)?),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    let s = &doc.summary;
    eprintln!(
        "{} statement(s): {} hold, {} non-conformance, {} not checked, {} organisational, {} operator text(s) missing",
        s.statements, s.holds, s.fails, s.unknown, s.organisational, s.not_supplied
    );
    Ok(if s.conformant {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `verify disclosure FILE`: exit 0 when signed by this service, 1 otherwise.
pub async fn verify(config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let Ok(signed) = serde_json::from_str::<Signed>(&text) else {
        say!("NOT VALID: not a signed disclosure");
        return Ok(ExitCode::FAILURE);
    };
    let Some(doc) = signed.verified_document() else {
        say!(
            "NOT VALID: the signature does not match revision {}'s document",
            signed.revision
        );
        return Ok(ExitCode::FAILURE);
    };
    let what = format!(
        "revision {} generated {} ({} non-conformance(s))",
        signed.revision, doc.generated_at, doc.summary.fails
    );
    let standing = standing(config, &signed.signer, &signed.public_key).await;
    Ok(conclude(standing, &signed.signer, &what))
}
