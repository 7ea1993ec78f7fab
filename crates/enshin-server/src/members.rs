//! A clinic admin's work on the clinic's members: list, disable, force log-off (AUTH-7, SESS-2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::people::{Role, UnknownRole};
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
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

/// `GET /api/v1/members`: the members of the admin's clinic.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic = own_clinic(&auth.actor);
    authorize(&auth.actor, Action::ListMembers, Target::Clinic(clinic))?;
    let members = state
        .store
        .list_members(clinic)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    let members: Vec<_> = members
        .iter()
        .map(|m| json!({ "id": m.id, "login_id": m.login_id, "name": m.display_name, "role": m.role, "disabled": m.disabled }))
        .collect();
    Ok(Json(json!({ "members": members })))
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

/// `PUT /api/v1/members/{id}/role {"role"}`: takes effect on the member's next request.
pub async fn change_role(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let (clinic, _) = clinic_of(&state, &id).await?;
    authorize(
        &auth.actor,
        Action::ChangeMemberRole,
        Target::Clinic(&clinic),
    )?;
    not_on_yourself(&auth, &id)?;
    let change: RoleChange = json_body(body)?;
    let role: Role = change.role.parse().map_err(|e: UnknownRole| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.to_string(),
        )
        .with_field("role")
    })?;
    state
        .store
        .set_member_role(&id, role)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/members/{id}/disable`: disables the member and ends their sessions at once.
pub async fn disable(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (clinic, login_id) = clinic_of(&state, &id).await?;
    authorize(&auth.actor, Action::DisableMember, Target::Clinic(&clinic))?;
    not_on_yourself(&auth, &id)?;
    crate::people::disable_member(&state.store, &login_id)
        .await
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/members/{id}/sessions`: forced log-off of every session of the member.
pub async fn end_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (clinic, _) = clinic_of(&state, &id).await?;
    authorize(
        &auth.actor,
        Action::EndMemberSessions,
        Target::Clinic(&clinic),
    )?;
    state
        .store
        .end_sessions_of(&id, now_ms(), "ended_by_admin")
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
