//! The production PostgreSQL set-up of `deploy/postgresql`, built by its `pair.sh`: enshin
//! migrates as the schema owner and serves as the service role over verified TLS; the service
//! role can neither change the access log nor the schema, and a connection without TLS is refused.
//! Then the primary is killed under load and the standby promoted: the same `serve` process,
//! never restarted, serves again and no write it acknowledged is missing; the access log
//! verifies and pgBackRest backs up the new primary.
// covers AVAIL-1, AVAIL-2, NET-4, LOG-2

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::cli::{Served, enshin, loopback};
use crate::operator_cli::run;

const PAIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/postgresql/pair.sh"
);

/// Two clusters built by pair.sh, taken down when the test ends, however it ends.
struct Pair {
    dir: PathBuf,
    env: HashMap<String, String>,
}

impl Pair {
    fn up() -> Self {
        // Outside the test's temporary directories: the clusters run as the user postgres.
        let (port, standby_port) = (free_port(), free_port());
        let dir = std::env::temp_dir().join(format!("enshin-pair-{}-{port}", std::process::id()));
        let mut pair = Self {
            dir,
            env: HashMap::new(),
        };
        let up = Command::new("bash")
            .args([PAIR, "up"])
            .arg(&pair.dir)
            .env("PAIR_PORT", port.to_string())
            .env("PAIR_STANDBY_PORT", standby_port.to_string())
            .output()
            .unwrap();
        assert_ok("pair.sh up", &up);
        let env = std::fs::read_to_string(pair.dir.join("env")).unwrap();
        pair.env = env
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        pair
    }

    fn url(&self, name: &str) -> &str {
        &self.env[name]
    }

