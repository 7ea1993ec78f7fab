//! Patient self-registration, terms of use and log-in on the patient listener.
// covers AUTH-2, AUTH-3, CONSENT-1, DATA-1, DATA-3

use enshin_core::people::Role;
use enshin_testkit::{TestApp, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const CANARY: &str = "カナリア";

fn registration(login_id: &str) -> Value {
    json!({
        "login_id": login_id,
        "password": "Blue-Kettle-42",
        "email": "canary-mail@example.jp",
        "family_name": format!("{CANARY}山田"),
        "given_name": "太郎",
        "family_name_kana": "やまだ",
        "given_name_kana": "タロウ",
        "birth_date": "1948-02-29",
        "terms_version": current_terms_version(),
    })
}

fn current_terms_version() -> &'static str {
    enshin_server::patients::TERMS_VERSION
}

async fn register(client: &Client, app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let response = client
        .post(app.patient_url("/api/v1/patients"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn log_in(client: &Client, url: String, login_id: &str) -> (StatusCode, Value) {
    let response = client
        .post(url)
        .json(&json!({ "login_id": login_id, "password": "Blue-Kettle-42" }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_patient_registers_logs_in_and_their_profile_is_sealed_at_rest() {
    let app = spawn_app().await;
    let client = app.client();
    let (status, created) = register(&client, &app, &registration("Yamada.Taro")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["login_id"], "yamada.taro");
    let (status, session) =
        log_in(&client, app.patient_url("/api/v1/session"), "yamada.taro").await;
    assert_eq!(status, StatusCode::CREATED);
    let me: Value = client
        .get(app.patient_url("/api/v1/me"))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({ "id": created["id"], "kind": "patient", "role": null, "clinic_id": null })
    );

    // The patient reads their own profile back, opened from the sealed columns.
    let profile: Value = client
        .get(app.patient_url("/api/v1/profile"))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        profile,
        json!({
            "family_name": format!("{CANARY}山田"), "given_name": "太郎",
            "family_name_kana": "ヤマダ", "given_name_kana": "タロウ",
            "birth_date": "1948-02-29", "email": "canary-mail@example.jp", "phone": null,
        })
    );

    // DATA-3: no personal field is stored in plaintext.
    let row = sqlx::query(
        "SELECT family_name, given_name, family_name_kana, birth_date, email FROM patients",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    for (i, plain) in [
        format!("{CANARY}山田"),
        "太郎".into(),
        "ヤマダ".into(),
        "1948-02-29".into(),
        "canary-mail".into(),
    ]
    .iter()
    .enumerate()
    {
        let stored: Vec<u8> = sqlx::Row::try_get(&row, i).unwrap();
        assert!(
            !stored.windows(plain.len()).any(|w| w == plain.as_bytes()),
            "column {i} holds plaintext"
        );
    }
    if app.config().database_url.is_none() {
        for file in ["enshin.db", "enshin.db-wal"] {
            let bytes = std::fs::read(app.data_dir().join(file)).unwrap_or_default();
            assert!(
                !bytes.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()),
                "{file} holds the canary"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn registration_names_each_problem() {
    let app = spawn_app().await;
    let client = app.client();
    let with = |field: &str, value: Value| {
        let mut body = registration("suzuki.hana");
        body[field] = value;
        body
    };
    for (password, rule) in [
        ("short1!", "too_short"),
        ("nodigits-here", "no_digit"),
        ("p@ssw0rd", "common"),
        ("suzuki.hana-1!", "contains_login_id"),
    ] {
        let (status, err) = register(&client, &app, &with("password", json!(password))).await;
        assert_eq!(
            (status, err["error"]["rule"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(rule)),
            "{err}"
        );
        assert_eq!(err["error"]["field"], "password");
    }
    for (field, value) in [
        ("family_name_kana", json!("山田")),
        ("birth_date", json!("2023-02-29")),
        ("birth_date", json!("2999-01-01")),
        ("email", json!("not-an-address")),
        ("given_name", json!("")),
        ("login_id", json!("a b")),
        ("family_name", json!("x".repeat(51))),
    ] {
        let (status, err) = register(&client, &app, &with(field, value)).await;
        assert_eq!(
            (status, err["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{err}"
        );
    }
    let mut no_contact = registration("suzuki.hana");
    no_contact["email"] = Value::Null;
    assert_eq!(
        register(&client, &app, &no_contact).await.1["error"]["field"],
        "email"
    );
    let (status, err) = register(&client, &app, &with("terms_version", json!("1999-01-01"))).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("terms_outdated"))
    );
    let (status, _) = register(&client, &app, &with("is_admin", json!(true))).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    let huge = client
        .post(app.patient_url("/api/v1/patients"))
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        register(&client, &app, &registration("suzuki.hana"))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, err) = register(&client, &app, &registration("SUZUKI.hana")).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("login_id_taken"))
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(count, 1, "refused registrations left nothing behind");
    app.stop().await;
}

#[tokio::test]
async fn changed_terms_must_be_accepted_before_anything_else() {
    let app = spawn_app().await;
    let client = app.client();
    let terms: Value = client
        .get(app.patient_url("/api/v1/terms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(terms["version"], current_terms_version());
    assert!(terms["text"].as_str().unwrap().contains("利用規約"));
    let english: Value = client
        .get(app.patient_url("/api/v1/terms?lang=en"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(english["text"].as_str().unwrap().contains("Terms of use"));

    let (_, created) = register(&client, &app, &registration("sato.jiro")).await;
    // The patient accepted an older version: as if the terms changed since.
    sqlx::query("UPDATE terms_acceptances SET terms_version = $1 WHERE account_id = $2")
        .bind("2000-01-01")
        .bind(created["id"].as_str().unwrap())
        .execute(app.store().pool())
        .await
        .unwrap();
    let (_, session) = log_in(&client, app.patient_url("/api/v1/session"), "sato.jiro").await;
    let token = session["token"].as_str().unwrap();
    let blocked = client
        .get(app.patient_url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        blocked.json::<Value>().await.unwrap()["error"]["code"],
        "terms_not_accepted"
    );
    let accept = |version: &str| {
        client
            .post(app.patient_url("/api/v1/terms/accept"))
            .bearer_auth(token)
            .json(&json!({ "version": version }))
            .send()
    };
    assert_eq!(
        accept("2000-01-01").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        accept(current_terms_version()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let me = client
        .get(app.patient_url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM terms_acceptances WHERE account_id = $1")
            .bind(created["id"].as_str().unwrap())
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    assert_eq!(
        stored, 2,
        "both acceptances are kept, with their versions and times"
    );
    app.stop().await;
}

#[tokio::test]
async fn patients_and_members_log_in_only_on_their_own_listener() {
    let app = spawn_app().await;
    let client = app.client();
    register(&client, &app, &registration("ito.yoko")).await;
    let clinic = app.add_clinic("C").await;
    let member = app.add_member(&clinic, Role::Doctor).await;
    let clinic_client = app.clinic_client(&clinic).await;
    let (status, _) = log_in(
        &clinic_client,
        app.clinic_url("/api/v1/session"),
        "ito.yoko",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a patient is no clinic member"
    );
    let (status, _) = log_in(
        &client,
        app.patient_url("/api/v1/session"),
        &member.login_id,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a member is no patient");
    let members = client
        .get(app.patient_url("/api/v1/members"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        members.status(),
        StatusCode::NOT_FOUND,
        "clinic routes do not exist on the patient listener"
    );
    app.stop().await;
}

#[tokio::test]
async fn registrations_from_one_address_are_throttled_but_typing_mistakes_are_not_counted() {
    let app = spawn_app().await;
    let client = app.client();
    let mut typo = registration("typo.user");
    typo["family_name_kana"] = json!("山田");
    for _ in 0..40 {
        let (status, _) = register(&client, &app, &typo).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    for i in 0..30 {
        let (status, body) = register(&client, &app, &registration(&format!("many.{i}"))).await;
        assert_eq!(status, StatusCode::CREATED, "registration {i}: {body}");
    }
    let response = client
        .post(app.patient_url("/api/v1/patients"))
        .json(&registration("one.too.many"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_registrations");
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'patient'")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(created, 30, "the refused registration created nothing");
    // Log-in is a different count: the registered patients can still log in.
    let (status, _) = log_in(&client, app.patient_url("/api/v1/session"), "many.0").await;
    assert_eq!(status, StatusCode::CREATED);
    app.stop().await;
}
