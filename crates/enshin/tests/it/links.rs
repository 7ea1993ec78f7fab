//! Linking a patient account to a clinic by a printed invitation (FUNC-1 (a)): single use,
//! expiring, only for the clinic's own records; a patient may be linked to several clinics and
//! each clinic links only its own record.
// covers FUNC-1, ROLE-2

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// A clinic's PC with a logged-in staff member and one registry record.
pub(crate) async fn clinic(app: &TestApp, name: &str) -> (String, Client, String, String) {
    let id = app.add_clinic(name).await;
    let pc = app.clinic_client(&id).await;
    let staff = app.add_member(&id, Role::Staff).await;
    let (_, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": staff.login_id, "password": staff.password })),
    )
    .await;
    let token = session["token"].as_str().unwrap().to_owned();
    let (status, record) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/patients"),
        &token,
        Some(json!({
            "family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
            "given_name_kana": "ハナコ", "birth_date": "1948-03-09",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    (id, pc, token, record["id"].as_str().unwrap().to_owned())
}

pub(crate) async fn patient(app: &TestApp, login_id: &str) -> String {
    let client = app.client();
    let (status, _) = call(
        &client,
        Method::POST,
        app.patient_url("/api/v1/patients"),
        "",
        Some(json!({
            "login_id": login_id, "password": "Blue-Kettle-42", "email": "p@mail.test",
            "family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ",
            "given_name_kana": "ハナコ", "birth_date": "1948-03-09",
            "terms_version": enshin_server::patients::TERMS_VERSION,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, session) = call(
        &client,
        Method::POST,
        app.patient_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": login_id, "password": "Blue-Kettle-42" })),
    )
    .await;
    session["token"].as_str().unwrap().to_owned()
}

pub(crate) async fn invite(
    app: &TestApp,
    pc: &Client,
    token: &str,
    record: &str,
) -> (StatusCode, Value) {
    call(
        pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/patients/{record}/invitations")),
        token,
        None,
    )
    .await
}

pub(crate) async fn redeem(app: &TestApp, token: &str, code: &str) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::POST,
        app.patient_url("/api/v1/links"),
        token,
        Some(json!({ "code": code })),
    )
    .await
}

#[tokio::test]
async fn a_patient_links_to_two_clinics_by_their_invitations_each_used_once() {
    let app = spawn_app().await;
    let (a, pc_a, staff_a, record_a) = clinic(&app, "Aクリニック").await;
    let (_b, pc_b, staff_b, record_b) = clinic(&app, "Bクリニック").await;
    let hanako = patient(&app, "hanako.link").await;
    let taro = patient(&app, "taro.link").await;

    // Only the clinic's own records can be invited.
    assert_eq!(
        invite(&app, &pc_b, &staff_b, &record_a).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, inv) = invite(&app, &pc_a, &staff_a, &record_a).await;
    assert_eq!(status, StatusCode::CREATED, "{inv}");
    let code = inv["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 14, "ABCD-EFGH-JKMN");

    // Typed in lower case with spaces, as a patient might.
    let typed = code.to_lowercase().replace('-', " ");
    let (status, linked) = redeem(&app, &hanako, &typed).await;
    assert_eq!(status, StatusCode::CREATED, "{linked}");
    assert_eq!(linked["clinic_id"], a.as_str());
    assert_eq!(linked["clinic_name"], "Aクリニック");
    // Single use: nobody else, and not again.
    let (status, body) = redeem(&app, &taro, &code).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_invitation"))
    );

    // A second clinic's invitation links the same patient there too.
    let (_, inv_b) = invite(&app, &pc_b, &staff_b, &record_b).await;
    assert_eq!(
        redeem(&app, &hanako, inv_b["code"].as_str().unwrap())
            .await
            .0,
        StatusCode::CREATED
    );
    let (_, mine) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/links"),
        &hanako,
        None,
    )
    .await;
    let names: Vec<&str> = mine["clinics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clinic_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Aクリニック", "Bクリニック"]);
    let (_, theirs) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/links"),
        &taro,
        None,
    )
    .await;
    assert_eq!(theirs["clinics"], json!([]), "another patient sees nothing");

    // A new invitation for an already linked record is refused at redemption.
    let (_, again) = invite(&app, &pc_a, &staff_a, &record_a).await;
    let (status, body) = redeem(&app, &taro, again["code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_linked"))
    );
    app.stop().await;
}

