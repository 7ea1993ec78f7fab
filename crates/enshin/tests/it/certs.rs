//! Clinic client certificates: issue, use, expiry, revocation (live, on the next handshake, and
//! for the sessions bound to it), the admin's view, and `enshin cert …`.
// covers AUTH-1, NET-2, SESS-2

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use enshin_core::people::Role;
use enshin_testkit::{TestApp, TestMember, https_client, pkcs12_client, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::cli::Served;
use crate::operator_cli::{add_clinic, failure, ok_json, run};

async fn log_in(app: &TestApp, client: &Client, m: &TestMember) -> (StatusCode, Value) {
    let response = client
        .post(app.clinic_url("/api/v1/session"))
        .json(&json!({ "login_id": m.login_id, "password": m.password }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, client: &Client, token: &str, path: &str) -> (StatusCode, Value) {
    let response = client
        .get(app.clinic_url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn revocation_ends_the_sessions_at_once_and_the_handshakes_within_seconds() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("A").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let lost = app.issue_client_cert(&clinic).await;
    let lost_pc = https_client(app.ca_pem(), Some(&lost));
    let (status, session) = log_in(&app, &lost_pc, &admin).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = session["token"].as_str().unwrap().to_owned();
    let (_, listed) = get(&app, &lost_pc, &token, "/api/v1/certificates").await;
    let mine = &listed["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == lost.serial_hex.as_str())
        .expect("the certificate is listed")
        .clone();
    assert_eq!(mine["current"], true);
    assert!(
        mine["last_used_at"].is_i64(),
        "log-in records the use: {mine}"
    );

    let ended = enshin_server::certs::revoke(app.store(), &lost.serial_hex, "PC lost")
        .await
        .unwrap();
    assert_eq!(ended, 1);
    let (status, _) = get(&app, &lost_pc, &token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the live session ended");
    let again = enshin_server::certs::revoke(app.store(), &lost.serial_hex, "twice").await;
    assert!(again.is_err(), "a revocation happens once");

    // A new connection with the revoked certificate is refused at the handshake once the CRL
    // is reloaded (every 2 s by default); the wait below is generous, not a timing assertion.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let fresh = https_client(app.ca_pem(), Some(&lost));
        match fresh.get(app.clinic_url("/healthz")).send().await {
            Err(_) => break,
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Ok(_) => panic!("the revoked certificate still gets through after 30 s"),
        }
    }
    let other_pc = app.clinic_client(&clinic).await;
    let (status, _) = log_in(&app, &other_pc, &admin).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the clinic's other certificates still work"
    );
    let health: Value = other_pc
        .get(app.clinic_url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(health["refused_client_certificates"].as_u64().unwrap() >= 1);
    app.stop().await;
}

#[tokio::test]
async fn expired_unrecorded_and_other_clinic_certificates_are_refused_at_the_right_layer() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let member = app.add_member(&a, Role::Doctor).await;

    let now = time::OffsetDateTime::now_utc();
    let expired = app
        .issue_client_cert_between(
            &a,
            now - time::Duration::days(10),
            now - time::Duration::days(1),
        )
        .await;
    let refused = https_client(app.ca_pem(), Some(&expired))
        .get(app.clinic_url("/healthz"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "an expired certificate fails the handshake: {refused:?}"
    );

    // Signed by the CA but never issued through enshin: TLS accepts it, log-in does not.
    let unrecorded = https_client(app.ca_pem(), Some(&app.unrecorded_client_cert(&a)));
    let (status, body) = log_in(&app, &unrecorded, &member).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "certificate_not_valid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ask the service operator for a new one")
    );

    // Another clinic's certificate: the same 401 as a wrong password (AUTH-10).
    let other_clinic = app.clinic_client(&b).await;
    let (status, body) = log_in(&app, &other_clinic, &member).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_credentials");
    app.stop().await;
}

#[tokio::test]
async fn an_admin_sees_the_clinics_certificates_and_those_about_to_expire() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let admin = app.add_member(&a, Role::Admin).await;
    let doctor = app.add_member(&a, Role::Doctor).await;
    let now = time::OffsetDateTime::now_utc();
    let soon = app
        .issue_client_cert_between(&a, now, now + time::Duration::days(10))
        .await;
    let b_cert = app.issue_client_cert(&b).await;
    let pc = app.clinic_client(&a).await;
    let (_, session) = log_in(&app, &pc, &admin).await;
    let token = session["token"].as_str().unwrap();
    let (status, listed) = get(&app, &pc, token, "/api/v1/certificates").await;
    assert_eq!(status, StatusCode::OK);
    let certs = listed["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 2, "A's two certificates: {listed}");
    assert_eq!(
        certs[0]["serial"],
        soon.serial_hex.as_str(),
        "soonest expiry first"
    );
    assert_eq!(certs[0]["expires_soon"], true);
    assert_eq!(certs[1]["expires_soon"], false);
    assert!(
        !listed.to_string().contains(&b_cert.serial_hex),
        "B's stay B's"
    );

    let (_, session) = log_in(&app, &pc, &doctor).await;
    let (status, _) = get(
        &app,
        &pc,
        session["token"].as_str().unwrap(),
        "/api/v1/certificates",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let browser = app.clinic_browser(&a).await;
    let csrf = browser.get("/login").await.csrf();
    browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("login_id", &admin.login_id),
                ("password", &admin.password),
            ],
        )
        .await;
    let home = browser.get("/home").await;
    assert!(
        home.body
            .contains("30日以内に有効期限が切れるクリニック証明書があります")
    );
    let page = browser.get("/certificates").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("まもなく期限切れ"));
    assert!(
        page.body.contains("このパソコン"),
        "the browser's own certificate is marked"
    );
    assert!(page.body.contains(&soon.serial_hex));
    app.stop().await;
}

#[tokio::test]
async fn cert_issue_list_and_revoke_from_the_command_line() {
    let served = Served::start().await;
    let clinic = add_clinic(&served, "証明書クリニック");
    let clinic_id = clinic["id"].as_str().unwrap();
    let member = ok_json(&run(
        &served,
        &[
            "member",
            "add",
            "--clinic",
            clinic_id,
            "--role",
            "staff",
            "--login-id",
            "uketsuke",
            "--name",
            "受付",
            "--json",
        ],
        "Kaede-77-river!\n",
    ));
    let out = served.dir.path().join("reception.p12");
    let out_arg = out.to_str().unwrap();
    let issued = ok_json(&run(
        &served,
        &[
            "cert", "issue", "--clinic", clinic_id, "--out", out_arg, "--json",
        ],
        "",
    ));
    let serial = issued["serial"].as_str().unwrap();
    assert_eq!(serial.len(), 32);
    assert_eq!(issued["path"], out_arg);
    assert!(issued["not_after"].as_i64().unwrap() > 0);
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The bundle works as the clinic's PC identity, with the printed password.
    let ca_pem = std::fs::read_to_string(served.data_dir.join("pki/ca.crt")).unwrap();
    let pc = pkcs12_client(
        &ca_pem,
        &std::fs::read(&out).unwrap(),
        issued["password"].as_str().unwrap(),
    );
    let login = pc
        .post(served.url("clinic", "/api/v1/session"))
        .json(&json!({ "login_id": member["login_id"], "password": "Kaede-77-river!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::CREATED);

    let listed = ok_json(&run(&served, &["cert", "list", "--json"], ""));
    assert_eq!(listed[0]["serial"], serial);
    assert_eq!(listed[0]["label"], "reception");
    assert_eq!(listed[0]["clinic_id"], clinic_id);
    assert!(listed[0]["last_used_at"].is_i64());
    let expiring = ok_json(&run(&served, &["cert", "list", "--expiring", "--json"], ""));
    assert_eq!(expiring, json!([]));

    // Mistakes are named, and nothing is written or changed.
    let again = failure(&run(
        &served,
        &["cert", "issue", "--clinic", clinic_id, "--out", out_arg],
        "",
    ));
    assert!(again.contains("exists"), "{again}");
    let unknown = served.dir.path().join("x.p12");
    let nobody = failure(&run(
        &served,
        &[
            "cert",
            "issue",
            "--clinic",
            "no-such-clinic",
            "--out",
            unknown.to_str().unwrap(),
        ],
        "",
    ));
    assert!(nobody.contains("no clinic"), "{nobody}");
    assert!(!unknown.exists());
    let bad = failure(&run(
        &served,
        &["cert", "revoke", "xyz", "--reason", "test"],
        "",
    ));
    assert!(bad.contains("not a serial number"), "{bad}");
    let no_reason = failure(&run(
        &served,
        &["cert", "revoke", serial, "--reason", " "],
        "",
    ));
    assert!(no_reason.contains("reason"), "{no_reason}");

    let upper = serial.to_uppercase();
    let revoked = run(
        &served,
        &["cert", "revoke", &upper, "--reason", "PC lost"],
        "",
    );
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    assert!(String::from_utf8_lossy(&revoked.stdout).contains("1 session(s) ended"));
    let twice = failure(&run(
        &served,
        &["cert", "revoke", serial, "--reason", "again"],
        "",
    ));
    assert!(twice.contains("already revoked"), "{twice}");
    let listed = ok_json(&run(&served, &["cert", "list", "--json"], ""));
    assert_eq!(listed[0]["revoked_reason"], "PC lost");
}
