//! Incident mode's emergency accounts (AVAIL-4, §8-②(b)) on the operator listener. The operator
//! starts an emergency; the credentials go to the clinic administrator's registered address and
//! never to the operator, whose answer holds only account ids and roles.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::emergency::{self, EmergencyError};
use enshin_core::password::{self, HashParams};
use enshin_core::people::{LoginId, Role};
use enshin_store::emergency::EmergencyStoreError;
use enshin_store::people::NewMember;
use serde::Deserialize;
use serde_json::json;

use crate::access::AccessFacts;
use crate::clock::{japan_time, now_ms};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Start {
    /// How long the emergency lasts (1–72 h).
    hours: i64,
    /// One role per emergency account (1–5).
    roles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Contact {
    email: String,
}

impl From<EmergencyError> for ApiError {
    fn from(e: EmergencyError) -> Self {
        let field = match e {
            EmergencyError::Hours => "hours",
            EmergencyError::Accounts => "roles",
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.to_string(),
        )
        .with_field(field)
    }
}

/// Sets where the clinic administrator gets operator-access notices and emergency credentials.
pub async fn set_admin_email_of(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
    typed: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::CreateClinic, Target::Service)?;
    let email = crate::people::checked_email(typed)?;
    if state.store.set_admin_email(clinic_id, &email).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// `PUT /api/v1/clinics/{id}/admin-email {"email"}` → 204.
pub async fn set_admin_email(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(clinic_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    authorize(&auth.actor, Action::CreateClinic, Target::Service)?;
    let contact: Contact = json_body(body)?;
    set_admin_email_of(&state, &auth, &clinic_id, &contact.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/clinics/{id}/emergency {"hours", "roles"}` → 201: the clinic's normal IDs are
/// held and their sessions end; the emergency accounts' credentials are sent to the clinic
/// administrator.
pub async fn start(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(clinic_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&auth.actor, Action::DeclareEmergency, Target::Service)?;
    let asked: Start = json_body(body)?;
    let (until, issued) =
        start_emergency(&state, &auth, &facts, &clinic_id, asked.hours, &asked.roles).await?;
    let accounts: Vec<_> = issued
        .iter()
        .map(|(id, role)| json!({ "id": id, "role": role.to_string() }))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "clinic_id": clinic_id, "until": until, "accounts": accounts, "sent_to": "clinic_admin" }),
        ),
    ))
}

/// Starts an emergency (see [`start`]); the end time and the new accounts' ids and roles.
pub async fn start_emergency(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    clinic_id: &str,
    hours: i64,
    roles: &[String],
) -> Result<(i64, Vec<(String, Role)>), ApiError> {
    authorize(&auth.actor, Action::DeclareEmergency, Target::Service)?;
    let Some(contact) = state.store.clinic_contact(clinic_id).await? else {
        return Err(ApiError::not_found());
    };
    facts.concerning(clinic_id, None);
    emergency::account_count(roles.len())?;
    let roles = roles
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "roles: each role is admin, doctor or staff",
            )
            .with_field("roles")
        })?;
    let now = now_ms();
    let until = emergency::ends_at(now, hours)?;
    let Some(to) = contact.admin_email.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_admin_contact",
            "the clinic has no administrator address for the emergency credentials; set it first (PUT /api/v1/clinics/{id}/admin-email)",
        ));
    };
    let mut issued = Vec::with_capacity(roles.len());
    for role in roles {
        let (login, secret) =
            emergency::credentials().map_err(|_| ApiError::unavailable(&"random generator"))?;
        let login = LoginId::parse(&login)?;
        let typed = zeroize::Zeroizing::new(secret.clone());
        let hash = tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
            .await
            .map_err(|e| ApiError::unavailable(&e))?
            .map_err(|e| ApiError::unavailable(&e))?;
        issued.push((
            uuid::Uuid::now_v7().to_string(),
            login,
            zeroize::Zeroizing::new(secret),
            role,
            hash,
        ));
    }
    let names: Vec<String> = (1..=issued.len())
        .map(|i| format!("緊急用アカウント {i}"))
        .collect();
    let members: Vec<NewMember<'_>> = issued
        .iter()
        .zip(&names)
        .map(|((id, login, _, role, hash), name)| NewMember {
            account_id: id,
            clinic_id,
            login_id: login,
            role: *role,
            display_name: name,
            password_hash: hash,
        })
        .collect();
    match state
        .store
        .start_emergency(clinic_id, &members, until, now)
        .await
    {
        Ok(()) => {}
        Err(EmergencyStoreError::NoClinic) => return Err(ApiError::not_found()),
        Err(EmergencyStoreError::Active) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "emergency_in_force",
                "the clinic is in an emergency already; end it first",
            ));
        }
        Err(e) => return Err(ApiError::unavailable(&e)),
    }
    let roles: Vec<String> = issued
        .iter()
        .map(|(_, _, _, role, _)| role.to_string())
        .collect();
    let accounts: Vec<(&str, &str, &str)> = issued
        .iter()
        .zip(&roles)
        .map(|((_, login, secret, _, _), role)| (login.as_str(), secret.as_str(), role.as_str()))
        .collect();
    let letter =
        enshin_core::letters::emergency_accounts(&contact.name, &japan_time(until), &accounts);
    if let Err(error) = state
        .messages
        .email(&to, &letter.subject, &letter.body)
        .await
    {
        // The accounts exist but nobody could get their passwords: end the emergency again.
        tracing::error!(%error, clinic = %clinic_id, "emergency credentials could not be queued; emergency ended");
        state.store.end_emergency(clinic_id, now_ms()).await?;
        return Err(ApiError::unavailable(&error));
    }
    Ok((
        until,
        issued
            .into_iter()
            .map(|(id, _, _, role, _)| (id, role))
            .collect(),
    ))
}

/// `DELETE /api/v1/clinics/{id}/emergency` → 204: normal IDs work again; the emergency
/// accounts are disabled and their sessions end.
pub async fn end(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(clinic_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_emergency(&state, &auth, &facts, &clinic_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends a clinic's emergency now; 404 when none is in force.
pub async fn end_emergency(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    clinic_id: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::DeclareEmergency, Target::Service)?;
    if state.store.end_emergency(clinic_id, now_ms()).await? {
        facts.concerning(clinic_id, None);
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}
