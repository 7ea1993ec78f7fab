//! The `enshin` binary as an operator runs it: first start, ports.json, the data-directory lock,
//! signals, configuration errors, and unusable data directories.
// covers NET-1, DATA-3, LOG-5

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use enshin_testkit::{TestDatabase, https_client};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_enshin");

/// The binary with a clean `ENSHIN_*` environment, run in `dir` (so no stray ./enshin.toml).
pub(crate) fn enshin(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("ENSHIN_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

pub(crate) fn loopback(cmd: &mut Command, data_dir: &Path, db_url: Option<&str>) {
    cmd.env("ENSHIN_DATA_DIR", data_dir)
        .env("ENSHIN_PATIENT_ADDR", "127.0.0.1:0")
        .env("ENSHIN_CLINIC_ADDR", "127.0.0.1:0")
        .env("ENSHIN_OPERATOR_ADDR", "127.0.0.1:0")
        .env("ENSHIN_MIN_FREE_SPACE_MB", "1")
        .env("ENSHIN_SHUTDOWN_GRACE_SECS", "5");
    if let Some(url) = db_url {
        cmd.env("ENSHIN_DATABASE_URL", url);
    }
}

/// Spawns `enshin serve` on loopback with stdout and stderr going to files in `dir`.
fn spawn_serve(dir: &Path, data_dir: &Path, db_url: Option<&str>, extra: &[&str]) -> Child {
    let mut cmd = enshin(dir);
    loopback(&mut cmd, data_dir, db_url);
    cmd.arg("serve")
        .args(extra)
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap()
}

/// A `serve` child process with its output going to files in its directory.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) data_dir: PathBuf,
    pub(crate) ports: Value,
    pub(crate) _db: Option<TestDatabase>,
    db_url: Option<String>,
    extra: Vec<&'static str>,
}

impl Served {
    pub(crate) async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// `serve` with extra arguments (kept for restarts).
    pub(crate) async fn start_with(extra: &[&'static str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let db = TestDatabase::create().await;
        let db_url = db.as_ref().map(|db| db.url.clone());
        let child = spawn_serve(dir.path(), &data_dir, db_url.as_deref(), extra);
        let mut served = Self {
            extra: extra.to_vec(),
            child,
            dir,
            data_dir,
            ports: Value::Null,
            _db: db,
            db_url,
        };
        served.ports = served.ready().await;
        served
    }

    /// `serve` on a database the caller made (and migrated).
    pub(crate) async fn start_on(db_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let child = spawn_serve(dir.path(), &data_dir, Some(db_url), &[]);
        let mut served = Self {
            extra: Vec::new(),
            child,
            dir,
            data_dir,
            ports: Value::Null,
            _db: None,
            db_url: Some(db_url.to_owned()),
        };
        served.ports = served.ready().await;
        served
    }

    /// The database URL `serve` was given (None: the embedded default).
    pub(crate) fn db_url(&self) -> Option<&str> {
        self.db_url.as_deref()
    }

    /// A second `serve` on the same PostgreSQL database, with its own data directory holding
    /// copies of what instances share (service CA, master key, keyring) and its own access-log
    /// writer key, lock and outbox.
    pub(crate) async fn beside(first: &Served) -> Self {
        fn copy_dir(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                // fs::copy keeps the mode bits, so the secrets stay 0600.
                std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        copy_dir(&first.data_dir.join("pki"), &data_dir.join("pki"));
        copy_dir(&first.data_dir.join("keys"), &data_dir.join("keys"));
        std::fs::copy(
            first.data_dir.join("master.key"),
            data_dir.join("master.key"),
        )
        .unwrap();
        std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        let child = spawn_serve(dir.path(), &data_dir, first.db_url(), &[]);
        let mut served = Self {
            extra: Vec::new(),
            child,
            dir,
            data_dir,
            ports: Value::Null,
            _db: None,
            db_url: first.db_url.clone(),
        };
        served.ports = served.ready().await;
        served
    }

    /// Starts `serve` again on the same directories, after the previous process has ended.
    pub(crate) async fn restart(&mut self) {
        self.child = spawn_serve(
            self.dir.path(),
            &self.data_dir,
            self.db_url.as_deref(),
            &self.extra,
        );
        self.ports = self.ready().await;
    }

    /// Waits until ports.json is written and the report line about it printed.
    async fn ready(&mut self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let reported = self.stdout_if_any().contains("ports written to");
            if let Some(ports) = std::fs::read_to_string(self.data_dir.join("ports.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .filter(|_| reported)
            {
                return ports;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "serve exited with {status}: {}",
                    std::fs::read_to_string(self.dir.path().join("stderr")).unwrap()
                );
            }
            assert!(Instant::now() < deadline, "serve was not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stdout_if_any(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout")).unwrap_or_default()
    }

    pub(crate) fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout")).unwrap()
    }

    pub(crate) fn url(&self, listener: &str, path: &str) -> String {
        format!(
            "https://{}{path}",
            self.ports[listener]["address"].as_str().unwrap()
        )
    }

    /// Status of `GET /healthz` on the operator listener.
    pub(crate) async fn operator_health(&self) -> u16 {
        let response = self
            .client()
            .get(self.url("operator", "/healthz"))
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }

    /// Registers a patient through the API and logs them in; returns the session token.
    pub(crate) async fn patient_token(&self, login_id: &str) -> String {
        let client = self.client();
        let registered = client
            .post(self.url("patient", "/api/v1/patients"))
            .json(&serde_json::json!({
                "login_id": login_id, "password": "Blue-Kettle-42", "email": "p@mail.test",
                "family_name": "稼働", "given_name": "花子", "family_name_kana": "カドウ",
                "given_name_kana": "ハナコ", "birth_date": "1958-03-03",
                "terms_version": enshin_server::patients::TERMS_VERSION,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), reqwest::StatusCode::CREATED);
        let session: Value = client
            .post(self.url("patient", "/api/v1/session"))
            .json(&serde_json::json!({ "login_id": login_id, "password": "Blue-Kettle-42" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        session["token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn client(&self) -> reqwest::Client {
        https_client(
            &std::fs::read_to_string(self.data_dir.join("pki/ca.crt")).unwrap(),
            None,
        )
    }

    pub(crate) fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // The shell's builtin kill: no dependency on procps being installed.
        let status = Command::new("sh")
            .args(["-c", &format!("kill -{signal} {pid}")])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Waits (bounded) for the process to exit.
    pub(crate) async fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "serve did not stop within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn first_start_creates_everything_reports_it_and_stops_cleanly_on_sigterm() {
    let mut served = Served::start().await;
    let data = served.data_dir.clone();
    for secret in ["master.key", "pki/ca.key", "pki/server.key"] {
        assert_eq!(mode(&data.join(secret)), 0o600, "{secret}");
    }
    for dir in ["", "pki", "keys", "outbox"] {
        assert_eq!(mode(&data.join(dir)), 0o700, "{dir}");
    }
    let stdout = served.stdout();
    for line in [
        "created service CA",
        "created server certificate",
        "created master key",
        "created keyring",
        "created outbox",
        "ports written to",
        "clock:",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    if served._db.is_none() {
        assert!(
            stdout.contains("created database (SQLite, WAL)"),
            "{stdout}"
        );
        assert!(data.join("enshin.db-wal").exists() || data.join("enshin.db").exists());
    }
    for listener in ["patient", "clinic", "operator"] {
        let port = served.ports[listener]["port"].as_u64().unwrap();
        assert!(
            port > 0 && stdout.contains(&format!(":{port}")),
            "{listener} port {port} not printed"
        );
    }
    let health: Value = served
        .client()
        .get(served.url("patient", "/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    served.signal(libc::SIGTERM);
    let status = served.wait().await;
    assert!(status.success(), "exit status {status}");
    assert!(served.stdout().contains("SIGTERM received"));
    assert!(
        served.stdout().ends_with("stopped\n"),
        "{}",
        served.stdout()
    );
    assert!(
        !data.join("ports.json").exists(),
        "ports.json is removed on a clean stop"
    );
}

#[tokio::test]
async fn restart_reuses_what_exists_and_sigint_also_stops() {
    let mut first = Served::start().await;
    let ca_before = std::fs::read(first.data_dir.join("pki/ca.crt")).unwrap();
    let key_before = std::fs::read(first.data_dir.join("master.key")).unwrap();
    first.signal(libc::SIGINT);
    assert!(first.wait().await.success());
    first.restart().await;
    assert_eq!(
        std::fs::read(first.data_dir.join("pki/ca.crt")).unwrap(),
        ca_before,
        "the CA survives a restart"
    );
    assert_eq!(
        std::fs::read(first.data_dir.join("master.key")).unwrap(),
        key_before,
        "the master key survives a restart"
    );
    assert!(
        !first.stdout().contains("created"),
        "nothing is created twice"
    );
}

#[tokio::test]
async fn a_second_serve_on_the_same_data_dir_refuses_and_cli_commands_still_work() {
    let served = Served::start().await;
    let mut cmd = enshin(served.dir.path());
    loopback(&mut cmd, &served.data_dir, served.db_url());
    let second = cmd.arg("serve").output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    let pid = served.child.id().to_string();
    assert!(
        stderr.contains("in use by another enshin serve") && stderr.contains(&pid),
        "{stderr}"
    );

    let mut cmd = enshin(served.dir.path());
    loopback(&mut cmd, &served.data_dir, served.db_url());
    let migrate = cmd.arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let latest = enshin_store::migrations::MIGRATIONS.last().unwrap().version;
    assert!(
        String::from_utf8_lossy(&migrate.stdout).contains(&format!("schema version {latest}")),
        "{}",
        String::from_utf8_lossy(&migrate.stdout)
    );

    assert_eq!(
        served.operator_health().await,
        200,
        "the first serve is untouched"
    );
}

/// Runs `enshin serve` and expects a one-line configuration error naming `key`, exit code 2.
fn expect_config_error(cmd: &mut Command, key: &str) -> String {
    let output: Output = cmd.arg("serve").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(&format!("config key \"{key}\"")),
        "{stderr}"
    );
    stderr
}

#[test]
fn configuration_errors_name_the_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let err = expect_config_error(
        enshin(dir.path()).env("ENSHIN_PATIENT_ADDR", "not-an-address"),
        "patient_addr",
    );
    assert!(err.contains("ENSHIN_PATIENT_ADDR"), "{err}");
    expect_config_error(enshin(dir.path()).env("ENSHIN_DATA_DIR", ""), "data_dir");
    expect_config_error(
        enshin(dir.path()).env("ENSHIN_DATABASE_URL", "mysql://db/x"),
        "database_url",
    );
    let err = expect_config_error(
        enshin(dir.path()).args(["--shutdown-grace-secs", "0"]),
        "shutdown_grace_secs",
    );
    assert!(err.contains("flag --shutdown-grace-secs"), "{err}");
    expect_config_error(
        enshin(dir.path()).args(["--config", "absent.toml"]),
        "config",
    );
    std::fs::write(
        dir.path().join("enshin.toml"),
        "clinic_adr = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    expect_config_error(&mut enshin(dir.path()), "clinic_adr");
    std::fs::write(dir.path().join("enshin.toml"), "clinic_addr = 8444\n").unwrap();
    expect_config_error(&mut enshin(dir.path()), "clinic_addr");
    assert!(
        !dir.path().join("enshin-data").exists(),
        "a bad configuration touches nothing"
    );
}

#[test]
fn a_bound_port_is_a_clear_runtime_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut cmd = enshin(dir.path());
    loopback(&mut cmd, &dir.path().join("data"), None);
    let output = cmd
        .env(
            "ENSHIN_CLINIC_ADDR",
            taken.local_addr().unwrap().to_string(),
        )
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot listen on clinic_addr"), "{stderr}");
}

/// Runs `enshin serve` with `dir` as a fresh tmpfs mounted with `options`, inside a private
/// user and mount namespace (works without root, and never touches the host's mounts).
fn serve_on_tmpfs(options: &str, extra_env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        "mount -t tmpfs -o \"$1\" tmpfs \"$2\" && exec \"$3\" serve",
    ])
    .args(["sh", options, data.to_str().unwrap(), BIN])
    .current_dir(dir.path())
    .stdin(Stdio::null());
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("ENSHIN_")) {
        cmd.env_remove(name);
    }
    loopback(&mut cmd, &data, None);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("unshare (util-linux) runs")
}

fn expect_start_failure(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("mount:") && !stderr.contains("unshare:"),
        "the test could not set up its tmpfs: {stderr}"
    );
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_read_only_data_dir_is_a_clear_error() {
    let output = serve_on_tmpfs("ro,size=1m", &[]);
    expect_start_failure(&output, "read-only file system");
}

#[test]
fn a_small_data_dir_is_refused_before_anything_is_written() {
    let output = serve_on_tmpfs("size=1m", &[("ENSHIN_MIN_FREE_SPACE_MB", "64")]);
    expect_start_failure(
        &output,
        "MiB free, at least 64 MiB required (min_free_space_mb)",
    );
}

#[tokio::test]
async fn an_interrupted_first_start_recovers_or_says_what_to_do() {
    let mut served = Served::start().await;
    let data = served.data_dir.clone();
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    // The lock goes with the killed process; the server key stays without its certificate.
    std::fs::remove_file(data.join("pki/server.crt")).unwrap();
    served.restart().await;
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    std::fs::remove_file(data.join("pki/ca.crt")).unwrap();
    let mut cmd = enshin(served.dir.path());
    loopback(&mut cmd, &data, served.db_url());
    let output = cmd.arg("serve").output().unwrap();
    expect_start_failure(&output, "ca.key exists without ca.crt beside it");
}

#[test]
fn a_full_data_dir_is_a_clear_error() {
    // No free-space threshold: the writes themselves hit ENOSPC part-way through first start.
    let output = serve_on_tmpfs("size=12k", &[("ENSHIN_MIN_FREE_SPACE_MB", "0")]);
    expect_start_failure(&output, "no space left on device");
}
