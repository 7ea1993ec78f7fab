//! W-ingest: readings a device posts through the API in batches of 100, each batch checked,
//! sealed, stored idempotently and compared with a clinic's threshold, with its access-log
//! entry. W-chart: how long the clinic's monitoring page takes for a patient with 100,000
//! readings over a year, charts drawn on the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use enshin_core::people::Role;
use enshin_testkit::{call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::load::{drive, patient};
use crate::stats;

const BATCH: usize = 100;
const YEAR_MS: i64 = 365 * 86_400_000;

/// A batch of `BATCH` readings numbered from `first`, spread over the past year.
fn batch(first: usize, now: i64) -> Value {
    let kinds = ["systolic", "diastolic", "pulse", "spo2", "temperature"];
    let readings: Vec<Value> = (first..first + BATCH)
        .map(|n| {
            let kind = kinds[n % kinds.len()];
            let value = match kind {
                "systolic" => json!(110 + (n % 60)),
                "diastolic" => json!(60 + (n % 30)),
                "pulse" => json!(55 + (n % 50)),
                "spo2" => json!(92 + (n % 8)),
                _ => json!(format!("36.{}", n % 10)),
            };
            let at = now - 60_000 - (n as i64 * 7_919_000) % YEAR_MS;
            let at = jiff::Timestamp::from_millisecond(at).expect("time");
            json!({ "id": format!("r{n}"), "kind": kind, "value": value, "measured_at": at.to_string() })
        })
        .collect();
    json!({ "readings": readings })
}

/// A patient of the clinic linked to an account, with a device: (record id, device token).
async fn linked_patient(
    app: &enshin_testkit::TestApp,
    pc: &reqwest::Client,
    member: &str,
    login_id: &str,
) -> (String, String) {
    let (_, record) = call(
        pc,
        Method::POST,
        app.clinic_url("/api/v1/patients"),
        member,
        Some(json!({
            "family_name": "負荷", "given_name": "試験", "family_name_kana": "フカ",
            "given_name_kana": "シケン", "birth_date": "1950-01-01",
        })),
    )
    .await;
    let record = record["id"].as_str().expect("record").to_owned();
    let (_, invitation) = call(
        pc,
        Method::POST,
        app.clinic_url(&format!("/api/v1/patients/{record}/invitations")),
        member,
        None,
    )
    .await;
    let token = patient(app, login_id).await;
    let client = app.client();
    let (status, _) = call(
        &client,
        Method::POST,
        app.patient_url("/api/v1/links"),
        &token,
        Some(json!({ "code": invitation["code"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(
        pc,
        Method::PUT,
        app.clinic_url(&format!("/api/v1/patients/{record}/thresholds")),
        member,
        Some(json!({ "kind": "systolic", "above": "160" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, device) = call(
        &client,
        Method::POST,
        app.patient_url("/api/v1/devices"),
        &token,
        Some(json!({ "name": "bench" })),
    )
    .await;
    (
        record,
        device["token"].as_str().expect("device token").to_owned(),
    )
}

/// Runs W-ingest for `seconds` per row, then W-chart.
pub async fn ingest(seconds: u64) {
    let app = spawn_app().await;
    let clinic = app.add_clinic("bench").await;
    let doctor = app.add_member(&clinic, Role::Doctor).await;
    let pc = app.clinic_client(&clinic).await;
    let (_, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": doctor.login_id, "password": doctor.password })),
    )
    .await;
    let member = session["token"].as_str().expect("token").to_owned();
    let (_, device) = linked_patient(&app, &pc, &member, "bench.vitals").await;
    let device = Arc::new(device);
    let url = Arc::new(app.patient_url("/api/v1/device/readings"));
    let now = jiff::Timestamp::now().as_millisecond();
    let next = Arc::new(AtomicUsize::new(0));

    println!("W-ingest: a device posts batches of {BATCH} readings ({seconds} s per row)");
    println!(
        "{:>11} {:>10} {:>10} {:>9} {:>9} {:>7}",
        "concurrency", "readings/s", "batches/s", "p50 ms", "p99 ms", "n"
    );
    for concurrency in [1usize, 4, 16] {
        let clients: Arc<Vec<reqwest::Client>> =
            Arc::new((0..concurrency.min(8)).map(|_| app.client()).collect());
        let (device, url, next) = (device.clone(), url.clone(), next.clone());
        let (latencies, rate) = drive(concurrency, seconds, move |w| {
            let first = next.fetch_add(BATCH, Ordering::Relaxed);
            let request = clients[w % clients.len()]
                .post(url.as_str())
                .bearer_auth(device.as_str())
                .json(&batch(first, now));
            async move {
                match request.send().await {
                    Ok(r) if r.status() == StatusCode::OK => r
                        .json::<Value>()
                        .await
                        .map(|v| v["added"] == BATCH)
                        .unwrap_or(false),
                    _ => false,
                }
            }
        })
        .await;
        let s = stats(latencies);
        println!(
            "{concurrency:>11} {:>10.0} {rate:>10.1} {:>9.2} {:>9.2} {:>7}",
            rate * BATCH as f64,
            s.p50,
            s.p99,
            s.n
        );
    }

    // A second patient with exactly 100,000 readings over the year, posted 8 batches at a time.
    let (record, device) = linked_patient(&app, &pc, &member, "bench.chart").await;
    let total = 100_000;
    for round in (0..total).step_by(8 * BATCH) {
        let posts: Vec<_> = (round..(round + 8 * BATCH).min(total))
            .step_by(BATCH)
            .map(|first| {
                let request = app
                    .client()
                    .post(url.as_str())
                    .bearer_auth(&device)
                    .json(&batch(first, now));
                tokio::spawn(async move { request.send().await.map(|r| r.status()) })
            })
            .collect();
        for post in posts {
            assert_eq!(post.await.expect("task").expect("answer"), StatusCode::OK);
        }
    }
    let first = total;

    println!(
        "W-chart: the clinic's monitoring page of a patient with {first} readings in the past year"
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>9}",
        "range", "p50 ms", "p90 ms", "bytes", "n"
    );
    for range in ["1y", "3m", "2w"] {
        let page = app.clinic_url(&format!("/patients/{record}/monitoring?range={range}"));
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..15 {
            let t = Instant::now();
            let response = pc
                .get(&page)
                .bearer_auth(&member)
                .send()
                .await
                .expect("page");
            assert_eq!(response.status(), StatusCode::OK);
            bytes = response.text().await.expect("body").len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let s = stats(times);
        println!(
            "{range:>6} {:>9.1} {:>9.1} {bytes:>9} {:>9}",
            s.p50, s.p90, s.n
        );
    }
    app.stop().await;
}
