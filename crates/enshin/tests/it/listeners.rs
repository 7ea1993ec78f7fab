//! The three listeners over real TLS: health, protocol versions, suites, client certificates.
// covers NET-1, NET-2, NET-3, AVAIL-3, LOG-5

use std::sync::Arc;

use enshin_core::pki::ServiceCa;
use enshin_server::tls::ALLOWED_SUITES;
use enshin_testkit::{client_tls, https_client, spawn_app};
use rustls_pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::raw_tls::{HANDSHAKE_FAILURE, PROTOCOL_VERSION, client_hello, exchange, fatal_alert};

#[tokio::test]
async fn every_listener_answers_healthz() {
    let app = spawn_app().await;
    let clinic_id = app.add_clinic("A").await;
    let clinic = app.clinic_client(&clinic_id).await;
    for (name, client, url) in [
        ("patient", app.client(), app.patient_url("/healthz")),
        ("clinic", clinic, app.clinic_url("/healthz")),
        ("operator", app.client(), app.operator_url("/healthz")),
    ] {
        let response = client
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(response.status(), 200, "{name}");
        let headers = response.headers().clone();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age=")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(headers["x-request-id"].len(), 36);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{name}: {body}");
        assert_eq!(body["database"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["listener"], name);
        assert!(body["clock_synchronized"].is_boolean());
        assert_eq!(body["refused_client_certificates"], 0);
        assert_eq!(body["audit"], "ok");
        // The embedded default also reports its backups: names and times, nothing else.
        let embedded = app.config().database_url.is_none();
        if embedded {
            assert_eq!(body["backup"]["failing"], false);
            assert_eq!(body["backup"].as_object().unwrap().len(), 3, "{body}");
        }
        assert_eq!(
            body.as_object().unwrap().len(),
            7 + usize::from(embedded),
            "no other fields leak: {body}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_json_errors() {
    let app = spawn_app().await;
    let client = app.client();
    let missing = client
        .get(app.patient_url("/nope/../../etc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let wrong = client
        .post(app.patient_url("/healthz"))
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 405);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"]["code"],
        "method_not_allowed"
    );
    let huge_header = client
        .get(app.patient_url("/healthz"))
        .header("x-junk", "a".repeat(200_000))
        .send()
        .await;
    assert!(
        huge_header
            .map(|r| r.status().is_client_error())
            .unwrap_or(true),
        "oversized headers are refused"
    );
    assert_eq!(
        client
            .get(app.patient_url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "still serving"
    );
    app.stop().await;
}

/// Connects with rustls limited to `version`, checks what was negotiated, then sends one
/// HTTP/1.1 request and returns the status line.
async fn negotiate(
    app: &enshin_testkit::TestApp,
    version: &'static rustls::SupportedProtocolVersion,
) -> String {
    let mut config = client_tls(app.ca_pem(), &[version], None);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(app.addrs().patient).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let (_, session) = tls.get_ref();
    assert_eq!(session.protocol_version(), Some(version.version));
    let suite = session.negotiated_cipher_suite().unwrap().suite();
    assert!(
        ALLOWED_SUITES.contains(&suite),
        "{suite:?} is not an allowed AEAD suite"
    );
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn tls_1_3_and_1_2_work_with_aead_suites() {
    let app = spawn_app().await;
    assert_eq!(
        negotiate(&app, &rustls::version::TLS13).await,
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        negotiate(&app, &rustls::version::TLS12).await,
        "HTTP/1.1 200 OK"
    );
    app.stop().await;
}

#[tokio::test]
async fn tls_1_1_and_1_0_are_refused_on_every_listener() {
    let app = spawn_app().await;
    let cbc = [0xc009, 0xc013, 0x002f, 0x0035];
    for addr in [
        app.addrs().patient,
        app.addrs().clinic,
        app.addrs().operator,
    ] {
        for version in [[0x03, 0x02], [0x03, 0x01]] {
            let answer = exchange(addr, &client_hello(version, &cbc)).await;
            assert_eq!(
                fatal_alert(&answer),
                Some(PROTOCOL_VERSION),
                "{addr} {version:?}: {answer:02x?}"
            );
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn tls_1_2_without_an_aead_suite_is_refused() {
    let app = spawn_app().await;
    // ECDHE and RSA key exchange with CBC, and RSA with GCM (no forward secrecy).
    let weak = [
        0xc009, 0xc00a, 0xc013, 0xc014, 0x002f, 0x0035, 0x009c, 0x009d, 0x000a,
    ];
    let answer = exchange(app.addrs().patient, &client_hello([0x03, 0x03], &weak)).await;
    assert_eq!(
        fatal_alert(&answer),
        Some(HANDSHAKE_FAILURE),
        "{answer:02x?}"
    );
    // The same hello with one AEAD suite added gets a ServerHello (a handshake record).
    let with_gcm = [0xc009, 0xc02b];
    let answer = exchange(app.addrs().patient, &client_hello([0x03, 0x03], &with_gcm)).await;
    assert_eq!(answer.first(), Some(&0x16), "{answer:02x?}");
    app.stop().await;
}

#[tokio::test]
async fn plain_http_gets_no_http_answer() {
    let app = spawn_app().await;
    for addr in [
        app.addrs().patient,
        app.addrs().clinic,
        app.addrs().operator,
    ] {
        let answer = exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
        assert!(!answer.starts_with(b"HTTP/"), "{addr} answered plain HTTP");
        assert!(
            answer.is_empty() || answer[0] == 0x15,
            "{addr}: {answer:02x?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn clinic_listener_requires_a_certificate_of_the_service_ca() {
    let app = spawn_app().await;
    let url = app.clinic_url("/healthz");
    let no_cert = app.client().get(&url).send().await;
    assert!(
        no_cert.is_err(),
        "no certificate must not get through: {no_cert:?}"
    );

    let now = time::OffsetDateTime::now_utc();
    let (foreign_ca, _) = ServiceCa::generate("someone else's CA", now, 10).unwrap();
    let foreign = foreign_ca
        .issue_client(
            "0190f0c4-0000-7000-8000-00000000000a",
            now,
            now + time::Duration::days(30),
        )
        .unwrap();
    let foreign_result = https_client(app.ca_pem(), Some(&foreign))
        .get(&url)
        .send()
        .await;
    assert!(
        foreign_result.is_err(),
        "a foreign CA's certificate must not get through: {foreign_result:?}"
    );

    let clinic = app.add_clinic("A").await;
    let good = app
        .clinic_client(&clinic)
        .await
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    let patient_side = app
        .client()
        .get(app.patient_url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        patient_side.status(),
        200,
        "the patient listener asks for no certificate"
    );
    app.stop().await;
}
