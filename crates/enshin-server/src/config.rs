//! Configuration: `enshin.toml`, overridden by `ENSHIN_*` environment variables, overridden by
//! command-line flags. Every error names the key and where its value came from, so an operator
//! can fix it from one line.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use enshin_core::disclosure::OperatorTexts;
use enshin_core::session::SessionPolicy;

/// Every configuration key, with its meaning (also printed by `enshin serve --help`).
pub const KEYS: &[(&str, &str)] = &[
    (
        "data_dir",
        "directory of the embedded default (database, PKI, master key, keyring)",
    ),
    (
        "database_url",
        "postgres://… for production; empty means SQLite in data_dir",
    ),
    (
        "patient_addr",
        "listener for patients, devices and public pages",
    ),
    (
        "clinic_addr",
        "listener for clinic members (client certificate required)",
    ),
    (
        "operator_addr",
        "listener of the operator console (keep it on loopback)",
    ),
    (
        "master_key_file",
        "file holding the master key (default data_dir/master.key)",
    ),
    (
        "keyring_dir",
        "directory of the wrapped per-clinic data keys (default data_dir/keys)",
    ),
    (
        "backup_dir",
        "directory of the data backups (default data_dir/backups; put it on another disk)",
    ),
    (
        "keyring_backup_dir",
        "directory of the keyring backups, kept apart from the data backups (default data_dir/keyring-backups)",
    ),
    (
        "backup_interval_secs",
        "seconds between the backups serve takes of the embedded default (0: none, e.g. when cron runs enshin backup now)",
    ),
    (
        "backup_keep",
        "how many backups (and their keyring backups) to keep; older ones are deleted after each scheduled backup",
    ),
    (
        "server_names",
        "DNS names and addresses in the generated server certificate, comma-separated",
    ),
    (
        "tls_handshake_timeout_secs",
        "seconds a client may take to complete the TLS handshake",
    ),
    (
        "shutdown_grace_secs",
        "seconds in-flight requests may take to finish on shutdown",
    ),
    (
        "min_free_space_mb",
        "refuse to start with less free space than this in data_dir",
    ),
    (
        "session_idle_minutes",
        "a session idle this long ends (SESS-1)",
    ),
    (
        "session_absolute_hours",
        "a session this old ends however active (SESS-1)",
    ),
    (
        "client_cert_days",
        "validity of a newly issued clinic client certificate, in days (AUTH-1)",
    ),
    (
        "crl_reload_secs",
        "how often each instance re-reads revocations from the database (revocation delay)",
    ),
    (
        "patient_url",
        "the patient site's address as patients reach it, for links and QR codes (default https://<first server name>:<patient port>)",
    ),
    (
        "clinic_url",
        "the clinic site's address as clinic PCs reach it, for links in mail (default https://<first server name>:<clinic port>)",
    ),
    ("mail_from", "sender address of e-mail from enshin"),
    (
        "smtp_url",
        "smtps://host[:465] or smtp+starttls://host[:587] (smtp://host only on loopback); empty: mail goes to data_dir/outbox",
    ),
    ("smtp_username", "SMTP user name (empty: no authentication)"),
    (
        "smtp_password_file",
        "file holding the SMTP password (mode 0600)",
    ),
    (
        "sms_url",
        "the SMS provider's HTTPS endpoint for a JSON POST (http:// only on loopback); empty: SMS go to data_dir/outbox",
    ),
    (
        "sms_token_file",
        "file holding the SMS provider's bearer token (mode 0600)",
    ),
    ("sms_from", "sender name or number of SMS"),
    (
        "stun_urls",
        "STUN servers offered to browsers for video calls (stun:host:port), comma-separated",
    ),
    (
        "turn_urls",
        "TURN servers (coturn) for video calls (turn:host:3478?transport=udp, turns:host:5349), comma-separated; empty: peer-to-peer only",
    ),
    (
        "turn_secret_file",
        "file holding coturn's static-auth-secret (mode 0600); required with turn_urls",
    ),
    (
        "turn_credential_minutes",
        "how long a TURN credential handed to a browser stays valid (it must outlast a call)",
    ),
    (
        "data_country",
        "ISO 3166 code of the country where the database and its backups are kept (JP for Japan; the disclosure checks it, G-43)",
    ),
    (
        "data_region",
        "where in that country, as the disclosure names it (e.g. \"Tokyo, provider X, zone a\")",
    ),
];

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(name) => write!(f, "environment {name}"),
            Self::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// A configuration problem: the offending key, where its value came from, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config key \"{key}\" ({origin}): {message}")]
