//! The three password-reset paths (AUTH-6) and patients' contact checks, with mail through a real
//! SMTP exchange and SMS through the provider endpoint: codes work once, for ten minutes, five
//! tries; the same answer for existing and unknown IDs; no patient data in any message (DATA-2).
// covers AUTH-6, AUTH-3, DATA-2, SESS-2

use std::os::unix::fs::PermissionsExt;

use enshin_core::people::Role;
use enshin_testkit::{SmsSink, SmtpSink, TestApp, spawn_app_with};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const CANARIES: [&str; 5] = ["鳥籠", "金糸雀", "カナリアカナ", "ヒヨドリ", "1937-05-06"];
const PASSWORD: &str = "Blue-Kettle-42";
const NEW_PASSWORD: &str = "Green-Teapot-77";

/// The testkit's call with an optional token and a JSON body (`Null`: none).
async fn call(
    client: &Client,
    method: Method,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let body = (!body.is_null()).then_some(body);
    enshin_testkit::call(client, method, url, token.unwrap_or(""), body).await
}

/// A served app with mail and SMS going to sinks on loopback.
async fn app_with_sinks() -> (TestApp, SmtpSink, SmsSink, tempfile::TempDir) {
    let smtp = SmtpSink::start().await;
    let sms = SmsSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("sms.token");
    std::fs::write(&token, "t0ken").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (smtp_url, sms_url, token) = (
        format!("smtp://{}", smtp.addr),
        sms.url.clone(),
        token.display().to_string(),
    );
    let app = spawn_app_with(|l| {
        l.flag("smtp_url", smtp_url);
        l.flag("sms_url", sms_url);
        l.flag("sms_token_file", token);
    })
    .await;
    (app, smtp, sms, dir)
}

