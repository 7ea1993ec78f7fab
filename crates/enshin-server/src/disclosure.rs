//! Generating and publishing the conformance disclosure (DISC-1): observe the deployment, run
//! the catalogue's checks over what was seen, and keep each published revision signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use enshin_core::announcement::NOTICE_DAYS;
use enshin_core::audit::checkpoint::WriterKey;
use enshin_core::disclosure::{
    AccessLogSeen, AnnouncementsSeen, BackupsSeen, ClinicPagesSeen, DatabaseSeen, Document,
    EncryptionSeen, LocationSeen, Observations, OperatorsSeen, PasswordSeen, RecordsSeen,
    RevisionsSeen, SuspensionSeen, assemble, catalogue, evaluate_all, sign, verify_signature,
};
use enshin_core::password::{self, CommonPasswords, HashParams};
use enshin_core::session::SessionPolicy;
use enshin_store::Store;
use enshin_store::audit::AuditStore;
use enshin_store::disclosures::{NewDisclosure, StoredDisclosure};
use enshin_store::keyring::Keyring;

use crate::app::Addrs;
use crate::clock::{clock_status, now_ms};
use crate::config::Config;
use crate::tls_probe::{Target, probe};

/// What the disclosure is generated from.
pub struct Sources<'a> {
    /// The configuration in force.
    pub config: &'a Config,
    /// The database.
    pub store: &'a Store,
    /// The access log.
    pub audit_store: &'a AuditStore,
    /// The keyring, or why it could not be opened.
    pub keyring: Result<&'a Keyring, String>,
    /// The service CA certificate, PEM (the probe trusts it).
    pub ca_pem: &'a str,
    /// Where the listeners are bound.
    pub addrs: Addrs,
    /// The common-password list in force.
    pub common_passwords: &'a CommonPasswords,
}

impl<'a> Sources<'a> {
    /// What a running instance observes itself with.
    pub fn of(state: &'a crate::routes::AppState) -> Self {
        Self {
            config: &state.config,
            store: &state.store,
            audit_store: &state.audit_store,
            keyring: Ok(&state.keyring),
            ca_pem: state.ca.cert_pem(),
            addrs: state.addrs,
            common_passwords: &state.common_passwords,
        }
    }
}