pub struct ConfigError {
    /// The key (or `config` for the file itself).
    pub key: String,
    /// Where the value came from.
    pub origin: Origin,
    /// What is wrong, and what would be right.
    pub message: String,
}

/// The effective configuration of one instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory of the embedded default.
    pub data_dir: PathBuf,
    /// PostgreSQL URL; `None` means SQLite in the data directory.
    pub database_url: Option<String>,
    /// Patient listener address.
    pub patient_addr: SocketAddr,
    /// Clinic listener address.
    pub clinic_addr: SocketAddr,
    /// Operator listener address.
    pub operator_addr: SocketAddr,
    /// Master key file.
    pub master_key_file: PathBuf,
    /// Keyring directory.
    pub keyring_dir: PathBuf,
    /// Data backups.
    pub backup_dir: PathBuf,
    /// Keyring backups, apart from the data backups.
    pub keyring_backup_dir: PathBuf,
    /// Time between scheduled backups; `None`: serve takes none.
    pub backup_interval: Option<Duration>,
    /// Backups kept by the schedule.
    pub backup_keep: usize,
    /// Names in the generated server certificate.
    pub server_names: Vec<String>,
    /// Time allowed for a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Time allowed for in-flight requests at shutdown.
    pub shutdown_grace: Duration,
    /// Free space required in the data directory, in bytes.
    pub min_free_space: u64,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Validity of a newly issued clinic client certificate, in days.
    pub client_cert_days: i64,
    /// How often revocations are re-read from the database.
    pub crl_reload: Duration,
    /// Where outgoing messages go.
    pub mail: MailConfig,
    /// The clinic site's public address; `None`: derived from the first server name.
    pub clinic_url: Option<String>,
    /// The patient site's public address; `None`: derived from the first server name.
    pub patient_url: Option<String>,
    /// ICE servers for video calls.
    pub video: VideoConfig,
    /// ISO 3166 code of the country the data is kept in.
    pub data_country: Option<String>,
    /// Where in that country.
    pub data_region: Option<String>,
    /// The operator's texts of the disclosure's organisational statements (`[disclosure]`).
    pub disclosure: OperatorTexts,
}

/// The ICE servers browsers use for video calls (FUNC-5): enshin never relays media itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VideoConfig {
    /// STUN servers.
    pub stun_urls: Vec<String>,
    /// TURN servers with the shared secret of their REST credentials; `None`: peer-to-peer only.
    pub turn: Option<TurnConfig>,
}

/// coturn with `use-auth-secret`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnConfig {
    /// `turn:` / `turns:` URLs.
    pub urls: Vec<String>,
    /// File holding the static-auth-secret.
    pub secret_file: PathBuf,
    /// Lifetime of a minted credential.
    pub credential_minutes: i64,
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (`smtps://`, port 465).
    Tls,
    /// STARTTLS, required (`smtp+starttls://`, port 587).
    StartTls,
    /// None: only to a server on loopback (`smtp://`).
    LoopbackPlain,
}

/// An SMTP relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host name (checked against its certificate).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Protection.
    pub security: SmtpSecurity,
    /// User name, if the relay wants one.
    pub username: Option<String>,
    /// File holding the password.
    pub password_file: Option<PathBuf>,
}

/// An SMS provider's HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsConfig {
    /// The endpoint.
    pub url: String,
    /// File holding the bearer token.
    pub token_file: Option<PathBuf>,
}

/// Outgoing messages: SMTP and an SMS provider, or the outbox directory when not configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// Sender address.
    pub from: String,
    /// SMS sender name or number.
    pub sms_from: String,
    /// The relay; `None`: e-mail goes to the outbox.
    pub smtp: Option<SmtpConfig>,
    /// The provider; `None`: SMS go to the outbox.
    pub sms: Option<SmsConfig>,
}

