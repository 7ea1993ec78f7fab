//! W-book: how fast members book free slots of one doctor (every booking takes that doctor's
//! lock, so this is the contended case), and how long 50 requests racing for one slot take until
//! all are answered, exactly one of them booked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use enshin_core::people::Role;
use enshin_testkit::{call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::load::drive;
use crate::stats;

/// Five-minute slots from 00:00 to 23:55, Tokyo, for `days` days from tomorrow.
fn starts(days: i64) -> Vec<String> {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone");
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    let mut out = Vec::new();
    for d in 1..=days {
        let date = today.checked_add(jiff::Span::new().days(d)).expect("date");
        for m in 0..287 {
            out.push(format!("{date}T{:02}:{:02}:00+09:00", m / 12, (m % 12) * 5));
        }
    }
    out
}

/// Runs W-book for `seconds` per row.
pub async fn book(seconds: u64) {
    let app = spawn_app().await;
    let clinic = app.add_clinic("bench").await;
    let admin = app.add_member(&clinic, Role::Admin).await;
    let doctor = app.add_member(&clinic, Role::Doctor).await;
    let pc = app.clinic_client(&clinic).await;
    let (_, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": admin.login_id, "password": admin.password })),
    )
    .await;
    let token = session["token"].as_str().expect("token").to_owned();
    let week: Vec<_> = (1..=7)
        .map(|d| json!({ "weekday": d, "start": "00:00", "end": "23:55" }))
        .collect();
    let (status, _) = call(
        &pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/doctors/{}/hours", doctor.id)),
        &token,
        Some(json!({ "hours": week })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, menu) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/menus"),
        &token,
        Some(json!({ "name": "bench", "mode": "online", "visit": "repeat", "minutes": 5, "fee_yen": 0 })),
    )
    .await;
    let menu = menu["id"].as_str().expect("menu").to_owned();
    let fields = enshin_store::registry::PatientFields {
        family_name: "負荷".into(),
        given_name: "試験".into(),
        family_name_kana: "フカ".into(),
        given_name_kana: "シケン".into(),
        birth_date: "1970-01-01".into(),
        ..Default::default()
    };
    app.store()
        .add_clinic_patient(&app.state().keyring, "p-bench", &clinic, &fields, 0)
        .await
        .expect("patient");

    let starts = Arc::new(starts(90));
    let next = Arc::new(AtomicUsize::new(0));
    let url = Arc::new(app.clinic_url("/api/v1/appointments"));
    let body = move |start: &str| json!({ "patient_id": "p-bench", "menu_id": menu, "doctor_id": doctor.id, "start": start });
    let body = Arc::new(body);
    println!("W-book: members book free 5-minute slots of one doctor ({seconds} s per row)");
    println!(
        "{:>11} {:>10} {:>9} {:>9} {:>9}",
        "concurrency", "bookings/s", "p50 ms", "p99 ms", "n"
    );
    for concurrency in [1usize, 16] {
        let (pc, url, token, starts, next, body) = (
            pc.clone(),
            url.clone(),
            token.clone(),
            starts.clone(),
            next.clone(),
            body.clone(),
        );
        let (latencies, rate) = drive(concurrency, seconds, move |_| {
            let start = &starts[next.fetch_add(1, Ordering::Relaxed) % starts.len()];
            let request = pc.post(url.as_str()).bearer_auth(&token).json(&body(start));
            async move {
                request
                    .send()
                    .await
                    .map(|r| r.status() == StatusCode::CREATED)
                    .unwrap_or(false)
            }
        })
        .await;
        let s = stats(latencies);
        println!(
            "{concurrency:>11} {rate:>10.0} {:>9.2} {:>9.2} {:>9}",
            s.p50, s.p99, s.n
        );
    }

    let rounds = 20;
    let mut walls = Vec::new();
    for _ in 0..rounds {
        let start = starts[next.fetch_add(1, Ordering::Relaxed) % starts.len()].clone();
        let t = Instant::now();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let request = pc
                    .post(url.as_str())
                    .bearer_auth(&token)
                    .json(&body(&start));
                tokio::spawn(async move { request.send().await.map(|r| r.status()) })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            if task.await.expect("task").expect("answer") == StatusCode::CREATED {
                created += 1;
            }
        }
        walls.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(created, 1, "one slot booked once");
    }
    let s = stats(walls);
    println!(
        "race: 50 requests for one slot, {rounds} rounds, exactly one booked each time; all answered in p50 {:.1} ms, p90 {:.1} ms",
        s.p50, s.p90
    );
    app.stop().await;
}
