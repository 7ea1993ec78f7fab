//! A clinic leaving the service (DATA-5, seed §12-②): the termination notice, then on or after
//! the termination date the deletion of its rows, the destruction of its data key in the keyring
//! and in every keyring backup, and a deletion certificate signed with an access-log writer key.
//! Each step can be run again after a failure and goes on where the last one stopped.

use std::collections::BTreeMap;

use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use enshin_core::audit::checkpoint::WriterKey;
use enshin_core::exit::{
    CERTIFICATE_FORMAT, Certificate, CertificateBody, ExitError, may_delete, termination_date,
};
use enshin_store::exit::Termination;
use enshin_store::keyring::{Keyring, KeyringError};
use enshin_store::{Backend, Store};

use axum::http::StatusCode;
use enshin_core::authz::{Action, Target, authorize};

use crate::audit::writer_id;
use crate::backup::{self, BackupError};
use crate::clock::{japan_time, now_ms};
use crate::config::Config;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::Authenticated;

/// Why a termination step failed.
#[derive(Debug, thiserror::Error)]
pub enum ExitFailure {
    /// No clinic of that id (or it is already deleted).
    #[error("no clinic {0}")]
    NoClinic(String),
    /// Deletion was asked for a clinic without a termination notice.
    #[error(
        "clinic {0} has no termination notice: give one first (enshin clinic terminate ID --on DATE)"
    )]
    NoNotice(String),
    /// A date rule refused the step.
    #[error(transparent)]
    Rule(#[from] ExitError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The keyring failed.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// A keyring backup could not be rewritten or the backups not listed.
    #[error(transparent)]
    Backup(#[from] BackupError),
}

/// Records a termination notice: the clinic keeps working and can export until `date`.
pub async fn give_notice(
    store: &Store,
    clinic_id: &str,
    date: &str,
    by: &str,
    now: i64,
) -> Result<Termination, ExitFailure> {
    let effective_on = termination_date(date, now)?;
    if store
        .termination(clinic_id)
        .await?
        .is_some_and(|t| t.deleted_at.is_some())
    {
        return Err(ExitFailure::NoClinic(clinic_id.into()));
    }
    store
        .give_termination_notice(clinic_id, &effective_on.to_string(), by, now)
        .await?
        .ok_or_else(|| ExitFailure::NoClinic(clinic_id.into()))
}

/// Withdraws a clinic's termination notice (the clinic stays); refused once deletion began.
pub async fn withdraw_notice(store: &Store, clinic_id: &str) -> Result<(), ExitFailure> {
    if store.withdraw_termination_notice(clinic_id).await? {
        Ok(())
    } else {
        Err(ExitFailure::NoNotice(clinic_id.into()))
    }
}

/// Deletes a clinic whose termination date has come, destroys its key everywhere, and returns
/// the signed certificate (also kept with the termination). A clinic already deleted gets its
/// certificate again.
pub async fn delete_clinic(
    config: &Config,
    store: &Store,
    keyring: &Keyring,
    clinic_id: &str,
    signer: &WriterKey,
    now: i64,
) -> Result<Certificate, ExitFailure> {
    let termination = store
        .termination(clinic_id)
        .await?
        .ok_or_else(|| ExitFailure::NoNotice(clinic_id.into()))?;
    if let Some(text) = &termination.certificate
        && let Ok(certificate) = serde_json::from_str::<Certificate>(text)
    {
        // Run again on another instance's host: its own copies of the key go too.
        destroy_key(config, keyring, clinic_id)?;
        return Ok(certificate);
    }
    let effective_on = termination
        .effective_on
        .parse()
        .map_err(|_| ExitError::BadDate)?;
    may_delete(effective_on, now)?;
    // Every data backup that exists now holds the clinic's rows.
    let backend = store.backend();
    let backups = match backend {
        Backend::Sqlite => backup::list(config)?,
        Backend::Postgres => Vec::new(),
    };
    let (deleted_at, deleted) = match termination.deleted_at {
        Some(at) => (at, termination.deleted.clone()),
        None => {
            let counts = store
                .erase_clinic(clinic_id, now)
                .await?
                .ok_or_else(|| ExitFailure::NoNotice(clinic_id.into()))?;
            (now, counts)
        }
    };
    // A run resumed after the deletion may find later backups, which never held the rows.
    let backups: Vec<_> = backups
        .into_iter()
        .filter(|b| b.created_at <= deleted_at)
        .collect();
    let copies = destroy_key(config, keyring, clinic_id)?;
    let ciphertext_expires_by = match (backups.last(), config.backup_interval) {
        (Some(_), Some(interval)) => {
            let span = interval.as_millis() as i64 * config.backup_keep as i64;
            Some(deleted_at + span)
        }
        _ => None,
    };
    let public = signer.public_key();
    let body = CertificateBody {
        format: CERTIFICATE_FORMAT.into(),
        clinic_id: clinic_id.into(),
        clinic_name: termination.clinic_name.clone(),
        noticed_at: termination.noticed_at,
        effective_on: termination.effective_on.clone(),
        deleted_at,
        deleted,
        key_destroyed_at: now,
        keyring_copies_destroyed: copies,
        backups_with_ciphertext: backups.into_iter().map(|b| b.id).collect(),
        ciphertext_expires_by,
        database: backend.name().into(),
        signer: writer_id(&public),
        public_key: STANDARD.encode(&public),
    };
    let certificate = Certificate::sign(body, signer);
    let text = serde_json::to_string_pretty(&certificate).unwrap_or_default();
    store.store_deletion_certificate(clinic_id, &text).await?;
    Ok(certificate)
}

/// Destroys the clinic's data key in this data directory's keyring and keyring backups; returns
/// the keyring backups that held a copy.
fn destroy_key(
    config: &Config,
    keyring: &Keyring,
    clinic_id: &str,
) -> Result<Vec<String>, ExitFailure> {
    match keyring.destroy(clinic_id) {
        Ok(()) | Err(KeyringError::NoKey(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(backup::destroy_in_keyring_backups(config, clinic_id)?)
}

/// What a kind of deleted row is called on the certificate (ja, en).
fn kind_label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "clinic_patients" => ("患者台帳", "patient registry entries"),
        "appointments" => ("予約・受診", "appointments"),
        "visit_notes" => ("診療録", "visit notes"),
        "visit_note_versions" => ("診療録の版", "visit note versions"),
        "identity_checks" => ("本人確認の記録", "identity checks"),
        "care_plans" => ("診療計画", "consultation plans"),
        "care_plan_versions" => ("診療計画の版", "plan versions"),
        "plan_agreements" => ("診療計画への同意", "plan agreements"),
        "questionnaires" => ("問診票", "questionnaires"),
        "questionnaire_versions" => ("問診票の版", "questionnaire versions"),
        "questionnaire_requests" => ("問診の依頼と回答", "questionnaire requests and answers"),
        "questionnaire_photos" => ("問診の写真", "questionnaire photos"),
        "alerts" => ("生活記録の通知", "monitoring alerts"),
        "thresholds" => ("生活記録の基準値", "monitoring thresholds"),
        "calls" | "call_connections" | "call_credentials" => {
            ("ビデオ通話の記録", "video call records")
        }
        "accounts" => ("職員アカウント", "member accounts"),
        "members" => ("職員の所属", "memberships"),
        "sessions" => ("ログインセッション", "sessions"),
        "client_certificates" => (
            "クライアント証明書(失効済み)",
            "client certificates (revoked)",
        ),
        "patient_links" | "invitations" | "join_requests" => ("患者との連携", "patient links"),
        "clinics" => ("医療機関", "clinic"),
        _ => ("その他", "other"),
    }
}

/// One row of the certificate's table.
struct CountRow {
    ja: &'static str,
    en: &'static str,
    count: u64,
}

#[derive(Template)]
#[template(path = "deletion_certificate.html")]
struct CertificatePage<'a> {
    c: &'a CertificateBody,
    rows: Vec<CountRow>,
    noticed_at: String,
    deleted_at: String,
    key_destroyed_at: String,
    expires_by: Option<String>,
    signature: &'a str,
}

/// The printable certificate (Japanese with English), for the clinic's files.
pub fn certificate_html(certificate: &Certificate) -> String {
    let c = &certificate.body;
    let mut merged: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for (kind, n) in &c.deleted {
        *merged.entry(kind_label(kind)).or_default() += n;
    }
    let rows = merged
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((ja, en), count)| CountRow { ja, en, count })
        .collect();
    CertificatePage {
        c,
        rows,
        noticed_at: format!("{} JST", japan_time(c.noticed_at)),
        deleted_at: format!("{} JST", japan_time(c.deleted_at)),
        key_destroyed_at: format!("{} JST", japan_time(c.key_destroyed_at)),
        expires_by: c
            .ciphertext_expires_by
            .map(|t| format!("{} JST", japan_time(t))),
        signature: &certificate.signature,
    }
    .render()
    .unwrap_or_default()
}

