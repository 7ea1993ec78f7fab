//! Benchmarks of enshin against a real server on loopback; every loop is bounded and the server
//! stops with the program. Run with `cargo run --release -p enshin-bench -- <name> [tries]`.
//!
//! `login-timing`: does a failed log-in take as long for an unknown login ID as for a wrong
//! password (AUTH-10, no account enumeration by timing)? Prints a table and Welch's t.
//! `reset-timing`: does asking for a password reset take as long for an unknown login ID as for
//! a patient to whom a code is sent (AUTH-6)? Same table.
//! `audit-write`, `read`, `login`, `verify`: the load figures of the access log (see load.rs).
//! `book`: booking throughput on one doctor and the 50-way race for one slot (see booking.rs).
//! `ingest`: device readings per second in batches of 100, and the chart page of a patient with
//! 100,000 readings (see monitoring.rs).
//! `signal`: signalling round trips between two instances through the bus (see signal.rs).
//! `records`: drafting, finalising and amending visit notes, and verifying every chain (see
//! records.rs).
//! `backup`: backup, verify and drill of a registry of N records (see backups.rs).

mod backups;
mod booking;
mod disclosure;
mod load;
mod monitoring;
mod records;
mod signal;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use enshin_core::people::Role;
use enshin_testkit::{TestApp, client_tls, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::json;

/// Source addresses to spread failures over, so the per-address lock-out never engages.
const ADDRESSES: u8 = 200;

async fn client_from(app: &TestApp, clinic: &str, source: u8) -> Client {
    let cert = app.issue_client_cert(clinic).await;
    let tls = client_tls(app.ca_pem(), rustls::ALL_VERSIONS, Some(&cert));
    Client::builder()
        .tls_backend_preconfigured(tls)
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, source)))
        .no_proxy()
        .build()
        .expect("client")
}

/// Summary statistics of a sample of milliseconds.
pub struct Stats {
    n: usize,
    mean: f64,
    sd: f64,
    p50: f64,
    p90: f64,
    p99: f64,
}

