//! Questionnaires (FUNC-3): doctors build them, members ask a patient or a menu asks at
//! booking, the patient saves drafts and submits once, answers are checked against the exact
//! version they answer, a changed questionnaire keeps old answers on their version, photos are
//! checked by their bytes, and another clinic or patient sees nothing.
// covers FUNC-3, ROLE-2, ROLE-3, DATA-3, LOG-1

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::audit::{audit_store, entries};
use crate::booking::{bookable, member, patient_get as get, patient_post as post};
use crate::links::{clinic, invite, patient, redeem};

pub(crate) fn definition() -> Value {
    json!({
        "staff_title": "初診問診(内科)",
        "patient_title": "はじめての方の問診票",
        "questions": [
            { "text": "今日はどうされましたか", "type": "text", "required": true },
            { "text": "熱はありますか", "type": "yes_no", "required": true },
            { "text": "症状", "type": "multiple", "choices": ["せき", "のどの痛み", "頭痛"] },
            { "text": "体重", "type": "number", "unit": "kg", "min": "1", "max": "300" },
            { "text": "患部の写真", "type": "photo" }
        ]
    })
}

/// A small JPEG: start, a JFIF header, a scan, end.
pub(crate) fn jpeg() -> Vec<u8> {
    [
        &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x07][..],
        b"JFIF\0",
        &[0xFF, 0xDA, 0x00, 0x04, 1, 2],
        &[7u8; 300],
        &[0xFF, 0xD9],
    ]
    .concat()
}

/// The same JPEG with an EXIF block saying where it was taken.
fn jpeg_with_gps() -> Vec<u8> {
    let exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0GPS 35.68N 139.76E";
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    app1.extend_from_slice(exif);
    let plain = jpeg();
    [&plain[..11], &app1, &plain[11..]].concat()
}

async fn clinic_call(
    app: &TestApp,
    pc: &Client,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(pc, method, app.clinic_url(path), token, body).await
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::PUT,
        app.patient_url(path),
        token,
        Some(body),
    )
    .await
}

