//! Patient self-registration and the terms of use (CONSENT-1).

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::crypto::envelope::FieldContext;
use enshin_core::password::{self, HashParams};
use enshin_core::patient::{self, FieldError, Problem};
use enshin_core::people::LoginId;
use enshin_core::session::ThrottleScope;
use enshin_store::patients::{NewPatient, PROFILE_COLUMNS};
use enshin_store::people::PeopleError;
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::listener::ConnInfo;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// The current version of the terms of use; change it whenever the texts change.
pub const TERMS_VERSION: &str = "2026-11-27";
const TERMS_JA: &str = include_str!("../terms/ja.md");
const TERMS_EN: &str = include_str!("../terms/en.md");
pub use enshin_store::keyring::PATIENT_KEY;

/// `?lang=ja|en`.
#[derive(Deserialize)]
pub struct Lang {
    lang: Option<String>,
}

/// The text of the current terms in Japanese, or in English when `english`.
pub fn terms_text(english: bool) -> &'static str {
    if english { TERMS_EN } else { TERMS_JA }
}

/// `GET /api/v1/terms[?lang=en]`: the current terms, Japanese by default.
pub async fn terms(Query(lang): Query<Lang>) -> Json<serde_json::Value> {
    let text = terms_text(lang.lang.as_deref() == Some("en"));
    Json(json!({ "version": TERMS_VERSION, "text": text }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    version: String,
}

fn outdated_terms() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "terms_outdated",
        format!("accept the current terms of use (version {TERMS_VERSION})"),
    )
}

/// `POST /api/v1/terms/accept {"version"}`: accepting the current version unlocks the account.
pub async fn accept(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body: Accept = json_body(body)?;
    accept_terms(&state, &auth, &body.version).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records that the patient accepted `version`, which must be the current one.
pub async fn accept_terms(
    state: &AppState,
    auth: &Authenticated,
    version: &str,
) -> Result<(), ApiError> {
    authorize(
        &auth.actor,
        Action::AcceptTerms,
        Target::Account(&auth.session.account_id),
    )?;
    if version != TERMS_VERSION {
        return Err(outdated_terms());
    }
    state
        .store
        .accept_terms(&auth.session.account_id, TERMS_VERSION, now_ms())
        .await?;
    Ok(())
}

/// `GET /api/v1/profile`: the patient's own profile, opened from its sealed columns.
pub async fn profile(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::ReadOwnProfile, Target::Account(id))?;
    let sealed = state
        .store
        .patient_profile(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // One key read per request; the key is dropped (and zeroised) with the request.
    let key = state
        .keyring
        .data_key(PATIENT_KEY)
        .map_err(|e| ApiError::unavailable(&e))?;
    let mut profile = serde_json::Map::new();
    for (column, value) in PROFILE_COLUMNS.iter().zip(sealed) {
        let opened = match value {
            Some(sealed) => {
                let ctx = FieldContext {
                    clinic_id: PATIENT_KEY,
                    table: "patients",
                    column,
                    row_id: id,
                };
                let plain = key
                    .open(&ctx, &sealed)
                    .map_err(|e| ApiError::unavailable(&e))?;
                json!(String::from_utf8_lossy(&plain))
            }
            None => serde_json::Value::Null,
        };
        profile.insert((*column).to_owned(), opened);
    }
    Ok(Json(serde_json::Value::Object(profile)))
}

/// A registration as the patient typed it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Login ID.
    pub login_id: String,
    /// Password (AUTH-3).
    pub password: String,
    /// E-mail address (this or `phone` is required).
    pub email: Option<String>,
    /// Phone number for SMS.
    pub phone: Option<String>,
    /// Family name (kanji).
    pub family_name: String,
    /// Given name (kanji).
    pub given_name: String,
    /// Family name in kana.
    pub family_name_kana: String,
    /// Given name in kana.
    pub given_name_kana: String,
    /// Birth date, YYYY-MM-DD.
    pub birth_date: String,
    /// The version of the terms the patient accepted.
    pub terms_version: String,
}