#[tokio::test]
async fn invitations_expire_are_replaced_and_wrong_codes_are_throttled() {
    let app = spawn_app().await;
    let (_a, pc, staff, record) = clinic(&app, "A").await;
    let patient_token = patient(&app, "expiry.link").await;
    let (_, first) = invite(&app, &pc, &staff, &record).await;
    let (_, second) = invite(&app, &pc, &staff, &record).await;
    assert_eq!(
        redeem(&app, &patient_token, first["code"].as_str().unwrap())
            .await
            .0,
        StatusCode::BAD_REQUEST,
        "a newer invitation replaces the older"
    );
    sqlx::query("UPDATE invitations SET expires_at = 0")
        .execute(app.store().pool())
        .await
        .unwrap();
    assert_eq!(
        redeem(&app, &patient_token, second["code"].as_str().unwrap())
            .await
            .0,
        StatusCode::BAD_REQUEST,
        "expired"
    );
    // Garbage: a clear 400 each; five wrong codes in all lock this patient out for a while.
    for typed in ["", "<script>alert(1)</script>", &"A".repeat(10_000)] {
        let (status, body) = redeem(&app, &patient_token, typed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, body) = redeem(&app, &patient_token, "ACDE-FGHJ-KMNP").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Members cannot use the patient route, patients cannot invite.
    let (status, _) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/links"),
        &staff,
        Some(json!({ "code": "x" })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no such route on the clinic listener"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_clinic_prints_an_invitation_and_the_patient_links_through_the_pages() {
    let app = spawn_app().await;
    let clinic_id = app.add_clinic("ページ医院").await;
    let staff = app.add_member(&clinic_id, Role::Staff).await;
    let desk = app.member_browser(&staff).await;
    let list = desk.get("/patients").await;
    assert_eq!(list.status, StatusCode::OK);
    let csrf = list.csrf();
    let add = |kana: &'static str| {
        let (csrf, desk) = (csrf.clone(), &desk);
        async move {
            desk.post(
                "/patients",
                &[
                    ("csrf", &csrf),
                    ("family_name", "佐藤"),
                    ("given_name", "一郎"),
                    ("family_name_kana", kana),
                    ("given_name_kana", "イチロウ"),
                    ("birth_date", "1950-01-02"),
                ],
            )
            .await
        }
    };
    let bad = add("sato").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("value=\"佐藤\""),
        "the form keeps what was typed"
    );
    assert_eq!(
        add("サトウ").await.location(),
        Some("/patients?done=patient_added")
    );
    let list = desk.get("/patients").await;
    assert!(list.body.contains("佐藤 一郎") && list.body.contains("未連携"));
    let record = app
        .store()
        .list_clinic_patients(
            &app.state().keyring,
            enshin_store::registry::Reader::Member {
                clinic_id: &clinic_id,
            },
            &clinic_id,
            0,
        )
        .await
        .unwrap()
        .remove(0)
        .id;
    let printed = desk
        .post(
            &format!("/patients/{record}/invitation"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(printed.status, StatusCode::OK);
    assert!(printed.body.contains("<svg"), "a QR code");
    assert!(!printed.body.contains("<script"));
    let code = printed
        .body
        .split("<strong>")
        .nth(1)
        .and_then(|s| s.split("</strong>").next())
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 14, "{code}");

    // The patient scans the QR code: /link?code=… opens the form filled in.
    patient(&app, "page.link").await;
    let phone = app.patient_browser();
    phone
        .log_in(&[("login_id", "page.link"), ("password", "Blue-Kettle-42")])
        .await;
    let scanned = phone
        .get(&format!("/link?code={}", code.replace('-', "")))
        .await;
    assert_eq!(scanned.status, StatusCode::OK);
    assert!(
        scanned
            .body
            .contains(&format!("value=\"{}\"", code.replace('-', "")))
    );
    let csrf = scanned.csrf();
    let wrong = phone
        .post("/clinics", &[("csrf", &csrf), ("code", "ACDE-FGHJ-KMNP")])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("連携コードが違う"), "{}", wrong.body);
    let linked = phone
        .post("/clinics", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(linked.location(), Some("/clinics?done=clinic_linked"));
    assert!(phone.get("/clinics").await.body.contains("ページ医院"));
    assert!(desk.get("/patients").await.body.contains("連携済み"));
    app.stop().await;
}

#[tokio::test]
async fn a_patient_asks_to_join_by_the_clinic_code_and_a_member_approves_or_refuses() {
    let app = spawn_app().await;
    let (a, pc_a, staff_a, record_a) = clinic(&app, "Aクリニック").await;
    let (_b, pc_b, staff_b, _record_b) = clinic(&app, "B").await;
    let (status, code) = call(
        &pc_a,
        Method::GET,
        app.clinic_url("/api/v1/clinic-code"),
        &staff_a,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let code = code["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 9, "ABCD-EFGH");
    let (_, same) = call(
        &pc_a,
        Method::GET,
        app.clinic_url("/api/v1/clinic-code"),
        &staff_a,
        None,
    )
    .await;
    assert_eq!(same["code"], code.as_str(), "made once, then kept");

    let ask = |token: String, code: String| {
        let app = &app;
        async move {
            call(
                &app.client(),
                Method::POST,
                app.patient_url("/api/v1/join-requests"),
                &token,
                Some(json!({ "clinic_code": code })),
            )
            .await
        }
    };
    let hanako = patient(&app, "hanako.join").await;
    let (status, asked) = ask(hanako.clone(), code.to_lowercase()).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["state"], "pending");
    assert_eq!(asked["clinic_name"], "Aクリニック");
    assert_eq!(
        ask(hanako.clone(), code.clone()).await.0,
        StatusCode::CONFLICT,
        "one open request"
    );
    let (status, body) = ask(hanako.clone(), "ACDE-FGHJ".into()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("no_such_clinic"))
    );

    // The clinic's members see who asks; another clinic sees and decides nothing.
    let (_, open) = call(
        &pc_a,
        Method::GET,
        app.clinic_url("/api/v1/join-requests"),
        &staff_a,
        None,
    )
    .await;
    let requests = open["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["family_name"], "山田");
    assert_eq!(requests[0]["birth_date"], "1948-03-09");
    let request = requests[0]["id"].as_str().unwrap().to_owned();
    let (_, other) = call(
        &pc_b,
        Method::GET,
        app.clinic_url("/api/v1/join-requests"),
        &staff_b,
        None,
    )
    .await;
    assert_eq!(other["requests"], json!([]));
    let path = |verb: &str, id: &str| app.clinic_url(&format!("/api/v1/join-requests/{id}/{verb}"));
    assert_eq!(
        call(
            &pc_b,
            Method::POST,
            path("approve", &request),
            &staff_b,
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Approved without a record: a new registry record from the patient's own profile.
    let (status, approved) = call(
        &pc_a,
        Method::POST,
        path("approve", &request),
        &staff_a,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let (_, mine) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/links"),
        &hanako,
        None,
    )
    .await;
    assert_eq!(mine["clinics"][0]["clinic_id"], a.as_str());
    let (_, registry) = call(
        &pc_a,
        Method::GET,
        app.clinic_url("/api/v1/patients"),
        &staff_a,
        None,
    )
    .await;
    let linked: Vec<bool> = registry["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["linked"].as_bool().unwrap())
        .collect();
    assert_eq!(linked.iter().filter(|l| **l).count(), 1);
    assert_eq!(
        ask(hanako, code.clone()).await.0,
        StatusCode::CONFLICT,
        "linked already"
    );
    assert_eq!(
        call(
            &pc_a,
            Method::POST,
            path("approve", &request),
            &staff_a,
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND,
        "decided"
    );

    // Refused: the patient sees it.
    let taro = patient(&app, "taro.join").await;
    let (_, asked) = ask(taro.clone(), code.clone()).await;
    let refused_id = asked["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(
            &pc_a,
            Method::POST,
            path("refuse", &refused_id),
            &staff_a,
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, theirs) = call(
        &app.client(),
        Method::GET,
        app.patient_url("/api/v1/join-requests"),
        &taro,
        None,
    )
    .await;
    assert_eq!(theirs["requests"][0]["state"], "refused");

    // Approved onto an existing record of the clinic.
    let (_, again) = ask(taro.clone(), code).await;
    let (status, onto) = call(
        &pc_a,
        Method::POST,
        path("approve", again["id"].as_str().unwrap()),
        &staff_a,
        Some(json!({ "clinic_patient_id": record_a })),
    )
    .await;
    assert_eq!(
        (status, onto["clinic_patient_id"].as_str()),
        (StatusCode::OK, Some(record_a.as_str()))
    );
    app.stop().await;
}

#[tokio::test]
async fn the_join_request_pages_ask_by_code_and_approve() {
    let app = spawn_app().await;
    let clinic_id = app.add_clinic("申請医院").await;
    let staff = app.add_member(&clinic_id, Role::Staff).await;
    let desk = app.member_browser(&staff).await;
    let list = desk.get("/patients").await;
    let code = list
        .body
        .split("<strong>")
        .nth(1)
        .and_then(|s| s.split("</strong>").next())
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 9, "{code}");

    patient(&app, "page.join").await;
    let phone = app.patient_browser();
    phone
        .log_in(&[("login_id", "page.join"), ("password", "Blue-Kettle-42")])
        .await;
    let csrf = phone.get("/clinics").await.csrf();
    let unknown = phone
        .post(
            "/clinics/join",
            &[("csrf", &csrf), ("clinic_code", "ACDE-FGHJ")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown
            .body
            .contains("このコードのクリニックは見つかりません"),
        "{}",
        unknown.body
    );
    let asked = phone
        .post("/clinics/join", &[("csrf", &csrf), ("clinic_code", &code)])
        .await;
    assert_eq!(asked.location(), Some("/clinics?done=join_requested"));
    assert!(phone.get("/clinics").await.body.contains("承認待ち"));

    let list = desk.get("/patients").await;
    assert!(
        list.body.contains("連携の申請") && list.body.contains("山田 花子"),
        "{}",
        list.body
    );
    let request = list
        .body
        .split("/patients/requests/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_owned();
    let approved = desk
        .post(
            &format!("/patients/requests/{request}/approve"),
            &[("csrf", &list.csrf()), ("clinic_patient_id", "")],
        )
        .await;
    assert_eq!(approved.location(), Some("/patients?done=join_approved"));
    assert!(desk.get("/patients").await.body.contains("連携済み"));
    let mine = phone.get("/clinics").await;
    assert!(mine.body.contains("申請医院") && mine.body.contains("承認済み"));
    app.stop().await;
}
