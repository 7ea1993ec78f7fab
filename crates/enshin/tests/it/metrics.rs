//! `/metrics` (issue 11, AVAIL): the operator listener serves Prometheus text with requests by
//! route and status, latency histograms, open sessions, the access log's queue and batch times,
//! refused TLS handshakes and certificate expiry; the other listeners do not have it, and no
//! value from a request (a patient's name, a raw path) becomes a label.
// covers NET-3, LOG-1, DATA-1

use std::time::Duration;

use enshin_testkit::{call, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The value of the series `line` (name with labels) in a scrape.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_operator_listener_serves_metrics_without_personal_data() {
    let app = spawn_app().await;
    let clinic = app.add_clinic("Metrics").await;
    let (_, pc, token) =
        crate::booking::member(&app, &clinic, enshin_core::people::Role::Staff).await;
    let token = token.as_str();
    let canary = "カナリア";
    let (status, record) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/patients"),
        token,
        Some(json!({
            "family_name": canary, "given_name": "花子", "family_name_kana": "カナリア",
            "given_name_kana": "ハナコ", "birth_date": "1948-03-09",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = record["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/patients/{id}"),
        "/api/v1/patients/no-such-id".into(),
    ] {
        call(&pc, Method::GET, app.clinic_url(&path), token, None).await;
    }
    // A TLS handshake without a client certificate is refused by the clinic listener.
    let mut raw = TcpStream::connect(app.addrs().clinic).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    drop(raw);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let response = app
        .client()
        .get(app.operator_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let scrape = response.text().await.unwrap();
    let reads =
        r#"enshin_http_requests_total{listener="clinic",route="/api/v1/patients/{id}",status="#;
    assert_eq!(
        value(&scrape, &format!("{reads}\"200\"}}")),
        Some(1.0),
        "{scrape}"
    );
    assert_eq!(value(&scrape, &format!("{reads}\"404\"}}")), Some(1.0));
    assert_eq!(
        value(
            &scrape,
            r#"enshin_http_request_duration_seconds_count{listener="clinic",route="/api/v1/patients/{id}"}"#
        ),
        Some(2.0)
    );
    assert!(value(&scrape, r#"enshin_sessions_open{kind="member"}"#).unwrap() >= 1.0);
    assert!(value(&scrape, "enshin_audit_entries_written_total").unwrap() >= 4.0);
    assert_eq!(value(&scrape, "enshin_audit_failing"), Some(0.0));
    assert!(value(&scrape, r#"enshin_audit_batch_seconds_bucket{le="+Inf"}"#).unwrap() >= 1.0);
    assert!(value(&scrape, "enshin_audit_queue_depth").is_some());
    assert!(
        value(
            &scrape,
            r#"enshin_tls_handshakes_refused_total{listener="clinic"}"#
        )
        .unwrap()
            >= 1.0
    );
    let expiry = value(
        &scrape,
        &format!(r#"enshin_clinic_certificate_expiry_timestamp_seconds{{clinic_id="{clinic}"}}"#),
    )
    .unwrap();
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!(expiry > now + 300.0 * 86_400.0, "a year's certificate");
    assert_eq!(value(&scrape, "enshin_call_sockets_open"), Some(0.0));
    // Route patterns, never the request's own path or data.
    assert!(!scrape.contains(canary) && !scrape.contains(id) && !scrape.contains("no-such-id"));

    // Not on the patient or clinic listener.
    let patient = app
        .client()
        .get(app.patient_url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(patient.status(), StatusCode::NOT_FOUND);
    let clinic_side = pc.get(app.clinic_url("/metrics")).send().await.unwrap();
    assert_eq!(clinic_side.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}
