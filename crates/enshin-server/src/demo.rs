//! `enshin serve --demo`: a demo clinic with one account of each kind, for trying enshin on one's
//! own machine. Passwords are random and written only to `DATA_DIR/demo.json` (mode 0600).

use std::path::PathBuf;

use enshin_core::people::Role;
use enshin_core::session::new_token;
use enshin_store::files::{write_new_private, write_replace_private};
use serde_json::json;

use crate::Config;
use crate::certs::{IssueRequest, issue, validity_from_now};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::patients::{Registration, TERMS_VERSION, register_patient};
use crate::people::{MemberRequest, PeopleOpError, add_clinic, add_member};
use crate::routes::AppState;
use enshin_core::pki::BundleCipher;

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A listener is not on loopback: known demo accounts must not be reachable from a network.
    #[error(
        "serve --demo creates accounts for trying enshin and runs only when every listener is on loopback; {0} is not"
    )]
    NotLoopback(String),
    /// Creating the clinic or a member failed.
    #[error("creating the demo clinic")]
    People(#[from] PeopleOpError),
    /// Creating the patient failed.
    #[error("creating the demo patient: {}", .0.message)]
    Patient(ApiError),
    /// The keyring or data directory failed.
    #[error(transparent)]
    DataDir(#[from] crate::datadir::DataDirError),
    /// demo.json could not be written.
    #[error("writing {0}")]
    Write(PathBuf, #[source] std::io::Error),
    /// The demo clinic's certificate could not be issued.
    #[error("issuing the demo clinic's certificate")]
    Certificate(#[from] crate::certs::CertError),
}

/// Refuses a demo unless every listener is on loopback.
pub fn check_loopback(config: &Config) -> Result<(), DemoError> {
    for (key, addr) in [
        ("patient_addr", config.patient_addr),
        ("clinic_addr", config.clinic_addr),
        ("operator_addr", config.operator_addr),
    ] {
        if !addr.ip().is_loopback() {
            return Err(DemoError::NotLoopback(format!("{key} {addr}")));
        }
    }
    Ok(())
}

fn demo_password() -> String {
    let (random, _) = new_token().unwrap_or_else(|_| ("0123456789abcdef".into(), String::new()));
    // Letters, digits and a symbol whatever the random part holds (AUTH-3).
    format!("Demo-{}-7", &random[..16])
}

/// Creates the demo data on first use and returns the path of `demo.json` and whether it was
/// created now (`false`: it existed and nothing was changed).
pub async fn ensure_demo(config: &Config, state: &AppState) -> Result<(PathBuf, bool), DemoError> {
    check_loopback(config)?;
    let path = config.data_dir.join("demo.json");
    if path.exists() {
        return Ok((path, false));
    }
    let clinic = add_clinic(&state.store, &state.keyring, "遠診デモクリニック").await?;
    // Break-glass notices and emergency accounts of the demo land in outbox/ addressed here.
    state
        .store
        .set_admin_email(&clinic.id, "admin@demo-clinic.invalid")
        .await
        .map_err(|e| {
            DemoError::People(PeopleOpError::from(
                enshin_store::people::PeopleError::from(e),
            ))
        })?;
    let mut accounts = Vec::new();
    for (role, login_id, name) in [
        (Role::Admin, "demo-admin", "デモ 管理者"),
        (Role::Doctor, "demo-doctor", "デモ 医師"),
        (Role::Staff, "demo-staff", "デモ スタッフ"),
    ] {
        let password = demo_password();
        let request = MemberRequest {
            clinic_id: &clinic.id,
            role,
            login_id,
            name,
            password: &password,
        };
        add_member(&state.store, &state.common_passwords, &request).await?;
        accounts.push(json!({ "role": role.as_str(), "login_id": login_id, "password": password }));
    }
    let password = demo_password();
    let registration = Registration {
        login_id: "demo-patient".into(),
        password: password.clone(),
        email: Some("demo-patient@example.invalid".into()),
        phone: None,
        family_name: "遠診".into(),
        given_name: "花子".into(),
        family_name_kana: "エンシン".into(),
        given_name_kana: "ハナコ".into(),
        birth_date: "1950-04-01".into(),
        terms_version: TERMS_VERSION.into(),
    };
    let (patient, _) = register_patient(state, None, registration)
        .await
        .map_err(DemoError::Patient)?;
    // The demo patient's e-mail counts as proven, so the demo can show a password reset.
    state
        .store
        .mark_contact_verified(&patient, enshin_store::messages::Channel::Email, now_ms())
        .await
        .map_err(|e| DemoError::Patient(ApiError::from(e)))?;
    accounts.push(json!({ "role": "patient", "login_id": "demo-patient", "password": password }));
    let (not_before, not_after) = validity_from_now(config.client_cert_days);
    let request = IssueRequest {
        clinic_id: &clinic.id,
        label: "デモ用PC",
        not_before,
        not_after,
        cipher: BundleCipher::Modern,
    };
    let bundle = issue(&state.store, &state.ca, &request).await?;
    let bundle_path = config.data_dir.join("demo-clinic.p12");
    write_replace_private(&bundle_path, &bundle.pkcs12)
        .map_err(|e| DemoError::Write(bundle_path.clone(), e))?;
    let demo = json!({
        "clinic": { "id": clinic.id, "name": clinic.name },
        "accounts": accounts,
        "certificate": {
            "path": bundle_path,
            "password": *bundle.password,
            "serial": bundle.issued.serial_hex,
            "not_after": bundle.issued.not_after.unix_timestamp() * 1000,
        },
    });
    write_new_private(&path, format!("{demo:#}\n").as_bytes())
        .map_err(|e| DemoError::Write(path.clone(), e))?;
    Ok((path, true))
}
