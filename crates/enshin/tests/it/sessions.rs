//! Log-in, sessions and log-out of clinic members on the clinic listener.
// covers AUTH-1, AUTH-5, AUTH-7, AUTH-10, SESS-1, SESS-2, SESS-3

use enshin_core::people::Role;
use enshin_testkit::{TestApp, TestMember, https_client, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

async fn login(
    client: &Client,
    app: &TestApp,
    login_id: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.clinic_url("/api/v1/session"))
        .json(&json!({ "login_id": login_id, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Logs `m` in and returns the session token.
async fn token(client: &Client, app: &TestApp, m: &TestMember) -> String {
    let response = login(client, app, &m.login_id, &m.password).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `GET /api/v1/me` with a bearer token.
async fn me(client: &Client, app: &TestApp, token: &str) -> reqwest::Response {
    client
        .get(app.clinic_url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A member of a new clinic and a client holding a certificate of that clinic.
async fn member(app: &TestApp, role: Role) -> (TestMember, Client) {
    let clinic = app.add_clinic("テストクリニック").await;
    let member = app.add_member(&clinic, role).await;
    let client = app.clinic_client(&clinic).await;
    (member, client)
}

async fn body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_member_logs_in_sees_who_they_are_and_logs_out() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Doctor).await;
    let response = login(&client, &app, &m.login_id.to_uppercase(), &m.password).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "__Host-enshin_session=",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session: Value = response.json().await.unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert!(session["expires_at"].as_i64().unwrap() > 0);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_digest = $1")
        .bind(&token)
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0, "the database never holds the token itself");

    let (status, who) = body(me(&client, &app, &token).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        who,
        json!({ "id": m.id, "kind": "member", "role": "doctor", "clinic_id": m.clinic_id })
    );

    let out = client
        .delete(app.clinic_url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = me(&client, &app, &token).await;
    let (status, err) = body(after).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_authenticated"))
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_unknown_disabled_and_foreign_clinic_answer_alike() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Staff).await;
    let (other, _) = member(&app, Role::Staff).await;
    let disabled = app.add_member(&m.clinic_id, Role::Staff).await;
    enshin_server::people::disable_member(app.store(), &disabled.login_id)
        .await
        .unwrap();
    let mut answers = Vec::new();
    for (login_id, password) in [
        (m.login_id.as_str(), "Wrong-Kettle-42"),
        ("nobody-here", "Blue-Kettle-42"),
        (disabled.login_id.as_str(), disabled.password.as_str()),
        // The right password of a member of another clinic, presented with this clinic's certificate.
        (other.login_id.as_str(), other.password.as_str()),
        ("../../etc/passwd", "x"),
    ] {
        answers.push(body(login(&client, &app, login_id, password).await).await);
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:#?}");
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1["error"]["code"], "invalid_credentials");
    app.stop().await;
}

#[tokio::test]
async fn a_session_is_bound_to_the_certificate_it_logged_in_with() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Admin).await;
    let token = token(&client, &app, &m).await;
    // Another certificate of the same clinic (another PC) does not carry the session.
    let other_pc = app.clinic_client(&m.clinic_id).await;
    let moved = me(&other_pc, &app, &token).await;
    assert_eq!(moved.status(), StatusCode::UNAUTHORIZED);
    let home = me(&client, &app, &token).await;
    assert_eq!(home.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn disabling_a_member_ends_their_sessions_at_once() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Doctor).await;
    let token = token(&client, &app, &m).await;
    assert!(
        enshin_server::people::disable_member(app.store(), &m.login_id)
            .await
            .unwrap()
    );
    let after = me(&client, &app, &token).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let again = login(&client, &app, &m.login_id, &m.password).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn failures_lock_the_account_before_any_password_is_checked() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Doctor).await;
    for _ in 0..5 {
        assert_eq!(
            login(&client, &app, &m.login_id, "Wrong-Kettle-42")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password is refused now: the lock is checked before hashing.
    let locked = login(&client, &app, &m.login_id, &m.password).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        locked.json::<Value>().await.unwrap()["error"]["code"],
        "too_many_attempts"
    );
    // Another account from the same address is not locked (the address threshold is higher).
    let other = app.add_member(&m.clinic_id, Role::Staff).await;
    assert_eq!(
        login(&client, &app, &other.login_id, &other.password)
            .await
            .status(),
        StatusCode::CREATED
    );
    app.stop().await;
}

#[tokio::test]
async fn cookie_sessions_need_a_same_origin_request_to_change_state() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Doctor).await;
    let token = token(&client, &app, &m).await;
    let cookie = format!("__Host-enshin_session={token}");
    let me = client
        .get(app.clinic_url("/api/v1/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK, "reading with the cookie works");
    let forged = client
        .delete(app.clinic_url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let (status, err) = body(forged).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    let own = client
        .delete(app.clinic_url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::NO_CONTENT);
    let cross_site_login = client
        .post(app.clinic_url("/api/v1/session"))
        .header("origin", "https://evil.example")
        .json(&json!({ "login_id": m.login_id, "password": m.password }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site_login.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn malformed_oversized_and_hostile_log_ins_get_clear_4xx_answers() {
    let app = spawn_app().await;
    let (m, client) = member(&app, Role::Doctor).await;
    let url = app.clinic_url("/api/v1/session");
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            client.post(&url).body("{not json"),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            client.post(&url).json(&json!({ "login_id": "x" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        (
            client
                .post(&url)
                .json(&json!({ "login_id": 1, "password": [] })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        (
            client
                .post(&url)
                .json(&json!({ "login_id": "x", "password": "y", "admin": true })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        (
            client.post(&url).body(vec![b'{'; 200_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_body",
        ),
        (
            client
                .post(&url)
                .json(&json!({ "login_id": m.login_id, "password": "a".repeat(5000) })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_too_long",
        ),
        (
            client
                .get(app.clinic_url("/api/v1/me"))
                .bearer_auth("'; DROP TABLE sessions; --"),
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
        ),
        (
            client.get(app.clinic_url("/api/v1/me")),
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
        ),
    ];
    for (request, status, code) in cases {
        let (got, err) = body(request.send().await.unwrap()).await;
        assert_eq!(
            (got, err["error"]["code"].as_str()),
            (status, Some(code)),
            "{err}"
        );
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // The operator listener logs in operators only (NET-3): a member's credentials get the 401
    // of an unknown ID there, and a malformed body a 422.
    let operator = https_client(app.ca_pem(), None);
    let malformed = operator
        .post(app.operator_url("/api/v1/session"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let member_there = operator
        .post(app.operator_url("/api/v1/session"))
        .json(&json!({ "login_id": m.login_id, "password": m.password }))
        .send()
        .await
        .unwrap();
    assert_eq!(member_there.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&client, &app, &m.login_id, &m.password)
            .await
            .status(),
        StatusCode::CREATED,
        "still works"
    );
    app.stop().await;
}

/// Moves a session's clock back: as if it logged in `created_ago_ms` and was last active
/// `seen_ago_ms` ago. Time is injected through the stored times, the only clock a session has.
async fn age_session(app: &TestApp, account_id: &str, created_ago_ms: i64, seen_ago_ms: i64) {
    let now = enshin_server::clock::now_ms();
    sqlx::query("UPDATE sessions SET created_at = $1, last_seen_at = $2 WHERE account_id = $3")
        .bind(now - created_ago_ms)
        .bind(now - seen_ago_ms)
        .bind(account_id)
        .execute(app.store().pool())
        .await
        .unwrap();
}

async fn ended_reason(app: &TestApp, account_id: &str) -> Option<String> {
    sqlx::query_scalar("SELECT ended_reason FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(app.store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn sessions_end_after_the_idle_timeout_and_the_absolute_lifetime() {
    const MINUTE: i64 = 60_000;
    let app = spawn_app().await;
    // Defaults: 30 min idle, 12 h in all.
    let (idle, idle_client) = member(&app, Role::Staff).await;
    let idle_token = token(&idle_client, &app, &idle).await;
    age_session(&app, &idle.id, 29 * MINUTE, 29 * MINUTE).await;
    assert_eq!(
        me(&idle_client, &app, &idle_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        ended_reason(&app, &idle.id).await,
        None,
        "29 idle minutes are allowed"
    );
    age_session(&app, &idle.id, 31 * MINUTE, 30 * MINUTE).await;
    assert_eq!(
        me(&idle_client, &app, &idle_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(ended_reason(&app, &idle.id).await.as_deref(), Some("idle"));

    let (busy, busy_client) = member(&app, Role::Doctor).await;
    let busy_token = token(&busy_client, &app, &busy).await;
    age_session(&app, &busy.id, 12 * 60 * MINUTE - MINUTE, MINUTE).await;
    assert_eq!(
        me(&busy_client, &app, &busy_token).await.status(),
        StatusCode::OK
    );
    age_session(&app, &busy.id, 12 * 60 * MINUTE, MINUTE).await;
    assert_eq!(
        me(&busy_client, &app, &busy_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "activity does not extend a session past its absolute lifetime"
    );
    assert_eq!(
        ended_reason(&app, &busy.id).await.as_deref(),
        Some("absolute")
    );
    // An ended session stays ended even if its times looked fresh again.
    age_session(&app, &busy.id, MINUTE, 0).await;
    assert_eq!(
        me(&busy_client, &app, &busy_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}