/// A linked patient of a new clinic, its doctor and staff: (clinic, staff pc, staff token,
/// record, doctor pc, doctor token, patient token).
async fn setting(
    app: &TestApp,
    login: &str,
) -> (String, Client, String, String, Client, String, String) {
    let (a, staff_pc, staff, record) = clinic(app, "A").await;
    let (_, doctor_pc, doctor) = member(app, &a, Role::Doctor).await;
    let token = patient(app, login).await;
    let (_, inv) = invite(app, &staff_pc, &staff, &record).await;
    let (status, _) = redeem(app, &token, inv["code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    (a, staff_pc, staff, record, doctor_pc, doctor, token)
}

#[tokio::test]
async fn a_patient_answers_in_drafts_submits_once_and_the_clinic_reads_it() {
    let app = spawn_app().await;
    let (_, staff_pc, staff, record, doctor_pc, doctor, token) = setting(&app, "q.answer").await;

    // Building is for doctors and admins; the definition is checked.
    let (status, _) = clinic_call(
        &app,
        &staff_pc,
        &staff,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": definition() })),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut bad = definition();
    bad["questions"][2]["choices"] = json!(["せき"]);
    let (status, answer) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": bad })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("question 3:"),
        "{answer}"
    );
    for hostile in [
        json!({ "definition": { "staff_title": "a", "patient_title": "b", "questions": [{ "text": "x", "type": "script" }] } }),
        json!({ "definition": "<script>" }),
        json!({}),
    ] {
        let (status, _) = clinic_call(
            &app,
            &doctor_pc,
            &doctor,
            Method::POST,
            "/api/v1/questionnaires",
            Some(hostile),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, q) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": definition() })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!(q["version"], 1);
    assert_eq!(q["definition"]["questions"][1]["id"], "q2");
    let qid = q["id"].as_str().unwrap().to_owned();

    // Staff ask the patient.
    let (status, asked) = clinic_call(
        &app,
        &staff_pc,
        &staff,
        Method::POST,
        &format!("/api/v1/patients/{record}/questionnaires"),
        Some(json!({ "questionnaire_id": qid })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    let rid = asked["id"].as_str().unwrap().to_owned();

    let (_, mine) = get(&app, &token, "/api/v1/questionnaire-requests").await;
    assert_eq!(mine["questionnaires"][0]["title"], "はじめての方の問診票");
    assert_eq!(mine["questionnaires"][0]["state"], "requested");
    assert_eq!(mine["questionnaires"][0]["clinic_name"], "A");
    let path = format!("/api/v1/questionnaire-requests/{rid}");
    let (_, shown) = get(&app, &token, &path).await;
    assert_eq!(shown["questions"].as_array().unwrap().len(), 5);
    assert!(shown.get("staff_title").is_none() && shown["title"] == "はじめての方の問診票");

    // A photo, checked by its bytes.
    let photos = app.patient_url(&format!("{path}/photos"));
    let send = |bytes: Vec<u8>, kind: &'static str| {
        app.client()
            .post(photos.clone())
            .bearer_auth(&token)
            .header("content-type", kind)
            .body(bytes)
            .send()
    };
    let refused = send(b"<svg onload=alert(1)></svg>".to_vec(), "image/jpeg")
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let too_big = send(vec![0xFF; 6 * 1024 * 1024], "image/jpeg")
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let added = send(jpeg_with_gps(), "application/octet-stream")
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let photo = added.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A draft may be incomplete; answers are still checked.
    let (status, draft) = put(
        &app,
        &token,
        &path,
        json!({ "version": 1, "answers": { "q1": "のどが痛い", "q3": ["頭痛", "せき"] } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["answers"]["q3"], json!(["せき", "頭痛"]));
    for (answers, says) in [
        (json!({ "q2": "yes" }), "q2: not an answer of this kind"),
        (json!({ "q3": ["めまい"] }), "q3: not one of the choices"),
        (json!({ "q4": "400" }), "q4: a number from 1 to 300"),
        (
            json!({ "q1": "x".repeat(401) }),
            "q1: at most 400 characters",
        ),
        (
            json!({ "q5": "someone-elses-photo" }),
            "q5: not an answer of this kind",
        ),
        (json!({ "q9": "?" }), "q9: not a question"),
    ] {
        let (status, answer) = put(
            &app,
            &token,
            &path,
            json!({ "version": 1, "answers": answers }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(says),
            "{answer}"
        );
    }
    // The clinic sees no draft.
    let (_, seen) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::GET,
        &format!("/api/v1/patients/{record}/questionnaires"),
        None,
    )
    .await;
    assert_eq!(seen["questionnaires"][0]["state"], "draft");
    assert_eq!(seen["questionnaires"][0]["answers"], json!([]));

    // Submitting needs every required answer; then it is final.
    let (status, answer) = post(
        &app,
        &token,
        &format!("{path}/submit"),
        json!({ "version": 1, "answers": { "q1": "のどが痛い" } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("q2: an answer is required")
    );
    let full = json!({ "version": 1, "answers": { "q1": "のどが痛い", "q2": true, "q3": ["せき"], "q4": "６２．５", "q5": photo } });
    let (status, done) = post(&app, &token, &format!("{path}/submit"), full.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (status, again) = post(&app, &token, &format!("{path}/submit"), full).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"]["code"], "already_submitted");
    let (status, _) = put(
        &app,
        &token,
        &path,
        json!({ "version": 1, "answers": { "q1": "changed" } }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let late = send(jpeg(), "image/jpeg").await.unwrap();
    assert_eq!(late.status(), StatusCode::CONFLICT);

    // The clinic reads the submitted answers with their author and time, and the photo.
    let (_, seen) = clinic_call(
        &app,
        &staff_pc,
        &staff,
        Method::GET,
        &format!("/api/v1/patients/{record}/questionnaires"),
        None,
    )
    .await;
    let r = &seen["questionnaires"][0];
    assert_eq!(r["state"], "submitted");
    assert!(r["submitted_at"].is_string() && r["submitted_by"].is_string());
    assert_eq!(r["answers"][1]["answer"], true);
    assert_eq!(r["answers"][3]["answer"], "62.5");
    let image = staff_pc
        .get(app.clinic_url(&format!(
            "/api/v1/questionnaire-requests/{rid}/photos/{photo}"
        )))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(image.headers()["x-content-type-options"], "nosniff");
    // Where the photo was taken did not survive the upload.
    assert_eq!(image.bytes().await.unwrap().to_vec(), jpeg());

    // The answers and the photo are sealed: the database never holds them in the clear.
    let store = app.store();
    let raw: Vec<Vec<u8>> = sqlx::query_scalar("SELECT answers FROM questionnaire_requests")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&raw[0]).contains("のどが痛い"));
    let store_audit = audit_store(&app).await;
    assert!(entries(&store_audit).await.iter().any(|s| s.entry.action
        == "GET /api/v1/questionnaire-requests/{id}/photos/{photo}"
        && s.entry.subjects == vec![record.clone()]));
    app.stop().await;
}

#[tokio::test]
async fn a_changed_questionnaire_is_a_new_version_and_old_answers_keep_theirs() {
    let app = spawn_app().await;
    let (_, staff_pc, staff, record, doctor_pc, doctor, token) = setting(&app, "q.versions").await;
    let (_, q) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": definition() })),
    )
    .await;
    let qid = q["id"].as_str().unwrap().to_owned();
    // Unanswered: a change stays version 1.
    let mut changed = definition();
    changed["questions"][0]["text"] = json!("どうされましたか(詳しく)");
    let (status, v) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::PUT,
        &format!("/api/v1/questionnaires/{qid}"),
        Some(json!({ "definition": changed })),
    )
    .await;
    assert_eq!((status, v["version"].clone()), (StatusCode::OK, json!(1)));

    let ask_path = format!("/api/v1/patients/{record}/questionnaires");
    let ask = || {
        clinic_call(
            &app,
            &staff_pc,
            &staff,
            Method::POST,
            &ask_path,
            Some(json!({ "questionnaire_id": qid })),
        )
    };
    let (_, first) = ask().await;
    let first = first["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{first}/submit"),
        json!({ "version": 1, "answers": { "q1": "頭が痛い", "q2": false } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Answered: the next change is version 2, with a new required question.
    let mut v2 = changed.clone();
    v2["questions"].as_array_mut().unwrap().push(json!({ "id": "allergy", "text": "アレルギーはありますか", "type": "yes_no", "required": true }));
    let (_, v) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::PUT,
        &format!("/api/v1/questionnaires/{qid}"),
        Some(json!({ "definition": v2 })),
    )
    .await;
    assert_eq!(v["version"], 2);
    let (_, old) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::GET,
        &format!("/api/v1/questionnaires/{qid}?version=1"),
        None,
    )
    .await;
    assert_eq!(old["definition"]["questions"].as_array().unwrap().len(), 5);
    let (status, _) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::GET,
        &format!("/api/v1/questionnaires/{qid}?version=3"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, second) = ask().await;
    let second = second["id"].as_str().unwrap().to_owned();
    let (_, shown) = get(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{second}"),
    )
    .await;
    assert_eq!(shown["version"], 2);
    let (status, answer) = post(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{second}/submit"),
        json!({ "version": 2, "answers": { "q1": "せき", "q2": true } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("allergy:")
    );
    let (status, _) = post(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{second}/submit"),
        json!({ "version": 2, "answers": { "q1": "せき", "q2": true, "allergy": false } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // The first answers still read against version 1, unchanged.
    let (_, seen) = clinic_call(
        &app,
        &staff_pc,
        &staff,
        Method::GET,
        &format!("/api/v1/patients/{record}/questionnaires"),
        None,
    )
    .await;
    let list = seen["questionnaires"].as_array().unwrap();
    let old = list.iter().find(|r| r["id"] == first.as_str()).unwrap();
    assert_eq!(old["version"], 1);
    assert_eq!(old["answers"].as_array().unwrap().len(), 5);
    assert_eq!(old["answers"][0]["answer"], "頭が痛い");
    let new = list.iter().find(|r| r["id"] == second.as_str()).unwrap();
    assert_eq!(new["version"], 2);
    assert_eq!(new["answers"][5]["question"], "allergy");
    app.stop().await;
}

#[tokio::test]
async fn a_menu_asks_at_booking_and_another_clinic_or_patient_sees_nothing() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record, doctor_pc, doctor, token) = setting(&app, "q.menu").await;
    let (admin_pc, admin, doctor_id, menu) = bookable(&app, &a).await;
    let (_, q) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": definition() })),
    )
    .await;
    let qid = q["id"].as_str().unwrap().to_owned();
    let (status, _) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::PUT,
        &format!("/api/v1/menus/{menu}/questionnaire"),
        Some(json!({ "questionnaire_id": qid })),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the booking setup is the admin's"
    );
    let (status, _) = clinic_call(
        &app,
        &admin_pc,
        &admin,
        Method::PUT,
        &format!("/api/v1/menus/{menu}/questionnaire"),
        Some(json!({ "questionnaire_id": "no-such" })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = clinic_call(
        &app,
        &admin_pc,
        &admin,
        Method::PUT,
        &format!("/api/v1/menus/{menu}/questionnaire"),
        Some(json!({ "questionnaire_id": qid })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let tomorrow = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .date()
        .tomorrow()
        .unwrap();
    let (status, booked) = clinic_call(&app, &staff_pc, &staff, Method::POST, "/api/v1/appointments", Some(json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor_id, "start": format!("{tomorrow}T10:00:00+09:00") }))).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let visit = booked["id"].as_str().unwrap().to_owned();
    let (_, mine) = get(&app, &token, "/api/v1/questionnaire-requests").await;
    assert_eq!(mine["questionnaires"][0]["appointment_id"], visit.as_str());
    let rid = mine["questionnaires"][0]["id"].as_str().unwrap().to_owned();
    post(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{rid}/submit"),
        json!({ "version": 1, "answers": { "q1": "腹痛", "q2": false } }),
    )
    .await;
    let (status, on_visit) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::GET,
        &format!("/api/v1/appointments/{visit}/questionnaires"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        on_visit["questionnaires"][0]["answers"][0]["answer"],
        "腹痛"
    );

    // Another clinic: everything answers like a missing id; another patient sees nothing.
    let (_, b_pc, b_staff, _) = clinic(&app, "B").await;
    for path in [
        format!("/api/v1/patients/{record}/questionnaires"),
        format!("/api/v1/appointments/{visit}/questionnaires"),
        format!("/api/v1/questionnaires/{qid}"),
    ] {
        let (status, _) = clinic_call(&app, &b_pc, &b_staff, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = clinic_call(
        &app,
        &b_pc,
        &b_staff,
        Method::POST,
        &format!("/api/v1/patients/{record}/questionnaires"),
        Some(json!({ "questionnaire_id": qid })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, b_list) = clinic_call(
        &app,
        &b_pc,
        &b_staff,
        Method::GET,
        "/api/v1/questionnaires",
        None,
    )
    .await;
    assert_eq!(b_list["questionnaires"], json!([]));
    let other = patient(&app, "q.other").await;
    let (_, theirs) = get(&app, &other, "/api/v1/questionnaire-requests").await;
    assert_eq!(theirs["questionnaires"], json!([]));
    for path in [format!("/api/v1/questionnaire-requests/{rid}")] {
        let (status, _) = get(&app, &other, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = put(
        &app,
        &other,
        &format!("/api/v1/questionnaire-requests/{rid}"),
        json!({ "version": 1, "answers": {} }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// A multipart body of text fields and one file field.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "enshin-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_answer_form_refuses_hostile_posts_and_the_admin_sets_a_menus_questionnaire() {
    use crate::pages::{PASSWORD, log_in, register};
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (_, doctor_pc, doctor) = member(&app, &a, Role::Doctor).await;
    let browser = app.patient_browser();
    register(&browser, "q.pages").await;
    log_in(&browser, "q.pages", PASSWORD).await;
    let (_, session) = call(
        &app.client(),
        Method::POST,
        app.patient_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": "q.pages", "password": PASSWORD })),
    )
    .await;
    let token = session["token"].as_str().unwrap().to_owned();
    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    redeem(&app, &token, inv["code"].as_str().unwrap()).await;
    let (_, q) = clinic_call(
        &app,
        &doctor_pc,
        &doctor,
        Method::POST,
        "/api/v1/questionnaires",
        Some(json!({ "definition": definition() })),
    )
    .await;
    let qid = q["id"].as_str().unwrap().to_owned();
    let (_, asked) = clinic_call(
        &app,
        &staff_pc,
        &staff,
        Method::POST,
        &format!("/api/v1/patients/{record}/questionnaires"),
        Some(json!({ "questionnaire_id": qid })),
    )
    .await;
    let rid = asked["id"].as_str().unwrap().to_owned();
    let path = format!("/questionnaires/{rid}");

    let form = browser.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("はじめての方の問診票") && !form.body.contains("初診問診(内科)"));
    let csrf = form.csrf();

    // Not multipart, no token, a forged photo: each a clear refusal, nothing saved.
    let plain = browser
        .post(&path, &[("csrf", csrf.as_str()), ("q1", "x")])
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert!(plain.body.contains("class=\"error\""));
    let (kind, body) = multipart(&[("version", "1"), ("action", "draft"), ("q1", "x")], None);
    let no_token = browser.post_raw(&path, &kind, body).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("action", "draft"),
            ("q1", "のど"),
        ],
        Some(("q5", b"<html><script>alert(1)</script>")),
    );
    let forged = browser.post_raw(&path, &kind, body).await;
    assert_eq!(forged.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(forged.body.contains("JPEG か PNG"), "{}", forged.body);
    let (kind, mut body) = multipart(&[("csrf", &csrf)], None);
    body.truncate(body.len() / 2);
    let cut = browser.post_raw(&path, &kind, body).await;
    assert!(cut.status.is_client_error(), "{}", cut.status);
    let (kind, body) = multipart(
        &[("csrf", &csrf), ("q1", &"x".repeat(16 * 1024 * 1024))],
        None,
    );
    let huge = browser.post_raw(&path, &kind, body).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, shown) = get(
        &app,
        &token,
        &format!("/api/v1/questionnaire-requests/{rid}"),
    )
    .await;
    assert_eq!(shown["state"], "requested");

    // A good draft with a photo, then a number out of range is shown with the question's text.
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("action", "draft"),
            ("q1", "のどが痛い"),
            ("q2", "no"),
        ],
        Some(("q5", &jpeg())),
    );
    let saved = browser.post_raw(&path, &kind, body).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let again = browser.get(&path).await;
    assert!(again.body.contains("写真を受け取りました") && again.body.contains("のどが痛い"));
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("version", "1"),
            ("action", "submit"),
            ("q1", "のど"),
            ("q2", "yes"),
            ("q4", "500"),
        ],
        None,
    );
    let refused = browser.post_raw(&path, &kind, body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("体重: 次の範囲の数値で入力してください(小数は2桁まで): 1–300"),
        "{}",
        refused.body
    );

    // Another patient's browser gets a missing page.
    let stranger = app.patient_browser();
    register(&stranger, "q.stranger").await;
    log_in(&stranger, "q.stranger", PASSWORD).await;
    assert_eq!(stranger.get(&path).await.status, StatusCode::NOT_FOUND);

    // The admin's booking setup chooses the questionnaire a menu asks for.
    let (_, _, _, menu) = bookable(&app, &a).await;
    let admin = app.add_member(&a, Role::Admin).await;
    let desk = app.member_browser(&admin).await;
    let setup = desk.get("/schedule").await;
    assert!(setup.body.contains("初診問診(内科)"));
    let csrf = setup.csrf();
    let set = desk
        .post(
            &format!("/schedule/menus/{menu}/questionnaire"),
            &[("csrf", csrf.as_str()), ("questionnaire_id", qid.as_str())],
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let asks = app.store().menu_questionnaires(&a).await.unwrap();
    assert_eq!(asks, vec![(menu, qid)]);
    app.stop().await;
}
