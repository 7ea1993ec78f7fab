//! Test support: a real enshin server on 127.0.0.1 port 0 with a throw-away data directory and
//! database (SQLite, or a fresh PostgreSQL database when `ENSHIN_TEST_DATABASE_URL` is set),
//! and HTTPS clients that trust its CA.

mod browser;
mod sinks;

pub use browser::{Answer, Browser};
pub use sinks::{ReceivedMail, ReceivedSms, SmsSink, SmtpSink};

use std::path::{Path, PathBuf};
use std::time::Duration;

use enshin_core::password::CommonPasswords;
use enshin_core::people::Role;
use enshin_core::pki::{IssuedCert, ServiceCa};
use enshin_server::people::MemberRequest;
use enshin_server::{Addrs, Config, Layers, Running};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sqlx::Connection;

/// The environment variable naming the PostgreSQL server for the PostgreSQL run of the suite.
pub const PG_ENV: &str = "ENSHIN_TEST_DATABASE_URL";

/// A PostgreSQL database created for one test and dropped afterwards.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// URL of the fresh database.
    pub url: String,
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestDatabase {
    /// A fresh database on the server of `ENSHIN_TEST_DATABASE_URL`, or `None` when it is unset.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
        let name = format!("enshin_t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        Some(Self {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside a test's runtime; a runtime of its own on another thread avoids
        // blocking that one.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A rustls client config trusting `ca_pem`, limited to `versions`, with an optional identity.
pub fn client_tls(
    ca_pem: &str,
    versions: &[&'static SupportedProtocolVersion],
    identity: Option<&IssuedCert>,
) -> ClientConfig {
    let identity = identity.map(|id| {
        (
            CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("cert PEM"),
            PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).expect("key PEM"),
        )
    });
    client_tls_der(ca_pem, versions, identity)
}

/// An HTTPS client presenting the identity of a PKCS#12 bundle (as `enshin cert issue` writes
/// it), opened with `password`.
pub fn pkcs12_client(ca_pem: &str, bundle: &[u8], password: &str) -> reqwest::Client {
    let store = p12_keystore::KeyStore::from_pkcs12(
        bundle,
        password,
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .expect("the bundle opens with its password");
    let (_, chain) = store.private_key_chain().expect("a key with its chain");
    let certs = chain
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::try_from(chain.key().as_der().to_vec()).expect("PKCS#8 key");
    reqwest_client(client_tls_der(
        ca_pem,
        rustls::ALL_VERSIONS,
        Some((certs, key)),
    ))
}

fn client_tls_der(
    ca_pem: &str,
    versions: &[&'static SupportedProtocolVersion],
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let builder = ClientConfig::builder_with_provider(enshin_server::tls::crypto_provider())
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .expect("client identity"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// An HTTPS client (TLS 1.3 and 1.2) trusting `ca_pem`, with an optional client identity.
pub fn https_client(ca_pem: &str, identity: Option<&IssuedCert>) -> reqwest::Client {
    reqwest_client(client_tls(ca_pem, rustls::ALL_VERSIONS, identity))
}

fn reqwest_client(tls: ClientConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(20))
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// One JSON API call: `token` as the bearer (none when empty), `body` as JSON; the answer's
/// status and JSON body (`Null` when there is none).
pub async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let mut request = client.request(method, url);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// A test configuration on loopback port 0 with its data directory in `dir`.
pub fn test_layers(dir: &Path, database_url: Option<&str>) -> Layers {
    let mut layers = Layers::default();
    layers.flag("data_dir", dir.join("data").display().to_string());
    for key in ["patient_addr", "clinic_addr", "operator_addr"] {
        layers.flag(key, "127.0.0.1:0".into());
    }
    layers.flag("min_free_space_mb", "1".into());
    layers.flag("shutdown_grace_secs", "5".into());
    if let Some(url) = database_url {
        layers.flag("database_url", url.into());
    }
    layers
}

/// Copies a data directory for a second instance, leaving out what belongs to one instance.
fn copy_data_dir(from: &Path, to: &Path) {
    const OWN: [&str; 5] = [
        "audit-writer.key",
        "serve.lock",
        "ports.json",
        "audit-checkpoints.log",
        "outbox",
    ];
    std::fs::create_dir_all(to).expect("data dir copy");
    for entry in std::fs::read_dir(from).expect("data dir").flatten() {
        let name = entry.file_name();
        if OWN.iter().any(|own| name == *own) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_data_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy a data file");
        }
    }
}

/// A clinic member made for a test.
#[derive(Debug, Clone)]
pub struct TestMember {
    /// Account id.
    pub id: String,
    /// The member's clinic.
    pub clinic_id: String,
    /// Login ID.
    pub login_id: String,
    /// Password.
    pub password: String,
}

/// An operator created for a test.
#[derive(Debug, Clone)]
pub struct TestOperator {
    /// Account id.
    pub id: String,
    /// Login ID.
    pub login_id: String,
    /// Password.
    pub password: String,
    /// The TOTP secret.
    pub secret: Vec<u8>,
}

impl TestOperator {
    /// The TOTP code of the current step plus `ahead` steps.
    pub fn code(&self, ahead: u64) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let step = enshin_core::totp::step_of(now) + ahead;
        format!("{:06}", enshin_core::totp::code_at(&self.secret, step))
    }
}

/// The secret of an `otpauth://` URI (base32 without padding).
pub fn totp_secret_of(uri: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let text = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("a secret in the URI");
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in text.chars() {
        let value = ALPHABET.find(c).expect("base32") as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// A running server for one test.
pub struct TestApp {
    running: Option<Running>,
    addrs: Addrs,
    config: Config,
    ca_pem: String,
    ca: ServiceCa,
    /// The throw-away directory (data directory inside).
    pub dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

/// Starts the real server on 127.0.0.1 port 0 with a temp data directory, on SQLite or, when
/// `ENSHIN_TEST_DATABASE_URL` is set, on a fresh PostgreSQL database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// [`spawn_app`] with more configuration (e.g. an SMTP relay) set by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Layers)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDatabase::create().await;
    let mut layers = test_layers(dir.path(), db.as_ref().map(|d| d.url.as_str()));
    configure(&mut layers);
    let config = layers.resolve().expect("test config");
    let (running, _report) = enshin_server::launch(&config).await.expect("server starts");
    let ca_pem =
        std::fs::read_to_string(config.data_dir.join("pki/ca.crt")).expect("CA certificate");
    let ca_key = std::fs::read_to_string(config.data_dir.join("pki/ca.key")).expect("CA key");
    let ca = ServiceCa::from_pem(&ca_pem, &ca_key).expect("CA loads");
    TestApp {
        addrs: running.addrs(),
        running: Some(running),
        config,
        ca_pem,
        ca,
        dir,
        _db: db,
    }
}

impl TestApp {
    /// The listeners' addresses.
    pub fn addrs(&self) -> Addrs {
        self.addrs
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir.clone()
    }

    /// The service CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// URL on the patient listener.
    pub fn patient_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addrs.patient)
    }

    /// URL on the clinic listener.
    pub fn clinic_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addrs.clinic)
    }

    /// URL on the operator listener.
    pub fn operator_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addrs.operator)
    }

    /// A client without a certificate (patients, operators).
    pub fn client(&self) -> reqwest::Client {
        https_client(&self.ca_pem, None)
    }

    /// Issues a client certificate for `clinic_id` as `enshin cert issue` does (recorded in the
    /// database), valid for a year (the default).
    pub async fn issue_client_cert(&self, clinic_id: &str) -> IssuedCert {
        let (not_before, not_after) = enshin_server::certs::validity_from_now(365);
        self.issue_client_cert_between(clinic_id, not_before, not_after)
            .await
    }

    /// Issues and records a client certificate valid from `not_before` to `not_after`.
    pub async fn issue_client_cert_between(
        &self,
        clinic_id: &str,
        not_before: time::OffsetDateTime,
        not_after: time::OffsetDateTime,
    ) -> IssuedCert {
        let request = enshin_server::certs::IssueRequest {
            clinic_id,
            label: "test PC",
            not_before,
            not_after,
            cipher: enshin_core::pki::BundleCipher::Modern,
        };
        enshin_server::certs::issue(self.store(), &self.ca, &request)
            .await
            .expect("client certificate")
            .issued
    }

    /// A certificate the service CA signed but enshin never recorded (as after a CA key leak).
    pub fn unrecorded_client_cert(&self, clinic_id: &str) -> IssuedCert {
        let (not_before, not_after) = enshin_server::certs::validity_from_now(30);
        self.ca
            .issue_client(clinic_id, not_before, not_after)
            .expect("client certificate")
    }

    /// A browser on the patient site.
    pub fn patient_browser(&self) -> Browser {
        Browser::new(&self.ca_pem, None, &self.patient_url(""))
    }

    /// A browser on the clinic site presenting a fresh certificate for `clinic_id`.
    pub async fn clinic_browser(&self, clinic_id: &str) -> Browser {
        let identity = self.issue_client_cert(clinic_id).await;
        Browser::new(&self.ca_pem, Some(&identity), &self.clinic_url(""))
    }

    /// A browser on the clinic site, logged in as `member` with a certificate of its clinic.
    pub async fn member_browser(&self, member: &TestMember) -> Browser {
        let browser = self.clinic_browser(&member.clinic_id).await;
        let signed = browser
            .log_in(&[
                ("login_id", &member.login_id),
                ("password", &member.password),
            ])
            .await;
        assert_eq!(signed.location(), Some("/home"), "{}", signed.body);
        browser
    }

    /// A browser on the operator console, logged in with the password and the current code.
    pub async fn operator_browser(&self, operator: &TestOperator) -> Browser {
        let browser = Browser::new(&self.ca_pem, None, &self.operator_url(""));
        let signed = browser
            .log_in(&[
                ("login_id", &operator.login_id),
                ("password", &operator.password),
                ("totp", &operator.code(0)),
            ])
            .await;
        assert_eq!(signed.location(), Some("/home"), "{}", signed.body);
        browser
    }

    /// A client presenting a fresh certificate for `clinic_id` (clinic members).
    pub async fn clinic_client(&self, clinic_id: &str) -> reqwest::Client {
        let identity = self.issue_client_cert(clinic_id).await;
        https_client(&self.ca_pem, Some(&identity))
    }

    /// Adds an operator through the same code as `enshin operator add`; returns it with its
    /// TOTP secret (as the authenticator app would hold it).
    pub async fn add_operator(&self, login_id: &str) -> TestOperator {
        let state = self.running.as_ref().expect("running").state();
        let password = "Hinoki-88-forest!".to_owned();
        let created = enshin_server::operators::add_operator(
            &state.store,
            &state.keyring,
            &CommonPasswords::bundled(),
            login_id,
            login_id,
            &password,
        )
        .await
        .expect("operator");
        TestOperator {
            id: created.id,
            login_id: created.login_id.as_str().to_owned(),
            password,
            secret: totp_secret_of(&created.otpauth_uri),
        }
    }

    /// The running server's shared state (its queue, store, keyring).
    pub fn state(&self) -> &enshin_server::routes::AppState {
        self.running.as_ref().expect("running").state()
    }

    /// The outbox's messages, oldest first, once there are at least `n` (the queue delivers in
    /// the background); waits up to 10 s.
    pub async fn outbox(&self, n: usize) -> Vec<String> {
        let dir = self.data_dir().join("outbox");
        for _ in 0..200 {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .expect("outbox")
                .map(|e| e.expect("outbox entry").path())
                .collect();
            if files.len() >= n {
                files.sort();
                return files
                    .iter()
                    .map(|f| std::fs::read_to_string(f).expect("message"))
                    .collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {n} messages in the outbox after 10 s");
    }

    /// The server's database.
    pub fn store(&self) -> &enshin_store::Store {
        self.running.as_ref().expect("running").store()
    }

    /// Creates a clinic (with its data key) through the same code as `enshin clinic add`.
    pub async fn add_clinic(&self, name: &str) -> String {
        let keyring = enshin_server::datadir::open_keyring(&self.config).expect("keyring");
        enshin_server::people::add_clinic(self.store(), &keyring, name)
            .await
            .expect("clinic")
            .id
    }

    /// Creates a member of `clinic_id` with a fresh login ID and a valid password.
    pub async fn add_member(&self, clinic_id: &str, role: Role) -> TestMember {
        let login_id = format!("m{}", uuid::Uuid::now_v7().simple());
        let password = "Blue-Kettle-42".to_owned();
        let request = MemberRequest {
            clinic_id,
            role,
            login_id: &login_id,
            name: "Test Member",
            password: &password,
        };
        let common = CommonPasswords::parse("");
        let created = enshin_server::people::add_member(self.store(), &common, &request)
            .await
            .expect("member");
        TestMember {
            id: created.id,
            clinic_id: clinic_id.to_owned(),
            login_id,
            password,
        }
    }

    /// A second instance on the same PostgreSQL database (`None` on SQLite): a copy of this
    /// one's data directory (PKI, master key, keyring) without its access-log writer key, lock
    /// and ports, so it registers as a writer of its own, as a second server would.
    pub async fn second_instance(&self) -> Option<TestApp> {
        let url = self.config.database_url.clone()?;
        let dir = tempfile::tempdir().expect("temp dir");
        copy_data_dir(&self.config.data_dir, &dir.path().join("data"));
        let layers = test_layers(dir.path(), Some(&url));
        let config = layers.resolve().expect("test config");
        let (running, _report) = enshin_server::launch(&config)
            .await
            .expect("second instance starts");
        Some(TestApp {
            addrs: running.addrs(),
            running: Some(running),
            config,
            ca_pem: self.ca_pem.clone(),
            ca: ServiceCa::from_pem(
                &self.ca_pem,
                &std::fs::read_to_string(self.config.data_dir.join("pki/ca.key")).expect("CA key"),
            )
            .expect("CA loads"),
            dir,
            _db: None,
        })
    }

    /// Shuts the server down gracefully.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    /// Shuts the server down cleanly but keeps its data directory and database, to inspect them.
    pub async fn stop_server(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }
}
