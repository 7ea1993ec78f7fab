//! The pages: security headers, form tokens (SESS-3), registration and terms through the forms,
//! the member list, the language switch, and bad input on every form.
// covers AUTH-2, AUTH-3, AUTH-7, CONSENT-1, ROLE-1, ROLE-2, SESS-1, SESS-2, SESS-3, DATA-1

use enshin_core::people::Role;
use enshin_testkit::{Answer, Browser, TestMember, spawn_app};
use reqwest::StatusCode;

const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
pub(crate) const PASSWORD: &str = "Blue-Kettle-42";

fn terms_version() -> &'static str {
    enshin_server::patients::TERMS_VERSION
}

fn registration<'a>(login_id: &'a str, csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("login_id", login_id),
        ("password", PASSWORD),
        ("email", ""),
        ("phone", "090-1234-5678"),
        ("family_name", "山田"),
        ("given_name", "花子"),
        ("family_name_kana", "やまだ"),
        ("given_name_kana", "はなこ"),
        ("birth_date", "1948-04-01"),
        ("terms_version", terms_version()),
        ("accept", "yes"),
    ]
}

fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    name: &str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    for field in &mut fields {
        if field.0 == name {
            field.1 = value;
        }
    }
    fields
}

pub(crate) async fn register(browser: &Browser, login_id: &str) {
    let csrf = browser.get("/register").await.csrf();
    let done = browser
        .post("/register", &registration(login_id, &csrf))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/login?done=registered"));
}

pub(crate) async fn log_in(browser: &Browser, login_id: &str, password: &str) -> Answer {
    let csrf = browser.get("/login").await.csrf();
    browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("login_id", login_id),
                ("password", password),
            ],
        )
        .await
}

