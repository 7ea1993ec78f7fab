//! Load figures of issue 5: W-audit (durable appends through the writer), W-read (a patient's
//! own profile over HTTPS, its access entry included), W-login (log-ins vs the Argon2id
//! ceiling) and V-verify (time to verify a log). Each run is bounded in time and loopback only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use enshin_core::audit::checkpoint::{Checkpoint, WriterKey};
use enshin_core::audit::entry::{Entry, NO_PREVIOUS, Outcome, Sealed};
use enshin_core::audit::merkle::Frontier;
use enshin_core::encoding::to_hex;
use enshin_core::password::{self, HashParams};
use enshin_server::audit::{load_or_create_key, start, writer_id};
use enshin_store::audit::{AuditStore, EntryRow, StoredCheckpoint};
use enshin_testkit::{TestApp, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::stats;

fn sample_entry(i: u64) -> Entry {
    Entry {
        at_ms: 1_795_790_000_000 + i as i64,
        listener: "patient".into(),
        action: "GET /api/v1/profile".into(),
        target_type: None,
        target_id: None,
        outcome: Outcome::Allowed,
        status: 200,
        principal_id: Some("0190f0c4-1111-7000-8000-000000000001".into()),
        principal_kind: Some("patient".into()),
        role: None,
        clinic_id: None,
        source: Some("127.0.0.1".into()),
        cert_serial: None,
        session_hash: Some("ab".repeat(32)),
        request_id: Some(format!("0190f0c4-2222-7000-8000-{i:012}")),
        access: None,
        subjects: Vec::new(),
    }
}

async fn temp_audit_store(dir: &std::path::Path) -> AuditStore {
    let url = match std::env::var("ENSHIN_TEST_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => format!("sqlite://{}?mode=rwc", dir.join("audit.db").display()),
    };
    let store = AuditStore::connect(&url).await.expect("audit store");
    store.migrate().await.expect("audit schema");
    store
}

/// W-audit: `record()` calls through the real writer (one transaction and fsync per batch).
pub async fn audit_write(seconds: u64) {
    println!("W-audit: durable appends through the writer ({seconds} s per row)");
    println!("{:>10} {:>12} {:>12}", "producers", "entries", "entries/s");
    for producers in [1usize, 16, 256] {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = temp_audit_store(dir.path()).await;
        let key = load_or_create_key(&dir.path().join("writer.key")).expect("key");
        let (log, task) = start(store, key, dir.path().join("checkpoints.log"))
            .await
            .expect("writer");
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut workers = Vec::new();
        for p in 0..producers {
            let (log, stop) = (log.clone(), stop.clone());
            workers.push(tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    log.record(sample_entry(p as u64 * 1_000_000 + n))
                        .await
                        .expect("durable");
                    n += 1;
                }
                n
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for w in workers {
            total += w.await.expect("worker");
        }
        let rate = total as f64 / started.elapsed().as_secs_f64();
        println!("{producers:>10} {total:>12} {rate:>12.0}");
        drop(log);
        let _ = task.await;
    }
}

pub(crate) async fn patient(app: &TestApp, login_id: &str) -> String {
    let client = app.client();
    let registered = client
        .post(app.patient_url("/api/v1/patients"))
        .json(&json!({
            "login_id": login_id, "password": "Blue-Kettle-42", "phone": "090-1234-5678",
            "family_name": "山田", "given_name": "花子", "family_name_kana": "やまだ",
            "given_name_kana": "はなこ", "birth_date": "1948-04-01",
            "terms_version": enshin_server::patients::TERMS_VERSION,
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let session: serde_json::Value = client
        .post(app.patient_url("/api/v1/session"))
        .json(&json!({ "login_id": login_id, "password": "Blue-Kettle-42" }))
        .send()
        .await
        .expect("log in")
        .json()
        .await
        .expect("session");
    session["token"].as_str().expect("token").to_owned()
}

/// Runs `concurrency` workers over `clients` for `seconds`; returns latencies in ms and the rate.
pub(crate) async fn drive<F, Fut>(concurrency: usize, seconds: u64, request: F) -> (Vec<f64>, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (request, stop) = (request.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                assert!(request(w).await, "a request failed under load");
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    (all, rate)
}

/// W-read: a logged-in patient reads their own profile (decrypted) at 1, 16 and 64 in flight.
pub async fn read(seconds: u64) {
    let app = spawn_app().await;
    let token = Arc::new(patient(&app, "bench.reader").await);
    // Eight connections (HTTP/2 multiplexes the rest), as a handful of phones behind one NAT.
    let clients: Arc<Vec<Client>> = Arc::new((0..8).map(|_| app.client()).collect());
    let url = Arc::new(app.patient_url("/api/v1/profile"));
    println!("W-read: GET /api/v1/profile with its access-log entry ({seconds} s per row)");
    println!(
        "{:>11} {:>9} {:>9} {:>9} {:>9}",
        "concurrency", "req/s", "p50 ms", "p99 ms", "n"
    );
    for concurrency in [1usize, 16, 64] {
        let (clients, url, token) = (clients.clone(), url.clone(), token.clone());
        let (latencies, rate) = drive(concurrency, seconds, move |w| {
            let request = clients[w % clients.len()]
                .get(url.as_str())
                .bearer_auth(token.as_str());
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status() == StatusCode::OK)
                    .unwrap_or(false)
            }
        })
        .await;
        let s = stats(latencies);
        println!(
            "{concurrency:>11} {rate:>9.0} {:>9.2} {:>9.2} {:>9}",
            s.p50, s.p99, s.n
        );
    }
    app.stop().await;
}

/// W-login: successful patient log-ins per second, against the Argon2id ceiling of this machine.
pub async fn login(seconds: u64) {
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        password::hash("Blue-Kettle-42", HashParams::OWASP).expect("hash");
    }
    let per_hash = started.elapsed().as_secs_f64() / f64::from(rounds);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let app = spawn_app().await;
    // One account per worker: no lock-out or row contention between workers.
    let mut ids = Vec::new();
    for i in 0..8 {
        let id = format!("bench.login{i}");
        patient(&app, &id).await;
        ids.push(id);
    }
    let ids = Arc::new(ids);
    let url = Arc::new(app.patient_url("/api/v1/session"));
    let clients: Arc<Vec<Client>> = Arc::new((0..8).map(|_| app.client()).collect());
    println!(
        "W-login: successful log-ins; one Argon2id verify takes {:.1} ms here, so {cores} cores allow at most {:.0}/s",
        per_hash * 1000.0,
        cores as f64 / per_hash
    );
    println!(
        "{:>11} {:>9} {:>9} {:>9}",
        "concurrency", "logins/s", "p50 ms", "p99 ms"
    );
    for concurrency in [1usize, 4, 8] {
        let (clients, url, ids) = (clients.clone(), url.clone(), ids.clone());
        let (latencies, rate) = drive(concurrency, seconds, move |w| {
            let request = clients[w % clients.len()]
                .post(url.as_str())
                .json(&json!({ "login_id": ids[w % ids.len()], "password": "Blue-Kettle-42" }));
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status() == StatusCode::CREATED)
                    .unwrap_or(false)
            }
        })
        .await;
        let s = stats(latencies);
        println!(
            "{concurrency:>11} {rate:>9.1} {:>9.1} {:>9.1}",
            s.p50, s.p99
        );
    }
    app.stop().await;
}

/// V-verify: writes `n` entries (sealed and chained, checkpoints every 10,000) straight into a
/// fresh audit store, then times `enshin audit verify`'s check of them.
pub async fn verify(n: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = temp_audit_store(dir.path()).await;
    let pkcs8 = WriterKey::generate().expect("key");
    let key = WriterKey::from_pkcs8(&pkcs8).expect("key");
    let writer = writer_id(&key.public_key());
    store
        .register_writer(&writer, &key.public_key(), 0)
        .await
        .expect("writer");
    let mut prev = NO_PREVIOUS;
    let mut frontier = Frontier::default();
    let filled = Instant::now();
    let mut i = 0;
    while i < n {
        let mut rows = Vec::new();
        for _ in 0..10_000.min(n - i) {
            let sealed = Sealed::new(&writer, i, &prev, sample_entry(i));
            let body = sealed.to_bytes();
            prev = enshin_core::audit::merkle::leaf_hash(&body);
            frontier.push(prev);
            rows.push(EntryRow {
                idx: i,
                body: String::from_utf8(body).expect("utf-8"),
                at_ms: 0,
                clinic_id: None,
                principal_id: None,
                outcome: "allowed",
            });
            i += 1;
        }
        store.append(&writer, &rows).await.expect("append");
        let cp = Checkpoint {
            writer: writer.clone(),
            size: i,
            root: frontier.root(),
            at_ms: 0,
        };
        store
            .add_checkpoint(&StoredCheckpoint {
                writer: writer.clone(),
                size: i,
                root: to_hex(&cp.root),
                at_ms: 0,
                signature: cp.sign(&key),
                frontier: frontier.encode(),
            })
            .await
            .expect("checkpoint");
    }
    let fill = filled.elapsed();
    let started = Instant::now();
    let report = enshin_server::audit_verify::verify(&store, &dir.path().join("none.log"))
        .await
        .expect("verify");
    let took = started.elapsed();
    assert!(report.ok(), "{report:?}");
    println!(
        "V-verify: {n} entries, {} signed checkpoints verified in {:.2} s ({:.0} entries/s); filling took {:.1} s",
        report.writers[0].1.checkpoints,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        fill.as_secs_f64()
    );
}