fn invalid(e: FieldError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        e.to_string(),
    )
    .with_field(e.field)
    .with_problem(e.problem.code())
}

/// `POST /api/v1/patients`: self-registration on the patient listener.
pub async fn register(
    State(state): State<AppState>,
    Extension(conn): Extension<ConnInfo>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let r: Registration = json_body(body)?;
    let (id, login_id) = register_patient(&state, Some(&conn), r).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "login_id": login_id.as_str() })),
    ))
}

/// Checks a registration and creates the patient: account, sealed profile, terms acceptance.
/// Registrations from the network (`from`, the source address) that reach hashing are counted
/// per address and throttled, in the database so that all instances share the count; typing
/// mistakes are not counted. `None` is the operator's own (the demo).
pub async fn register_patient(
    state: &AppState,
    from: Option<&ConnInfo>,
    r: Registration,
) -> Result<(String, LoginId), ApiError> {
    let address = from.map(|conn| conn.peer.ip().to_string());
    let now = now_ms();
    if let Some(address) = &address
        && let Some(until) = state
            .store
            .locked_until(ThrottleScope::Registration, address, now)
            .await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_registrations",
            "too many registrations from this network; try again later",
        )
        .with_retry_after((until - now) / 1000 + 1));
    }
    if r.terms_version != TERMS_VERSION {
        return Err(outdated_terms());
    }
    let login_id = LoginId::parse(&r.login_id)?;
    let family_name = patient::name("family_name", &r.family_name).map_err(invalid)?;
    let given_name = patient::name("given_name", &r.given_name).map_err(invalid)?;
    let family_kana = patient::kana("family_name_kana", &r.family_name_kana).map_err(invalid)?;
    let given_kana = patient::kana("given_name_kana", &r.given_name_kana).map_err(invalid)?;
    let birth_date =
        patient::birth_date(&r.birth_date, &crate::clock::today_in_japan()).map_err(invalid)?;
    let email = r
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(patient::email)
        .transpose()
        .map_err(invalid)?;
    let phone = r
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(patient::phone)
        .transpose()
        .map_err(invalid)?;
    if email.is_none() && phone.is_none() {
        return Err(invalid(FieldError {
            field: "email",
            problem: Problem::NoContact,
        }));
    }
    password::check(&r.password, login_id.as_str(), &state.common_passwords)?;
    if let Some(address) = &address {
        state
            .store
            .record_failure(ThrottleScope::Registration, address, now)
            .await?;
    }
    let typed = zeroize::Zeroizing::new(r.password);
    let hash = tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .map_err(|e| ApiError::unavailable(&e))?;
    let id = uuid::Uuid::now_v7().to_string();
    let seal = |column: &'static str, value: &str| {
        let ctx = FieldContext {
            clinic_id: PATIENT_KEY,
            table: "patients",
            column,
            row_id: &id,
        };
        state
            .keyring
            .seal(&ctx, value.as_bytes())
            .map_err(|e| ApiError::unavailable(&e))
    };
    let sealed_email = email.as_deref().map(|e| seal("email", e)).transpose()?;
    let sealed_phone = phone.as_deref().map(|p| seal("phone", p)).transpose()?;
    let new = NewPatient {
        account_id: &id,
        login_id: &login_id,
        password_hash: &hash,
        family_name: &seal("family_name", &family_name)?,
        given_name: &seal("given_name", &given_name)?,
        family_name_kana: &seal("family_name_kana", &family_kana)?,
        given_name_kana: &seal("given_name_kana", &given_kana)?,
        birth_date: &seal("birth_date", &birth_date)?,
        email: sealed_email.as_deref(),
        phone: sealed_phone.as_deref(),
        terms_version: TERMS_VERSION,
    };
    match state.store.create_patient(&new, now_ms()).await {
        Ok(()) => Ok((id, login_id)),
        Err(PeopleError::LoginIdTaken(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "login_id_taken",
            "this login ID is taken; choose another",
        )
        .with_field("login_id")),
        Err(e) => Err(ApiError::unavailable(&e)),
    }
}
