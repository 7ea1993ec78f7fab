//! `enshin serve --demo`: one account of each kind, written to a private demo.json, on loopback only.

use std::os::unix::fs::PermissionsExt;

use enshin_testkit::pkcs12_client;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cli::{Served, enshin};

fn read_demo(served: &Served) -> Value {
    let path = served.data_dir.join("demo.json");
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_demo_accounts_log_in_and_survive_a_restart_unchanged() {
    let mut served = Served::start_with(&["--demo"]).await;
    assert!(
        served.stdout().contains("demo accounts (created)"),
        "{}",
        served.stdout()
    );
    let demo = read_demo(&served);
    let accounts = demo["accounts"].as_array().unwrap();
    let roles: Vec<&str> = accounts
        .iter()
        .map(|a| a["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["admin", "doctor", "staff", "patient"]);

    // The demo clinic's certificate: a PKCS#12 bundle (0600) and its password in demo.json.
    let ca_pem = std::fs::read_to_string(served.data_dir.join("pki/ca.crt")).unwrap();
    let certificate = &demo["certificate"];
    let bundle_path = std::path::PathBuf::from(certificate["path"].as_str().unwrap());
    assert_eq!(bundle_path, served.data_dir.join("demo-clinic.p12"));
    let mode = std::fs::metadata(&bundle_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let bundle = std::fs::read(&bundle_path).unwrap();
    let clinic_client = pkcs12_client(&ca_pem, &bundle, certificate["password"].as_str().unwrap());
    for account in accounts {
        let (client, listener) = match account["role"].as_str().unwrap() {
            "patient" => (served.client(), "patient"),
            _ => (clinic_client.clone(), "clinic"),
        };
        let body = json!({ "login_id": account["login_id"], "password": account["password"] });
        let response = client
            .post(served.url(listener, "/api/v1/session"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{account}");
    }

    served.signal(libc::SIGTERM);
    assert!(served.wait().await.success());
    served.restart().await;
    assert!(
        served.stdout().contains("demo accounts (unchanged)"),
        "{}",
        served.stdout()
    );
    assert_eq!(
        read_demo(&served),
        demo,
        "a restart changes no demo password"
    );
}

#[test]
fn the_demo_refuses_a_listener_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let output = enshin(dir.path())
        .env("ENSHIN_DATA_DIR", dir.path().join("data"))
        .args(["serve", "--demo", "--patient-addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "runs only when every listener is on loopback; patient_addr 0.0.0.0:0 is not"
        ),
        "{stderr}"
    );
    assert!(!dir.path().join("data").exists(), "nothing was created");
}
