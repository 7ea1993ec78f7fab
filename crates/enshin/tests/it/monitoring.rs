//! Home monitoring (FUNC-4): patients record readings that are range-checked; devices post
//! batches with a token that can do nothing else, idempotently, until revoked; clinics linked
//! to the patient read them, set thresholds that raise one alert per crossing, and acknowledge
//! alerts; another clinic sees nothing; no value leaves by e-mail.
// covers FUNC-4, ROLE-2, ROLE-3, DATA-2, DATA-3, LOG-1

use enshin_core::people::Role;
use enshin_testkit::{TestApp, call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::audit::{audit_store, entries};
use crate::booking::{member, patient_get as get, patient_post as post};
use crate::links::{clinic, invite, patient, redeem};

/// A time `minutes` ago, RFC 3339 in UTC.
fn ago(minutes: i64) -> String {
    jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_mins(minutes))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A device of the patient and its token.
async fn device(app: &TestApp, token: &str, name: &str) -> (String, String) {
    let (status, d) = post(app, token, "/api/v1/devices", json!({ "name": name })).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    assert!(d["token"].as_str().unwrap().starts_with("ensdev_"));
    (
        d["id"].as_str().unwrap().to_owned(),
        d["token"].as_str().unwrap().to_owned(),
    )
}

fn pressure_batch(first: i64, systolic: &[i64]) -> Value {
    let readings: Vec<Value> = systolic
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let at = ago(60 - i as i64);
            vec![
                json!({ "id": format!("s{}", first + i as i64), "kind": "systolic", "value": s, "measured_at": at }),
                json!({ "id": format!("d{}", first + i as i64), "kind": "diastolic", "value": 80, "measured_at": at }),
            ]
        })
        .collect();
    json!({ "readings": readings })
}