/// Whether a host name is this machine (plain connections are allowed only there).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn smtp_url(s: &str) -> Result<(String, u16, SmtpSecurity), String> {
    let (security, rest, default_port) = if let Some(rest) = s.strip_prefix("smtps://") {
        (SmtpSecurity::Tls, rest, 465)
    } else if let Some(rest) = s.strip_prefix("smtp+starttls://") {
        (SmtpSecurity::StartTls, rest, 587)
    } else if let Some(rest) = s.strip_prefix("smtp://") {
        (SmtpSecurity::LoopbackPlain, rest, 25)
    } else {
        return Err(format!(
            "\"{s}\" must start with smtps://, smtp+starttls:// or (loopback only) smtp://"
        ));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => (
            host,
            port.parse::<u16>()
                .map_err(|_| format!("\"{port}\" is not a port number"))?,
        ),
        _ => (rest, default_port),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    {
        return Err(format!("\"{host}\" is not a host name"));
    }
    if security == SmtpSecurity::LoopbackPlain && !is_loopback(host) {
        return Err(format!(
            "smtp:// sends mail in clear; it is allowed only to a relay on loopback, not {host} (use smtps:// or smtp+starttls://)"
        ));
    }
    Ok((host.to_owned(), port, security))
}

/// A site's public `https://` address, without a trailing slash.
fn public_url(s: &str) -> Result<String, String> {
    if s.starts_with("https://") && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err(format!("\"{s}\" is not an https:// address"))
    }
}

/// The host of the part of a URL after the scheme (`[::1]` kept in brackets).
fn url_host(rest: &str) -> &str {
    match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map_or("", |h| &rest[..h.len() + 2]),
        None => rest.split(['/', ':', '?']).next().unwrap_or(""),
    }
}

fn sms_url(s: &str) -> Result<String, String> {
    if let Some(rest) = s.strip_prefix("https://")
        && !url_host(rest).is_empty()
    {
        return Ok(s.to_owned());
    }
    match s.strip_prefix("http://").map(url_host) {
        Some(host) if is_loopback(host) => Ok(s.to_owned()),
        Some(host) => Err(format!(
            "http:// sends the token and the text in clear; it is allowed only on loopback, not {host}"
        )),
        None => Err(format!("\"{s}\" is not an https:// URL")),
    }
}

/// Raw values by key, each with its origin, before parsing.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    values: BTreeMap<&'static str, (String, Origin)>,
    disclosure: OperatorTexts,
}

/// Longest operator text of one disclosure statement.
const DISCLOSURE_TEXT_MAX: usize = 4_000;

