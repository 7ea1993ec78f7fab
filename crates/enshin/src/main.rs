//! `enshin`: the service (`serve`) and its operator command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use enshin_server::{Config, ConfigError, Layers};

/// 遠診 enshin: online medical consultation for clinics.
#[derive(Parser)]
#[command(name = "enshin", version, about)]
struct Cli {
    /// Configuration file [default: ./enshin.toml if it exists] [env: ENSHIN_CONFIG]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    keys: KeyFlags,
    #[command(subcommand)]
    command: Command,
}

/// One flag per configuration key; each overrides the file and the environment.
#[derive(Args)]
struct KeyFlags {
    /// Data directory of the embedded default [default: enshin-data]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<String>,
    /// PostgreSQL URL (prefer ENSHIN_DATABASE_URL: flags are visible to other local users)
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Patient listener [default: 0.0.0.0:8443]
    #[arg(long, global = true, value_name = "ADDR")]
    patient_addr: Option<String>,
    /// Clinic listener, client certificates required [default: 0.0.0.0:8444]
    #[arg(long, global = true, value_name = "ADDR")]
    clinic_addr: Option<String>,
    /// Operator console listener [default: 127.0.0.1:8445]
    #[arg(long, global = true, value_name = "ADDR")]
    operator_addr: Option<String>,
    /// Master key file [default: DATA_DIR/master.key]
    #[arg(long, global = true, value_name = "FILE")]
    master_key_file: Option<String>,
    /// Keyring directory [default: DATA_DIR/keys]
    #[arg(long, global = true, value_name = "DIR")]
    keyring_dir: Option<String>,
    /// Data backups [default: DATA_DIR/backups]
    #[arg(long, global = true, value_name = "DIR")]
    backup_dir: Option<String>,
    /// Keyring backups, apart from the data backups [default: DATA_DIR/keyring-backups]
    #[arg(long, global = true, value_name = "DIR")]
    keyring_backup_dir: Option<String>,
    /// Seconds between scheduled backups; 0: none [default: 3600]
    #[arg(long, global = true, value_name = "SECS")]
    backup_interval_secs: Option<String>,
    /// Backups kept by the schedule [default: 48]
    #[arg(long, global = true, value_name = "N")]
    backup_keep: Option<String>,
    /// Names for the generated server certificate [default: localhost,127.0.0.1,::1]
    #[arg(long, global = true, value_name = "NAMES")]
    server_names: Option<String>,
    /// TLS handshake timeout in seconds [default: 10]
    #[arg(long, global = true, value_name = "SECS")]
    tls_handshake_timeout_secs: Option<String>,
    /// Grace period for in-flight requests at shutdown, seconds [default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    shutdown_grace_secs: Option<String>,
    /// Minimum free space in the data directory, MiB [default: 64]
    #[arg(long, global = true, value_name = "MIB")]
    min_free_space_mb: Option<String>,
    /// Idle minutes after which a session ends [default: 30]
    #[arg(long, global = true, value_name = "MIN")]
    session_idle_minutes: Option<String>,
    /// Hours after which a session ends however active [default: 12]
    #[arg(long, global = true, value_name = "HOURS")]
    session_absolute_hours: Option<String>,
    /// Validity of a new clinic client certificate, days [default: 365]
    #[arg(long, global = true, value_name = "DAYS")]
    client_cert_days: Option<String>,
    /// Seconds between re-reads of certificate revocations [default: 2]
    #[arg(long, global = true, value_name = "SECS")]
    crl_reload_secs: Option<String>,
    /// The patient site's address for links and QR codes [default: https://<first server name>:<patient port>]
    #[arg(long, global = true, value_name = "URL")]
    patient_url: Option<String>,
    /// The clinic site's address for links in mail [default: https://<first server name>:<clinic port>]
    #[arg(long, global = true, value_name = "URL")]
    clinic_url: Option<String>,
    /// Sender address of e-mail [default: enshin <no-reply@localhost>]
    #[arg(long, global = true, value_name = "ADDRESS")]
    mail_from: Option<String>,
    /// SMTP relay: smtps://host or smtp+starttls://host (smtp:// on loopback only); empty: outbox
    #[arg(long, global = true, value_name = "URL")]
    smtp_url: Option<String>,
    /// SMTP user name
    #[arg(long, global = true, value_name = "NAME")]
    smtp_username: Option<String>,
    /// File holding the SMTP password (0600)
    #[arg(long, global = true, value_name = "FILE")]
    smtp_password_file: Option<String>,
    /// SMS provider endpoint (https://); empty: outbox
    #[arg(long, global = true, value_name = "URL")]
    sms_url: Option<String>,
    /// File holding the SMS provider's bearer token (0600)
    #[arg(long, global = true, value_name = "FILE")]
    sms_token_file: Option<String>,
    /// Sender name or number of SMS [default: enshin]
    #[arg(long, global = true, value_name = "NAME")]
    sms_from: Option<String>,
    /// STUN servers for video calls (stun:host:port), comma-separated
    #[arg(long, global = true, value_name = "URLS")]
    stun_urls: Option<String>,
    /// TURN servers (coturn) for video calls, comma-separated
    #[arg(long, global = true, value_name = "URLS")]
    turn_urls: Option<String>,
    /// File holding coturn's static-auth-secret (0600)
    #[arg(long, global = true, value_name = "FILE")]
    turn_secret_file: Option<String>,
    /// Minutes a TURN credential stays valid [default: 240]
    #[arg(long, global = true, value_name = "MIN")]
    turn_credential_minutes: Option<String>,
    /// ISO 3166 code of the country the data is kept in (JP), shown and checked in the disclosure
    #[arg(long, global = true, value_name = "CODE")]
    data_country: Option<String>,
    /// Where in that country the data is kept, as the disclosure names it
    #[arg(long, global = true, value_name = "TEXT")]
    data_region: Option<String>,
}