    fn run(&self, command: &str) -> Output {
        let output = Command::new("bash")
            .args([PAIR, command])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert_ok(&format!("pair.sh {command}"), &output);
        output
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .args([PAIR, "down"])
            .arg(&self.dir)
            .output();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn assert_ok(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `enshin migrate` in `dir` against `url`.
fn migrate(dir: &Path, url: &str) -> Output {
    let mut cmd = enshin(dir);
    loopback(&mut cmd, &dir.join("data"), Some(url));
    cmd.arg("migrate").output().unwrap()
}

/// The SQLSTATE of what the service role is refused.
async fn refused_as_app(url: &str, sql: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let err = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .expect_err(sql);
    err.as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
        .unwrap_or_else(|| format!("{err}"))
}

#[tokio::test]
#[ignore = "builds two PostgreSQL clusters with pgBackRest: needs PostgreSQL's server binaries and the pgbackrest package, which a machine with only the Rust toolchain lacks; .ci/run installs them and runs this with --ignored"]
async fn the_service_role_is_fenced_and_a_standby_promotion_loses_no_acknowledged_write() {
    let pair = Pair::up();
    let (owner, app) = (pair.url("PAIR_OWNER_URL"), pair.url("PAIR_APP_URL"));
    let work = tempfile::tempdir().unwrap();

    // The service role may not create the schema; the message says who must.
    let refused = migrate(work.path(), app);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("enshin migrate") && message.contains("schema owner"),
        "{message}"
    );
    assert_ok("migrate as owner", &migrate(work.path(), owner));
    pair.run("grants");

    // NET-4: no TLS, no connection.
    let plain = sqlx::PgConnection::connect(pair.url("PAIR_PLAIN_URL")).await;
    assert!(
        plain
            .as_ref()
            .is_err_and(|e| e.to_string().contains("pg_hba.conf rejects")),
        "{:?}",
        plain.map(|_| ())
    );

    let mut served = Served::start_on(app).await;
    // A server whose certificate another CA signed is not trusted.
    let other_ca = served.data_dir.join("pki/ca.crt");
    let untrusted = app.replace(
        &format!("sslrootcert={}", pair.dir.join("tls/ca.crt").display()),
        &format!("sslrootcert={}", other_ca.display()),
    );
    assert_ne!(untrusted, app);
    assert!(sqlx::PgConnection::connect(&untrusted).await.is_err());
    let client = served.client();
    let token = served.patient_token("failover").await;

    // LOG-2 and the schema: what the service role is refused by the database itself.
    for (sql, what) in [
        (
            "UPDATE audit.entries SET outcome = outcome",
            "edit the access log",
        ),
        ("DELETE FROM audit.checkpoints", "delete checkpoints"),
        ("TRUNCATE audit.entries", "truncate the access log"),
        (
            "ALTER TABLE visit_note_versions DISABLE TRIGGER ALL",
            "switch off the record triggers",
        ),
        ("CREATE TABLE intruder (a int)", "create a table"),
        (
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'x', true, '\\x00', 0)",
            "fake a migration",
        ),
    ] {
        let code = refused_as_app(app, sql).await;
        assert_eq!(code, "42501", "the service role may not {what}");
    }

    // Four workers post readings through the failover.
    let url = served.url("patient", "/api/v1/readings");
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..4 {
        let (client, url, token, stop) = (client.clone(), url.clone(), token.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("w{w}-{n}");
                let sent = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({ "values": { "weight": "58.5" }, "client_id": id }))
                    .timeout(Duration::from_secs(20))
                    .send()
                    .await;
                if matches!(&sent, Ok(r) if r.status() == StatusCode::CREATED) {
                    acknowledged.push((id, Instant::now()));
                } else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                n += 1;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let failover = tokio::task::spawn_blocking({
        let dir = pair.dir.clone();
        move || {
            let output = Command::new("bash")
                .args([PAIR, "failover"])
                .arg(&dir)
                .output()
                .unwrap();
            assert_ok("pair.sh failover", &output);
        }
    });
    failover.await.unwrap();
    let promoted = Instant::now();

    // The same process serves again, with the same session, once the database answers.
    let deadline = promoted + Duration::from_secs(60);
    loop {
        let health = client
            .get(served.url("operator", "/healthz"))
            .send()
            .await
            .unwrap();
        if health.status() == StatusCode::OK {
            break;
        }
        let body = health.text().await.unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "serve did not recover within 60 s of the promotion: {body}\n{}\n{}",
            String::from_utf8_lossy(&Command::new("ss").arg("-tnp").output().unwrap().stdout),
            std::fs::read_to_string(served.dir.path().join("stderr")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for worker in workers {
        acknowledged.extend(worker.await.unwrap());
    }
    let before = acknowledged.iter().filter(|(_, at)| *at < promoted).count();
    let after = acknowledged.len() - before;
    assert!(before > 10, "writes before the failover: {before}");
    assert!(after > 5, "writes after the failover: {after}");
    assert!(
        served.child.try_wait().unwrap().is_none(),
        "serve was never restarted"
    );

    // Every acknowledged write is on the promoted standby: commits waited for it.
    let mut conn = sqlx::PgConnection::connect(owner).await.unwrap();
    let stored: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT client_id FROM readings WHERE client_id IS NOT NULL")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c: String| c.strip_suffix("/weight").map(str::to_owned))
            .collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|(id, _)| !stored.contains(id))
        .map(|(id, _)| id)
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    let in_recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        !in_recovery,
        "the service port reaches the promoted standby"
    );

    // The access log, written across the failover, verifies; pgBackRest archives and backs up
    // the new primary on its new timeline.
    let verified = run(&served, &["audit", "verify"], "");
    assert_ok("audit verify", &verified);
    let info: Value = serde_json::from_slice(&pair.run("backup").stdout).unwrap();
    let backups = info[0]["backup"].as_array().unwrap();
    assert_eq!(backups.len(), 2, "{info}");
    assert_eq!(backups[1]["type"], "incr");
    assert!(
        backups[1]["archive"]["start"]
            .as_str()
            .unwrap()
            .starts_with("00000002"),
        "the backup is on the promoted timeline: {info}"
    );

    served.signal(libc::SIGTERM);
    assert!(served.wait().await.success());
}