/// Why a disclosure could not be published.
#[derive(Debug, thiserror::Error)]
pub enum DisclosureError {
    /// The database failed.
    #[error("database")]
    Store(#[from] sqlx::Error),
    /// Another revision took the number twice in a row.
    #[error("another revision is being published; try again")]
    Busy,
    /// The document could not be serialised.
    #[error("serialising the document")]
    Json(#[from] serde_json::Error),
}

/// Samples that break one rule of AUTH-3 each; all must be refused.
const WEAK_SAMPLES: [&str; 5] = ["Ab1!xyz", "abcdefgh", "abcdefg1", "abcdefg!", "12345678!"];
/// A sample that keeps every rule.
const STRONG_SAMPLE: &str = "Kx7#mQ2!vRp9-Lw";

async fn password_seen(common: &CommonPasswords) -> PasswordSeen {
    let weak_accepted = WEAK_SAMPLES
        .iter()
        .filter(|s| password::check(s, "disclosure-probe", common).is_ok())
        .map(|s| (*s).to_owned())
        .collect();
    let strong_accepted = password::check(STRONG_SAMPLE, "disclosure-probe", common).is_ok();
    // The parameters a new password really gets, read back from a fresh hash.
    let phc = tokio::task::spawn_blocking(|| password::hash(STRONG_SAMPLE, HashParams::OWASP))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut parts = phc.split('$').skip(1);
    let algorithm = parts.next().unwrap_or("none").to_owned();
    let mut hash = HashParams {
        m_kib: 0,
        t: 0,
        p: 0,
    };
    for field in parts.nth(1).unwrap_or("").split(',') {
        let value = |v: &str| v.parse().unwrap_or(0);
        match field.split_once('=') {
            Some(("m", v)) => hash.m_kib = value(v),
            Some(("t", v)) => hash.t = value(v),
            Some(("p", v)) => hash.p = value(v),
            _ => {}
        }
    }
    PasswordSeen {
        min_chars: password::MIN_CHARS,
        common_list: common.len(),
        weak_accepted,
        strong_accepted,
        algorithm,
        hash,
    }
}

async fn access_log_seen(src: &Sources<'_>) -> Result<AccessLogSeen, String> {
    let file = src.config.data_dir.join("audit-checkpoints.log");
    let report = crate::audit_verify::verify(src.audit_store, &file)
        .await
        .map_err(|e| e.to_string())?;
    let mut last_checkpoint_ms = None;
    for (writer, _) in &report.writers {
        let newest = src
            .audit_store
            .checkpoints(writer)
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .map(|c| c.at_ms)
            .max();
        last_checkpoint_ms = last_checkpoint_ms.max(newest);
    }
    let mut findings: Vec<String> = report
        .writers
        .iter()
        .filter_map(|(w, r)| r.finding.as_ref().map(|f| format!("{w}: {f}")))
        .collect();
    if !report.unreadable_file_lines.is_empty() {
        findings.push(format!(
            "{} unreadable checkpoint file line(s)",
            report.unreadable_file_lines.len()
        ));
    }
    Ok(AccessLogSeen {
        writers: report.writers.len(),
        entries: report.writers.iter().map(|(_, r)| r.entries).sum(),
        findings,
        last_checkpoint_ms,
        unsigned_tail: report
            .writers
            .iter()
            .map(|(_, r)| r.entries - r.last_signed.map_or(0, |(size, _)| size.min(r.entries)))
            .sum(),
    })
}

/// How the database is reached, without its password.
fn database_seen(config: &Config) -> DatabaseSeen {
    let Some(url) = &config.database_url else {
        return DatabaseSeen {
            kind: "sqlite".into(),
            protected_path: true,
            path: "local file".into(),
        };
    };
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port
        .strip_prefix('[')
        .and_then(|h| h.split(']').next())
        .unwrap_or_else(|| host_port.split(':').next().unwrap_or(""));
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let socket = host.is_empty() || param("host").is_some_and(|h| h.starts_with('/'));
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let sslmode = param("sslmode").unwrap_or("prefer");
    let verified = ["verify-full", "verify-ca"].contains(&sslmode);
    let path = if socket {
        "local socket".to_owned()
    } else if loopback {
        format!("loopback ({host_port}, sslmode={sslmode})")
    } else {
        format!("{host_port}, sslmode={sslmode}")
    };
    DatabaseSeen {
        kind: "postgresql".into(),
        protected_path: socket || loopback || verified,
        path,
    }
}

fn encryption_seen(
    src: &Sources<'_>,
    clinics: &Result<Vec<String>, String>,
) -> Result<EncryptionSeen, String> {
    let keyring = src.keyring.as_ref().map_err(Clone::clone)?;
    let clinics = clinics.as_ref().map_err(Clone::clone)?;
    let unreadable = clinics
        .iter()
        .filter(|id| keyring.data_key(id).is_err())
        .cloned()
        .collect();
    Ok(EncryptionSeen {
        master_key: true,
        clinics: clinics.len() as u64,
        unreadable,
    })
}

async fn records_seen(store: &Store) -> Result<RecordsSeen, String> {
    let chains = store.record_chains().await.map_err(|e| e.to_string())?;
    let mut findings = Vec::new();
    let mut versions = 0;
    for chain in &chains {
        versions += chain.versions.len() as u64;
        for p in enshin_core::record::verify_chain(
            chain.kind,
            &chain.id,
            chain.current_version,
            &chain.versions,
        ) {
            findings.push(format!("{} {}: {p}", chain.kind, chain.id));
        }
    }
    Ok(RecordsSeen { versions, findings })
}

async fn clinic_pages_seen(
    store: &Store,
    clinics: &Result<Vec<String>, String>,
) -> Result<ClinicPagesSeen, String> {
    let clinics = clinics.as_ref().map_err(Clone::clone)?;
    let mut seen = ClinicPagesSeen {
        clinics: clinics.len() as u64,
        without_contact: Vec::new(),
        without_doctor: Vec::new(),
    };
    for id in clinics {
        let phone = store.clinic_phone(id).await.map_err(|e| e.to_string())?;
        if phone.is_none_or(|p| p.trim().is_empty()) {
            seen.without_contact.push(id.clone());
        }
        if store
            .doctors(id)
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            seen.without_doctor.push(id.clone());
        }
    }
    Ok(seen)
}

async fn announcements_seen(store: &Store) -> Result<AnnouncementsSeen, String> {
    let all = store
        .announcements_since(0)
        .await
        .map_err(|e| e.to_string())?;
    let changes: Vec<_> = all.iter().filter(|a| a.kind == "change").collect();
    let short_notice = changes
        .iter()
        .filter(|a| a.effective_at - a.published_at < NOTICE_DAYS * 86_400_000)
        .count();
    Ok(AnnouncementsSeen {
        published: changes.len() as u64,
        short_notice: short_notice as u64,
    })
}

async fn revisions_seen(store: &Store) -> Result<RevisionsSeen, String> {
    let all = store.disclosures().await.map_err(|e| e.to_string())?;
    Ok(RevisionsSeen {
        count: all.len() as u64,
        latest: all.first().map(|d| (d.revision, d.published_at)),
        bad_signatures: all
            .iter()
            .filter(|d| !verified(d))
            .map(|d| d.revision)
            .collect(),
    })
}

/// Whether a stored revision's signature is over its stored bytes.
pub fn verified(d: &StoredDisclosure) -> bool {
    verify_signature(d.document.as_bytes(), &d.public_key, &d.signature)
}

/// Observes the deployment: handshakes with each listener, the stores, the keys, the files.
pub async fn observe(src: &Sources<'_>) -> Observations {
    let at_ms = now_ms();
    let server_name = src
        .config
        .server_names
        .first()
        .map_or("localhost", String::as_str);
    let mut listeners = Vec::new();
    for (listener, addr) in [
        ("patient", src.addrs.patient),
        ("clinic", src.addrs.clinic),
        ("operator", src.addrs.operator),
    ] {
        listeners.push(
            probe(&Target {
                listener,
                addr,
                server_name,
                ca_pem: src.ca_pem,
            })
            .await,
        );
    }
    let store = src.store;
    // A clinic list that cannot be read fails every check that depends on it, never passes.
    let clinics: Result<Vec<String>, String> = store
        .list_clinics()
        .await
        .map(|list| list.into_iter().map(|c| c.id).collect())
        .map_err(|e| e.to_string());
    let certificates = match (&clinics, store.certificate_expiries(at_ms).await) {
        (Ok(clinics), Ok(expiries)) => Ok(clinics
            .iter()
            .map(|id| {
                let expiry = expiries.iter().find(|(c, _)| c == id).map(|(_, e)| *e);
                (id.clone(), expiry)
            })
            .collect()),
        (Err(e), _) => Err(e.clone()),
        (_, Err(e)) => Err(e.to_string()),
    };
    let backups = if src.config.database_url.is_none() {
        let state = crate::backup::state(&src.config.backup_dir);
        BackupsSeen::Embedded {
            interval_ms: src
                .config
                .backup_interval
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            last_ms: state.last_at,
            failed_ms: state.failed_at,
            drill_ms: state.drilled_at,
        }
    } else {
        BackupsSeen::External
    };
    Observations {
        at_ms,
        listeners,
        certificates,
        password: password_seen(src.common_passwords).await,
        sessions: src.config.sessions,
        operator_sessions: SessionPolicy::OPERATOR,
        operators: store
            .operator_counts()
            .await
            .map(|(active, with_totp)| OperatorsSeen { active, with_totp })
            .map_err(|e| e.to_string()),
        operator_addr: src.addrs.operator,
        access_log: access_log_seen(src).await,
        clock_synchronized: clock_status().synchronized,
        backups,
        database: database_seen(src.config),
        suspensions: store
            .suspensions()
            .await
            .map(|list| {
                list.into_iter()
                    .map(|(scope, _, since_ms)| SuspensionSeen { scope, since_ms })
                    .collect()
            })
            .map_err(|e| e.to_string()),
        location: LocationSeen {
            country: src.config.data_country.clone(),
            region: src.config.data_region.clone(),
        },
        encryption: encryption_seen(src, &clinics),
        records: records_seen(store).await,
        clinic_pages: clinic_pages_seen(store, &clinics).await,
        announcements: announcements_seen(store).await,
        revisions: revisions_seen(store).await,
    }
}

/// The software line of the document.
pub fn software() -> String {
    format!("enshin {}", env!("CARGO_PKG_VERSION"))
}

/// The document of what `observations` found.
pub fn document(config: &Config, observations: &Observations) -> Document {
    let evidence = evaluate_all(observations);
    assemble(
        catalogue(),
        &evidence,
        &config.disclosure,
        observations.at_ms,
        &software(),
    )
}

/// Generates the document now.
pub async fn generate(src: &Sources<'_>) -> Document {
    let observations = observe(src).await;
    document(src.config, &observations)
}

/// Publishes `doc` as the next revision, signed with `key`; returns the stored revision.
pub async fn publish(
    store: &Store,
    mut doc: Document,
    key: &WriterKey,
    published_by: &str,
) -> Result<StoredDisclosure, DisclosureError> {
    let public_key = key.public_key();
    let signer = crate::audit::writer_id(&public_key);
    let public_key = STANDARD.encode(&public_key);
    for _ in 0..2 {
        let revision = store.next_disclosure_revision().await?;
        doc.revision = Some(revision);
        let bytes = serde_json::to_string_pretty(&doc)?;
        let signature = sign(bytes.as_bytes(), key);
        let new = NewDisclosure {
            published_by,
            conformant: doc.summary.conformant,
            document: &bytes,
            signer: &signer,
            public_key: &public_key,
            signature: &signature,
        };
        if store.publish_disclosure(revision, &new, now_ms()).await? {
            return store
                .disclosure(revision)
                .await?
                .ok_or(DisclosureError::Busy);
        }
    }
    Err(DisclosureError::Busy)
}
