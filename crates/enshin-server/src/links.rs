//! Linking patient accounts to clinics by invitation (FUNC-1 (a)): a member of the clinic makes
//! a single-use code for one registry record; the patient types it in the app. Wrong codes are
//! throttled per patient like failed log-ins.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::invitation::{self, TTL_MS};
use enshin_core::session::{ThrottleScope, token_digest};
use enshin_store::links::{Link, NewInvitation, Redeemed};
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// A printed invitation: the code as people read it, and its end.
pub struct Invitation {
    /// `ABCD-EFGH-JKMN`.
    pub code: String,
    /// Until when it works, unix ms.
    pub expires_at: i64,
}

/// A member of the clinic makes an invitation for one of its registry records; an earlier
/// unused one of that record stops working.
pub async fn invite(
    state: &AppState,
    auth: &Authenticated,
    clinic_patient_id: &str,
) -> Result<Invitation, ApiError> {
    let Actor::Member { clinic_id, .. } = &auth.actor else {
        authorize(&auth.actor, Action::InvitePatient, Target::Service)?;
        return Err(ApiError::not_found());
    };
    authorize(
        &auth.actor,
        Action::InvitePatient,
        Target::Clinic(clinic_id),
    )?;
    if !state
        .store
        .clinic_patient_exists(clinic_id, clinic_patient_id)
        .await?
    {
        return Err(ApiError::not_found());
    }
    let code = invitation::new_code().map_err(|_| ApiError::unavailable(&"random generator"))?;
    let now = now_ms();
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .create_invitation(
            &NewInvitation {
                id: &id,
                clinic_id,
                clinic_patient_id,
                code_digest: &token_digest(&code),
                created_by: &auth.session.account_id,
                expires_at: now + TTL_MS,
            },
            now,
        )
        .await?;
    Ok(Invitation {
        code: invitation::grouped(&code),
        expires_at: now + TTL_MS,
    })
}

/// `POST /api/v1/patients/{id}/invitations` (clinic) → 201 `{"code", "expires_at"}`.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let inv = invite(&state, &auth, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "code": inv.code, "expires_at": inv.expires_at })),
    ))
}

fn invalid_invitation() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_invitation",
        "this invitation code is wrong, used or expired; ask the clinic for a new one",
    )
    .with_field("code")
}

/// A patient links their account with a code typed as printed (case, spaces, dashes and
/// full-width letters do not matter).
pub async fn redeem(state: &AppState, auth: &Authenticated, typed: &str) -> Result<Link, ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::LinkClinic, Target::Account(id))?;
    let subject = format!("link:{id}");
    let now = now_ms();
    if let Some(until) = state
        .store
        .locked_until(ThrottleScope::Account, &subject, now)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many wrong codes; try again later",
        )
        .with_retry_after((until - now) / 1000 + 1));
    }
    let redeemed = match invitation::canonical(typed) {
        Some(code) => {
            state
                .store
                .redeem_invitation(&token_digest(&code), id, now)
                .await?
        }
        None => Redeemed::Invalid,
    };
    match redeemed {
        Redeemed::Linked(link) => Ok(link),
        Redeemed::Invalid => {
            state
                .store
                .record_failure(ThrottleScope::Account, &subject, now)
                .await?;
            Err(invalid_invitation())
        }
        Redeemed::AlreadyLinked => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_linked",
            "your account is linked to this clinic already",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
}

fn link_json(l: &Link) -> serde_json::Value {
    json!({ "clinic_id": l.clinic_id, "clinic_name": l.clinic_name, "linked_at": l.linked_at })
}

/// `POST /api/v1/links {"code"}` (patient) → 201 the clinic.
pub async fn link(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let c: Code = json_body(body)?;
    let link = redeem(&state, &auth, &c.code).await?;
    Ok((StatusCode::CREATED, Json(link_json(&link))))
}

/// The clinics the patient is linked to.
pub async fn my_clinics(state: &AppState, auth: &Authenticated) -> Result<Vec<Link>, ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::LinkClinic, Target::Account(id))?;
    Ok(state.store.links_of(id).await?)
}

/// `GET /api/v1/links` (patient).
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let links: Vec<_> = my_clinics(&state, &auth)
        .await?
        .iter()
        .map(link_json)
        .collect();
    Ok(Json(json!({ "clinics": links })))
}