/// Reads `[disclosure]` (Japanese texts) and `[disclosure.en]` (English ones): every key must be
/// an organisational statement's key of the catalogue, every value a string of printable text.
fn disclosure_texts(table: toml::Table) -> Result<OperatorTexts, (String, String)> {
    let known = enshin_core::disclosure::catalogue().organisational_keys();
    let mut texts = OperatorTexts::default();
    let read = |prefix: &str, key: &str, value: toml::Value| -> Result<String, (String, String)> {
        let name = format!("{prefix}.{key}");
        if !known.contains(&key) {
            return Err((
                name,
                "unknown disclosure key (see config/enshin.example.toml)".into(),
            ));
        }
        let toml::Value::String(text) = value else {
            return Err((name, "must be a string".into()));
        };
        if text.chars().count() > DISCLOSURE_TEXT_MAX {
            return Err((
                name,
                format!("must have at most {DISCLOSURE_TEXT_MAX} characters"),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err((name, "must not hold control characters".into()));
        }
        Ok(text)
    };
    for (key, value) in table {
        if key == "en" {
            let toml::Value::Table(en) = value else {
                return Err(("disclosure.en".into(), "must be a table".into()));
            };
            for (key, value) in en {
                let text = read("disclosure.en", &key, value)?;
                texts.en.insert(key, text);
            }
        } else {
            let text = read("disclosure", &key, value)?;
            texts.ja.insert(key, text);
        }
    }
    Ok(texts)
}

fn known_key(key: &str) -> Option<&'static str> {
    KEYS.iter().map(|(k, _)| *k).find(|k| *k == key)
}

/// The environment variable of a key.
pub fn env_name(key: &str) -> String {
    format!("ENSHIN_{}", key.to_ascii_uppercase())
}

/// Keys whose value is a list (an array in the file, comma-separated elsewhere).
const LIST_KEYS: [&str; 3] = ["server_names", "stun_urls", "turn_urls"];

/// A comma-separated list of ICE server URLs with one of `schemes`.
fn ice_urls(text: &str, schemes: &[&str]) -> Result<Vec<String>, String> {
    let urls: Vec<String> = text
        .split(',')
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    match urls.iter().find(|u| {
        !schemes.iter().any(|s| u.starts_with(s))
            || u.chars().any(|c| c.is_whitespace() || c.is_control())
    }) {
        Some(bad) => Err(format!(
            "\"{bad}\" must start with {}",
            schemes.join(" or ")
        )),
        None => Ok(urls),
    }
}

/// The flag of a key.
pub fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

impl Layers {
    /// Reads the TOML file; unknown keys and wrong types are errors naming the key.
    pub fn file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let origin = Origin::File(path.to_owned());
        let file_err = |message: String| ConfigError {
            key: "config".into(),
            origin: origin.clone(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_err(format!("cannot read the file: {e}")))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            file_err(format!(
                "not valid TOML: {}",
                e.message().lines().next().unwrap_or("syntax error")
            ))
        })?;
        for (key, value) in table {
            if key == "disclosure" {
                let toml::Value::Table(texts) = value else {
                    return Err(ConfigError {
                        key,
                        origin,
                        message: "must be a table of texts".into(),
                    });
                };
                self.disclosure =
                    disclosure_texts(texts).map_err(|(key, message)| ConfigError {
                        key,
                        origin: origin.clone(),
                        message,
                    })?;
                continue;
            }
            let Some(known) = known_key(&key) else {
                return Err(ConfigError {
                    key,
                    origin,
                    message: "unknown key (see config/enshin.example.toml)".into(),
                });
            };
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Array(items) if LIST_KEYS.contains(&known) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| ConfigError {
                        key: key.clone(),
                        origin: origin.clone(),
                        message: "must be a list of strings".into(),
                    })?
                    .join(","),
                other => {
                    return Err(ConfigError {
                        key,
                        origin,
                        message: format!("must be a string or a number, not {}", other.type_str()),
                    });
                }
            };
            self.values.insert(known, (text, origin.clone()));
        }
        Ok(())
    }

    /// Takes `ENSHIN_<KEY>` variables; returns the names of other `ENSHIN_` variables (likely typos).
    pub fn env(&mut self, vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        let mut unknown = Vec::new();
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix("ENSHIN_") else {
                continue;
            };
            match known_key(&rest.to_ascii_lowercase()) {
                Some(key) if env_name(key) == name => {
                    self.values.insert(key, (value, Origin::Env(name)));
                }
                _ if ["CONFIG", "LOG"].contains(&rest) || rest.starts_with("TEST_") => {}
                _ => unknown.push(name),
            }
        }
        unknown
    }

    /// Sets a value with the origin "default" unless the key already has one.
    pub fn default_if_unset(&mut self, key: &'static str, value: &str) {
        self.values
            .entry(key)
            .or_insert_with(|| (value.to_owned(), Origin::Default));
    }

    /// Takes values given as flags (`key` as in [`KEYS`]).
    pub fn flag(&mut self, key: &'static str, value: String) {
        self.values
            .insert(key, (value, Origin::Flag(flag_name(key))));
    }

    fn get(&self, key: &'static str) -> Option<&(String, Origin)> {
        self.values.get(key)
    }

    /// A key whose empty or absent value means "not configured".
    fn optional<T>(
        &self,
        key: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(key) {
            Some((text, _)) if !text.trim().is_empty() => self.parse(key, "", parse).map(Some),
            _ => Ok(None),
        }
    }

    fn parse<T>(
        &self,
        key: &'static str,
        default: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let (text, origin) = match self.get(key) {
            Some((text, origin)) => (text.as_str(), origin.clone()),
            None => (default, Origin::Default),
        };
        if text.trim().is_empty() {
            return Err(ConfigError {
                key: key.into(),
                origin,
                message: "must not be empty".into(),
            });
        }
        parse(text.trim()).map_err(|message| ConfigError {
            key: key.into(),
            origin,
            message,
        })
    }

    fn mail(
        &self,
        path: &impl Fn(&str) -> Result<PathBuf, String>,
    ) -> Result<MailConfig, ConfigError> {
        let smtp = match self.optional("smtp_url", smtp_url)? {
            Some((host, port, security)) => Some(SmtpConfig {
                host,
                port,
                security,
                username: self.optional("smtp_username", |s| Ok(s.to_owned()))?,
                password_file: self.optional("smtp_password_file", path)?,
            }),
            None => None,
        };
        let sms = match self.optional("sms_url", sms_url)? {
            Some(url) => Some(SmsConfig {
                url,
                token_file: self.optional("sms_token_file", path)?,
            }),
            None => None,
        };
        Ok(MailConfig {
            from: self.parse("mail_from", "enshin <no-reply@localhost>", |s| {
                if s.contains('@') && !s.chars().any(char::is_control) {
                    Ok(s.to_owned())
                } else {
                    Err(format!("\"{s}\" is not an e-mail address"))
                }
            })?,
            sms_from: self.parse("sms_from", "enshin", |s| {
                if s.chars().count() <= 20 && !s.chars().any(char::is_control) {
                    Ok(s.to_owned())
                } else {
                    Err("must have at most 20 characters".into())
                }
            })?,
            smtp,
            sms,
        })
    }

    fn video(
        &self,
        path: &impl Fn(&str) -> Result<PathBuf, String>,
    ) -> Result<VideoConfig, ConfigError> {
        let stun_urls = self
            .optional("stun_urls", |s| ice_urls(s, &["stun:", "stuns:"]))?
            .unwrap_or_default();
        let turn = match self.optional("turn_urls", |s| ice_urls(s, &["turn:", "turns:"]))? {
            Some(urls) => Some(TurnConfig {
                urls,
                secret_file: self.parse("turn_secret_file", "", path)?,
                credential_minutes: self.parse("turn_credential_minutes", "240", |s| match s
                    .parse::<i64>()
                {
                    Ok(n) if (10..=24 * 60).contains(&n) => Ok(n),
                    _ => Err(format!(
                        "\"{s}\" is not a number of minutes from 10 to 1440"
                    )),
                })?,
            }),
            None => None,
        };
        Ok(VideoConfig { stun_urls, turn })
    }

    /// Parses and checks every value.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        // Absolute, so printed paths and the SQLite URL do not depend on where they are read.
        let path = |s: &str| {
            std::path::absolute(s).map_err(|e| format!("\"{s}\" is not a usable path: {e}"))
        };
        let addr = |s: &str| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("\"{s}\" is not an address with port, e.g. 127.0.0.1:8443"))
        };
        let secs = |s: &str| match s.parse::<u64>() {
            Ok(n) if (1..=3600).contains(&n) => Ok(Duration::from_secs(n)),
            _ => Err(format!("\"{s}\" is not a number of seconds from 1 to 3600")),
        };
        let data_dir = self.parse("data_dir", "enshin-data", path)?;
        let database_url = match self.get("database_url") {
            Some((text, _)) if text.trim().is_empty() => None,
            Some(_) => Some(self.parse("database_url", "", |s| {
                if s.starts_with("postgres://") || s.starts_with("postgresql://") {
                    Ok(s.to_owned())
                } else {
                    Err("must start with postgres:// (leave it empty for the embedded SQLite database)".into())
                }
            })?),
            None => None,
        };
        let within = |name: &str| data_dir.join(name).display().to_string();
        let config = Config {
            database_url,
            patient_addr: self.parse("patient_addr", "0.0.0.0:8443", addr)?,
            clinic_addr: self.parse("clinic_addr", "0.0.0.0:8444", addr)?,
            operator_addr: self.parse("operator_addr", "127.0.0.1:8445", addr)?,
            master_key_file: self.parse("master_key_file", &within("master.key"), path)?,
            keyring_dir: self.parse("keyring_dir", &within("keys"), path)?,
            backup_dir: self.parse("backup_dir", &within("backups"), path)?,
            keyring_backup_dir: self.parse(
                "keyring_backup_dir",
                &within("keyring-backups"),
                path,
            )?,
            backup_interval: self.parse("backup_interval_secs", "3600", |s| {
                match s.parse::<u64>() {
                    Ok(0) => Ok(None),
                    Ok(n) if n <= 7 * 86_400 => Ok(Some(Duration::from_secs(n))),
                    _ => Err(format!(
                        "\"{s}\" is not a number of seconds from 0 (off) to 604800"
                    )),
                }
            })?,
            backup_keep: self.parse("backup_keep", "48", |s| match s.parse::<usize>() {
                Ok(n) if (1..=10_000).contains(&n) => Ok(n),
                _ => Err(format!(
                    "\"{s}\" is not a number of backups from 1 to 10000"
                )),
            })?,
            server_names: self.parse("server_names", "localhost,127.0.0.1,::1", |s| {
                let names: Vec<String> = s
                    .split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect();
                match names.iter().find(|n| {
                    !n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:*".contains(&b))
                }) {
                    Some(bad) => Err(format!("\"{bad}\" is not a DNS name or IP address")),
                    None => Ok(names),
                }
            })?,
            tls_handshake_timeout: self.parse("tls_handshake_timeout_secs", "10", secs)?,
            shutdown_grace: self.parse("shutdown_grace_secs", "30", secs)?,
            min_free_space: self.parse("min_free_space_mb", "64", |s| {
                s.parse::<u64>()
                    .map(|mb| mb * 1024 * 1024)
                    .map_err(|_| format!("\"{s}\" is not a whole number of MiB"))
            })?,
            sessions: SessionPolicy {
                idle_ms: self.parse("session_idle_minutes", "30", |s| match s.parse::<i64>() {
                    Ok(n) if (1..=24 * 60).contains(&n) => Ok(n * 60_000),
                    _ => Err(format!("\"{s}\" is not a number of minutes from 1 to 1440")),
                })?,
                absolute_ms: self.parse("session_absolute_hours", "12", |s| {
                    match s.parse::<i64>() {
                        Ok(n) if (1..=72).contains(&n) => Ok(n * 3_600_000),
                        _ => Err(format!("\"{s}\" is not a number of hours from 1 to 72")),
                    }
                })?,
            },
            client_cert_days: self.parse("client_cert_days", "365", |s| {
                match s.parse::<i64>() {
                    Ok(n) if (1..=825).contains(&n) => Ok(n),
                    _ => Err(format!("\"{s}\" is not a number of days from 1 to 825")),
                }
            })?,
            crl_reload: self.parse("crl_reload_secs", "2", |s| match s.parse::<u64>() {
                Ok(n) if (1..=60).contains(&n) => Ok(Duration::from_secs(n)),
                _ => Err(format!("\"{s}\" is not a number of seconds from 1 to 60")),
            })?,
            mail: self.mail(&path)?,
            clinic_url: self.optional("clinic_url", public_url)?,
            patient_url: self.optional("patient_url", public_url)?,
            video: self.video(&path)?,
            data_country: self.optional("data_country", |s| {
                if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(s.to_owned())
                } else {
                    Err(format!(
                        "\"{s}\" is not an ISO 3166 country code such as JP"
                    ))
                }
            })?,
            data_region: self.optional("data_region", |s| {
                if s.chars().count() <= 200 && !s.chars().any(char::is_control) {
                    Ok(s.to_owned())
                } else {
                    Err("must be one line of at most 200 characters".into())
                }
            })?,
            disclosure: self.disclosure.clone(),
            data_dir,
        };
        let listeners = [
            ("patient_addr", config.patient_addr),
            ("clinic_addr", config.clinic_addr),
            ("operator_addr", config.operator_addr),
        ];
        for (i, (key, a)) in listeners.iter().enumerate() {
            if a.port() != 0
                && listeners[..i].iter().any(|(_, b)| {
                    b.port() == a.port()
                        && (b.ip() == a.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
                })
            {
                return Err(ConfigError {
                    key: (*key).into(),
                    origin: self
                        .get(key)
                        .map(|(_, o)| o.clone())
                        .unwrap_or(Origin::Default),
                    message: format!("{a} is already used by another listener"),
                });
            }
        }
        Ok(config)
    }
}

