//! Operators' access to a clinic's patient data (DATA-4): operators ask or break the glass on
//! the operator listener; the clinic's admins approve, refuse or end it on the clinic listener
//! and see every operator access to their clinic, with the records read, from the access log.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use enshin_core::audit::entry::Sealed;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::grant::{self, GrantError, Kind, Scope, State as GrantState};
use enshin_store::audit::AuditFilter;
use enshin_store::grants::{Decided, GrantRecord};
use serde::Deserialize;
use serde_json::json;

use crate::access::AccessFacts;
use crate::clock::{japan_time, now_ms};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// How far back the "operator access" page looks in the access log.
const LOOKBACK_MS: i64 = 90 * 86_400_000;
/// Most access-log entries shown on that page.
const ENTRIES_MAX: u32 = 1_000;

/// An operator's request as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// Why (no patient's name: the form says so).
    pub reason: String,
    /// One patient, or the whole clinic when absent or empty.
    pub patient_id: Option<String>,
    /// How long, once access starts.
    pub minutes: i64,
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        let (field, problem) = match e {
            GrantError::Reason => ("reason", "grant_reason"),
            GrantError::Duration { .. } => ("minutes", "grant_minutes"),
            GrantError::PatientId => ("patient_id", "grant_patient_id"),
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: {e}"),
        )
        .with_field(field)
        .with_problem(problem)
    }
}

/// A grant as the API shows it.
pub fn grant_json(g: &GrantRecord, now: i64) -> serde_json::Value {
    let (scope, patient_id) = match &g.scope {
        Scope::Clinic => ("clinic", None),
        Scope::Patient(id) => ("patient", Some(id)),
    };
    let state = g.state(now);
    json!({
        "id": g.id,
        "clinic_id": g.clinic_id,
        "operator_id": g.operator_id,
        "operator": g.operator_login,
        "kind": g.kind.as_str(),
        "scope": scope,
        "patient_id": patient_id,
        "reason": g.reason,
        "minutes": g.duration_ms / 60_000,
        "requested_at": g.times.requested_at,
        "starts_at": g.times.starts_at,
        "ends_at": g.times.ends_at,
        "refused_at": g.times.refused_at,
        "lapses_at": (state == GrantState::Pending).then_some(g.times.requested_at + grant::PENDING_MS),
        "decided_by": g.decided_by,
        "ended_by": g.ended_by,
        "state": state.as_str(),
    })
}

/// An operator asks for access to a clinic, or takes it at once (break-glass); a break-glass
/// access tells the clinic's administrator at once, without patient data.
pub async fn ask_access(
    state: &AppState,
    auth: &Authenticated,
    facts: Option<&AccessFacts>,
    clinic_id: &str,
    kind: Kind,
    ask: &Ask,
) -> Result<GrantRecord, ApiError> {
    authorize(&auth.actor, Action::RequestAccess, Target::Service)?;
    let Some(contact) = state.store.clinic_contact(clinic_id).await? else {
        return Err(ApiError::not_found());
    };
    if let Some(facts) = facts {
        facts.concerning(clinic_id, None);
    }
    let asked = grant::ask(kind, &ask.reason, ask.patient_id.as_deref(), ask.minutes)?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_ms();
    let record = state
        .store
        .ask_access(&id, clinic_id, &auth.session.account_id, &asked, now)
        .await?;
    if kind == Kind::BreakGlass {
        if let Some(facts) = facts {
            facts.concerning(clinic_id, Some(format!("break_glass:{id}")));
        }
        notify_break_glass(
            state,
            &contact.name,
            contact.admin_email.as_deref(),
            &record,
        )
        .await?;
    }
    Ok(record)
}

/// The break-glass notice to the clinic's administrator: who, when, until when, and where to
/// look; not the reason or the patient (DATA-2: the reason is free text).
async fn notify_break_glass(
    state: &AppState,
    clinic: &str,
    to: Option<&str>,
    g: &GrantRecord,
) -> Result<(), ApiError> {
    let Some(to) = to else {
        tracing::warn!(clinic = %g.clinic_id, grant = %g.id, "break-glass access to a clinic without an admin contact address; the notice is on its operator-access page only");
        return Ok(());
    };
    let letter = enshin_core::letters::break_glass(
        clinic,
        &g.operator_login,
        &japan_time(g.times.starts_at.unwrap_or_default()),
        &japan_time(g.times.ends_at.unwrap_or_default()),
    );
    state
        .messages
        .email(to, &letter.subject, &letter.body)
        .await?;
    Ok(())
}