fn assert_page_headers(answer: &Answer, what: &str) {
    let header = |name: &str| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-security-policy"), CSP, "{what}");
    assert_eq!(header("x-frame-options"), "DENY", "{what}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
    assert!(
        header("strict-transport-security").starts_with("max-age="),
        "{what}"
    );
    assert_eq!(header("cache-control"), "no-store", "{what}");
    // A strict CSP allows no inline code; a page with some would break in browsers.
    // The only script is a same-origin file; no page has an inline one.
    let scripts = answer.body.matches("<script").count();
    let files = answer
        .body
        .matches("<script type=\"module\" src=\"/static/")
        .count();
    assert_eq!(scripts, files, "{what} has an inline script");
    for inline in [
        "<script>",
        " style=",
        " onclick=",
        " onerror=",
        "javascript:",
    ] {
        assert!(!answer.body.contains(inline), "{what} has {inline}");
    }
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_no_inline_code() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("A").await;
    let patient = app.patient_browser();
    for path in [
        "/login",
        "/register",
        "/login?lang=en",
        "/login?done=logged_out",
    ] {
        let answer = patient.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(answer.body.starts_with("<!doctype html>"), "{path}");
        assert_page_headers(&answer, path);
    }
    let admin = app.add_member(&clinic, Role::Admin).await;
    let browser = app.member_browser(&admin).await;
    for path in ["/home", "/sessions", "/members"] {
        let answer = browser.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_page_headers(&answer, path);
    }
    let css = patient.get("/static/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.headers["content-type"], "text/css; charset=utf-8",
        "the stylesheet is served as CSS (nosniff would drop it otherwise)"
    );
    assert!(css.body.contains("font-family"));
    // Each listener has only its own pages (NET-3).
    assert_eq!(patient.get("/members").await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get("/register").await.status, StatusCode::NOT_FOUND);
    assert_eq!(browser.get("/terms").await.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn a_patient_registers_logs_in_lists_sessions_and_logs_out_through_the_pages() {
    let app = spawn_app().await;
    let browser = app.patient_browser();
    let page = browser.get("/register").await;
    assert!(page.body.contains("利用規約"), "the terms are on the page");
    assert!(page.body.contains(terms_version()));
    let form_cookie = page
        .set_cookie("__Host-enshin_form")
        .expect("the form secret cookie");
    assert!(
        form_cookie.contains("Secure; HttpOnly; SameSite=Strict"),
        "{form_cookie}"
    );

    // A mistake: the page says which field and why, keeps what was typed but not the password,
    // and escapes what it shows again.
    let csrf = page.csrf();
    let hostile = "<script>alert(1)</script>";
    let fields = with(
        with(
            registration("yamada.hanako", &csrf),
            "family_name_kana",
            "山田",
        ),
        "given_name",
        hostile,
    );
    let refused = browser.post("/register", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("姓(ふりがな): ひらがなかカタカナで入力してください。"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(
        refused
            .body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
    );
    assert!(!refused.body.contains(hostile));
    assert!(
        !refused.body.contains(PASSWORD),
        "the password is never sent back"
    );

    let unaccepted: Vec<_> = registration("yamada.hanako", &csrf)
        .into_iter()
        .filter(|(name, _)| *name != "accept")
        .collect();
    let refused = browser.post("/register", &unaccepted).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("利用規約への同意が必要です。"));

    let done = browser
        .post("/register", &registration("yamada.hanako", &csrf))
        .await;
    assert_eq!(done.location(), Some("/login?done=registered"));
    let notice = browser.get("/login?done=registered").await;
    assert!(notice.body.contains("登録が完了しました。"));
    let taken = browser
        .post("/register", &registration("Yamada.Hanako", &csrf))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(taken.body.contains("このログインIDは使えません"));

    let wrong = log_in(&browser, "yamada.hanako", "Wrong-Kettle-42").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("ログインIDかパスワードが違います。"));
    assert!(browser.cookie("__Host-enshin_session").is_none());

    let signed = log_in(&browser, "yamada.hanako", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    assert_eq!(signed.location(), Some("/home"));
    let cookie = signed.set_cookie("__Host-enshin_session").unwrap();
    assert!(
        cookie.ends_with("; Path=/; Secure; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    let home = browser.get("/home").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("action=\"/logout\""));
    let sessions = browser.get("/sessions").await;
    assert_eq!(sessions.body.matches("class=\"card current\"").count(), 1);
    assert!(sessions.body.contains("この端末"));

    let out = browser.post("/logout", &[("csrf", &sessions.csrf())]).await;
    assert_eq!(out.location(), Some("/login?done=logged_out"));
    assert!(browser.cookie("__Host-enshin_session").is_none());
    let after = browser.get("/home").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), Some("/login"));
    app.stop().await;
}

async fn post_login(browser: &Browser, site: &str, csrf: &str) -> Answer {
    let fields = [
        ("csrf", csrf),
        ("login_id", "csrf.target"),
        ("password", PASSWORD),
    ];
    browser.post_from(site, "/login", &fields).await
}

#[tokio::test]
async fn forms_refuse_missing_wrong_stale_and_cross_site_tokens() {
    let app = spawn_app().await;
    let browser = app.patient_browser();
    register(&browser, "csrf.target").await;
    let csrf = browser.get("/login").await.csrf();

    // A browser that never loaded our page has no form secret.
    let stranger = app.patient_browser();
    let answer = post_login(&stranger, "same-origin", &csrf).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("ページの有効期限が切れたか"));
    // The token of another browser's secret, a forged token, no token, another site.
    let stranger_csrf = stranger.get("/login").await.csrf();
    for (label, site, token) in [
        (
            "other browser's token",
            "same-origin",
            stranger_csrf.as_str(),
        ),
        ("forged token", "same-origin", &"0".repeat(64)),
        ("no token", "same-origin", ""),
        ("cross-site post", "cross-site", csrf.as_str()),
        ("same-site post", "same-site", csrf.as_str()),
    ] {
        let answer = post_login(&browser, site, token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{label}");
        assert!(browser.cookie("__Host-enshin_session").is_none(), "{label}");
    }
    let signed = post_login(&browser, "same-origin", &csrf).await;
    assert_eq!(signed.location(), Some("/home"));

    // The token is bound to the session: the one of the log-in page no longer works.
    let stale = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/home").await.status, StatusCode::OK);
    let fresh = browser.get("/home").await.csrf();
    let cross = browser
        .post_from("cross-site", "/logout", &[("csrf", &fresh)])
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/home").await.status, StatusCode::OK);
    let out = browser.post("/logout", &[("csrf", &fresh)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn every_form_answers_bad_input_with_a_clear_4xx_page() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("A").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let staff = app.add_member(&clinic, Role::Staff).await;
    let clinic_browser = app.member_browser(&admin).await;
    let patient = app.patient_browser();
    register(&patient, "bad.input").await;
    let signed = log_in(&patient, "bad.input", PASSWORD).await;
    assert_eq!(signed.location(), Some("/home"));

    let member = |suffix: &str| format!("/members/{}/{suffix}", staff.id);
    let forms: Vec<(&Browser, String)> = vec![
        (&patient, "/login".into()),
        (&patient, "/register".into()),
        (&patient, "/terms".into()),
        (&patient, "/sessions/x/end".into()),
        (&clinic_browser, "/members".into()),
        (&clinic_browser, member("role")),
        (&clinic_browser, member("disable")),
        (&clinic_browser, member("end-sessions")),
        (&patient, "/logout".into()),
    ];
    for (browser, path) in &forms {
        let big = browser
            .post_raw(
                path,
                "application/x-www-form-urlencoded",
                format!("csrf=x&login_id={}", "a".repeat(100 * 1024)).into_bytes(),
            )
            .await;
        assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert!(
            big.body.contains("送信された内容を読み取れませんでした"),
            "{path}: {}",
            big.body
        );
        let json = browser
            .post_raw(path, "application/json", b"{\"csrf\":\"x\"}".to_vec())
            .await;
        assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        let garbage = browser
            .post_raw(
                path,
                "application/x-www-form-urlencoded",
                b"csrf=%FF%FE&&==&login_id=%".to_vec(),
            )
            .await;
        assert!(
            garbage.status.is_client_error(),
            "{path}: {}",
            garbage.status
        );
        assert!(garbage.body.contains("class=\"error\""), "{path}");
    }
    // Still logged in, and nothing was changed by any of it.
    assert_eq!(patient.get("/home").await.status, StatusCode::OK);
    let members = app.store().list_members(&clinic).await.unwrap();
    assert!(members.iter().all(|m| !m.disabled && m.role != "doctor"));

    // Hostile values are answered, escaped, never with a 500.
    let stranger = app.patient_browser();
    let stranger_csrf = stranger.get("/login").await.csrf();
    for login_id in [
        "<img src=x onerror=alert(1)>",
        &"ｘ".repeat(5000),
        "'; DROP TABLE accounts; --",
        "\u{0}\u{202e}",
    ] {
        let answer = stranger
            .post(
                "/login",
                &[
                    ("csrf", &stranger_csrf),
                    ("login_id", login_id),
                    ("password", "x"),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{login_id:.20}");
        assert!(!answer.body.contains("<img src=x"));
    }
    let csrf = patient.get("/sessions").await.csrf();
    let long_id = patient
        .post(
            &format!("/sessions/{}/end", "9".repeat(5000)),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(long_id.status, StatusCode::NOT_FOUND);
    assert!(long_id.body.contains("見つかりませんでした"));
    app.stop().await;
}

#[tokio::test]
async fn a_patient_who_has_not_accepted_the_current_terms_is_held_at_the_terms_page() {
    let app = spawn_app().await;
    let browser = app.patient_browser();
    register(&browser, "old.terms").await;
    sqlx::query(
        "UPDATE terms_acceptances SET terms_version = $1 WHERE account_id = \
         (SELECT id FROM accounts WHERE login_id = $2)",
    )
    .bind("2000-01-01")
    .bind("old.terms")
    .execute(app.store().pool())
    .await
    .unwrap();
    assert_eq!(
        log_in(&browser, "old.terms", PASSWORD).await.location(),
        Some("/home")
    );
    for path in ["/home", "/sessions"] {
        let held = browser.get(path).await;
        assert_eq!(held.location(), Some("/terms"), "{path}");
    }
    let terms = browser.get("/terms").await;
    assert_eq!(terms.status, StatusCode::OK);
    assert!(terms.body.contains("利用規約が新しくなりました"));
    let csrf = terms.csrf();
    let unticked = browser
        .post("/terms", &[("csrf", &csrf), ("version", terms_version())])
        .await;
    assert_eq!(unticked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unticked.body.contains("利用規約への同意が必要です。"));
    let old = browser
        .post(
            "/terms",
            &[
                ("csrf", &csrf),
                ("version", "2000-01-01"),
                ("accept", "yes"),
            ],
        )
        .await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(browser.get("/home").await.location(), Some("/terms"));
    let accepted = browser
        .post(
            "/terms",
            &[
                ("csrf", &csrf),
                ("version", terms_version()),
                ("accept", "yes"),
            ],
        )
        .await;
    assert_eq!(accepted.location(), Some("/home"));
    assert_eq!(browser.get("/home").await.status, StatusCode::OK);
    let again = browser.get("/terms").await;
    assert!(
        !again.body.contains("action=\"/terms\""),
        "no second acceptance form"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_language_switch_is_remembered_and_unknown_languages_are_ignored() {
    let app = spawn_app().await;
    let browser = app.patient_browser();
    let ja = browser.get("/login").await;
    assert!(ja.body.contains("<html lang=\"ja\">"));
    assert!(ja.body.contains("<h1>ログイン</h1>"));
    let en = browser.get("/login?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("<h1>Log in</h1>"));
    let cookie = en.set_cookie("__Host-enshin_lang").unwrap();
    assert!(
        cookie.starts_with("__Host-enshin_lang=en; Path=/; Secure"),
        "{cookie}"
    );
    assert!(
        browser
            .get("/register")
            .await
            .body
            .contains("Create an account")
    );
    assert!(
        browser
            .get("/register?lang=xx")
            .await
            .body
            .contains("Create an account")
    );
    let wrong = log_in(&browser, "nobody", "Wrong-pass-1!").await;
    assert!(wrong.body.contains("the login ID or the password is wrong"));
    assert!(
        browser
            .get("/login?lang=ja")
            .await
            .body
            .contains("<h1>ログイン</h1>")
    );
    assert!(browser.get("/register").await.body.contains("新規登録"));
    app.stop().await;
}

#[tokio::test]
async fn a_clinic_admin_manages_members_through_the_pages_and_others_cannot() {
    let app = spawn_app().await;
    let (a, b) = (app.add_clinic("A").await, app.add_clinic("B").await);
    let admin = app.add_member(&a, Role::Admin).await;
    let browser = app.member_browser(&admin).await;
    let page = browser.get("/members").await;
    assert!(page.body.contains(&admin.login_id));
    let csrf = page.csrf();

    let add = |login_id: &'static str, password: &'static str, role: &'static str| {
        let csrf = csrf.clone();
        let browser = &browser;
        async move {
            browser
                .post(
                    "/members",
                    &[
                        ("csrf", &csrf),
                        ("login_id", login_id),
                        ("name", "佐藤 一郎"),
                        ("role", role),
                        ("password", password),
                    ],
                )
                .await
        }
    };
    let weak = add("sato.ichiro", "password", "staff").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("パスワード: "), "{}", weak.body);
    assert!(
        weak.body.contains("value=\"sato.ichiro\""),
        "the form keeps the login ID"
    );
    let bad_role = add("sato.ichiro", "Kaede-77-river!", "root").await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_role.body.contains("役割: "));
    let added = add("sato.ichiro", "Kaede-77-river!", "staff").await;
    assert_eq!(added.location(), Some("/members?done=member_added"));
    assert!(
        browser
            .get("/members?done=member_added")
            .await
            .body
            .contains("職員を追加しました。")
    );
    let members = app.store().list_members(&a).await.unwrap();
    let sato = members
        .iter()
        .find(|m| m.login_id == "sato.ichiro")
        .unwrap();
    assert_eq!(sato.role, "staff");

    // Sato logs in on another PC; the admin changes the role, logs Sato off, disables Sato.
    let sato_member = TestMember {
        id: sato.id.clone(),
        clinic_id: a.clone(),
        login_id: "sato.ichiro".into(),
        password: "Kaede-77-river!".into(),
    };
    let sato_browser = app.member_browser(&sato_member).await;
    let path = |suffix: &str| format!("/members/{}/{suffix}", sato.id);
    let role = browser
        .post(&path("role"), &[("csrf", &csrf), ("role", "doctor")])
        .await;
    assert_eq!(role.location(), Some("/members?done=role_changed"));
    let ended = browser
        .post(&path("end-sessions"), &[("csrf", &csrf)])
        .await;
    assert_eq!(ended.location(), Some("/members?done=sessions_ended"));
    assert_eq!(sato_browser.get("/home").await.location(), Some("/login"));
    let disabled = browser.post(&path("disable"), &[("csrf", &csrf)]).await;
    assert_eq!(disabled.location(), Some("/members?done=member_disabled"));
    let members = app.store().list_members(&a).await.unwrap();
    let sato = members
        .iter()
        .find(|m| m.login_id == "sato.ichiro")
        .unwrap();
    assert_eq!((sato.role.as_str(), sato.disabled), ("doctor", true));
    let refused = log_in(&sato_browser, "sato.ichiro", "Kaede-77-river!").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    // The admin cannot lock themselves out.
    let own = browser
        .post(
            &format!("/members/{}/disable", admin.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(own.status, StatusCode::CONFLICT);
    assert!(own.body.contains("自分自身のアカウント"));

    // A doctor of A: 403; the admin of B: A's member answers like a missing one (ROLE-2).
    let doctor = app.add_member(&a, Role::Doctor).await;
    let doctor_browser = app.member_browser(&doctor).await;
    let forbidden = doctor_browser.get("/members").await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(forbidden.body.contains("権限がありません"));
    assert!(
        !doctor_browser
            .get("/home")
            .await
            .body
            .contains("href=\"/members\"")
    );
    let admin_b = app.add_member(&b, Role::Admin).await;
    let b_browser = app.member_browser(&admin_b).await;
    let b_csrf = b_browser.get("/members").await.csrf();
    let foreign = b_browser
        .post(
            &format!("/members/{}/disable", doctor.id),
            &[("csrf", &b_csrf)],
        )
        .await;
    let missing = b_browser
        .post(
            "/members/01900000-0000-7000-8000-000000000000/disable",
            &[("csrf", &b_csrf)],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(
        foreign.body, missing.body,
        "another clinic's id vs a missing id"
    );
    let members = app.store().list_members(&a).await.unwrap();
    assert!(!members.iter().find(|m| m.id == doctor.id).unwrap().disabled);
    let b_page = b_browser.get("/members").await;
    assert!(
        !b_page.body.contains(&admin.login_id),
        "B sees only its own members"
    );
    app.stop().await;
}