impl Config {
    /// The access log's database: the PostgreSQL URL (its schema `audit`), or `audit.db` apart
    /// from the main file in the data directory.
    pub fn audit_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("audit.db").display()
            ),
        }
    }

    /// The database URL actually used: PostgreSQL if configured, else SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("enshin.db").display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Layers {
        let mut layers = Layers::default();
        layers.env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        layers
    }

    #[test]
    fn mail_goes_to_the_outbox_unless_configured_and_never_in_clear_off_loopback() {
        let config = Layers::default().resolve().unwrap();
        assert_eq!((config.mail.smtp, config.mail.sms), (None, None));
        let smtp = |url: &str| {
            env(&[("ENSHIN_SMTP_URL", url)])
                .resolve()
                .map(|c| c.mail.smtp.map(|s| (s.host, s.port, s.security)))
        };
        assert_eq!(
            smtp("smtps://mail.example.jp").unwrap(),
            Some(("mail.example.jp".into(), 465, SmtpSecurity::Tls))
        );
        assert_eq!(
            smtp("smtp+starttls://mail.example.jp:2525").unwrap(),
            Some(("mail.example.jp".into(), 2525, SmtpSecurity::StartTls))
        );
        assert_eq!(
            smtp("smtp://127.0.0.1:2525").unwrap(),
            Some(("127.0.0.1".into(), 2525, SmtpSecurity::LoopbackPlain))
        );
        let clear = smtp("smtp://mail.example.jp").unwrap_err();
        assert_eq!(clear.key, "smtp_url");
        assert!(clear.message.contains("loopback"), "{}", clear.message);
        assert!(smtp("imap://x").is_err());
        assert!(smtp("smtps://bad host").is_err());
        let sms = |url: &str| {
            env(&[("ENSHIN_SMS_URL", url)])
                .resolve()
                .map(|c| c.mail.sms)
        };
        assert!(sms("https://sms.example.jp/v1/messages").unwrap().is_some());
        assert!(sms("http://127.0.0.1:9000/send").unwrap().is_some());
        assert!(sms("http://[::1]:9000/send").unwrap().is_some());
        assert!(sms("http://sms.example.jp/send").is_err());
        assert!(sms("ftp://x").is_err());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = Layers::default().resolve().unwrap();
        assert_eq!(config.patient_addr.to_string(), "0.0.0.0:8443");
        assert_eq!(config.clinic_addr.to_string(), "0.0.0.0:8444");
        assert_eq!(config.operator_addr.to_string(), "127.0.0.1:8445");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(config.master_key_file, cwd.join("enshin-data/master.key"));
        assert_eq!(config.database_url, None);
        assert_eq!(
            config.effective_database_url(),
            format!("sqlite://{}/enshin-data/enshin.db?mode=rwc", cwd.display())
        );
    }

    #[test]
    fn environment_overrides_file_and_flags_override_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enshin.toml");
        std::fs::write(&file, "patient_addr = \"127.0.0.1:1\"\nclinic_addr = \"127.0.0.1:2\"\nserver_names = [\"a.example\", \"10.0.0.1\"]\n").unwrap();
        let mut layers = Layers::default();
        layers.file(&file).unwrap();
        layers.env([("ENSHIN_CLINIC_ADDR".to_string(), "127.0.0.1:3".to_string())]);
        layers.flag("operator_addr", "127.0.0.1:4".into());
        let config = layers.resolve().unwrap();
        assert_eq!(config.patient_addr.port(), 1);
        assert_eq!(config.clinic_addr.port(), 3);
        assert_eq!(config.operator_addr.port(), 4);
        assert_eq!(config.server_names, ["a.example", "10.0.0.1"]);
        layers.flag("clinic_addr", "127.0.0.1:5".into());
        assert_eq!(layers.resolve().unwrap().clinic_addr.port(), 5);
    }

    #[test]
    fn bad_values_name_key_and_origin() {
        let err = env(&[("ENSHIN_PATIENT_ADDR", "nonsense")])
            .resolve()
            .unwrap_err();
        assert_eq!(err.key, "patient_addr");
        assert_eq!(
            err.to_string(),
            "config key \"patient_addr\" (environment ENSHIN_PATIENT_ADDR): \"nonsense\" is not an address with port, e.g. 127.0.0.1:8443"
        );
        assert_eq!(
            env(&[("ENSHIN_DATA_DIR", " ")])
                .resolve()
                .unwrap_err()
                .message,
            "must not be empty"
        );
        assert_eq!(
            env(&[("ENSHIN_DATABASE_URL", "mysql://x")])
                .resolve()
                .unwrap_err()
                .key,
            "database_url"
        );
        assert_eq!(
            env(&[("ENSHIN_SHUTDOWN_GRACE_SECS", "0")])
                .resolve()
                .unwrap_err()
                .key,
            "shutdown_grace_secs"
        );
        assert_eq!(
            env(&[("ENSHIN_SERVER_NAMES", "ok,bad name")])
                .resolve()
                .unwrap_err()
                .key,
            "server_names"
        );
        let clash = env(&[("ENSHIN_CLINIC_ADDR", "127.0.0.1:8443")])
            .resolve()
            .unwrap_err();
        assert_eq!(
            (clash.key.as_str(), clash.message.as_str()),
            (
                "clinic_addr",
                "127.0.0.1:8443 is already used by another listener"
            )
        );
    }

    #[test]
    fn port_zero_may_repeat_and_empty_database_url_means_sqlite() {
        let config = env(&[
            ("ENSHIN_PATIENT_ADDR", "127.0.0.1:0"),
            ("ENSHIN_CLINIC_ADDR", "127.0.0.1:0"),
            ("ENSHIN_OPERATOR_ADDR", "127.0.0.1:0"),
            ("ENSHIN_DATABASE_URL", ""),
        ])
        .resolve()
        .unwrap();
        assert_eq!(config.database_url, None);
    }

    #[test]
    fn unknown_environment_names_are_reported_not_used() {
        let mut layers = Layers::default();
        let unknown = layers.env(
            [
                ("ENSHIN_PATIENT_ADR", "x"),
                ("ENSHIN_TEST_DATABASE_URL", "y"),
                ("ENSHIN_LOG", "debug"),
                ("HOME", "/root"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        assert_eq!(unknown, ["ENSHIN_PATIENT_ADR"]);
        assert!(layers.resolve().is_ok());
    }

    #[test]
    fn file_errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enshin.toml");
        let check = |text: &str, key: &str| {
            std::fs::write(&file, text).unwrap();
            let err = Layers::default().file(&file).unwrap_err();
            assert_eq!(err.key, key, "{err}");
            assert!(!err.to_string().contains('\n'), "one line: {err}");
        };
        check("patient_adr = \"x\"\n", "patient_adr");
        check("patient_addr = true\n", "patient_addr");
        check("server_names = [1]\n", "server_names");
        check("patient_addr = \n", "config");
        let missing = Layers::default()
            .file(&dir.path().join("absent.toml"))
            .unwrap_err();
        assert_eq!(missing.key, "config");
    }

    #[test]
    fn the_example_file_is_valid_and_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/enshin.example.toml");
        let mut layers = Layers::default();
        layers.file(&path).unwrap();
        layers.resolve().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        for (key, _) in KEYS {
            assert!(
                text.lines().any(|l| l.starts_with(&format!("{key} ="))),
                "{key} is not in the example"
            );
        }
        for key in enshin_core::disclosure::catalogue().organisational_keys() {
            assert!(
                text.lines().any(|l| l == format!("# {key} = \"\"")),
                "disclosure.{key} is not in the example"
            );
        }
    }
}
