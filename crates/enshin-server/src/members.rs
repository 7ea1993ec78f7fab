//! A clinic admin's work on the clinic's members: list, add, disable, change role, force log-off
//! (AUTH-7, SESS-2). The JSON handlers and the pages call the same functions.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::people::{Role, UnknownRole};
use enshin_store::people::MemberSummary;
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::people::{CreatedMember, MemberRequest};
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

fn own_clinic(actor: &Actor) -> &str {
    match actor {
        Actor::Member { clinic_id, .. } => clinic_id,
        _ => "",
    }
}

/// The clinic of the member `id`, or "" when there is none (then authorize answers 404).
async fn clinic_of(state: &AppState, id: &str) -> Result<(String, String), ApiError> {
    let found = state
        .store
        .member_clinic(id)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(found.unwrap_or_default())
}

/// 409 for an admin acting on their own account in a way that could leave the clinic without one.
fn not_on_yourself(auth: &Authenticated, id: &str) -> Result<(), ApiError> {
    if auth.session.account_id == id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "an admin cannot do this to their own account; ask another admin of the clinic",
        ));
    }
    Ok(())
}

fn parse_role(typed: &str) -> Result<Role, ApiError> {
    typed.parse().map_err(|e: UnknownRole| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.to_string(),
        )
        .with_field("role")
        .with_problem("role")
    })
}

/// The members of the admin's own clinic.
pub async fn members(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<MemberSummary>, ApiError> {
    let clinic = own_clinic(&auth.actor);
    authorize(&auth.actor, Action::ListMembers, Target::Clinic(clinic))?;
    state
        .store
        .list_members(clinic)
        .await
        .map_err(|e| ApiError::unavailable(&e))
}

/// A member as an admin types it in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMemberBody {
    /// Login ID.
    pub login_id: String,
    /// Display name.
    pub name: String,
    /// `admin`, `doctor` or `staff`.
    pub role: String,
    /// Initial password (AUTH-3); the admin hands it over in person.
    pub password: String,
}

/// Adds a member to the admin's own clinic.
pub async fn add_member(
    state: &AppState,
    auth: &Authenticated,
    body: &NewMemberBody,
) -> Result<CreatedMember, ApiError> {
    let clinic = own_clinic(&auth.actor);
    authorize(&auth.actor, Action::AddMember, Target::Clinic(clinic))?;
    let request = MemberRequest {
        clinic_id: clinic,
        role: parse_role(&body.role)?,
        login_id: &body.login_id,
        name: &body.name,
        password: &body.password,
    };
    Ok(crate::people::add_member(&state.store, &state.common_passwords, &request).await?)
}

/// Gives the member `id` a new role; it takes effect on the member's next request.
pub async fn change_member_role(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    role: &str,
) -> Result<(), ApiError> {
    let (clinic, _) = clinic_of(state, id).await?;
    authorize(
        &auth.actor,
        Action::ChangeMemberRole,
        Target::Clinic(&clinic),
    )?;
    not_on_yourself(auth, id)?;
    let role = parse_role(role)?;
    state
        .store
        .set_member_role(id, role)
        .await
        .map_err(|e| ApiError::unavailable(&e))
}

/// Disables the member `id` and ends their sessions at once.
pub async fn disable_member(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(), ApiError> {
    let (clinic, login_id) = clinic_of(state, id).await?;
    authorize(&auth.actor, Action::DisableMember, Target::Clinic(&clinic))?;
    not_on_yourself(auth, id)?;
    crate::people::disable_member(&state.store, &login_id).await?;
    Ok(())
}

/// Ends every session of the member `id` (forced log-off).
pub async fn end_member_sessions(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(), ApiError> {
    let (clinic, _) = clinic_of(state, id).await?;
    authorize(
        &auth.actor,
        Action::EndMemberSessions,
        Target::Clinic(&clinic),
    )?;
    state
        .store
        .end_sessions_of(id, now_ms(), "ended_by_admin")
        .await?;
    Ok(())
}

/// `GET /api/v1/members`: the members of the admin's clinic.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let members: Vec<_> = members(&state, &auth)
        .await?
        .iter()
        .map(|m| json!({ "id": m.id, "login_id": m.login_id, "name": m.display_name, "role": m.role, "disabled": m.disabled }))
        .collect();
    Ok(Json(json!({ "members": members })))
}

/// `POST /api/v1/members {"login_id", "name", "role", "password"}` → 201 `{"id", "login_id"}`.
pub async fn add(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body: NewMemberBody = json_body(body)?;
    let created = add_member(&state, &auth, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": created.id, "login_id": created.login_id.as_str() })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

/// `PUT /api/v1/members/{id}/role {"role"}`.
pub async fn change_role(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    // The body is read after the permission check, so a stranger learns nothing from its errors.
    let (clinic, _) = clinic_of(&state, &id).await?;
    authorize(
        &auth.actor,
        Action::ChangeMemberRole,
        Target::Clinic(&clinic),
    )?;
    let change: RoleChange = json_body(body)?;
    change_member_role(&state, &auth, &id, &change.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/members/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    disable_member(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/members/{id}/sessions`.
pub async fn end_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_member_sessions(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
