//! Booking (FUNC-2): menus and doctors' hours set by the admin, slots in the clinic's time zone,
//! patients booking, moving and cancelling their own visits under the clinic's rules, members
//! moving visits through their states, the worklist, and one slot never taken twice, also by 50
//! concurrent requests on two instances.
// covers FUNC-2, ROLE-2, LOG-1

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::links::{clinic, invite, patient, redeem};

/// A member logged in on the clinic's PC.
pub(crate) async fn member(app: &TestApp, clinic_id: &str, role: Role) -> (String, Client, String) {
    let m = app.add_member(clinic_id, role).await;
    let pc = app.clinic_client(clinic_id).await;
    let (status, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": m.login_id, "password": m.password })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    (m.id, pc, session["token"].as_str().unwrap().to_owned())
}

/// A clinic ready to book: its admin, a doctor working every day 09:00–17:00 and a 15-minute
/// online menu. Returns (clinic, admin PC, admin token, doctor id, menu id).
pub(crate) async fn bookable(app: &TestApp, clinic_id: &str) -> (Client, String, String, String) {
    let (_, pc, admin) = member(app, clinic_id, Role::Admin).await;
    let doctor = app.add_member(clinic_id, Role::Doctor).await;
    let week: Vec<Value> = (1..=7)
        .map(|d| json!({ "weekday": d, "start": "09:00", "end": "17:00" }))
        .collect();
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/doctors/{}/hours", doctor.id)),
        &admin,
        Some(json!({ "hours": week })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, menu) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/menus"),
        &admin,
        Some(json!({ "name": "再診(オンライン)", "mode": "online", "visit": "repeat", "minutes": 15, "fee_yen": 1500 })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    (
        pc,
        admin,
        doctor.id,
        menu["id"].as_str().unwrap().to_owned(),
    )
}

fn tomorrow_in_tokyo() -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    jiff::Timestamp::now()
        .to_zoned(tz)
        .date()
        .tomorrow()
        .unwrap()
        .to_string()
}

/// The clinic's worklist of tomorrow, as a member sees it.
async fn tomorrows_list(app: &TestApp, pc: &Client, token: &str) -> (StatusCode, Value) {
    call(
        pc,
        Method::GET,
        app.clinic_url(&format!(
            "/api/v1/appointments?date={}",
            tomorrow_in_tokyo()
        )),
        token,
        None,
    )
    .await
}

pub(crate) async fn patient_get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::GET,
        app.patient_url(path),
        token,
        None,
    )
    .await
}

pub(crate) async fn patient_post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    call(
        &app.client(),
        Method::POST,
        app.patient_url(path),
        token,
        Some(body),
    )
    .await
}

