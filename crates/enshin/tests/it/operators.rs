//! Operators: `enshin operator add` with a TOTP secret, log-in with password and a code that
//! works once (also against two racing requests), TOTP throttling, short sessions, disabling.
// covers AUTH-9, AUTH-10, SESS-1, SESS-2

use enshin_core::totp::{code_at, step_of};
use reqwest::StatusCode;
use serde_json::{Value, json};

use enshin_testkit::{TestApp, TestOperator};

use crate::cli::Served;
use crate::operator_cli::{ok_json, run};

/// Logs the operator in on the console API with the current code; returns the bearer token.
pub(crate) async fn operator_token(app: &TestApp, op: &TestOperator) -> String {
    let session: Value = app
        .client()
        .post(app.operator_url("/api/v1/session"))
        .json(&json!({ "login_id": op.login_id, "password": op.password, "totp": op.code(0) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"]
        .as_str()
        .expect("an operator session")
        .to_owned()
}

const PASSWORD: &str = "Hinoki-88-forest!";

fn secret_of(uri: &str) -> Vec<u8> {
    enshin_testkit::totp_secret_of(uri)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn log_in(
    served: &Served,
    login_id: &str,
    password: &str,
    totp: Option<String>,
) -> (StatusCode, Value) {
    let mut body = json!({ "login_id": login_id, "password": password });
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    let response = served
        .client()
        .post(served.url("operator", "/api/v1/session"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_operator_logs_in_with_a_password_and_a_totp_code_that_works_once() {
    let served = Served::start().await;
    let added = ok_json(&run(
        &served,
        &["operator", "add", "ops.one", "--json"],
        &format!("{PASSWORD}\n"),
    ));
    let uri = added["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/enshin:ops.one?secret="),
        "{uri}"
    );
    assert!(uri.ends_with("&issuer=enshin&algorithm=SHA1&digits=6&period=30"));
    let secret = secret_of(uri);
    assert_eq!(secret.len(), 20);
    let url = match &served._db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", served.data_dir.join("enshin.db").display()),
    };
    let store = enshin_store::Store::connect(&url).await.unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT totp_secret FROM operators")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    assert!(stored.len() > secret.len());
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_slice()),
        "the TOTP secret is sealed at rest"
    );

    let step = step_of(now_secs());
    let code = |s: u64| format!("{:06}", code_at(&secret, s));
    // Without a code, or with a wrong one: the same 401 as a wrong password.
    let (status, body) = log_in(&served, "ops.one", PASSWORD, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_credentials"))
    );
    let wrong = format!("{:06}", (code_at(&secret, step) + 1) % 1_000_000);
    assert_eq!(
        log_in(&served, "ops.one", PASSWORD, Some(wrong)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, wrong_password) =
        log_in(&served, "ops.one", "Wrong-pass-1!", Some(code(step))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_password, body,
        "a wrong code and a wrong password answer alike"
    );

    let (status, session) = log_in(&served, "ops.one", PASSWORD, Some(code(step))).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap();
    let me: Value = served
        .client()
        .get(served.url("operator", "/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["kind"], "operator");
    let expires_in = session["expires_at"].as_i64().unwrap() - now_secs() as i64 * 1000;
    assert!(
        (14 * 60_000..=15 * 60_000 + 1000).contains(&expires_in),
        "15 min idle: {expires_in}"
    );
    // The same code again: refused.
    assert_eq!(
        log_in(&served, "ops.one", PASSWORD, Some(code(step)))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Two requests racing with the next step's code: exactly one gets in.
    let next = code(step + 1);
    let (a, b) = tokio::join!(
        log_in(&served, "ops.one", PASSWORD, Some(next.clone())),
        log_in(&served, "ops.one", PASSWORD, Some(next))
    );
    let created = [a.0, b.0]
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{a:?} {b:?}");

    // Disabling ends the session at once.
    let disabled = run(&served, &["operator", "disable", "ops.one"], "");
    assert!(disabled.status.success());
    let after = served
        .client()
        .get(served.url("operator", "/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_totp_codes_are_throttled_on_their_own() {
    let served = Served::start().await;
    let added = ok_json(&run(
        &served,
        &["operator", "add", "ops.two", "--json"],
        &format!("{PASSWORD}\n"),
    ));
    let secret = secret_of(added["otpauth_uri"].as_str().unwrap());
    let step = step_of(now_secs());
    let wrong = format!("{:06}", (code_at(&secret, step) + 500_000) % 1_000_000);
    for _ in 0..5 {
        assert_eq!(
            log_in(&served, "ops.two", PASSWORD, Some(wrong.clone()))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, body) = log_in(
        &served,
        "ops.two",
        PASSWORD,
        Some(format!("{:06}", code_at(&secret, step))),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let refused = run(&served, &["operator", "add", "ops.three"], "password\n");
    assert!(
        !refused.status.success(),
        "the password policy applies to operators"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password rejected"));
}

#[tokio::test]
async fn the_operator_console_api_lists_clinics_reads_the_log_and_ends_sessions() {
    let app = enshin_testkit::spawn_app().await;
    let clinic = app.add_clinic("コンソール").await;
    let member = app
        .add_member(&clinic, enshin_core::people::Role::Doctor)
        .await;
    let pc = app.clinic_client(&clinic).await;
    let member_token = pc
        .post(app.clinic_url("/api/v1/session"))
        .json(&json!({ "login_id": member.login_id, "password": member.password }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let op = app.add_operator("ops.console").await;
    let console = app.client();
    let token = operator_token(&app, &op).await;
    let get = |path: String| {
        console
            .get(app.operator_url(&path))
            .bearer_auth(&token)
            .send()
    };

    let clinics: Value = get("/api/v1/clinics".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clinics["clinics"][0]["id"], clinic.as_str());
    assert_eq!(clinics["clinics"][0]["active_members"], 1);

    let log: Value = get(format!("/api/v1/audit?clinic={clinic}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "the member's log-in: {log}");
    assert_eq!(entries[0]["entry"]["principal_id"], member.id.as_str());
    let paged: Value = get("/api/v1/audit?limit=1".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = paged["next"].as_str().expect("a next position");
    let second: Value = get(format!("/api/v1/audit?limit=1&after={next}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(second["entries"][0], paged["entries"][0]);
    for bad in [
        "from=2026-99-01",
        "outcome=maybe",
        "limit=0",
        "limit=5000",
        "after=nonsense",
    ] {
        let response = get(format!("/api/v1/audit?{bad}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Reading the log is itself in the log (LOG-3).
    let reads: Value = get(format!("/api/v1/audit?principal={}", op.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        reads["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["entry"]["action"] == "GET /api/v1/audit")
    );

    let ended = console
        .delete(app.operator_url(&format!("/api/v1/accounts/{}/sessions", member.id)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    let after = pc
        .get(app.clinic_url("/api/v1/me"))
        .bearer_auth(&member_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "the operator ended the member's session"
    );
    let missing = console
        .delete(app.operator_url("/api/v1/accounts/01900000-0000-7000-8000-000000000000/sessions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // The console routes exist on the operator listener only (NET-3).
    let elsewhere = pc
        .get(app.clinic_url("/api/v1/audit"))
        .bearer_auth(&member_token)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_operator_console_pages_need_the_totp_code_and_show_clinics_and_the_log() {
    let app = enshin_testkit::spawn_app().await;
    let clinic = app.add_clinic("ページ確認クリニック").await;
    let op = app.add_operator("ops.pages").await;
    let browser = enshin_testkit::Browser::new(app.ca_pem(), None, &app.operator_url(""));
    let login = browser.get("/login").await;
    assert!(
        login.body.contains("name=\"totp\""),
        "the log-in form asks for the code"
    );
    let csrf = login.csrf();
    let without = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("login_id", &op.login_id),
                ("password", &op.password),
                ("totp", "000000"),
            ],
        )
        .await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    let code = op.code(0);
    let signed = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("login_id", &op.login_id),
                ("password", &op.password),
                ("totp", &code),
            ],
        )
        .await;
    assert_eq!(signed.location(), Some("/home"), "{}", signed.body);
    let home = browser.get("/home").await;
    assert!(home.body.contains("href=\"/audit\"") && home.body.contains("href=\"/clinics\""));
    let clinics = browser.get("/clinics").await;
    assert_eq!(clinics.status, StatusCode::OK);
    assert!(clinics.body.contains("ページ確認クリニック"));
    let log = browser.get("/audit").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(
        log.body.contains("operator POST /login"),
        "the operator's own log-in is listed"
    );
    let filtered = browser.get(&format!("/audit?clinic={clinic}")).await;
    assert!(filtered.body.contains("該当する記録はありません"));
    let bad = browser.get("/audit?outcome=maybe").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("class=\"error\""));
    app.stop().await;
}

#[tokio::test]
async fn announcements_need_fourteen_days_notice_unless_they_are_security_notices() {
    let app = enshin_testkit::spawn_app().await;
    let clinic = app.add_clinic("お知らせ").await;
    let op = app.add_operator("ops.news").await;
    let console = app.client();
    let token = operator_token(&app, &op).await;
    let day_in_japan = |days: i64| {
        let ms = enshin_server::clock::now_ms() + days * 86_400_000;
        enshin_server::clock::japan_time(ms)[..10].to_owned()
    };
    let publish = |kind: &str, days: i64| {
        console
            .post(app.operator_url("/api/v1/announcements"))
            .bearer_auth(&token)
            .json(&json!({ "kind": kind, "title": format!("{kind} notice"), "text": "本文\n二行目", "effective_date": day_in_japan(days) }))
            .send()
    };
    let soon = publish("change", 13).await.unwrap();
    assert_eq!(soon.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = soon.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_soon");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("14 days")
    );
    assert_eq!(
        publish("change", 15).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        publish("security", 0).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        publish("security", -3).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        publish("rumour", 20).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A clinic admin sees both on the API and on the start page; a doctor may not read them.
    let admin = app
        .add_member(&clinic, enshin_core::people::Role::Admin)
        .await;
    let doctor = app
        .add_member(&clinic, enshin_core::people::Role::Doctor)
        .await;
    let pc = app.clinic_client(&clinic).await;
    let login = |m: &enshin_testkit::TestMember| {
        pc.post(app.clinic_url("/api/v1/session"))
            .json(&json!({ "login_id": m.login_id, "password": m.password }))
            .send()
    };
    let admin_token = login(&admin).await.unwrap().json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed: Value = pc
        .get(app.clinic_url("/api/v1/announcements"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = listed["announcements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["security", "change"], "newest first");
    let doctor_token = login(&doctor).await.unwrap().json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = pc
        .get(app.clinic_url("/api/v1/announcements"))
        .bearer_auth(&doctor_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let browser = app.member_browser(&admin).await;
    let home = browser.get("/home").await;
    assert!(home.body.contains("緊急のセキュリティのお知らせ"));
    assert!(home.body.contains("change notice"));
    app.stop().await;
}

#[tokio::test]
async fn a_suspension_closes_the_service_or_one_clinic_with_the_operators_message() {
    let app = enshin_testkit::spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let op = app.add_operator("ops.incident").await;
    let console = app.client();
    let token = operator_token(&app, &op).await;
    let suspend = |scope: &str, message: &str| {
        console
            .post(app.operator_url("/api/v1/suspensions"))
            .bearer_auth(&token)
            .json(&json!({ "scope": scope, "message": message }))
            .send()
    };
    let (pc_a, pc_b) = (app.clinic_client(&a).await, app.clinic_client(&b).await);
    let terms = || app.client().get(app.patient_url("/api/v1/terms")).send();
    let member_a = app.add_member(&a, enshin_core::people::Role::Staff).await;
    let login_a = || {
        pc_a.post(app.clinic_url("/api/v1/session"))
            .json(&json!({ "login_id": member_a.login_id, "password": member_a.password }))
            .send()
    };

    // One clinic: its PCs get the message, everyone else carries on.
    assert_eq!(
        suspend(&a, "A は点検中です。17時に再開します。")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let closed = login_a().await.unwrap();
    assert_eq!(closed.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = closed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "suspended");
    assert_eq!(
        body["error"]["message"],
        "A は点検中です。17時に再開します。"
    );
    let open = pc_b.get(app.clinic_url("/login")).send().await.unwrap();
    assert_eq!(open.status(), StatusCode::OK);
    assert_eq!(terms().await.unwrap().status(), StatusCode::OK);
    let page = pc_a
        .get(app.clinic_url("/login"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.text().await.unwrap().contains("17時に再開します"),
        "the page shows the message"
    );

    // The whole service; the operator listener stays open to lift it.
    assert_eq!(
        suspend("service", "全体メンテナンス中")
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        terms().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let listed: Value = console
        .get(app.operator_url("/api/v1/suspensions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["suspensions"].as_array().unwrap().len(), 2);
    for scope in ["service", a.as_str()] {
        let lifted = console
            .delete(app.operator_url(&format!("/api/v1/suspensions/{scope}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(lifted.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(terms().await.unwrap().status(), StatusCode::OK);
    assert_eq!(login_a().await.unwrap().status(), StatusCode::CREATED);
    // Mistakes are named.
    assert_eq!(
        suspend("no-such-clinic", "x").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        suspend("service", " ").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.stop().await;
}

#[tokio::test]
async fn operators_create_clinics_and_see_their_members_and_certificates_without_names() {
    let app = enshin_testkit::spawn_app().await;
    let op = app.add_operator("ops.clinics").await;
    let token = operator_token(&app, &op).await;
    let console = app.client();
    let created = console
        .post(app.operator_url("/api/v1/clinics"))
        .bearer_auth(&token)
        .json(&json!({ "name": "新しいクリニック" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let clinic: Value = created.json().await.unwrap();
    let id = clinic["id"].as_str().unwrap();
    assert!(
        app.data_dir().join(format!("keys/{id}.key")).exists(),
        "the clinic got its data key"
    );
    let member = app.add_member(id, enshin_core::people::Role::Doctor).await;
    let cert = app.issue_client_cert(id).await;
    let overview = console
        .get(app.operator_url(&format!("/api/v1/clinics/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(overview.status(), StatusCode::OK);
    let text = overview.text().await.unwrap();
    let overview: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(overview["members"][0]["id"], member.id.as_str());
    assert_eq!(overview["members"][0]["role"], "doctor");
    assert_eq!(
        overview["certificates"][0]["serial"],
        cert.serial_hex.as_str()
    );
    assert!(
        !text.contains(&member.login_id),
        "no login IDs or names: {text}"
    );
    let bad = console
        .post(app.operator_url("/api/v1/clinics"))
        .bearer_auth(&token)
        .json(&json!({ "name": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing = console
        .get(app.operator_url("/api/v1/clinics/01900000-0000-7000-8000-000000000000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