/// Sorts the sample and summarises it.
pub fn stats(mut ms: Vec<f64>) -> Stats {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let mean = ms.iter().sum::<f64>() / n as f64;
    let sd = (ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt();
    let at = |q: f64| ms[((n as f64 - 1.0) * q).round() as usize];
    Stats {
        n,
        mean,
        sd,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    }
}

async fn timed(
    client: &Client,
    app: &TestApp,
    login_id: &str,
    password: &str,
    want: StatusCode,
) -> f64 {
    let start = Instant::now();
    let response = client
        .post(app.clinic_url("/api/v1/session"))
        .json(&json!({ "login_id": login_id, "password": password }))
        .send()
        .await
        .expect("request");
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(response.status(), want, "{login_id}");
    elapsed
}

async fn login_timing(tries: usize) {
    let app = spawn_app().await;
    let clinic = app.add_clinic("bench").await;
    let mut clients: Vec<Client> = Vec::new();
    for i in 0..ADDRESSES {
        clients.push(client_from(&app, &clinic, 2 + i).await);
    }
    // At most 4 wrong passwords per account: the fifth would lock it.
    let mut members = Vec::new();
    for _ in 0..tries.div_ceil(4) {
        members.push(app.add_member(&clinic, Role::Staff).await);
    }
    // Warm-up: connections, caches.
    for (i, client) in clients.iter().enumerate() {
        timed(
            client,
            &app,
            &format!("warm-up-{i}"),
            "Wrong-Kettle-42",
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let (mut wrong, mut unknown, mut right) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..tries {
        let client = &clients[i % clients.len()];
        // Interleaved, and in alternating order: the first request on a connection that sat idle
        // is slower, which must not count against one case.
        let unknown_id = format!("nobody-{i}");
        let wrong_try = timed(
            client,
            &app,
            &members[i / 4].login_id,
            "Wrong-Kettle-42",
            StatusCode::UNAUTHORIZED,
        );
        let unknown_try = timed(
            client,
            &app,
            &unknown_id,
            "Wrong-Kettle-42",
            StatusCode::UNAUTHORIZED,
        );
        if i % 2 == 0 {
            wrong.push(wrong_try.await);
            unknown.push(unknown_try.await);
        } else {
            unknown.push(unknown_try.await);
            wrong.push(wrong_try.await);
        }
        if i < members.len() {
            right.push(
                timed(
                    client,
                    &app,
                    &members[i].login_id,
                    &members[i].password,
                    StatusCode::CREATED,
                )
                .await,
            );
        }
    }
    print_table(
        "login timing on the clinic listener, ms per request (loopback, one request at a time)",
        &[
            ("wrong password", stats(wrong)),
            ("unknown login ID", stats(unknown)),
            ("right password", stats(right)),
        ],
    );
    app.stop().await;
}

fn print_table(title: &str, rows: &[(&str, Stats)]) {
    println!("{title}");
    println!(
        "{:<18} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "case", "n", "mean", "sd", "p50", "p90", "p99"
    );
    for (name, s) in rows {
        println!(
            "{name:<18} {:>6} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            s.n, s.mean, s.sd, s.p50, s.p90, s.p99
        );
    }
    let (a, b) = (&rows[0].1, &rows[1].1);
    let welch = (a.mean - b.mean) / (a.sd.powi(2) / a.n as f64 + b.sd.powi(2) / b.n as f64).sqrt();
    println!(
        "difference of means ({} - {}): {:+.2} ms; Welch's t = {welch:+.2} (|t| < 2: no detectable difference)",
        rows[0].0,
        rows[1].0,
        a.mean - b.mean
    );
}

async fn reset_timing(tries: usize) {
    let app = spawn_app().await;
    // Five codes per patient and hour: each patient serves five tries that really send.
    let mut patients = Vec::new();
    for i in 0..tries.div_ceil(5) {
        let login_id = format!("reset-bench-{i}");
        let registration = enshin_server::patients::Registration {
            login_id: login_id.clone(),
            password: "Blue-Kettle-42".into(),
            email: Some(format!("{login_id}@bench.invalid")),
            phone: None,
            family_name: "試験".into(),
            given_name: "花子".into(),
            family_name_kana: "しけん".into(),
            given_name_kana: "はなこ".into(),
            birth_date: "1950-01-01".into(),
            terms_version: enshin_server::patients::TERMS_VERSION.into(),
        };
        let (id, _) = enshin_server::patients::register_patient(app.state(), None, registration)
            .await
            .expect("patient");
        app.store()
            .mark_contact_verified(&id, enshin_store::messages::Channel::Email, 0)
            .await
            .expect("proven");
        patients.push(login_id);
    }
    let client = app.client();
    let ask = |login_id: String| {
        let (client, url) = (client.clone(), app.patient_url("/api/v1/password-reset"));
        async move {
            let start = Instant::now();
            let response = client
                .post(url)
                .json(&json!({ "login_id": login_id, "channel": "email" }))
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            start.elapsed().as_secs_f64() * 1000.0
        }
    };
    ask("warm-up".into()).await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..tries {
        let (k, u) = (ask(patients[i / 5].clone()), ask(format!("nobody-{i}")));
        if i % 2 == 0 {
            known.push(k.await);
            unknown.push(u.await);
        } else {
            unknown.push(u.await);
            known.push(k.await);
        }
    }
    print_table(
        "password-reset request timing on the patient listener, ms per request (loopback, one at a time)",
        &[
            ("code sent", stats(known)),
            ("unknown login ID", stats(unknown)),
        ],
    );
    app.stop().await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tries = args
        .get(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
        .clamp(10, 2000);
    let number = |default: u64, max: u64| {
        args.get(2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
            .clamp(1, max)
    };
    match args.get(1).map(String::as_str) {
        Some("login-timing") => login_timing(tries).await,
        Some("reset-timing") => reset_timing(tries).await,
        Some("audit-write") => load::audit_write(number(3, 60)).await,
        Some("read") => load::read(number(5, 60)).await,
        Some("login") => load::login(number(5, 60)).await,
        Some("verify") => load::verify(number(1_000_000, 5_000_000)).await,
        Some("book") => booking::book(number(5, 60)).await,
        Some("ingest") => monitoring::ingest(number(5, 60)).await,
        Some("signal") => signal::signal(number(1_000, 20_000)).await,
        Some("records") => records::records(number(300, 5_000)).await,
        Some("backup") => backups::backups(number(20_000, 1_000_000)).await,
        Some("disclose") => disclosure::disclose(number(10, 200)).await,
        _ => {
            eprintln!(
                "usage: enshin-bench login-timing [tries 10-2000] | reset-timing [tries 10-2000] | audit-write [seconds] | read [seconds] | login [seconds] | verify [entries] | book [seconds] | ingest [seconds] | signal [rounds] | records [visits] | backup [patients] | disclose [rounds]"
            );
            std::process::exit(2);
        }
    }
}