/// An operator gives a clinic's termination notice from the console (the clinic's written
/// request is on file); the access log records who and when.
pub async fn notice_as(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
    date: &str,
) -> Result<Termination, ApiError> {
    authorize(&auth.actor, Action::TerminateClinic, Target::Service)?;
    Ok(give_notice(
        &state.store,
        clinic_id,
        date.trim(),
        &auth.session.account_id,
        now_ms(),
    )
    .await?)
}

/// An operator withdraws a clinic's termination notice from the console (the clinic asked in
/// writing to stay).
pub async fn withdraw_as(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::TerminateClinic, Target::Service)?;
    Ok(withdraw_notice(&state.store, clinic_id).await?)
}

/// An operator deletes a clinic from the console once its date has come; `confirm` must be the
/// clinic's id, typed again, so that no slip of the mouse deletes a clinic.
pub async fn delete_as(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
    confirm: &str,
) -> Result<Certificate, ApiError> {
    authorize(&auth.actor, Action::TerminateClinic, Target::Service)?;
    if confirm.trim() != clinic_id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "confirm: type the clinic's id to confirm the deletion",
        )
        .with_field("confirm")
        .with_problem("confirm_mismatch"));
    }
    Ok(delete_clinic(
        &state.config,
        &state.store,
        &state.keyring,
        clinic_id,
        state.audit.signer(),
        now_ms(),
    )
    .await?)
}

/// The stored deletion certificate of a deleted clinic, for an operator; 404 otherwise.
pub async fn certificate_of(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
) -> Result<Certificate, ApiError> {
    authorize(&auth.actor, Action::TerminateClinic, Target::Service)?;
    state
        .store
        .termination(clinic_id)
        .await?
        .and_then(|t| t.certificate)
        .and_then(|text| serde_json::from_str(&text).ok())
        .ok_or_else(ApiError::not_found)
}
