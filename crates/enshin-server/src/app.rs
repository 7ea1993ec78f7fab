//! Starting and stopping one instance: data directory, database, the three listeners.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use enshin_core::password::{self, CommonPasswords, HashParams};
use enshin_core::pki::ServiceCa;
use enshin_store::keyring::KeyringError;

use crate::patients::PATIENT_KEY;
use enshin_core::session::new_token;

use enshin_store::audit::AuditStore;
use enshin_store::{AppliedMigration, Store, StoreError};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit;
use crate::certs::{ClinicTls, ClinicTlsError};
use crate::clock::{ClockStatus, clock_status};
use crate::config::Config;
use crate::datadir::{self, Created, DataDirError, InstanceLock};
use crate::listener::{ConnLimits, ListenerKind, serve};
use crate::routes::{AppState, router};
use crate::tls::{ClientAuth, TlsError, server_config};

/// Why an instance could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The data directory is unusable.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The database is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// TLS material is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A listener address cannot be bound.
    #[error("cannot listen on {key} {addr}")]
    Bind {
        /// The configuration key of the listener.
        key: &'static str,
        /// The address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The dummy password hash could not be made.
    #[error("cannot compute the Argon2id dummy hash")]
    Hash,
    /// The access log could not start.
    #[error("access log")]
    Audit(#[from] audit::AuditStartError),
    /// The clinic listener's TLS configuration (with its CRL) could not be built.
    #[error("clinic listener TLS with the certificate revocation list")]
    ClinicTls(#[source] ClinicTlsError),
    /// The mail or SMS sender could not be set up.
    #[error(transparent)]
    Messages(#[from] crate::messages::SetupError),
    /// `ports.json` cannot be written.
    #[error("cannot write {path}")]
    PortsFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// The bound address of each listener.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Addrs {
    /// Patient listener.
    pub patient: SocketAddr,
    /// Clinic listener.
    pub clinic: SocketAddr,
    /// Operator listener.
    pub operator: SocketAddr,
}

/// What happened at start, for the operator's terminal.
#[derive(Debug)]
pub struct StartReport {
    /// Everything first start created.
    pub created: Vec<Created>,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Where the database is (a path, or the PostgreSQL URL without credentials).
    pub database: String,
    /// Applied migrations.
    pub migrations: Vec<AppliedMigration>,
    /// Clock synchronisation at start (LOG-5).
    pub clock: ClockStatus,
}

/// A running instance.
pub struct Running {
    addrs: Addrs,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    audit_task: JoinHandle<()>,
    store: Store,
    state: AppState,
    ports_file: PathBuf,
    _lock: InstanceLock,
}

impl Running {
    /// What the handlers share (for work done beside the listeners, such as the demo).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The database of this instance.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where the listeners listen.
    pub fn addrs(&self) -> Addrs {
        self.addrs
    }

    /// Writes `ports.json` (the bound ports and the pid); scripts take its appearance as "ready",
    /// so it comes last. Returns its path.
    pub fn publish_ports(&self) -> Result<PathBuf, LaunchError> {
        let addrs = self.addrs;
        let ports = serde_json::json!({
            "patient": { "address": addrs.patient, "port": addrs.patient.port() },
            "clinic": { "address": addrs.clinic, "port": addrs.clinic.port() },
            "operator": { "address": addrs.operator, "port": addrs.operator.port() },
            "pid": std::process::id(),
        });
        enshin_store::files::write_replace_private(
            &self.ports_file,
            format!("{ports:#}\n").as_bytes(),
        )
        .map_err(|source| LaunchError::PortsFile {
            path: self.ports_file.clone(),
            source,
        })?;
        Ok(self.ports_file.clone())
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), closes the
    /// database cleanly and removes `ports.json`; the data-directory lock goes last.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        // The listeners have drained; the last handle goes, and the writer finishes the log
        // with a signed checkpoint.
        drop(self.state);
        // A connection still open after the grace period keeps a handle; do not wait forever.
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.audit_task)
            .await
            .is_err()
        {
            tracing::warn!("the access log writer did not finish; its last checkpoint is missing");
        }
        self.store.close().await;
        let _ = std::fs::remove_file(&self.ports_file);
    }
}

/// A PostgreSQL URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Binds one listener and returns it with the address it got (port 0 becomes a real port).
async fn bind(
    key: &'static str,
    addr: SocketAddr,
) -> Result<(TcpListener, SocketAddr), LaunchError> {
    let error = |source| LaunchError::Bind { key, addr, source };
    let tcp = TcpListener::bind(addr).await.map_err(error)?;
    let bound = tcp.local_addr().map_err(error)?;
    Ok((tcp, bound))
}

/// Prepares the data directory and database, binds the three listeners and starts serving.
pub async fn launch(config: &Config) -> Result<(Running, StartReport), LaunchError> {
    let prepared = datadir::prepare(config)?;
    let url = config.effective_database_url();
    let store = Store::connect(&url).await?;
    let migrations = store.migrate().await?;
    let ca = Arc::new(
        ServiceCa::from_pem(&prepared.tls.ca_cert_pem, &prepared.tls.ca_key_pem)
            .map_err(|e| LaunchError::DataDir(DataDirError::Pki(e)))?,
    );
    let audit_store = AuditStore::connect(&config.audit_database_url()).await?;
    audit_store.migrate().await?;
    let writer_key = audit::load_or_create_key(&prepared.root.join("audit-writer.key"))?;
    let (audit_log, audit_task) = audit::start(
        audit_store.clone(),
        writer_key,
        prepared.root.join("audit-checkpoints.log"),
    )
    .await?;
    let refused_certificates = Arc::new(AtomicU64::new(0));
    let clinic_tls = ClinicTls::build(
        &store,
        &ca,
        &prepared.tls,
        refused_certificates.clone(),
        audit_log.clone(),
    )
    .await
    .map_err(LaunchError::ClinicTls)?;
    let open_tls = server_config(&prepared.tls, &ClientAuth::None)?;
    let configs = [
        watch::channel(open_tls.clone()).1,
        clinic_tls.configs.clone(),
        watch::channel(open_tls).1,
    ];
    let (patient, patient_addr) = bind("patient_addr", config.patient_addr).await?;
    let (clinic, clinic_addr) = bind("clinic_addr", config.clinic_addr).await?;
    let (operator, operator_addr) = bind("operator_addr", config.operator_addr).await?;
    let addrs = Addrs {
        patient: patient_addr,
        clinic: clinic_addr,
        operator: operator_addr,
    };
    let listeners = [
        (ListenerKind::Patient, patient),
        (ListenerKind::Clinic, clinic),
        (ListenerKind::Operator, operator),
    ];
    let ports_file = prepared.root.join("ports.json");
    let limits = ConnLimits {
        handshake_timeout: config.tls_handshake_timeout,
        header_timeout: config
            .tls_handshake_timeout
            .max(std::time::Duration::from_secs(10)),
        shutdown_grace: config.shutdown_grace,
    };
    let (stop, stopped) = watch::channel(false);
    // Patients' own profiles are sealed with a key of their own (they belong to no clinic).
    for key in [PATIENT_KEY, crate::operators::OPERATOR_KEY] {
        match prepared.keyring.create(key) {
            Ok(()) | Err(KeyringError::Exists(_)) => {}
            Err(e) => return Err(LaunchError::DataDir(DataDirError::Keyring(e))),
        }
    }
    let keyring = Arc::new(prepared.keyring);
    let common_passwords = Arc::new(CommonPasswords::bundled());
    let dummy_hash: Arc<str> = tokio::task::spawn_blocking(|| {
        let (random, _) = new_token().map_err(|_| LaunchError::Hash)?;
        password::hash(&random, HashParams::OWASP).map_err(|_| LaunchError::Hash)
    })
    .await
    .map_err(|_| LaunchError::Hash)??
    .into();
    let suspensions = crate::incident::Suspensions::load(&store)
        .await
        .map_err(|e| LaunchError::Store(StoreError::Database(e)))?;
    if config.mail.smtp.is_none() || config.mail.sms.is_none() {
        tracing::warn!(outbox = %prepared.root.join("outbox").display(), email = config.mail.smtp.is_none(), sms = config.mail.sms.is_none(), "messages are written to the outbox directory and NOT sent (set smtp_url / sms_url)");
    }
    let state = AppState {
        store: store.clone(),
        listener: ListenerKind::Patient,
        sessions: config.sessions,
        keyring: keyring.clone(),
        common_passwords,
        dummy_hash,
        ca: ca.clone(),
        refused_certificates,
        audit: audit_log,
        audit_store,
        suspensions: suspensions.clone(),
        messages: crate::messages::Messages::new(store.clone()),
        clinic_url: public_url(config.clinic_url.as_deref(), config, addrs.clinic.port()),
        patient_url: public_url(config.patient_url.as_deref(), config, addrs.patient.port()),
        ingest: crate::ingest::Ingest::start(store.clone(), keyring.clone()),
        calls: crate::calls::CallHub::new(
            enshin_store::bus::Bus::start(store.clone(), &url).await?,
            &config.video,
            stopped.clone(),
        )?,
        metrics: Arc::new(crate::metrics::Metrics::default()),
        backups: config
            .database_url
            .is_none()
            .then(|| Arc::from(config.backup_dir.as_path())),
        config: Arc::new(config.clone()),
        addrs,
    };
    let senders = crate::messages::Senders::new(&config.mail, prepared.outbox.clone())?;
    let mut tasks: Vec<JoinHandle<()>> = listeners
        .into_iter()
        .zip(configs)
        .map(|((kind, tcp), configs)| {
            tokio::spawn(serve(
                tcp,
                configs,
                crate::listener::Sinks {
                    audit: state.audit.clone(),
                    metrics: state.metrics.clone(),
                },
                router(AppState {
                    listener: kind,
                    ..state.clone()
                }),
                kind,
                limits,
                stopped.clone(),
            ))
        })
        .collect();
    tasks.push(tokio::spawn(
        suspensions.keep_current(store.clone(), stopped.clone()),
    ));
    tasks.push(crate::messages::spawn_sender(
        &state.messages,
        senders,
        stopped.clone(),
    ));
    tasks.push(crate::reminders::spawn(state.clone(), stopped.clone()));
    tasks.extend(crate::backup::spawn_schedule(
        config.clone(),
        stopped.clone(),
    ));
    tasks.push(tokio::spawn(clinic_tls.keep_current(
        store.clone(),
        ca,
        prepared.tls,
        config.crl_reload,
        stopped.clone(),
    )));
    let report = StartReport {
        created: prepared.created,
        backend: store.backend().name(),
        database: match &config.database_url {
            Some(url) => redact(url),
            None => prepared.root.join("enshin.db").display().to_string(),
        },
        migrations,
        clock: clock_status(),
    };
    Ok((
        Running {
            addrs,
            stop,
            tasks,
            audit_task,
            store,
            state,
            ports_file,
            _lock: prepared.lock,
        },
        report,
    ))
}

/// A site's address for links in mail and on paper: the configured one, or
/// `https://<first server name>:<bound port>`.
fn public_url(configured: Option<&str>, config: &Config, port: u16) -> Arc<str> {
    match configured {
        Some(url) => url.into(),
        None => {
            let host = config
                .server_names
                .first()
                .map_or("localhost", String::as_str);
            format!("https://{host}:{port}").into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn printed_database_urls_hide_passwords() {
        assert_eq!(
            redact("postgres://enshin:s3cret@db:5432/enshin"),
            "postgres://…@db:5432/enshin"
        );
        assert_eq!(redact("postgres://db/enshin"), "postgres://db/enshin");
    }
}
