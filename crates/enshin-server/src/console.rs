//! The operator console's JSON API (AUTH-9, LOG-3, SESS-2): the clinics of the service, the
//! access log, and ending anyone's sessions. Operators see ids and names of clinics, never
//! A-class data.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use enshin_core::audit::entry::Sealed;
use enshin_core::authz::{Action, Target, authorize};
use enshin_store::audit::{AuditFilter, Position};
use enshin_store::certificates::CertificateRecord;
use enshin_store::emergency::ClinicContact;
use enshin_store::people::{ClinicSummary, MemberSummary};
use serde_json::json;

use crate::clock::{japan_day_start, now_ms};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::Authenticated;

const DAY_MS: i64 = 86_400_000;
/// Largest page of the access log.
const PAGE_MAX: u32 = 1_000;

fn bad(field: &'static str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!("{field}: {message}"),
    )
    .with_field(field)
}

/// Every clinic of the service, for an operator.
pub async fn list_clinics(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<ClinicSummary>, ApiError> {
    authorize(&auth.actor, Action::ListClinics, Target::Service)?;
    state
        .store
        .list_clinics()
        .await
        .map_err(|e| ApiError::unavailable(&e))
}

/// `GET /api/v1/clinics`: every clinic with its number of active members.
pub async fn clinics(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinics = list_clinics(&state, &auth).await?;
    let list: Vec<_> = clinics
        .iter()
        .map(|c| json!({ "id": c.id, "name": c.name, "created_at": c.created_at, "active_members": c.active_members }))
        .collect();
    Ok(Json(json!({ "clinics": list })))
}

fn filter_of(q: &HashMap<String, String>) -> Result<AuditFilter, ApiError> {
    let day = |key: &'static str| -> Result<Option<i64>, ApiError> {
        q.get(key)
            .map(|d| japan_day_start(d).ok_or_else(|| bad(key, "not a date written YYYY-MM-DD")))
            .transpose()
    };
    let from = day("from")?.unwrap_or(0);
    let to = day("to")?.map_or(now_ms() + DAY_MS, |t| t + DAY_MS);
    let outcome = q.get("outcome").cloned();
    if let Some(o) = &outcome
        && !["allowed", "denied", "failed"].contains(&o.as_str())
    {
        return Err(bad("outcome", "must be allowed, denied or failed"));
    }
    let id = |key: &'static str| -> Result<Option<String>, ApiError> {
        match q.get(key) {
            Some(v) if v.len() > 100 || v.chars().any(char::is_control) => {
                Err(bad(key, "is not an id"))
            }
            other => Ok(other.cloned()),
        }
    };
    Ok(AuditFilter {
        from,
        to,
        clinic_id: id("clinic")?,
        principal_id: id("principal")?,
        target_id: id("target")?,
        outcome,
    })
}

/// A page of the access log for an operator's query (`from`, `to`, `clinic`, `principal`,
/// `target`, `outcome`, `limit`, `after`), and the position to continue from.
pub async fn search_log(
    state: &AppState,
    auth: &Authenticated,
    q: &HashMap<String, String>,
) -> Result<(Vec<Sealed>, Option<String>), ApiError> {
    authorize(&auth.actor, Action::ReadAccessLog, Target::Service)?;
    let filter = filter_of(q)?;
    let limit = match q.get("limit") {
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=PAGE_MAX).contains(l))
            .ok_or_else(|| bad("limit", "must be a number from 1 to 1000"))?,
        None => 100,
    };
    let after = q
        .get("after")
        .map(|a| {
            a.parse::<Position>()
                .map_err(|()| bad("after", "is not a position from a previous page"))
        })
        .transpose()?;
    let page = state
        .audit_store
        .search(&filter, after.as_ref(), limit)
        .await?;
    let next = (page.len() == limit as usize)
        .then(|| page.last().map(|(position, _)| position.to_string()))
        .flatten();
    let entries = page
        .iter()
        .filter_map(|(_, body)| Sealed::from_bytes(body.as_bytes()))
        .collect();
    Ok((entries, next))
}

/// `GET /api/v1/audit?from&to&clinic&principal&target&outcome&limit&after`: a page of the
/// access log, oldest first, and the position to continue from. The read is itself logged.
pub async fn audit(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (entries, next) = search_log(&state, &auth, &q).await?;
    Ok(Json(json!({ "entries": entries, "next": next })))
}

/// `DELETE /api/v1/accounts/{id}/sessions`: ends every session of any account (SESS-2).
pub async fn end_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_sessions_of(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An operator ends every session of an account; 404 for an unknown id.
pub async fn end_sessions_of(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::EndAnySessions, Target::Service)?;
    if !state.store.account_exists(id).await? {
        return Err(ApiError::not_found());
    }
    state
        .store
        .end_sessions_of(id, now_ms(), "ended_by_operator")
        .await?;
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspension {
    /// `service` or a clinic id.
    scope: String,
    /// What users see.
    message: String,
}

/// `GET /api/v1/suspensions`: the suspensions in force.
pub async fn suspensions(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&auth.actor, Action::Suspend, Target::Service)?;
    let list: Vec<_> = state
        .store
        .suspensions()
        .await?
        .into_iter()
        .map(
            |(scope, message, since)| json!({ "scope": scope, "message": message, "since": since }),
        )
        .collect();
    Ok(Json(json!({ "suspensions": list })))
}