impl KeyFlags {
    fn into_pairs(self) -> [(&'static str, Option<String>); 34] {
        [
            ("data_dir", self.data_dir),
            ("database_url", self.database_url),
            ("patient_addr", self.patient_addr),
            ("clinic_addr", self.clinic_addr),
            ("operator_addr", self.operator_addr),
            ("master_key_file", self.master_key_file),
            ("keyring_dir", self.keyring_dir),
            ("backup_dir", self.backup_dir),
            ("keyring_backup_dir", self.keyring_backup_dir),
            ("backup_interval_secs", self.backup_interval_secs),
            ("backup_keep", self.backup_keep),
            ("server_names", self.server_names),
            (
                "tls_handshake_timeout_secs",
                self.tls_handshake_timeout_secs,
            ),
            ("shutdown_grace_secs", self.shutdown_grace_secs),
            ("min_free_space_mb", self.min_free_space_mb),
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_absolute_hours", self.session_absolute_hours),
            ("client_cert_days", self.client_cert_days),
            ("crl_reload_secs", self.crl_reload_secs),
            ("patient_url", self.patient_url),
            ("clinic_url", self.clinic_url),
            ("mail_from", self.mail_from),
            ("smtp_url", self.smtp_url),
            ("smtp_username", self.smtp_username),
            ("smtp_password_file", self.smtp_password_file),
            ("sms_url", self.sms_url),
            ("sms_token_file", self.sms_token_file),
            ("sms_from", self.sms_from),
            ("stun_urls", self.stun_urls),
            ("turn_urls", self.turn_urls),
            ("turn_secret_file", self.turn_secret_file),
            ("turn_credential_minutes", self.turn_credential_minutes),
            ("data_country", self.data_country),
            ("data_region", self.data_region),
        ]
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: the patient, clinic and operator listeners.
    Serve {
        /// Also create a demo clinic with one account of each kind (first start only) and write
        /// them to DATA_DIR/demo.json; listeners default to 127.0.0.1 and must stay on loopback.
        #[arg(long)]
        demo: bool,
    },
    /// Clinics: add one (with its data key), list them.
    #[command(subcommand)]
    Clinic(admin::ClinicCommand),
    /// Clinic members: add one (password read from stdin), disable one.
    #[command(subcommand)]
    Member(admin::MemberCommand),
    /// Operators: add one (password from stdin, TOTP secret shown once), disable one.
    #[command(subcommand)]
    Operator(operators::OperatorCommand),
    /// Clinic client certificates: issue (PKCS#12), list, revoke.
    #[command(subcommand)]
    Cert(certs::CertCommand),
    /// The access log: verify it, prove an entry's inclusion, check a proof offline.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Restore a backup of the embedded default over its data directory (stop serve first).
    Restore(backup::RestoreArgs),
    /// Backups of the embedded default: take one now, list them, verify them, drill a restore.
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Clinical records: verify that no note or plan version was edited, removed or inserted.
    #[command(subcommand)]
    Records(records::RecordsCommand),
    /// Apply pending database migrations and print the schema version (safe beside a running serve).
    Migrate,
    /// Check documents the service signed (deletion certificates, exports, disclosures).
    #[command(subcommand)]
    Verify(exit::VerifyCommand),
    /// Print the service's conformance disclosure, each checkable statement checked now against
    /// this deployment; exit 1 when it shows a non-conformance.
    Disclose(disclose::DiscloseArgs),
}

/// Writes a line for the operator; a closed stdout is not worth failing over.
macro_rules! say {
    ($($arg:tt)*) => {{ let _ = writeln!(std::io::stdout().lock(), $($arg)*); }};
}

mod admin;
mod audit;
mod backup;
mod certs;
mod disclose;
mod exit;
mod export;
mod operators;
mod records;
mod serve;
mod signer;

fn load_config(
    config_file: Option<PathBuf>,
    flags: KeyFlags,
    demo: bool,
) -> Result<Config, ConfigError> {
    let mut layers = Layers::default();
    let file = config_file
        .or_else(|| std::env::var_os("ENSHIN_CONFIG").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("enshin.toml")).filter(|p| p.exists()));
    if let Some(file) = file {
        layers.file(&file)?;
    }
    for unknown in layers.env(std::env::vars()) {
        eprintln!("enshin: warning: {unknown} is not a configuration variable and is ignored");
    }
    for (key, value) in flags.into_pairs() {
        if let Some(value) = value {
            layers.flag(key, value);
        }
    }
    if demo {
        layers.default_if_unset("patient_addr", "127.0.0.1:8443");
        layers.default_if_unset("clinic_addr", "127.0.0.1:8444");
    }
    layers.resolve()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let demo = matches!(cli.command, Command::Serve { demo: true });
    let config = match load_config(cli.config, cli.keys, demo) {
        Ok(config) if demo => match enshin_server::demo::check_loopback(&config) {
            Ok(()) => config,
            Err(e) => {
                eprintln!("enshin: {e}");
                return ExitCode::from(2);
            }
        },
        Ok(config) => config,
        Err(e) => {
            eprintln!("enshin: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ENSHIN_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("enshin: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let done = |result: anyhow::Result<()>| result.map(|()| ExitCode::SUCCESS);
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { demo } => done(serve::serve(&config, demo).await),
            Command::Clinic(command) => done(admin::clinic(&config, command).await),
            Command::Member(command) => done(admin::member(&config, command).await),
            Command::Cert(command) => done(certs::cert(&config, command).await),
            Command::Operator(command) => done(operators::operator(&config, command).await),
            // Exit 1 means "verified and found a problem"; a verification that cannot run is 2.
            Command::Audit(command) => audit::audit(&config, command)
                .await
                .map_err(|e| e.context("the access log could not be read")),
            Command::Restore(args) => backup::restore(&config, args)
                .await
                .map_err(|e| e.context("restore")),
            Command::Backup(command) => backup::backup(&config, command)
                .await
                .map_err(|e| e.context("backup")),
            Command::Records(command) => records::records(&config, command)
                .await
                .map_err(|e| e.context("the records could not be read")),
            Command::Migrate => done(migrate(&config).await),
            Command::Verify(command) => exit::verify(&config, command).await,
            Command::Disclose(args) => disclose::disclose(&config, args)
                .await
                .map_err(|e| e.context("the disclosure could not be generated")),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("enshin: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    enshin_server::datadir::ensure_database_dir(config)?;
    let store = enshin_store::Store::connect(&config.effective_database_url()).await?;
    let applied = store.migrate().await?;
    store.close().await;
    for m in &applied {
        say!("applied {:04}_{}", m.version, m.description);
    }
    say!("schema version {}", applied.last().map_or(0, |m| m.version));
    let audit = enshin_store::audit::AuditStore::connect(&config.audit_database_url()).await?;
    audit.migrate().await?;
    audit.close().await;
    say!("access log schema up to date");
    Ok(())
}

#[cfg(test)]
mod tests {
    use enshin_server::config::{KEYS, env_name};

    use super::*;

    #[test]
    fn every_config_key_has_a_flag() {
        let keys: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        let flags = KeyFlags {
            data_dir: None,
            database_url: None,
            patient_addr: None,
            clinic_addr: None,
            operator_addr: None,
            master_key_file: None,
            keyring_dir: None,
            backup_dir: None,
            keyring_backup_dir: None,
            backup_interval_secs: None,
            backup_keep: None,
            server_names: None,
            tls_handshake_timeout_secs: None,
            shutdown_grace_secs: None,
            min_free_space_mb: None,
            session_idle_minutes: None,
            session_absolute_hours: None,
            client_cert_days: None,
            crl_reload_secs: None,
            patient_url: None,
            clinic_url: None,
            mail_from: None,
            smtp_url: None,
            smtp_username: None,
            smtp_password_file: None,
            sms_url: None,
            sms_token_file: None,
            sms_from: None,
            stun_urls: None,
            turn_urls: None,
            turn_secret_file: None,
            turn_credential_minutes: None,
            data_country: None,
            data_region: None,
        };
        let flagged: Vec<&str> = flags.into_pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(flagged, keys);
        assert!(keys.iter().all(|k| env_name(k).starts_with("ENSHIN_")));
    }
}