#[tokio::test]
async fn a_patient_records_readings_and_impossible_values_are_refused_with_the_range() {
    let app = spawn_app().await;
    let token = patient(&app, "vitals.typing").await;

    let entry = json!({
        "values": { "systolic": "132", "diastolic": "８５", "pulse": 71, "temperature": "36,6" },
        "note": "朝食前", "client_id": "form-1",
    });
    let (status, done) = post(&app, &token, "/api/v1/readings", entry.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(done, json!({ "added": 4, "duplicates": 0 }));
    // The same form sent twice (a double tap) records nothing more.
    let (status, again) = post(&app, &token, "/api/v1/readings", entry).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, json!({ "added": 0, "duplicates": 4 }));

    let (status, list) = get(&app, &token, "/api/v1/readings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["time_zone"], "Asia/Tokyo");
    let readings = list["readings"].as_array().unwrap();
    assert_eq!(readings.len(), 4);
    let temp = readings
        .iter()
        .find(|r| r["kind"] == "temperature")
        .unwrap();
    assert_eq!(temp["value"], "36.6");
    assert_eq!(temp["unit"], "Cel");
    assert_eq!(temp["loinc"], "8310-5");
    assert_eq!(temp["note"], "朝食前");
    assert_eq!(temp["source"], "manual");
    assert!(temp["measured_at"].as_str().unwrap().ends_with("+09:00"));

    // A wall-clock time is read in the patient's zone.
    let (status, _) = call(
        &app.client(),
        Method::PUT,
        app.patient_url("/api/v1/profile/time-zone"),
        &token,
        Some(json!({ "time_zone": "Europe/Paris" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let wall = jiff::Timestamp::now()
        .to_zoned(paris)
        .checked_sub(jiff::SignedDuration::from_hours(2))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let (status, _) = post(
        &app,
        &token,
        "/api/v1/readings",
        json!({ "measured_at": wall, "values": { "weight": "62.4" } }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = get(&app, &token, "/api/v1/readings?kind=weight").await;
    let shown = list["readings"][0]["measured_at"].as_str().unwrap();
    assert!(shown.starts_with(&wall), "{shown} vs {wall}");
    assert_eq!(list["readings"][0]["value"], "62.4");

    // Bad input: each refused with what is wrong, nothing recorded.
    let cases = [
        (
            json!({ "values": { "temperature": "52" } }),
            "temperature: must be between 30.0 and 45.0 °C",
        ),
        (
            json!({ "values": { "spo2": "101" } }),
            "spo2: must be between 50 and 100 %",
        ),
        (
            json!({ "values": { "systolic": "120" } }),
            "blood pressure: give both",
        ),
        (
            json!({ "values": { "systolic": "80", "diastolic": "120" } }),
            "must be below the upper",
        ),
        (
            json!({ "values": { "pulse": "fast" } }),
            "pulse: write a number",
        ),
        (
            json!({ "values": { "pulse": [70] } }),
            "pulse: write a number",
        ),
        (json!({ "values": { "mood": "5" } }), "is not a kind"),
        (json!({ "values": {} }), "at least one"),
        (json!({ "values": { "pulse": " " } }), "at least one"),
        (
            json!({ "values": { "pulse": "70" }, "measured_at": "2099-01-01T00:00:00Z" }),
            "in the future",
        ),
        (
            json!({ "values": { "pulse": "70" }, "measured_at": "1999-12-31T00:00:00Z" }),
            "before the year 2000",
        ),
        (
            json!({ "values": { "pulse": "70" }, "measured_at": "yesterday" }),
            "write a time",
        ),
        (
            json!({ "values": { "pulse": "70" }, "note": "x".repeat(201) }),
            "at most 200",
        ),
        (
            json!({ "values": { "pulse": "70" }, "client_id": "a b" }),
            "visible ASCII",
        ),
        (
            json!({ "values": { "pulse": "70" }, "extra": 1 }),
            "not as expected",
        ),
    ];
    for (body, says) in cases {
        let (status, answer) = post(&app, &token, "/api/v1/readings", body.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body} → {answer}"
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    let response = app
        .client()
        .post(app.patient_url("/api/v1/readings"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"values\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app
        .client()
        .post(app.patient_url("/api/v1/readings"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"note\": \"{}\"}}", "x".repeat(70_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    for bad in [
        "?days=0",
        "?days=99999",
        "?limit=0",
        "?kind=mood",
        "?days=x",
    ] {
        let (status, answer) = get(&app, &token, &format!("/api/v1/readings{bad}")).await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(answer["error"]["message"].is_string(), "{bad}");
    }
    let (status, _) = call(
        &app.client(),
        Method::PUT,
        app.patient_url("/api/v1/profile/time-zone"),
        &token,
        Some(json!({ "time_zone": "Mars/Olympus" })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = get(&app, &token, "/api/v1/readings").await;
    assert_eq!(list["readings"].as_array().unwrap().len(), 5);
    // Without a session nothing is recorded.
    let (status, _) = post(
        &app,
        "",
        "/api/v1/readings",
        json!({ "values": { "pulse": "70" } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn a_device_token_only_posts_its_patients_readings_once_each_until_revoked() {
    let app = spawn_app().await;
    let token = patient(&app, "vitals.device").await;
    let other = patient(&app, "vitals.other").await;
    let (id, device_token) = device(&app, &token, "血圧計").await;

    let (status, list) = get(&app, &token, "/api/v1/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["devices"][0]["name"], "血圧計");
    assert!(list["devices"][0].get("token").is_none());
    assert!(list["devices"][0]["last_used_at"].is_null());

    let batch = pressure_batch(1, &[128, 131, 135]);
    let (status, done) = post(
        &app,
        &device_token,
        "/api/v1/device/readings",
        batch.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done, json!({ "added": 6, "duplicates": 0 }));
    // The device retries after a lost answer: nothing is added twice.
    let (_, again) = post(&app, &device_token, "/api/v1/device/readings", batch).await;
    assert_eq!(again, json!({ "added": 0, "duplicates": 6 }));
    let (_, mine) = get(&app, &token, "/api/v1/readings?kind=systolic").await;
    let mine = mine["readings"].as_array().unwrap();
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|r| r["source"] == "device"));
    let (_, theirs) = get(&app, &other, "/api/v1/readings").await;
    assert_eq!(theirs["readings"], json!([]));
    let (_, list) = get(&app, &token, "/api/v1/devices").await;
    assert!(list["devices"][0]["last_used_at"].is_string());

    // The token is not a session, and a session is not a device token.
    for path in [
        "/api/v1/readings",
        "/api/v1/profile",
        "/api/v1/devices",
        "/api/v1/me",
    ] {
        let (status, _) = get(&app, &device_token, path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, _) = post(
        &app,
        &device_token,
        "/api/v1/readings",
        json!({ "values": { "pulse": "70" } }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let one = pressure_batch(10, &[120]);
    for bad in [token.as_str(), "", "ensdev_0000", "Basic abc"] {
        let (status, answer) = post(&app, bad, "/api/v1/device/readings", one.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(answer["error"]["code"], "invalid_device_token");
    }
    // The device token does not exist on the clinic listener at all.
    let pc = app.clinic_client(&app.add_clinic("C").await).await;
    let (status, _) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/device/readings"),
        &device_token,
        Some(one.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // One bad reading refuses the batch, naming it.
    let mut bad = pressure_batch(20, &[120, 121]);
    bad["readings"][2]["value"] = json!(400);
    let (status, answer) = post(&app, &device_token, "/api/v1/device/readings", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["error"]["message"],
        "readings[2]: systolic: must be between 50 and 300 mmHg; nothing was added"
    );
    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({ "id": format!("m{i}"), "kind": "steps", "value": 10, "measured_at": ago(5) }))
        .collect();
    let hostile = [
        json!({ "readings": too_many }),
        json!({ "readings": [] }),
        json!({ "readings": [{ "id": "", "kind": "pulse", "value": 70, "measured_at": ago(1) }] }),
        json!({ "readings": [{ "id": "x".repeat(65), "kind": "pulse", "value": 70, "measured_at": ago(1) }] }),
        json!({ "readings": [{ "id": "a", "kind": "pulse", "value": true, "measured_at": ago(1) }] }),
        json!({ "readings": [{ "id": "a", "kind": "pulse", "value": 70, "measured_at": "2099-01-01T00:00:00Z" }] }),
        json!({ "readings": [{ "id": "a", "kind": "pulse", "value": 70 }] }),
        json!({ "readings": [{ "id": "a", "kind": "'; DROP TABLE readings;--", "value": 70, "measured_at": ago(1) }] }),
        json!({ "rows": [] }),
    ];
    for body in hostile {
        let (status, answer) = post(&app, &device_token, "/api/v1/device/readings", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    let (_, mine) = get(&app, &token, "/api/v1/readings").await;
    assert_eq!(mine["readings"].as_array().unwrap().len(), 6);

    // Only its patient can revoke it; then it stops at once.
    let (status, _) = post(
        &app,
        &other,
        &format!("/api/v1/devices/{id}/revoke"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &app,
        &token,
        &format!("/api/v1/devices/{id}/revoke"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(&app, &device_token, "/api/v1/device/readings", one).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A reading entered by mistake is withdrawn by its patient only, once; it leaves the lists.
    let (_, mine) = get(&app, &token, "/api/v1/readings?kind=systolic").await;
    let wrong = mine["readings"][0]["id"].as_str().unwrap().to_owned();
    let withdraw = format!("/api/v1/readings/{wrong}/withdraw");
    let (status, _) = post(&app, &other, &withdraw, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&app, &token, &withdraw, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(&app, &token, &withdraw, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, mine) = get(&app, &token, "/api/v1/readings?kind=systolic").await;
    assert_eq!(mine["readings"].as_array().unwrap().len(), 2);
    assert!(
        mine["readings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != wrong.as_str())
    );
    for bad_name in ["", &"x".repeat(41), "a\u{7}b"] {
        let (status, _) = post(&app, &token, "/api/v1/devices", json!({ "name": bad_name })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad_name:?}");
    }

    // Each batch is in the access log under the device, the refusals too.
    let store = audit_store(&app).await;
    let posts: Vec<_> = entries(&store)
        .await
        .into_iter()
        .filter(|s| s.entry.action == "POST /api/v1/device/readings")
        .collect();
    assert!(
        posts
            .iter()
            .filter(|s| s.entry.status == 200)
            .all(|s| s.entry.principal_kind.as_deref() == Some("device")
                && s.entry.principal_id.as_deref() == Some(id.as_str()))
    );
    assert!(posts.iter().any(|s| s.entry.status == 401));
    app.stop().await;
}

#[tokio::test]
async fn thresholds_raise_one_alert_per_crossing_and_another_clinic_sees_nothing() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (_, doctor_pc, doctor) = member(&app, &a, Role::Doctor).await;
    let (_, b_pc, b_staff, _) = clinic(&app, "B").await;
    let token = patient(&app, "vitals.alerts").await;
    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    let (status, _) = redeem(&app, &token, inv["code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, device_token) = device(&app, &token, "gateway").await;
    let thresholds = app.clinic_url(&format!("/api/v1/patients/{record}/thresholds"));

    // Setting a threshold is a doctor's (or admin's) decision, checked like any value.
    let set = json!({ "kind": "systolic", "above": "160" });
    let (status, _) = call(
        &staff_pc,
        Method::PUT,
        thresholds.clone(),
        &staff,
        Some(set.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (bad, says) in [
        (
            json!({ "kind": "systolic" }),
            "give an upper or a lower limit",
        ),
        (
            json!({ "kind": "systolic", "above": "400" }),
            "above: must be between 50 and 300",
        ),
        (
            json!({ "kind": "pulse", "above": "50", "below": "100" }),
            "lower limit must be below",
        ),
        (json!({ "kind": "mood", "above": "1" }), "kind: one of"),
        (json!({ "kind": "pulse", "above": [1] }), "above: a number"),
    ] {
        let (status, answer) = call(
            &doctor_pc,
            Method::PUT,
            thresholds.clone(),
            &doctor,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    let (status, shown) = call(
        &doctor_pc,
        Method::PUT,
        thresholds.clone(),
        &doctor,
        Some(set),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["above"], "160");
    let (status, spo2) = call(
        &doctor_pc,
        Method::PUT,
        thresholds.clone(),
        &doctor,
        Some(json!({ "kind": "spo2", "below": 93 })),
    )
    .await;
    assert_eq!((status, &spo2["below"]), (StatusCode::OK, &json!("93")));
    let (_, list) = call(&staff_pc, Method::GET, thresholds.clone(), &staff, None).await;
    assert_eq!(list["thresholds"].as_array().unwrap().len(), 2);

    // 150 → 165 (alert) → 170 (still high: no second alert) → 158 → 161 (alert again).
    let (status, _) = post(
        &app,
        &device_token,
        "/api/v1/device/readings",
        pressure_batch(1, &[150, 165, 170, 158, 161]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let alerts_url = app.clinic_url("/api/v1/alerts");
    let (status, open) = call(&staff_pc, Method::GET, alerts_url.clone(), &staff, None).await;
    assert_eq!(status, StatusCode::OK);
    let open = open["alerts"].as_array().unwrap().clone();
    let mut values: Vec<&str> = open.iter().map(|a| a["value"].as_str().unwrap()).collect();
    values.sort();
    assert_eq!(values, ["161", "165"]);
    assert_eq!(open[0]["patient"]["name"], "山田 花子");
    assert_eq!(open[0]["bounds"]["above"], "160");
    // The same readings sent again raise nothing.
    post(
        &app,
        &device_token,
        "/api/v1/device/readings",
        pressure_batch(1, &[150, 165, 170, 158, 161]),
    )
    .await;
    let (_, again) = call(&staff_pc, Method::GET, alerts_url.clone(), &staff, None).await;
    assert_eq!(again["alerts"].as_array().unwrap().len(), 2);

    // Acknowledged once, with a comment saying what was done.
    let alert = open[0]["id"].as_str().unwrap();
    let ack = app.clinic_url(&format!("/api/v1/alerts/{alert}/acknowledge"));
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        ack.clone(),
        &staff,
        Some(json!({ "comment": " " })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(
        &b_pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/alerts/{alert}/acknowledge")),
        &b_staff,
        Some(json!({ "comment": "x" })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        ack.clone(),
        &staff,
        Some(json!({ "comment": "電話で様子を確認" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &staff_pc,
        Method::POST,
        ack,
        &staff,
        Some(json!({ "comment": "again" })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, open_now) = call(&staff_pc, Method::GET, alerts_url.clone(), &staff, None).await;
    assert_eq!(open_now["alerts"].as_array().unwrap().len(), 1);
    let (_, all) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url("/api/v1/alerts?state=all"),
        &staff,
        None,
    )
    .await;
    let done = all["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == alert)
        .unwrap()
        .clone();
    assert_eq!(done["comment"], "電話で様子を確認");
    assert!(done["acknowledged_at"].is_string());
    let (status, _) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url("/api/v1/alerts?state=closed"),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The clinic reads the readings and exports them; the patient's note is guarded.
    post(
        &app,
        &token,
        "/api/v1/readings",
        json!({ "values": { "weight": "60.5" }, "note": "=HYPERLINK(\"x\")" }),
    )
    .await;
    let (status, seen) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url(&format!("/api/v1/patients/{record}/readings?kind=systolic")),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["linked"], true);
    assert_eq!(seen["readings"].as_array().unwrap().len(), 5);
    let csv = staff_pc
        .get(app.clinic_url(&format!("/api/v1/patients/{record}/readings/export")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}測定日時,項目,LOINC,値,単位,入力,メモ,記録日時\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains(",systolic,8480-6,165,mm[Hg],device,,"),
        "{csv}"
    );
    assert!(
        csv.contains(",weight,29463-7,60.5,kg,manual,\"'=HYPERLINK(\"\"x\"\")\","),
        "{csv}"
    );

    // Another clinic: the patient's record answers like a missing one; its alerts are its own.
    for path in [
        format!("/api/v1/patients/{record}/readings"),
        format!("/api/v1/patients/{record}/readings/export"),
        format!("/api/v1/patients/{record}/thresholds"),
        "/api/v1/patients/no-such-patient/readings".to_owned(),
    ] {
        let (status, _) = call(&b_pc, Method::GET, app.clinic_url(&path), &b_staff, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, theirs) = call(&b_pc, Method::GET, alerts_url.clone(), &b_staff, None).await;
    assert_eq!(theirs["alerts"], json!([]));

    // A record with no linked account has no readings.
    let (_, unlinked) = call(
        &staff_pc,
        Method::POST,
        app.clinic_url("/api/v1/patients"),
        &staff,
        Some(json!({
            "family_name": "佐藤", "given_name": "一郎", "family_name_kana": "サトウ",
            "given_name_kana": "イチロウ", "birth_date": "1950-01-02",
        })),
    )
    .await;
    let (status, none) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url(&format!(
            "/api/v1/patients/{}/readings",
            unlinked["id"].as_str().unwrap()
        )),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (none["linked"].clone(), none["readings"].clone()),
        (json!(false), json!([]))
    );

    // Removing a threshold keeps its alerts.
    let (status, _) = call(
        &doctor_pc,
        Method::DELETE,
        format!("{thresholds}?kind=systolic"),
        &doctor,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &doctor_pc,
        Method::DELETE,
        format!("{thresholds}?kind=systolic"),
        &doctor,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, all) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url("/api/v1/alerts?state=all"),
        &staff,
        None,
    )
    .await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 2);

    // No value went out by e-mail (DATA-2): alerts wait on the worklist.
    for entry in std::fs::read_dir(app.data_dir().join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(!text.contains("165") && !text.contains("mmHg"), "{text}");
    }

    // The alert list noted the patient's record as read.
    let store = audit_store(&app).await;
    let list = entries(&store)
        .await
        .into_iter()
        .find(|s| {
            s.entry.action == "GET /api/v1/alerts"
                && s.entry.clinic_id.as_deref() == Some(a.as_str())
                && !s.entry.subjects.is_empty()
        })
        .expect("an alert list entry");
    assert_eq!(list.entry.subjects, vec![record]);
    app.stop().await;
}

#[tokio::test]
async fn batches_sent_at_once_raise_one_alert() {
    let app = spawn_app().await;
    let (a, staff_pc, staff, record) = clinic(&app, "A").await;
    let (_, doctor_pc, doctor) = member(&app, &a, Role::Doctor).await;
    let token = patient(&app, "vitals.race").await;
    let (_, inv) = invite(&app, &staff_pc, &staff, &record).await;
    redeem(&app, &token, inv["code"].as_str().unwrap()).await;
    let (status, _) = call(
        &doctor_pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/patients/{record}/thresholds")),
        &doctor,
        Some(json!({ "kind": "pulse", "above": "120" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, device_token) = device(&app, &token, "watch").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let tasks: Vec<_> = (0..12i64)
        .map(|i| {
            let (client, url, token, barrier) = (
                app.client(),
                app.patient_url("/api/v1/device/readings"),
                device_token.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                call(
                    &client,
                    Method::POST,
                    url,
                    &token,
                    Some(json!({ "readings": [{ "id": format!("p{i}"), "kind": "pulse", "value": 140, "measured_at": ago(30 - i) }] })),
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let (_, open) = call(
        &staff_pc,
        Method::GET,
        app.clinic_url("/api/v1/alerts"),
        &staff,
        None,
    )
    .await;
    assert_eq!(open["alerts"].as_array().unwrap().len(), 1, "{open}");
    app.stop().await;
}

#[tokio::test]
async fn the_record_page_keeps_what_was_typed_and_says_the_range_in_japanese() {
    use crate::pages::{PASSWORD, log_in, register};
    let app = spawn_app().await;
    let browser = app.patient_browser();
    register(&browser, "vitals.pages").await;
    let done = log_in(&browser, "vitals.pages", PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    let page = browser.get("/records").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("生活記録") && page.body.contains("最近の記録"));
    let csrf = page.csrf();
    let client_id = page
        .body
        .split("name=\"client_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let fields = |temperature: &'static str| {
        vec![
            ("systolic", "138"),
            ("diastolic", "88"),
            ("pulse", ""),
            ("temperature", temperature),
            ("measured_at", ""),
            ("note", "散歩のあと"),
        ]
    };
    let mut bad = fields("52");
    bad.extend([("csrf", csrf.as_str()), ("client_id", client_id.as_str())]);
    let refused = browser.post("/records", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("体温: 範囲外の値です。次の範囲で入力してください: 30.0–45.0 °C"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"138\"")
            && refused.body.contains("value=\"52\" aria-invalid=\"true\"")
    );
    let mut good = fields("36.4");
    good.extend([("csrf", csrf.as_str()), ("client_id", client_id.as_str())]);
    let saved = browser.post("/records", &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // Sent again (the back button, a double tap): recorded once.
    browser.post("/records", &good).await;
    let page = browser.get("/records?done=recorded").await;
    assert!(page.body.contains("記録しました。"));
    assert_eq!(page.body.matches("<strong>138</strong>").count(), 1);
    assert!(page.body.contains("散歩のあと"));

    let chart = browser
        .get("/records/chart?kind=blood_pressure&range=3m")
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.body.contains("<svg class=\"chart\""));
    assert!(chart.body.contains("血圧 (3か月)"));
    let hostile = browser
        .get("/records/chart?kind=%3Cscript%3E&range=%22")
        .await;
    assert_eq!(hostile.status, StatusCode::OK);
    assert!(!hostile.body.contains("<script>"));

    // A device's token is shown once, on the answer to the form.
    let csrf = browser.get("/devices").await.csrf();
    let added = browser
        .post("/devices", &[("csrf", &csrf), ("name", "血圧計")])
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    assert!(added.body.contains("ensdev_"));
    let list = browser.get("/devices").await;
    assert!(list.body.contains("血圧計") && !list.body.contains("ensdev_"));
    let withdrawn = page
        .body
        .split("action=\"/records/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let csrf = page.csrf();
    let gone = browser
        .post(
            &format!("/records/{withdrawn}/withdraw"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    let page = browser.get("/records?done=reading_withdrawn").await;
    assert!(page.body.contains("記録を取り消しました"));
    assert!(
        !page
            .body
            .contains(&format!("/records/{withdrawn}/withdraw"))
    );
    let english = browser.get("/records?lang=en").await;
    assert!(english.body.contains("Home records"));
    app.stop().await;
}