fn starts(slots: &Value) -> Vec<String> {
    slots["doctors"][0]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_linked_patient_books_moves_and_cancels_and_the_clinic_confirms_and_sees_it() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (admin_pc, admin, doctor, menu) = bookable(&app, &a).await;
    // Requests (the default), changeable until an hour before.
    let (status, _) = call(
        &admin_pc,
        Method::PUT,
        app.clinic_url("/api/v1/booking-settings"),
        &admin,
        Some(json!({ "self_booking": false, "cancel_deadline_minutes": 60 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = patient(&app, "booker").await;
    let slots_path = format!(
        "/api/v1/clinics/{a}/slots?menu_id={menu}&from={}&days=1",
        tomorrow_in_tokyo()
    );

    // Not linked yet: the clinic answers like a missing one.
    let (status, before) = patient_get(&app, &token, &slots_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, missing) = patient_get(
        &app,
        &token,
        &format!("/api/v1/clinics/no-such-clinic/slots?menu_id={menu}"),
    )
    .await;
    assert_eq!((status, &missing), (StatusCode::NOT_FOUND, &before));

    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    let (status, _) = redeem(&app, &token, inv["code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, offer) = patient_get(&app, &token, &format!("/api/v1/clinics/{a}/offer")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(offer["menus"][0]["id"], menu.as_str());
    assert_eq!(offer["doctors"][0]["id"], doctor.as_str());

    let (status, slots) = patient_get(&app, &token, &slots_path).await;
    assert_eq!(status, StatusCode::OK, "{slots}");
    let free = starts(&slots);
    assert_eq!(free.len(), 32, "09:00–17:00 in 15 minutes");
    assert!(free[0].ends_with("T09:00:00+09:00"), "{}", free[0]);

    // The clinic's default: a patient's booking is a request.
    let (status, booked) = patient_post(
        &app,
        &token,
        "/api/v1/appointments",
        json!({ "clinic_id": a, "menu_id": menu, "doctor_id": doctor, "start": free[0] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["state"], "requested");
    assert!(booked.get("patient").is_none());
    let id = booked["id"].as_str().unwrap().to_owned();

    // The slot is gone from the list, and cannot be booked again.
    let (_, slots) = patient_get(&app, &token, &slots_path).await;
    assert!(!starts(&slots).contains(&free[0]));
    let (status, again) = patient_post(
        &app,
        &token,
        "/api/v1/appointments",
        json!({ "clinic_id": a, "menu_id": menu, "doctor_id": doctor, "start": free[0] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"]["code"], "slot_not_offered");

    // Staff see it on the worklist with the patient's name, and confirm it.
    let (status, list) = tomorrows_list(&app, &staff_pc, &staff).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["appointments"][0]["id"], id.as_str());
    assert_eq!(list["appointments"][0]["patient"]["kana"], "ヤマダ ハナコ");
    // That read of the patient is in the access log, by record id.
    let store = crate::audit::audit_store(&app).await;
    let read = crate::audit::entries(&store)
        .await
        .into_iter()
        .rfind(|s| s.entry.action == "GET /api/v1/appointments" && s.entry.listener == "clinic")
        .unwrap();
    assert_eq!(read.entry.subjects, vec![record.clone()]);
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/appointments/{id}/state")),
        &staff,
        Some(json!({ "state": "completed" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "requested cannot skip ahead");
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/appointments/{id}/state")),
        &staff,
        Some(json!({ "state": "confirmed" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The patient moves it to 10:00, then cancels it.
    let (status, moved) = patient_post(
        &app,
        &token,
        &format!("/api/v1/appointments/{id}/reschedule"),
        json!({ "start": free[4] }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{moved}");
    let (_, mine) = patient_get(&app, &token, "/api/v1/appointments").await;
    assert_eq!(mine["appointments"][0]["start"], free[4].as_str());
    assert_eq!(mine["appointments"][0]["state"], "confirmed");
    assert_eq!(mine["appointments"][0]["clinic_name"], "A");
    let (_, slots) = patient_get(&app, &token, &slots_path).await;
    assert!(
        starts(&slots).contains(&free[0]),
        "the old slot is free again"
    );
    let (status, _) = patient_post(
        &app,
        &token,
        &format!("/api/v1/appointments/{id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = patient_get(&app, &token, "/api/v1/appointments").await;
    assert_eq!(mine["appointments"][0]["state"], "cancelled");

    // A clinic that lets patients book directly, with a week's deadline: confirmed at once, and
    // the patient can no longer change it.
    let (status, _) = call(
        &admin_pc,
        Method::PUT,
        app.clinic_url("/api/v1/booking-settings"),
        &admin,
        Some(json!({ "self_booking": true, "cancel_deadline_minutes": 10080 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, direct) = patient_post(
        &app,
        &token,
        "/api/v1/appointments",
        json!({ "clinic_id": a, "menu_id": menu, "doctor_id": doctor, "start": free[1] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(direct["state"], "confirmed");
    let late = direct["id"].as_str().unwrap();
    let (status, refused) = patient_post(
        &app,
        &token,
        &format!("/api/v1/appointments/{late}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(refused["error"]["code"], "too_late_to_change");
    // Five visits waiting is the most one patient may hold at a clinic.
    for start in &free[2..6] {
        let (status, _) = patient_post(
            &app,
            &token,
            "/api/v1/appointments",
            json!({ "clinic_id": a, "menu_id": menu, "doctor_id": doctor, "start": start }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, sixth) = patient_post(
        &app,
        &token,
        "/api/v1/appointments",
        json!({ "clinic_id": a, "menu_id": menu, "doctor_id": doctor, "start": free[7] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(sixth["error"]["code"], "too_many_visits");
    // The clinic still can.
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/appointments/{late}/state")),
        &staff,
        Some(json!({ "state": "cancelled" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn another_clinic_and_another_patient_can_neither_see_nor_touch_a_visit() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (_, _, doctor, menu) = bookable(&app, &a).await;
    let b = app.add_clinic("B").await;
    let (_, b_pc, b_admin) = member(&app, &b, Role::Admin).await;
    let (status, booked) = call(
        &staff_pc,
        Method::POST,
        app.clinic_url("/api/v1/appointments"),
        &staff,
        Some(
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor,
            "start": format!("{}T10:00:00+09:00", tomorrow_in_tokyo()) }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(
        booked["state"], "confirmed",
        "members book confirmed visits"
    );
    let id = booked["id"].as_str().unwrap();
    let missing = "01900000-0000-7000-8000-000000000000";

    // B's admin: A's appointment, doctor, menu and patient answer like missing ones.
    for (method, path, body) in [
        (Method::GET, "/api/v1/appointments/{}".to_owned(), None),
        (
            Method::POST,
            "/api/v1/appointments/{}/state".to_owned(),
            Some(json!({ "state": "cancelled" })),
        ),
        (
            Method::POST,
            "/api/v1/appointments/{}/reschedule".to_owned(),
            Some(json!({ "start": format!("{}T11:00:00+09:00", tomorrow_in_tokyo()) })),
        ),
    ] {
        let (s1, b1) = call(
            &b_pc,
            method.clone(),
            app.clinic_url(&path.replace("{}", id)),
            &b_admin,
            body.clone(),
        )
        .await;
        let (s2, b2) = call(
            &b_pc,
            method,
            app.clinic_url(&path.replace("{}", missing)),
            &b_admin,
            body,
        )
        .await;
        assert_eq!((s1, &b1), (s2, &b2), "{path}");
        assert_eq!(s1, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = call(
        &b_pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/doctors/{doctor}/hours")),
        &b_admin,
        Some(json!({ "hours": [] })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &b_pc,
        Method::POST,
        app.clinic_url("/api/v1/appointments"),
        &b_admin,
        Some(
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor,
            "start": format!("{}T11:00:00+09:00", tomorrow_in_tokyo()) }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "A's patient is not B's");
    let (_, b_list) = tomorrows_list(&app, &b_pc, &b_admin).await;
    assert_eq!(b_list["appointments"], json!([]));

    // A patient linked to A but not the visit's: cannot cancel or move it.
    let (_, staff_pc2, staff2, other_record) = clinic(&app, "C").await;
    let other = patient(&app, "someone-else").await;
    let (_, inv) = invite(&app, &staff_pc2, &staff2, &other_record).await;
    redeem(&app, &other, inv["code"].as_str().unwrap()).await;
    let (s1, b1) = patient_post(
        &app,
        &other,
        &format!("/api/v1/appointments/{id}/cancel"),
        json!({}),
    )
    .await;
    let (s2, b2) = patient_post(
        &app,
        &other,
        &format!("/api/v1/appointments/{missing}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!((s1, &b1), (s2, &b2));
    assert_eq!(s1, StatusCode::NOT_FOUND);
    let (_, mine) = patient_get(&app, &other, "/api/v1/appointments").await;
    assert_eq!(mine["appointments"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (admin_pc, admin, doctor, menu) = bookable(&app, &a).await;
    let long = "x".repeat(5000);
    let cases: Vec<(Method, String, Value, StatusCode, &str)> = vec![
        (
            Method::POST,
            "/api/v1/menus".into(),
            json!({ "name": "", "mode": "online", "visit": "first", "minutes": 15, "fee_yen": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            Method::POST,
            "/api/v1/menus".into(),
            json!({ "name": long, "mode": "online", "visit": "first", "minutes": 15, "fee_yen": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            Method::POST,
            "/api/v1/menus".into(),
            json!({ "name": "x", "mode": "video", "visit": "first", "minutes": 15, "fee_yen": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mode",
        ),
        (
            Method::POST,
            "/api/v1/menus".into(),
            json!({ "name": "x", "mode": "online", "visit": "first", "minutes": 1000, "fee_yen": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "minutes",
        ),
        (
            Method::POST,
            "/api/v1/menus".into(),
            json!({ "name": "x", "mode": "online", "visit": "first", "minutes": 15, "fee_yen": -5 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "fee_yen",
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{doctor}/hours"),
            json!({ "hours": [{ "weekday": 9, "start": "09:00", "end": "10:00" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "weekday",
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{doctor}/hours"),
            json!({ "hours": [{ "weekday": 1, "start": "25:00", "end": "26:00" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "start",
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{doctor}/hours"),
            json!({ "hours": [{ "weekday": 1, "start": "12:00", "end": "09:00" }] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "hours",
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{doctor}/days/2026-02-30"),
            json!({ "hours": [] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "date",
        ),
        (
            Method::PUT,
            "/api/v1/booking-settings".into(),
            json!({ "self_booking": true, "cancel_deadline_minutes": -1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            Method::PUT,
            "/api/v1/booking-settings".into(),
            json!({ "time_zone": "<script>", "self_booking": true, "cancel_deadline_minutes": 0 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor, "start": "tomorrow at ten" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "start",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "patient_id": record, "menu_id": "nope", "doctor_id": doctor, "start": "2030-01-01T10:00:00+09:00" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "menu_id",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor, "start": "2020-01-01T10:00:00+09:00" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor, "start": format!("{}T10:07:00+09:00", tomorrow_in_tokyo()) }),
            StatusCode::CONFLICT,
            "",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "menu_id": menu, "doctor_id": doctor, "start": "2030-01-01T10:00:00+09:00" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "patient_id",
        ),
        (
            Method::POST,
            "/api/v1/appointments".into(),
            json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor, "start": "2030-01-01T10:00:00+09:00", "extra": 1 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            Method::POST,
            "/api/v1/appointments/x/state".into(),
            json!({ "state": "teleported" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "state",
        ),
        (
            Method::GET,
            format!("/api/v1/slots?menu_id={menu}&days=1000"),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
            "days",
        ),
        (
            Method::GET,
            format!("/api/v1/slots?menu_id={menu}&from=%00%27"),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
            "from",
        ),
        (
            Method::GET,
            "/api/v1/appointments?date=2026-13-01".into(),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
            "date",
        ),
    ];
    for (method, path, body, want, field) in cases {
        let (pc, token) = if path.contains("menus")
            || path.contains("hours")
            || path.contains("days/")
            || path.contains("settings")
        {
            (&admin_pc, &admin)
        } else {
            (&staff_pc, &staff)
        };
        let body = (!body.is_null()).then_some(body);
        let (status, answer) = call(pc, method, app.clinic_url(&path), token, body).await;
        assert_eq!(status, want, "{path}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}"
        );
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{path}: {answer}");
        }
    }
    // Not JSON, and too large.
    for body in ["{", &"[".repeat(70_000)] {
        let response = staff_pc
            .post(app.clinic_url("/api/v1/appointments"))
            .bearer_auth(&staff)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    // Nothing was booked by any of it.
    let (_, list) = tomorrows_list(&app, &staff_pc, &staff).await;
    assert_eq!(list["appointments"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn slots_follow_the_clinics_time_zone_across_a_daylight_saving_change() {
    let app = spawn_app().await;
    let (a, _, _, _) = clinic(&app, "A").await;
    let (pc, admin, doctor, menu) = bookable(&app, &a).await;
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url("/api/v1/booking-settings"),
        &admin,
        Some(json!({ "time_zone": "America/New_York", "self_booking": true, "cancel_deadline_minutes": 0 })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // 2027-03-14: New York springs forward at 02:00; that day the doctor works 01:00–04:00.
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/doctors/{doctor}/days/2027-03-14")),
        &admin,
        Some(json!({ "hours": [{ "start": "01:00", "end": "04:00" }] })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, slots) = call(
        &pc,
        Method::GET,
        app.clinic_url(&format!(
            "/api/v1/slots?menu_id={menu}&from=2027-03-14&days=1"
        )),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{slots}");
    let got = starts(&slots);
    assert_eq!(got.first().unwrap(), "2027-03-14T01:00:00-05:00");
    assert!(
        got.iter().all(|s| !s.contains("T02:")),
        "no slot in the hour that does not exist: {got:?}"
    );
    assert!(
        got.contains(&"2027-03-14T03:00:00-04:00".to_owned()),
        "{got:?}"
    );
    assert_eq!(got.len(), 8, "01:00–02:00 EST and 03:00–04:00 EDT: {got:?}");
    // The next day is a normal weekday again: 09:00–17:00 EDT.
    let (_, next) = call(
        &pc,
        Method::GET,
        app.clinic_url(&format!(
            "/api/v1/slots?menu_id={menu}&from=2027-03-15&days=1"
        )),
        &admin,
        None,
    )
    .await;
    assert_eq!(starts(&next)[0], "2027-03-15T09:00:00-04:00");
    // A closed day has no slots; removing the exception brings the week back.
    let path = format!("/api/v1/doctors/{doctor}/days/2027-03-15");
    call(
        &pc,
        Method::PUT,
        app.clinic_url(&path),
        &admin,
        Some(json!({ "hours": [] })),
    )
    .await;
    let (_, closed) = call(
        &pc,
        Method::GET,
        app.clinic_url(&format!(
            "/api/v1/slots?menu_id={menu}&from=2027-03-15&days=1"
        )),
        &admin,
        None,
    )
    .await;
    assert_eq!(starts(&closed).len(), 0);
    let (status, _) = call(&pc, Method::DELETE, app.clinic_url(&path), &admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_requests_for_one_slot_book_it_exactly_once() {
    let app = spawn_app().await;
    // On PostgreSQL, half of the requests go to a second instance on the same database.
    let second = app.second_instance().await;
    let (a, _, _, _) = clinic(&app, "A").await;
    let (_, _, doctor, menu) = bookable(&app, &a).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let fields = enshin_store::registry::PatientFields {
        family_name: "並列".into(),
        given_name: "太郎".into(),
        family_name_kana: "ヘイレツ".into(),
        given_name_kana: "タロウ".into(),
        birth_date: "1970-01-01".into(),
        ..Default::default()
    };
    // One staff member's PC per instance; reqwest opens a connection per request in flight.
    let here = member(&app, &a, Role::Staff).await;
    let there = match &second {
        Some(other) => Some(member(other, &a, Role::Staff).await),
        None => None,
    };
    let mut callers = Vec::new();
    for i in 0..50 {
        let record = format!("p-race-{i}");
        app.store()
            .add_clinic_patient(&app.state().keyring, &record, &a, &fields, now)
            .await
            .unwrap();
        let ((_, pc, token), instance) = match (&there, &second, i % 2) {
            (Some(m), Some(other), 1) => (m, other),
            _ => (&here, &app),
        };
        callers.push((
            instance.clinic_url("/api/v1/appointments"),
            pc.clone(),
            token.clone(),
            record,
        ));
    }
    let start = format!("{}T11:00:00+09:00", tomorrow_in_tokyo());
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(callers.len()));
    let tasks: Vec<_> = callers
        .into_iter()
        .map(|(url, pc, token, record)| {
            let (barrier, start, doctor, menu) =
                (barrier.clone(), start.clone(), doctor.clone(), menu.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                call(
                    &pc,
                    Method::POST,
                    url,
                    &token,
                    Some(json!({ "patient_id": record, "menu_id": menu, "doctor_id": doctor, "start": start })),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert!(
                ["slot_taken", "slot_not_offered"]
                    .contains(&body["error"]["code"].as_str().unwrap()),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1, "exactly one of 50 requests books the slot");
    let (_, pc, token) = member(&app, &a, Role::Staff).await;
    let (_, list) = tomorrows_list(&app, &pc, &token).await;
    assert_eq!(list["appointments"].as_array().unwrap().len(), 1);
    if let Some(second) = second {
        second.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn reminders_go_out_once_a_day_and_an_hour_before_without_patient_data() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "やまだ内科").await;
    let (_, _, doctor, menu) = bookable(&app, &a).await;
    let token = patient(&app, "reminded").await;
    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    redeem(&app, &token, inv["code"].as_str().unwrap()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let hour = 3_600_000;
    for (id, starts_at, state) in [
        (
            "soon",
            now + hour / 2,
            enshin_core::appointment::State::Confirmed,
        ),
        (
            "later",
            now + 5 * hour,
            enshin_core::appointment::State::Confirmed,
        ),
        (
            "asked",
            now + 6 * hour,
            enshin_core::appointment::State::Requested,
        ),
        (
            "far",
            now + 48 * hour,
            enshin_core::appointment::State::Confirmed,
        ),
    ] {
        app.store()
            .book_appointment(
                &enshin_store::appointments::NewAppointment {
                    id,
                    clinic_id: &a,
                    clinic_patient_id: &record,
                    doctor_id: &doctor,
                    menu_id: &menu,
                    starts_at,
                    ends_at: starts_at + 900_000,
                    state,
                    booked_by: &doctor,
                },
                now,
            )
            .await
            .unwrap();
    }
    // "soon" gets the hour reminder only, "later" the day one; a request and a visit two days
    // away get nothing yet.
    enshin_server::reminders::send_due(app.state(), now)
        .await
        .unwrap();
    assert_eq!(
        enshin_server::reminders::send_due(app.state(), now)
            .await
            .unwrap(),
        0,
        "nothing twice"
    );
    let mails = app.outbox(2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails.iter().any(|m| m.contains("まもなく")));
    assert!(mails.iter().any(|m| m.contains("明日")));
    for m in &mails {
        assert!(m.contains("p@mail.test"));
        for secret in ["やまだ内科", "山田", "ヤマダ", "再診", "1948"] {
            assert!(!m.contains(secret), "{secret} in a reminder: {m}");
        }
    }
    // Four and a half hours on, "later" gets its hour reminder.
    enshin_server::reminders::send_due(app.state(), now + 9 * hour / 2)
        .await
        .unwrap();
    assert_eq!(app.outbox(3).await.len(), 3);
    app.stop().await;
}

/// The `value` of the first hidden input `name` after `from` in a page.
fn field_after<'a>(body: &'a str, from: usize, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    let at = body[from..].find(&marker).expect(name) + from + marker.len();
    &body[at..at + body[at..].find('"').unwrap()]
}

#[tokio::test]
async fn the_booking_pages_book_move_and_cancel_and_the_worklist_shows_and_moves_the_visit() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (_, _, _, menu) = bookable(&app, &a).await;
    let rules = enshin_core::booking::Settings::new("Asia/Tokyo", false, 60).unwrap();
    app.store().set_booking_settings(&a, &rules).await.unwrap();
    patient(&app, "page.booker").await;
    let phone = app.patient_browser();
    phone
        .log_in(&[("login_id", "page.booker"), ("password", "Blue-Kettle-42")])
        .await;
    // Not linked: the clinic's booking page is a 404 page.
    assert_eq!(
        phone.get(&format!("/clinics/{a}/book")).await.status,
        StatusCode::NOT_FOUND
    );
    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    let csrf = phone.get("/clinics").await.csrf();
    let code = inv["code"].as_str().unwrap();
    phone
        .post("/clinics", &[("csrf", &csrf), ("code", code)])
        .await;

    let mine = phone.get("/appointments").await;
    assert!(
        mine.body.contains(&format!("/clinics/{a}/book")),
        "{}",
        mine.body
    );
    let menus = phone.get(&format!("/clinics/{a}/book")).await;
    assert!(menus.body.contains("再診(オンライン)"));
    let tomorrow = tomorrow_in_tokyo();
    let slots = phone
        .get(&format!("/clinics/{a}/book?menu_id={menu}&from={tomorrow}"))
        .await;
    assert_eq!(slots.status, StatusCode::OK);
    let first = slots.body.find("class=\"slot\"").expect("a slot button");
    let form_at = slots.body[..first].rfind("<form").unwrap();
    let start = field_after(&slots.body, form_at, "start").to_owned();
    let doctor = field_after(&slots.body, form_at, "doctor_id").to_owned();
    assert!(start.starts_with(&format!("{tomorrow}T09:00")), "{start}");

    // The clinic's worklist before, and its stamp.
    let desk = app
        .member_browser(&app.add_member(&a, Role::Staff).await)
        .await;
    let list = desk.get(&format!("/worklist?date={tomorrow}")).await;
    assert!(
        list.body
            .contains("<script type=\"module\" src=\"/static/worklist.js\"></script>")
    );
    let stamp_before = desk
        .get(&format!("/worklist/stamp?date={tomorrow}"))
        .await
        .body;

    let csrf = slots.csrf();
    let booked = phone
        .post(
            "/appointments",
            &[
                ("csrf", &csrf),
                ("clinic_id", &a),
                ("menu_id", &menu),
                ("doctor_id", &doctor),
                ("start", &start),
            ],
        )
        .await;
    assert_eq!(booked.location(), Some("/appointments?done=requested"));
    let mine = phone.get("/appointments?done=requested").await;
    assert!(mine.body.contains("承認待ち"), "{}", mine.body);
    // The same slot again: the page says it is not offered, in Japanese.
    let again = phone
        .post(
            "/appointments",
            &[
                ("csrf", &csrf),
                ("clinic_id", &a),
                ("menu_id", &menu),
                ("doctor_id", &doctor),
                ("start", &start),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("この日時は予約できません"),
        "{}",
        again.body
    );

    // The worklist's stamp changed; its rows show the patient and a confirm button.
    let stamp_after = desk
        .get(&format!("/worklist/stamp?date={tomorrow}"))
        .await
        .body;
    assert_ne!(stamp_before, stamp_after);
    assert!(!stamp_after.contains("ヤマダ"));
    let rows = desk.get(&format!("/worklist/rows?date={tomorrow}")).await;
    assert!(rows.body.contains("山田 花子") && rows.body.contains("ヤマダ ハナコ"));
    let id_at = rows.body.find("/appointments/").unwrap() + "/appointments/".len();
    let id = rows.body[id_at..id_at + rows.body[id_at..].find('/').unwrap()].to_owned();
    let csrf = desk.get("/worklist").await.csrf();
    let confirmed = desk
        .post(
            &format!("/appointments/{id}/state"),
            &[
                ("csrf", &csrf),
                ("state", "confirmed"),
                ("date", &tomorrow),
                ("doctor_id", ""),
            ],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    assert!(
        confirmed
            .location()
            .unwrap()
            .starts_with(&format!("/worklist?date={tomorrow}"))
    );
    assert!(phone.get("/appointments").await.body.contains("確定"));

    // The patient moves it, then cancels it.
    let moving = phone
        .get(&format!("/appointments/{id}/move?from={tomorrow}"))
        .await;
    assert_eq!(moving.status, StatusCode::OK);
    let later_at = moving
        .body
        .find(&format!("value=\"{tomorrow}T10:00"))
        .unwrap();
    let later = field_after(&moving.body, later_at - 40, "start").to_owned();
    let moved = phone
        .post(
            &format!("/appointments/{id}/move"),
            &[("csrf", &moving.csrf()), ("start", &later)],
        )
        .await;
    assert_eq!(
        moved.location(),
        Some("/appointments?done=moved"),
        "{}",
        moved.body
    );
    let page = phone.get("/appointments").await;
    assert!(page.body.contains("10:00"), "{}", page.body);
    let cancelled = phone
        .post(
            &format!("/appointments/{id}/cancel"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(cancelled.location(), Some("/appointments?done=cancelled"));
    assert!(phone.get("/appointments").await.body.contains("キャンセル"));

    // Hostile and malformed form input: a clear page, never a 500.
    for fields in [
        vec![
            ("clinic_id", a.as_str()),
            ("menu_id", "<script>"),
            ("doctor_id", &doctor),
            ("start", &start),
        ],
        vec![
            ("clinic_id", a.as_str()),
            ("menu_id", &menu),
            ("doctor_id", &doctor),
            ("start", "'; DROP TABLE appointments; --"),
        ],
        vec![
            ("clinic_id", "../../etc"),
            ("menu_id", &menu),
            ("doctor_id", &doctor),
            ("start", &start),
        ],
    ] {
        let csrf = phone.get("/appointments").await.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let answer = phone.post("/appointments", &all).await;
        assert!(
            answer.status.is_client_error(),
            "{:?}: {}",
            answer.status,
            answer.body
        );
        assert!(!answer.body.contains("<script>"), "escaped");
    }
    let too_big = "x".repeat(100 * 1024);
    let csrf = phone.get("/appointments").await.csrf();
    let answer = phone
        .post("/appointments", &[("csrf", &csrf), ("start", &too_big)])
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);

    // The admin's booking setup: a withdrawn menu is no longer offered to patients.
    let admin = app
        .member_browser(&app.add_member(&a, Role::Admin).await)
        .await;
    let setup = admin.get("/schedule").await;
    assert_eq!(setup.status, StatusCode::OK);
    let withdrawn = admin
        .post(
            &format!("/schedule/menus/{menu}/active"),
            &[("csrf", &setup.csrf()), ("active", "false")],
        )
        .await;
    assert_eq!(
        withdrawn.location(),
        Some("/schedule?done=saved"),
        "{}",
        withdrawn.body
    );
    let menus = phone.get(&format!("/clinics/{a}/book")).await;
    assert!(!menus.body.contains("再診(オンライン)"));
    let bad = admin
        .post(
            "/schedule/settings",
            &[
                ("csrf", &setup.csrf()),
                ("cancel_deadline_minutes", "soon"),
                ("time_zone", "Asia/Tokyo"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}