/// Suspends the service (`"service"`) or one clinic with the message users see (AVAIL-4).
pub async fn suspend_scope(
    state: &AppState,
    auth: &Authenticated,
    scope: &str,
    message: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::Suspend, Target::Service)?;
    let message = message.trim();
    if message.is_empty() || message.chars().count() > 500 || message.chars().any(char::is_control)
    {
        return Err(bad(
            "message",
            "must have 1 to 500 characters and no control characters",
        ));
    }
    if scope != enshin_store::suspensions::SERVICE && !state.store.clinic_exists(scope).await? {
        return Err(bad("scope", "is neither \"service\" nor a clinic id"));
    }
    state
        .store
        .suspend(scope, message, &auth.session.account_id, now_ms())
        .await?;
    state.suspensions.refresh(&state.store).await?;
    Ok(())
}

/// Lifts a suspension; 404 when there was none.
pub async fn lift_scope(
    state: &AppState,
    auth: &Authenticated,
    scope: &str,
) -> Result<(), ApiError> {
    authorize(&auth.actor, Action::Suspend, Target::Service)?;
    if !state.store.lift_suspension(scope).await? {
        return Err(ApiError::not_found());
    }
    state.suspensions.refresh(&state.store).await?;
    Ok(())
}

/// `POST /api/v1/suspensions {"scope", "message"}`: suspends the service (`"service"`) or one
/// clinic; users get 503 with the message on every instance within seconds (AVAIL-4).
pub async fn suspend(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, ApiError> {
    authorize(&auth.actor, Action::Suspend, Target::Service)?;
    let s: Suspension = crate::session::json_body(body)?;
    suspend_scope(&state, &auth, &s.scope, &s.message).await?;
    Ok(StatusCode::CREATED)
}

/// `DELETE /api/v1/suspensions/{scope}`.
pub async fn lift(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(scope): Path<String>,
) -> Result<StatusCode, ApiError> {
    lift_scope(&state, &auth, &scope).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClinic {
    name: String,
}

/// `POST /api/v1/clinics {"name"}` → 201 `{"id", "name"}`: the same as `enshin clinic add`.
pub async fn create_clinic(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&auth.actor, Action::CreateClinic, Target::Service)?;
    let new: NewClinic = crate::session::json_body(body)?;
    let clinic = add_clinic_as(&state, &auth, &new.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": clinic.id, "name": clinic.name })),
    ))
}

/// An operator adds a clinic and its data key.
pub async fn add_clinic_as(
    state: &AppState,
    auth: &Authenticated,
    name: &str,
) -> Result<crate::people::CreatedClinic, ApiError> {
    authorize(&auth.actor, Action::CreateClinic, Target::Service)?;
    Ok(crate::people::add_clinic(&state.store, &state.keyring, name).await?)
}

/// What an operator sees of one clinic: no names or login IDs of members, no patient data.
pub struct ClinicState {
    /// Name, administrator address, emergency end.
    pub contact: ClinicContact,
    /// Members: id, role, disabled, emergency expiry.
    pub members: Vec<MemberSummary>,
    /// Its certificates.
    pub certificates: Vec<CertificateRecord>,
    /// The suspension message, if the clinic is suspended.
    pub suspended: Option<String>,
}

/// One clinic's state for an operator; 404 for an unknown id.
pub async fn clinic_state(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<ClinicState, ApiError> {
    authorize(&auth.actor, Action::ListClinics, Target::Service)?;
    let contact = state
        .store
        .clinic_contact(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let members = state
        .store
        .list_members(id)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let certificates = state.store.list_certificates(Some(id)).await?;
    let suspended = state
        .store
        .suspensions()
        .await?
        .into_iter()
        .find(|(scope, _, _)| scope == id)
        .map(|(_, message, _)| message);
    Ok(ClinicState {
        contact,
        members,
        certificates,
        suspended,
    })
}

/// `GET /api/v1/clinics/{id}`: a clinic's state, members (id, role, state; no names or login
/// IDs) and certificates, for an operator.
pub async fn clinic_overview(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let c = clinic_state(&state, &auth, &id).await?;
    let now = now_ms();
    let members: Vec<_> = c
        .members
        .iter()
        .map(|m| json!({ "id": m.id, "role": m.role, "disabled": m.disabled, "emergency_until": m.emergency_until }))
        .collect();
    let certificates: Vec<_> = c
        .certificates
        .iter()
        .map(|c| {
            json!({
                "serial": c.serial, "label": c.label, "not_after": c.not_after,
                "last_used_at": c.last_used_at, "revoked_at": c.revoked_at,
                "expires_soon": crate::certs::expires_soon(c, now),
            })
        })
        .collect();
    let emergency_until = c.contact.emergency_until.filter(|until| *until > now);
    Ok(Json(json!({
        "id": id, "name": c.contact.name, "admin_email": c.contact.admin_email,
        "emergency_until": emergency_until, "suspended": c.suspended,
        "members": members, "certificates": certificates,
    })))
}