/// Registers a patient whose every A-class field is a canary; returns a session token.
async fn patient(app: &TestApp, login_id: &str) -> String {
    let client = app.client();
    let (status, body) = call(
        &client,
        Method::POST,
        app.patient_url("/api/v1/patients"),
        None,
        json!({
            "login_id": login_id, "password": PASSWORD, "email": format!("{login_id}@mail.test"),
            "phone": "090-1234-5678", "family_name": CANARIES[0], "given_name": CANARIES[1],
            "family_name_kana": CANARIES[2], "given_name_kana": CANARIES[3], "birth_date": CANARIES[4],
            "terms_version": enshin_server::patients::TERMS_VERSION,
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    log_in(app, login_id, PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn log_in(app: &TestApp, login_id: &str, password: &str) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::POST,
        app.patient_url("/api/v1/session"),
        None,
        json!({ "login_id": login_id, "password": password }),
    )
    .await
}

/// The six-digit code in a message text.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code")
        .to_owned()
}

async fn patient_post(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::POST,
        app.patient_url(path),
        token,
        body,
    )
    .await
}

#[tokio::test]
async fn a_patient_proves_the_address_then_resets_the_password_with_a_code_from_the_mail() {
    let (app, smtp, sms, _dir) = app_with_sinks().await;
    let token = patient(&app, "reset.mail").await;

    // An address not yet proven is not used for resets; the answer is the same.
    let (status, unproven) = patient_post(
        &app,
        "/api/v1/password-reset",
        None,
        json!({ "login_id": "reset.mail", "channel": "email" }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, _) = patient_post(
        &app,
        "/api/v1/contact/verify",
        Some(&token),
        json!({ "channel": "email" }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1, "nothing was sent for the unproven address");
    let verify = code_in(&mails[0].text());
    let (status, body) = patient_post(
        &app,
        "/api/v1/contact/verify/confirm",
        Some(&token),
        json!({ "channel": "email", "code": verify }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Existing and unknown IDs get the same answer.
    let (s1, known) = patient_post(
        &app,
        "/api/v1/password-reset",
        None,
        json!({ "login_id": "reset.mail", "channel": "email" }),
    )
    .await;
    let (s2, unknown) = patient_post(
        &app,
        "/api/v1/password-reset",
        None,
        json!({ "login_id": "nobody.here", "channel": "email" }),
    )
    .await;
    assert_eq!((s1, &known), (s2, &unknown));
    assert_eq!(known, unproven);
    let mails = smtp.wait_for(2).await;
    assert_eq!(mails[1].to, ["reset.mail@mail.test"]);
    let code = code_in(&mails[1].text());
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let confirm = |code: String, password: &'static str| {
        let app = &app;
        async move {
            patient_post(
                app,
                "/api/v1/password-reset/confirm",
                None,
                json!({ "login_id": "reset.mail", "code": code, "new_password": password }),
            )
            .await
        }
    };
    let (status, body) = confirm(wrong.into(), NEW_PASSWORD).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_code"))
    );
    // A weak password is refused by the policy, and the code still works afterwards.
    let (status, body) = confirm(code.clone(), "password").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = confirm(code.clone(), NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Used once; every session ended; the new password works, the old one not.
    assert_eq!(
        confirm(code, "Another-Pass-99").await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, _) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/me"),
        Some(&token),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        log_in(&app, "reset.mail", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&app, "reset.mail", NEW_PASSWORD).await.0,
        StatusCode::CREATED
    );

    // DATA-2: no message carries the patient's names or birth date.
    for mail in smtp.mails() {
        for canary in CANARIES {
            assert!(!mail.text().contains(canary), "{canary} in {}", mail.text());
            assert!(!mail.data.contains(canary));
        }
    }
    assert!(sms.wait_for(0).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn codes_die_after_five_wrong_tries_and_after_ten_minutes() {
    let (app, _smtp, sms, _dir) = app_with_sinks().await;
    let token = patient(&app, "reset.sms").await;
    patient_post(
        &app,
        "/api/v1/contact/verify",
        Some(&token),
        json!({ "channel": "sms" }),
    )
    .await;
    let texts = sms.wait_for(1).await;
    assert_eq!(texts[0].body["to"], "09012345678");
    let (status, _) = patient_post(
        &app,
        "/api/v1/contact/verify/confirm",
        Some(&token),
        json!({ "channel": "sms", "code": code_in(texts[0].body["text"].as_str().unwrap()) }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let ask = || {
        patient_post(
            &app,
            "/api/v1/password-reset",
            None,
            json!({ "login_id": "reset.sms", "channel": "sms" }),
        )
    };
    ask().await;
    let code = code_in(sms.wait_for(2).await[1].body["text"].as_str().unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = |code: String| {
        let app = &app;
        async move {
            patient_post(
                app,
                "/api/v1/password-reset/confirm",
                None,
                json!({ "login_id": "reset.sms", "code": code, "new_password": NEW_PASSWORD }),
            )
            .await
            .0
        }
    };
    for _ in 0..5 {
        assert_eq!(confirm(wrong.into()).await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        confirm(code).await,
        StatusCode::BAD_REQUEST,
        "dead after five wrong tries"
    );

    ask().await;
    let code = code_in(sms.wait_for(3).await[2].body["text"].as_str().unwrap());
    sqlx::query("UPDATE one_time_codes SET expires_at = expires_at - 600000")
        .execute(app.store().pool())
        .await
        .unwrap();
    assert_eq!(
        confirm(code).await,
        StatusCode::BAD_REQUEST,
        "dead after ten minutes"
    );

    // Malformed input gets a clear 4xx.
    let (status, body) = patient_post(
        &app,
        "/api/v1/password-reset",
        None,
        json!({ "login_id": "x", "channel": "fax" }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("channel"))
    );
    assert_eq!(
        confirm("12345678901234567890".into()).await,
        StatusCode::BAD_REQUEST
    );
    for text in sms.wait_for(3).await {
        for canary in CANARIES {
            assert!(!text.body.to_string().contains(canary));
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_clinic_admin_resets_by_a_single_use_link_and_sets_other_members_passwords() {
    let (app, smtp, _sms, _dir) = app_with_sinks().await;
    let clinic = app.add_clinic("A").await;
    let other = app.add_clinic("B").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let doctor = app.add_member(&clinic, Role::Doctor).await;
    let other_admin = app.add_member(&other, Role::Admin).await;
    let pc = app.clinic_client(&clinic).await;
    let token_of = |m: &enshin_testkit::TestMember, pc: &Client| {
        let (pc, m, app) = (pc.clone(), m.clone(), &app);
        async move {
            let (status, body) = call(
                &pc,
                Method::POST,
                app.clinic_url("/api/v1/session"),
                None,
                json!({ "login_id": m.login_id, "password": m.password }),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let admin_token = token_of(&admin, &pc).await;
    let doctor_token = token_of(&doctor, &pc).await;
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url("/api/v1/me/email"),
        Some(&doctor_token),
        json!({ "email": "doc@a.test" }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url("/api/v1/me/email"),
        Some(&admin_token),
        json!({ "email": "boss@a.test" }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Only admins get a link; everyone gets the same answer.
    let ask = |login_id: String| {
        let (pc, app) = (pc.clone(), &app);
        async move {
            call(
                &pc,
                Method::POST,
                app.clinic_url("/api/v1/password-reset"),
                None,
                json!({ "login_id": login_id }),
            )
            .await
        }
    };
    let for_doctor = ask(doctor.login_id.clone()).await;
    let for_admin = ask(admin.login_id.clone()).await;
    let for_nobody = ask("nobody.at.all".into()).await;
    assert_eq!(for_doctor, for_admin);
    assert_eq!(for_admin, for_nobody);
    assert_eq!(for_admin.0, StatusCode::ACCEPTED);
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(smtp.mails().len(), 1, "the doctor gets no link");
    assert_eq!(mails[0].to, ["boss@a.test"]);
    let link = mails[0]
        .text()
        .lines()
        .find(|l| l.contains("/reset?token="))
        .expect("a link")
        .trim()
        .to_owned();
    assert!(
        link.starts_with(&format!(
            "https://localhost:{}/reset?token=",
            app.addrs().clinic.port()
        )),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert_eq!(token.len(), 64, "256 bits");

    let set = |password: &'static str, token: String| {
        let (pc, app) = (pc.clone(), &app);
        async move {
            call(
                &pc,
                Method::POST,
                app.clinic_url("/api/v1/password-reset/link"),
                None,
                json!({ "token": token, "new_password": password }),
            )
            .await
        }
    };
    assert_eq!(
        set("password", token.clone()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        set(NEW_PASSWORD, token.clone()).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = set("Third-Pass-55", token).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_link"))
    );
    assert_eq!(
        call(
            &pc,
            Method::GET,
            app.clinic_url("/api/v1/me"),
            Some(&admin_token),
            Value::Null
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED,
        "the admin's sessions ended"
    );
    // A second link, unused for 30 minutes, no longer works.
    ask(admin.login_id.clone()).await;
    let second = smtp.wait_for(2).await[1].text();
    let late = second
        .lines()
        .find_map(|l| l.trim().split("token=").nth(1))
        .expect("a second link")
        .to_owned();
    sqlx::query("UPDATE reset_links SET expires_at = expires_at - 1800000 WHERE used_at IS NULL")
        .execute(app.store().pool())
        .await
        .unwrap();
    assert_eq!(set("Late-Pass-62", late).await.0, StatusCode::BAD_REQUEST);
    let renewed = enshin_testkit::TestMember {
        password: NEW_PASSWORD.into(),
        ..admin.clone()
    };
    let admin_token = token_of(&renewed, &pc).await;

    // (ii) The admin sets the doctor's password; the doctor's sessions end.
    let path = format!("/api/v1/members/{}/password", doctor.id);
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url(&path),
        Some(&admin_token),
        json!({ "password": "weak" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url(&path),
        Some(&admin_token),
        json!({ "password": "Doctor-New-31" }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(
            &pc,
            Method::GET,
            app.clinic_url("/api/v1/me"),
            Some(&doctor_token),
            Value::Null
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let doctor_now = enshin_testkit::TestMember {
        password: "Doctor-New-31".into(),
        ..doctor.clone()
    };
    let doctor_token = token_of(&doctor_now, &pc).await;
    let own = format!("/api/v1/members/{}/password", admin.id);
    assert_eq!(
        call(
            &pc,
            Method::PUT,
            app.clinic_url(&own),
            Some(&admin_token),
            json!({ "password": "Doctor-New-31" })
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        call(
            &pc,
            Method::PUT,
            app.clinic_url(&own),
            Some(&doctor_token),
            json!({ "password": "Doctor-New-32" })
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let pc_b = app.clinic_client(&other).await;
    let other_token = token_of(&other_admin, &pc_b).await;
    assert_eq!(
        call(
            &pc_b,
            Method::PUT,
            app.clinic_url(&path),
            Some(&other_token),
            json!({ "password": "Doctor-New-33" })
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn the_reset_pages_work_for_patients_and_clinic_admins() {
    let app = spawn_app_with(|_| {}).await;
    patient(&app, "page.reset").await;
    let browser = app.patient_browser();
    let signed = browser
        .log_in(&[("login_id", "page.reset"), ("password", PASSWORD)])
        .await;
    assert_eq!(signed.location(), Some("/home"));
    let home = browser.get("/home").await;
    assert!(home.body.contains("未確認"), "{}", home.body);
    let csrf = home.csrf();
    let sent = browser
        .post("/contact/verify", &[("csrf", &csrf), ("channel", "email")])
        .await;
    assert_eq!(sent.location(), Some("/home?done=contact_code_sent"));
    let code = code_in(&app.outbox(1).await.swap_remove(0));
    let proven = browser
        .post(
            "/contact/verify/confirm",
            &[("csrf", &csrf), ("channel", "email"), ("code", &code)],
        )
        .await;
    assert_eq!(proven.location(), Some("/home?done=contact_verified"));
    assert!(browser.get("/home").await.body.contains("確認済み"));

    // Logged out, forgotten: the login page links to the reset.
    let anonymous = app.patient_browser();
    let login = anonymous.get("/login").await;
    assert!(login.body.contains("href=\"/forgot\""));
    let csrf = anonymous.get("/forgot").await.csrf();
    let asked = anonymous
        .post(
            "/forgot",
            &[
                ("csrf", &csrf),
                ("login_id", "page.reset"),
                ("channel", "email"),
            ],
        )
        .await;
    assert_eq!(asked.location(), Some("/forgot/code?done=code_sent"));
    let unknown = anonymous
        .post(
            "/forgot",
            &[
                ("csrf", &csrf),
                ("login_id", "no.such.one"),
                ("channel", "email"),
            ],
        )
        .await;
    assert_eq!(
        unknown.location(),
        asked.location(),
        "the same next page for an unknown ID"
    );
    let code = code_in(&app.outbox(2).await.swap_remove(1));
    let form = |code: &str, password: &str| {
        let (csrf, anonymous) = (csrf.clone(), &anonymous);
        let (code, password) = (code.to_owned(), password.to_owned());
        async move {
            anonymous
                .post(
                    "/forgot/code",
                    &[
                        ("csrf", &csrf),
                        ("login_id", "page.reset"),
                        ("code", &code),
                        ("new_password", &password),
                    ],
                )
                .await
        }
    };
    let wrong = form(
        if code == "000000" { "111111" } else { "000000" },
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("確認コードが違う"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"page.reset\""),
        "the form keeps the login ID"
    );
    let done = form(&code, NEW_PASSWORD).await;
    assert_eq!(done.location(), Some("/login?done=password_reset"));
    assert_eq!(
        browser.get("/home").await.location(),
        Some("/login"),
        "old sessions ended"
    );

    // A clinic admin: own address on the start page, link by mail, new password from the link.
    let clinic = app.add_clinic("A").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let desk = app.member_browser(&admin).await;
    let csrf = desk.get("/home").await.csrf();
    let saved = desk
        .post("/email", &[("csrf", &csrf), ("email", "boss@a.test")])
        .await;
    assert_eq!(saved.location(), Some("/home?done=email_saved"));
    let other_pc = app.clinic_browser(&clinic).await;
    let csrf = other_pc.get("/forgot").await.csrf();
    let asked = other_pc
        .post("/forgot", &[("csrf", &csrf), ("login_id", &admin.login_id)])
        .await;
    assert_eq!(asked.location(), Some("/forgot?done=link_sent"));
    let mail = app.outbox(3).await.swap_remove(2);
    assert!(mail.starts_with("To: boss@a.test\n"));
    let link = mail
        .lines()
        .find(|l| l.contains("/reset?token="))
        .unwrap()
        .trim()
        .to_owned();
    let path = &link[link.find("/reset?").unwrap()..];
    let page = other_pc.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = path.trim_start_matches("/reset?token=");
    let set = other_pc
        .post(
            "/reset",
            &[
                ("csrf", &page.csrf()),
                ("token", token),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(set.location(), Some("/login?done=password_reset"));
    let again = other_pc
        .post(
            "/reset",
            &[
                ("csrf", &page.csrf()),
                ("token", token),
                ("new_password", "Other-Pass-81"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("このリンクは無効"), "{}", again.body);
    app.stop().await;
}