/// `POST /api/v1/clinics/{id}/access-requests {"reason", "patient_id"?, "minutes"}` → 201, pending.
pub async fn request(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(clinic_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let ask: Ask = json_body(body)?;
    let g = ask_access(&state, &auth, Some(&facts), &clinic_id, Kind::Request, &ask).await?;
    Ok((StatusCode::CREATED, Json(grant_json(&g, now_ms()))))
}

/// `POST /api/v1/clinics/{id}/break-glass {"reason", "patient_id"?, "minutes" ≤ 240}` → 201, active.
pub async fn break_glass(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(clinic_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let ask: Ask = json_body(body)?;
    let g = ask_access(
        &state,
        &auth,
        Some(&facts),
        &clinic_id,
        Kind::BreakGlass,
        &ask,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(grant_json(&g, now_ms()))))
}

/// The grants a person may see: an operator their own, a clinic admin their clinic's.
pub async fn visible_grants(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<GrantRecord>, ApiError> {
    match &auth.actor {
        Actor::Operator { account_id } => {
            authorize(&auth.actor, Action::RequestAccess, Target::Service)?;
            Ok(state.store.grants_of_operator(account_id).await?)
        }
        Actor::Member { clinic_id, .. } => {
            authorize(&auth.actor, Action::DecideAccess, Target::Clinic(clinic_id))?;
            Ok(state.store.grants_of_clinic(clinic_id).await?)
        }
        Actor::Patient { .. } | Actor::Device { .. } => {
            authorize(&auth.actor, Action::DecideAccess, Target::Service)?;
            Err(ApiError::not_found())
        }
    }
}

/// `GET /api/v1/access-grants`: an operator's own grants, or (clinic admin) the clinic's.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = now_ms();
    let grants: Vec<_> = visible_grants(&state, &auth)
        .await?
        .iter()
        .map(|g| grant_json(g, now))
        .collect();
    Ok(Json(json!({ "grants": grants })))
}

/// What a clinic admin can do to a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Open a pending request now.
    Approve,
    /// Refuse a pending request.
    Refuse,
    /// End open access now.
    End,
}

/// A clinic admin decides on a grant of their clinic.
pub async fn decide(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    decision: Decision,
) -> Result<GrantRecord, ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideAccess)?;
    let (admin, now) = (&auth.session.account_id, now_ms());
    let done = match decision {
        Decision::Approve => state.store.decide_access(id, clinic_id, admin, true, now),
        Decision::Refuse => state.store.decide_access(id, clinic_id, admin, false, now),
        Decision::End => {
            return match state.store.end_access(id, clinic_id, admin, now).await? {
                Decided::Done(g) => Ok(*g),
                Decided::NotFound => Err(ApiError::not_found()),
                Decided::NotAllowed(s) => Err(not_allowed("open", s)),
            };
        }
    }
    .await?;
    match done {
        Decided::Done(g) => Ok(*g),
        Decided::NotFound => Err(ApiError::not_found()),
        Decided::NotAllowed(s) => Err(not_allowed("pending", s)),
    }
}

fn not_allowed(wanted: &str, now: GrantState) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "grant_not_open_to_this",
        format!(
            "only a {wanted} grant can be changed this way; this one is {}",
            now.as_str()
        ),
    )
}

async fn decide_route(
    state: AppState,
    auth: Authenticated,
    id: String,
    decision: Decision,
) -> Result<Json<serde_json::Value>, ApiError> {
    let g = decide(&state, &auth, &id, decision).await?;
    Ok(Json(grant_json(&g, now_ms())))
}

/// `POST /api/v1/access-grants/{id}/approve` (clinic admin): access opens now.
pub async fn approve(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide_route(state, auth, id, Decision::Approve).await
}

/// `POST /api/v1/access-grants/{id}/refuse` (clinic admin).
pub async fn refuse(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide_route(state, auth, id, Decision::Refuse).await
}

/// `POST /api/v1/access-grants/{id}/end` (clinic admin): open access ends now.
pub async fn end(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide_route(state, auth, id, Decision::End).await
}

/// Every access-log entry of an operator concerning the admin's clinic in the last 90 days,
/// oldest first: what they asked, read, or were refused, and under which grant.
pub async fn operator_entries(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<Sealed>, ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideAccess)?;
    let now = now_ms();
    let filter = AuditFilter {
        from: now - LOOKBACK_MS,
        to: now + 1,
        clinic_id: Some(clinic_id.to_owned()),
        principal_id: None,
        target_id: None,
        outcome: None,
    };
    let page = state.audit_store.search(&filter, None, ENTRIES_MAX).await?;
    Ok(page
        .iter()
        .filter_map(|(_, body)| Sealed::from_bytes(body.as_bytes()))
        .filter(|s| s.entry.principal_kind.as_deref() == Some("operator"))
        .collect())
}

/// `GET /api/v1/operator-access` (clinic admin): the clinic's grants and every operator access
/// to the clinic from the access log; break-glass notices count as seen.
pub async fn operator_access(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entries = operator_entries(&state, &auth).await?;
    let grants = visible_grants(&state, &auth).await?;
    if let Some(clinic) = &auth.session.clinic_id {
        state
            .store
            .acknowledge_break_glass(clinic, now_ms())
            .await?;
    }
    let now = now_ms();
    let reads: Vec<_> = entries
        .iter()
        .map(|s| {
            let e = &s.entry;
            json!({
                "at": e.at_ms, "operator_id": e.principal_id, "action": e.action,
                "target_type": e.target_type, "target_id": e.target_id,
                "outcome": e.outcome.as_str(), "access": e.access,
            })
        })
        .collect();
    Ok(Json(json!({
        "grants": grants.iter().map(|g| grant_json(g, now)).collect::<Vec<_>>(),
        "entries": reads,
    })))
}
