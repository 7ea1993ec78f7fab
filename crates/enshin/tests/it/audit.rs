//! The access log: one entry per request with who, what, outcome and from where, ids only; durable
//! before the response (even across kill -9); every kind of tampering named by index; fail closed.
// covers LOG-1, LOG-2, LOG-4, LOG-7, DATA-1

use std::collections::HashSet;
use std::time::Duration;

use enshin_core::audit::entry::Sealed;
use enshin_core::audit::verify::Finding;
use enshin_core::people::Role;
use enshin_store::audit::AuditStore;
use enshin_testkit::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::Served;
use crate::operator_cli::run;

pub(crate) async fn audit_store(app: &TestApp) -> AuditStore {
    AuditStore::connect(&app.config().audit_database_url())
        .await
        .unwrap()
}

pub(crate) async fn entries(store: &AuditStore) -> Vec<Sealed> {
    let mut all = Vec::new();
    for (writer, _) in store.writers().await.unwrap() {
        for (_, body) in store.entries_page(&writer, 0, 1_000_000).await.unwrap() {
            all.push(Sealed::from_bytes(body.as_bytes()).expect("a readable entry"));
        }
    }
    all
}

fn request_id(response: &reqwest::Response) -> String {
    response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_request_gets_exactly_one_entry_naming_who_what_how_and_from_where() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("A").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let doctor = app.add_member(&clinic, Role::Doctor).await;
    let cert = app.issue_client_cert(&clinic).await;
    let pc = enshin_testkit::https_client(app.ca_pem(), Some(&cert));
    let login = |m: &enshin_testkit::TestMember, password: &str| {
        pc.post(app.clinic_url("/api/v1/session"))
            .json(&json!({ "login_id": m.login_id, "password": password }))
            .send()
    };
    let admin_login = login(&admin, &admin.password).await.unwrap();
    let admin_token = admin_login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let doctor_token = login(&doctor, &doctor.password)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = login(&admin, "Wrong-password-1").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let denied = pc
        .get(app.clinic_url("/api/v1/members"))
        .bearer_auth(&doctor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let denied_id = request_id(&denied);
    let disabled = pc
        .post(app.clinic_url(&format!("/api/v1/members/{}/disable", doctor.id)))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let disabled_id = request_id(&disabled);
    // A patient registers with a canary in every personal field: none reaches the log.
    let canary = "カナリア";
    let registered = app
        .client()
        .post(app.patient_url("/api/v1/patients"))
        .json(&json!({
            "login_id": "canary.patient", "password": "Blue-Kettle-42",
            "email": "canary@example.jp", "phone": "090-1111-2222",
            "family_name": canary, "given_name": canary,
            "family_name_kana": "カナリア", "given_name_kana": "カナリア",
            "birth_date": "1948-02-29", "terms_version": enshin_server::patients::TERMS_VERSION,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    // Not data: health checks are not logged.
    pc.get(app.clinic_url("/healthz")).send().await.unwrap();

    let store = audit_store(&app).await;
    let log = entries(&store).await;
    assert_eq!(log.len(), 6, "one entry per request: {log:#?}");
    let by_request = |id: &str| {
        log.iter()
            .find(|s| s.entry.request_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no entry for request {id}"))
            .entry
            .clone()
    };
    let denied = by_request(&denied_id);
    assert_eq!(denied.action, "GET /api/v1/members");
    assert_eq!((denied.status, denied.outcome.as_str()), (403, "denied"));
    assert_eq!(denied.principal_id.as_deref(), Some(doctor.id.as_str()));
    assert_eq!(denied.principal_kind.as_deref(), Some("member"));
    assert_eq!(denied.role.as_deref(), Some("doctor"));
    assert_eq!(denied.clinic_id.as_deref(), Some(clinic.as_str()));
    assert_eq!(
        denied.cert_serial.as_deref(),
        Some(cert.serial_hex.as_str())
    );
    assert_eq!(denied.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(denied.listener, "clinic");
    assert_eq!(denied.session_hash.as_ref().map(String::len), Some(64));
    let disable = by_request(&disabled_id);
    assert_eq!(disable.action, "POST /api/v1/members/{id}/disable");
    assert_eq!(disable.target_type.as_deref(), Some("member"));
    assert_eq!(disable.target_id.as_deref(), Some(doctor.id.as_str()));
    assert_eq!(disable.outcome.as_str(), "allowed");
    let failed_login = log
        .iter()
        .find(|s| s.entry.status == 401)
        .expect("the failed log-in is logged")
        .entry
        .clone();
    assert_eq!(failed_login.action, "POST /api/v1/session");
    assert_eq!(
        failed_login.principal_id.as_deref(),
        Some(admin.id.as_str())
    );
    assert_eq!(failed_login.session_hash, None);
    assert!(log.iter().all(|s| {
        !s.to_bytes()
            .windows(canary.len())
            .any(|w| w == canary.as_bytes())
    }));
    assert!(
        log.iter()
            .all(|s| !String::from_utf8_lossy(&s.to_bytes()).contains("canary@"))
    );
    let writers = store.writers().await.unwrap();
    assert_eq!(writers.len(), 1, "one designated writer per instance");
    for (i, sealed) in log.iter().enumerate() {
        assert_eq!(sealed.index, i as u64);
        assert_eq!(sealed.writer, writers[0].0);
    }
    // The product cannot change an entry: the store refuses (LOG-2).
    let update = sqlx::query("UPDATE entries SET outcome = 'allowed'")
        .execute(store.pool())
        .await;
    assert!(update.is_err(), "the triggers refuse updates");
    let delete = sqlx::query("DELETE FROM entries")
        .execute(store.pool())
        .await;
    assert!(delete.is_err(), "the triggers refuse deletes");
    app.stop().await;
}

/// A stopped instance with `n` requests logged and a final signed checkpoint, and its audit
/// store opened by an attacker with full database access (the append-only triggers dropped).
async fn tampering(n: usize) -> (TestApp, AuditStore, String) {
    let mut app = spawn_app().await;
    let client = app.client();
    for _ in 0..n {
        let ok = client
            .get(app.patient_url("/api/v1/terms"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    app.stop_server().await;
    let store = audit_store(&app).await;
    assert!(
        verify(&app, &store).await.finding.is_none(),
        "an untouched log verifies"
    );
    let drop_triggers: &[&str] = match store.backend() {
        enshin_store::Backend::Sqlite => &[
            "DROP TRIGGER entries_append_only_update",
            "DROP TRIGGER entries_append_only_delete",
        ],
        enshin_store::Backend::Postgres => &["ALTER TABLE entries DISABLE TRIGGER USER"],
    };
    for sql in drop_triggers {
        sqlx::query(sqlx::AssertSqlSafe(*sql))
            .execute(store.pool())
            .await
            .unwrap();
    }
    let writer = store.writers().await.unwrap()[0].0.clone();
    (app, store, writer)
}

async fn verify(app: &TestApp, store: &AuditStore) -> enshin_core::audit::verify::Report {
    let report =
        enshin_server::audit_verify::verify(store, &app.data_dir().join("audit-checkpoints.log"))
            .await
            .unwrap();
    assert_eq!(report.writers.len(), 1);
    report.writers[0].1.clone()
}

async fn body_at(store: &AuditStore, writer: &str, idx: i64) -> String {
    sqlx::query_scalar("SELECT body FROM entries WHERE writer = $1 AND idx = $2")
        .bind(writer)
        .bind(idx)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn exec(store: &AuditStore, sql: &'static str, writer: &str, idx: i64) {
    sqlx::query(sql)
        .bind(writer)
        .bind(idx)
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn every_kind_of_tampering_is_named_with_its_index() {
    // Edit one entry's body.
    let (app, store, writer) = tampering(12).await;
    // Only the status field: a bare "200" may also occur in the hash of the entry before
    // (`prev`), and changing that would be caught as a break at index 4 instead.
    let body = body_at(&store, &writer, 5).await;
    assert!(body.contains("\"status\":200"), "{body}");
    let edited = body.replace("\"status\":200", "\"status\":404");
    sqlx::query("UPDATE entries SET body = $1 WHERE writer = $2 AND idx = 5")
        .bind(edited)
        .bind(&writer)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(
        verify(&app, &store).await.finding,
        Some(Finding::Edited { index: 5 })
    );
    app.stop().await;

    // Delete one entry.
    let (app, store, writer) = tampering(12).await;
    exec(
        &store,
        "DELETE FROM entries WHERE writer = $1 AND idx = $2",
        &writer,
        5,
    )
    .await;
    assert_eq!(
        verify(&app, &store).await.finding,
        Some(Finding::Deleted { index: 5 })
    );
    app.stop().await;

    // Insert a forged entry at 5, moving the rest along.
    let (app, store, writer) = tampering(12).await;
    let before = Sealed::from_bytes(body_at(&store, &writer, 4).await.as_bytes()).unwrap();
    let mut forged_entry = before.entry.clone();
    forged_entry.action = "GET /api/v1/forged".into();
    let forged = Sealed::new(&writer, 5, &before.leaf(), forged_entry);
    exec(
        &store,
        "UPDATE entries SET idx = idx + 1000 WHERE writer = $1 AND idx >= $2",
        &writer,
        5,
    )
    .await;
    exec(
        &store,
        "UPDATE entries SET idx = idx - 999 WHERE writer = $1 AND idx >= $2",
        &writer,
        1000,
    )
    .await;
    sqlx::query(
        "INSERT INTO entries (writer, idx, body, at_ms, outcome) VALUES ($1, 5, $2, 0, 'allowed')",
    )
    .bind(&writer)
    .bind(String::from_utf8(forged.to_bytes()).unwrap())
    .execute(store.pool())
    .await
    .unwrap();
    assert_eq!(
        verify(&app, &store).await.finding,
        Some(Finding::Misplaced { index: 5 })
    );
    app.stop().await;

    // Swap two entries.
    let (app, store, writer) = tampering(12).await;
    let (five, six) = (
        body_at(&store, &writer, 5).await,
        body_at(&store, &writer, 6).await,
    );
    for (idx, body) in [(5, six), (6, five)] {
        sqlx::query("UPDATE entries SET body = $1 WHERE writer = $2 AND idx = $3")
            .bind(body)
            .bind(&writer)
            .bind(idx)
            .execute(store.pool())
            .await
            .unwrap();
    }
    assert_eq!(
        verify(&app, &store).await.finding,
        Some(Finding::Misplaced { index: 5 })
    );
    app.stop().await;

    // Cut off the end.
    let (app, store, writer) = tampering(12).await;
    exec(
        &store,
        "DELETE FROM entries WHERE writer = $1 AND idx >= $2",
        &writer,
        9,
    )
    .await;
    assert_eq!(
        verify(&app, &store).await.finding,
        Some(Finding::Truncated {
            stored: 9,
            signed: 12
        })
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unwritable_access_log_fails_requests_closed_and_shows_in_healthz() {
    let app = spawn_app().await;
    let client = app.client();
    let store = audit_store(&app).await;
    sqlx::query("ALTER TABLE entries RENAME TO entries_gone")
        .execute(store.pool())
        .await
        .unwrap();
    let refused = client
        .get(app.patient_url("/api/v1/terms"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    let health = client
        .get(app.patient_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: Value = health.json().await.unwrap();
    assert_eq!(
        (health["status"].as_str(), health["audit"].as_str()),
        (Some("degraded"), Some("failing"))
    );
    sqlx::query("ALTER TABLE entries_gone RENAME TO entries")
        .execute(store.pool())
        .await
        .unwrap();
    let back = client
        .get(app.patient_url("/api/v1/terms"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.status(),
        StatusCode::OK,
        "it recovers once the store is writable"
    );
    let health: Value = client
        .get(app.patient_url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["audit"], "ok");
    // The writer picked up from the store again: more requests, and the log still verifies.
    for _ in 0..3 {
        let ok = client
            .get(app.patient_url("/api/v1/terms"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
    }
    let mut app = app;
    app.stop_server().await;
    assert_eq!(verify(&app, &store).await.finding, None);
    app.stop().await;
}

fn served_audit_url(served: &Served) -> String {
    match &served._db {
        Some(db) => db.url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            served.data_dir.join("audit.db").display()
        ),
    }
}

#[tokio::test]
async fn kill_9_under_load_loses_no_entry_whose_response_was_sent() {
    let mut served = Served::start().await;
    let client = served.client();
    let url = served.url("patient", "/api/v1/terms");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client.get(&url).send().await {
                    Ok(r) if r.status() == StatusCode::OK => answered.push(request_id(&r)),
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
            answered
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    served.signal(libc::SIGKILL);
    served.wait().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answered = HashSet::new();
    for worker in workers {
        answered.extend(worker.await.unwrap());
    }
    assert!(
        answered.len() > 50,
        "the load got answers: {}",
        answered.len()
    );

    served.restart().await;
    let store = AuditStore::connect(&served_audit_url(&served))
        .await
        .unwrap();
    let logged: HashSet<String> = entries(&store)
        .await
        .into_iter()
        .filter_map(|s| s.entry.request_id)
        .collect();
    let lost: Vec<_> = answered.difference(&logged).collect();
    assert!(
        lost.is_empty(),
        "{} answered requests are not in the log: {lost:?}",
        lost.len()
    );
    // The restarted writer carries on the same log, and it still verifies.
    served
        .client()
        .get(served.url("patient", "/api/v1/terms"))
        .send()
        .await
        .unwrap();
    served.signal(libc::SIGTERM);
    assert!(served.wait().await.success());
    let verified = run(&served, &["audit", "verify", "--json"], "");
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert!(verified.status.success(), "{report}");
    assert_eq!(report["ok"], true);
}

#[tokio::test]
async fn audit_verify_and_prove_from_the_command_line() {
    let mut served = Served::start().await;
    for _ in 0..20 {
        served
            .client()
            .get(served.url("patient", "/api/v1/terms"))
            .send()
            .await
            .unwrap();
    }
    served.signal(libc::SIGTERM);
    assert!(served.wait().await.success());
    let verified = run(&served, &["audit", "verify"], "");
    let text = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(verified.status.success(), "{text}");
    assert!(text.contains("20 entries") && text.contains("OK"), "{text}");

    let proved = run(&served, &["audit", "prove", "7"], "");
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
    let proof_file = served.dir.path().join("proof.json");
    std::fs::write(&proof_file, &proved.stdout).unwrap();
    let checked = run(
        &served,
        &["audit", "check-proof", proof_file.to_str().unwrap()],
        "",
    );
    assert!(checked.status.success());
    assert!(String::from_utf8_lossy(&checked.stdout).starts_with("OK: entry 7"));
    let mut proof: Value = serde_json::from_slice(&proved.stdout).unwrap();
    proof["index"] = json!(8);
    std::fs::write(&proof_file, proof.to_string()).unwrap();
    let forged = run(
        &served,
        &["audit", "check-proof", proof_file.to_str().unwrap()],
        "",
    );
    assert_eq!(forged.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&forged.stdout).starts_with("NOT VALID"));
    let missing = run(&served, &["audit", "prove", "999"], "");
    assert!(!missing.status.success());
}

#[tokio::test]
async fn the_review_flags_repeated_failures_and_is_itself_recorded() {
    let mut served = Served::start().await;
    let client = served.client();
    for _ in 0..5 {
        let refused = client
            .post(served.url("patient", "/api/v1/session"))
            .json(&json!({ "login_id": "nobody.here", "password": "Wrong-pass-1!" }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    served.signal(libc::SIGTERM);
    assert!(served.wait().await.success());
    let today = enshin_server::clock::today_in_japan();
    let html = served.dir.path().join("review.html");
    let reviewed = run(
        &served,
        &[
            "audit",
            "review",
            "--from",
            &today,
            "--to",
            &today,
            "--html",
            html.to_str().unwrap(),
        ],
        "",
    );
    let text = String::from_utf8_lossy(&reviewed.stdout).into_owned();
    assert!(reviewed.status.success(), "{text}");
    assert!(
        text.contains("REPEATED FAILURES: address 127.0.0.1: 5"),
        "{text}"
    );
    assert!(text.contains("(no clinic"), "{text}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<h1>アクセスログ点検"));
    let bad_date = run(
        &served,
        &["audit", "review", "--from", "2026-13-01", "--to", &today],
        "",
    );
    assert!(!bad_date.status.success());

    // The review is in the log, written by the command line's own designated writer.
    let store = AuditStore::connect(&served_audit_url(&served))
        .await
        .unwrap();
    let log = entries(&store).await;
    let review = log
        .iter()
        .find(|s| s.entry.action == "audit_review")
        .expect("the review is recorded");
    assert_eq!(
        review.entry.target_id.as_deref(),
        Some(format!("{today}..{today}").as_str())
    );
    assert_eq!(store.writers().await.unwrap().len(), 2);
    let verified = run(&served, &["audit", "verify", "--json"], "");
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[tokio::test]
async fn operators_search_and_export_a_clinics_entries_and_the_export_is_recorded() {
    let served = Served::start().await;
    let clinic = crate::operator_cli::add_clinic(&served, "検索クリニック");
    let clinic_id = clinic["id"].as_str().unwrap();
    let member = crate::operator_cli::ok_json(&run(
        &served,
        &[
            "member",
            "add",
            "--clinic",
            clinic_id,
            "--role",
            "doctor",
            "--login-id",
            "isha",
            "--name",
            "医師",
            "--json",
        ],
        "Kaede-77-river!\n",
    ));
    let p12 = served.dir.path().join("pc.p12");
    let issued = crate::operator_cli::ok_json(&run(
        &served,
        &[
            "cert",
            "issue",
            "--clinic",
            clinic_id,
            "--out",
            p12.to_str().unwrap(),
            "--json",
        ],
        "",
    ));
    let ca_pem = std::fs::read_to_string(served.data_dir.join("pki/ca.crt")).unwrap();
    let pc = enshin_testkit::pkcs12_client(
        &ca_pem,
        &std::fs::read(&p12).unwrap(),
        issued["password"].as_str().unwrap(),
    );
    for password in ["Kaede-77-river!", "wrong-Password-1"] {
        pc.post(served.url("clinic", "/api/v1/session"))
            .json(&json!({ "login_id": "isha", "password": password }))
            .send()
            .await
            .unwrap();
    }
    let lines = |output: &std::process::Output| -> Vec<Value> {
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let all = lines(&run(
        &served,
        &["audit", "search", "--clinic", clinic_id, "--json"],
        "",
    ));
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|e| e["entry"]["clinic_id"] == clinic_id));
    let denied = lines(&run(
        &served,
        &[
            "audit",
            "search",
            "--clinic",
            clinic_id,
            "--outcome",
            "denied",
            "--json",
        ],
        "",
    ));
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["entry"]["principal_id"], member["id"]);
    // One entry per page, continued with the printed position.
    let first = run(
        &served,
        &[
            "audit", "search", "--clinic", clinic_id, "--limit", "1", "--json",
        ],
        "",
    );
    let more = String::from_utf8_lossy(&first.stderr).into_owned();
    let after = more
        .lines()
        .find_map(|l| l.strip_prefix("more: --after "))
        .expect("a position to continue from");
    let second = lines(&run(
        &served,
        &[
            "audit", "search", "--clinic", clinic_id, "--limit", "1", "--after", after, "--json",
        ],
        "",
    ));
    assert_eq!(second.len(), 1);
    assert_ne!(second[0], lines(&first)[0]);

    let jsonl = served.dir.path().join("export.jsonl");
    let fhir = served.dir.path().join("export.json");
    for (format, path) in [("jsonl", &jsonl), ("fhir", &fhir)] {
        let out = run(
            &served,
            &[
                "audit",
                "export",
                "--clinic",
                clinic_id,
                "--format",
                format,
                "--out",
                path.to_str().unwrap(),
            ],
            "",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(path).unwrap().permissions()
            ) & 0o777,
            0o600
        );
    }
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap().lines().count(), 2);
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&fhir).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["total"], 2);
    assert_eq!(bundle["entry"][0]["resource"]["resourceType"], "AuditEvent");
    let exports = lines(&run(&served, &["audit", "search", "--json"], ""))
        .into_iter()
        .filter(|e| e["entry"]["action"] == "audit_export")
        .count();
    assert_eq!(exports, 2, "each export is recorded");
}
