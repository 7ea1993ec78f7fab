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
use crate::registry::NewPatient;
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
    let clinic_id = auth.member_clinic(Action::InvitePatient)?;
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

/// Invitation codes and clinic codes share one wrong-code counter per patient, escalating
/// like failed log-ins; 429 while it is locked.
async fn wrong_codes_allow(state: &AppState, account_id: &str, now: i64) -> Result<(), ApiError> {
    let subject = format!("link:{account_id}");
    match state
        .store
        .locked_until(ThrottleScope::Account, &subject, now)
        .await?
    {
        Some(until) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many wrong codes; try again later",
        )
        .with_retry_after((until - now) / 1000 + 1)),
        None => Ok(()),
    }
}

/// Counts a wrong invitation or clinic code of the patient.
async fn wrong_code(state: &AppState, account_id: &str, now: i64) -> Result<(), ApiError> {
    state
        .store
        .record_failure(ThrottleScope::Account, &format!("link:{account_id}"), now)
        .await?;
    Ok(())
}

/// A patient links their account with a code typed as printed (case, spaces, dashes and
/// full-width letters do not matter).
pub async fn redeem(state: &AppState, auth: &Authenticated, typed: &str) -> Result<Link, ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::LinkClinic, Target::Account(id))?;
    let now = now_ms();
    wrong_codes_allow(state, id, now).await?;
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
            wrong_code(state, id, now).await?;
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

/// The clinic's public code, for members to tell patients (made when first asked for).
pub async fn clinic_code(state: &AppState, auth: &Authenticated) -> Result<String, ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideJoin)?;
    let fresh =
        invitation::new_clinic_code().map_err(|_| ApiError::unavailable(&"random generator"))?;
    let code = state
        .store
        .public_code(clinic_id, &fresh)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(invitation::grouped(&code))
}

/// `GET /api/v1/clinic-code` (clinic) → `{"code"}`.
pub async fn code(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({ "code": clinic_code(&state, &auth).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinAsk {
    clinic_code: String,
}

/// A patient asks to join the clinic with this public code; the request id and the clinic's
/// name. Unknown codes count as wrong codes (throttled like invitations).
pub async fn request_join(
    state: &AppState,
    auth: &Authenticated,
    typed: &str,
) -> Result<(String, String), ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::LinkClinic, Target::Account(id))?;
    let now = now_ms();
    wrong_codes_allow(state, id, now).await?;
    let clinic = match invitation::canonical_clinic_code(typed) {
        Some(code) => state.store.clinic_by_code(&code).await?,
        None => None,
    };
    let Some((clinic_id, clinic_name)) = clinic else {
        wrong_code(state, id, now).await?;
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_clinic",
            "no clinic has this code; check it with the clinic",
        )
        .with_field("clinic_code"));
    };
    let request = uuid::Uuid::now_v7().to_string();
    if !state
        .store
        .ask_to_join(&request, &clinic_id, id, now)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_asked",
            "you are linked to this clinic, or your request waits for it already",
        ));
    }
    Ok((request, clinic_name))
}

/// `POST /api/v1/join-requests {"clinic_code"}` (patient) → 201: the request waits for a member
/// of the clinic.
pub async fn ask_to_join(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let ask: JoinAsk = json_body(body)?;
    let (id, clinic_name) = request_join(&state, &auth, &ask.clinic_code).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "clinic_name": clinic_name, "state": "pending" })),
    ))
}

/// The requesting patient's names and birth date, from their own sealed profile: shown to the
/// members of the clinic the patient asked to join, so that they can find the record.
async fn requester(state: &AppState, account_id: &str) -> Result<NewPatient, ApiError> {
    let sealed = state
        .store
        .patient_profile(account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key = state
        .keyring
        .data_key(crate::patients::PATIENT_KEY)
        .map_err(|e| ApiError::unavailable(&e))?;
    let mut opened = Vec::new();
    for (column, value) in enshin_store::patients::PROFILE_COLUMNS
        .iter()
        .zip(sealed)
        .take(5)
    {
        let ctx = enshin_core::crypto::envelope::FieldContext {
            clinic_id: crate::patients::PATIENT_KEY,
            table: "patients",
            column,
            row_id: account_id,
        };
        let plain = match value {
            Some(v) => key.open(&ctx, &v).map_err(|e| ApiError::unavailable(&e))?,
            None => Vec::new(),
        };
        opened.push(String::from_utf8_lossy(&plain).into_owned());
    }
    let [
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        birth_date,
    ] = <[String; 5]>::try_from(opened).map_err(|_| ApiError::not_found())?;
    Ok(NewPatient {
        family_name,
        given_name,
        family_name_kana,
        given_name_kana,
        birth_date,
        ..NewPatient::default()
    })
}

/// An open request as a clinic's members see it.
pub struct JoinRequest {
    /// Request id.
    pub id: String,
    /// Asked, unix ms.
    pub created_at: i64,
    /// The patient's names and birth date.
    pub patient: NewPatient,
}

/// The clinic's open requests, oldest first (for its members).
pub async fn open_requests(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<JoinRequest>, ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideJoin)?;
    let mut list = Vec::new();
    for (id, account, created_at) in state.store.open_join_requests(clinic_id).await? {
        list.push(JoinRequest {
            id,
            created_at,
            patient: requester(state, &account).await?,
        });
    }
    Ok(list)
}

/// A patient's own requests: (clinic name, state, asked), newest first.
pub async fn my_requests(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<(String, String, i64)>, ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::LinkClinic, Target::Account(id))?;
    Ok(state.store.join_requests_of(id).await?)
}

/// `GET /api/v1/join-requests`: a patient's own requests, or (clinic member) the clinic's open
/// requests with each requester's names and birth date.
pub async fn join_requests(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    if matches!(auth.actor, Actor::Patient { .. }) {
        let list: Vec<_> = my_requests(&state, &auth)
            .await?
            .into_iter()
            .map(|(clinic, state, at)| json!({ "clinic_name": clinic, "state": state, "created_at": at }))
            .collect();
        return Ok(Json(json!({ "requests": list })));
    }
    let list: Vec<_> = open_requests(&state, &auth)
        .await?
        .into_iter()
        .map(|r| {
            let p = r.patient;
            json!({
                "id": r.id, "created_at": r.created_at, "family_name": p.family_name,
                "given_name": p.given_name, "family_name_kana": p.family_name_kana,
                "given_name_kana": p.given_name_kana, "birth_date": p.birth_date,
            })
        })
        .collect();
    Ok(Json(json!({ "requests": list })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Approve {
    /// An existing registry record to link; absent: a new one from the patient's profile.
    clinic_patient_id: Option<String>,
}

fn decided_already() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_open",
        "this request was decided already, or the record is linked to another account",
    )
}

/// A member approves an open request of their clinic: the patient is linked to `record`, or to
/// a new registry record made from the patient's own names and birth date. The record's id.
pub async fn approve(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    record: Option<String>,
) -> Result<String, ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideJoin)?.to_owned();
    let Some(account) = state.store.open_join_request(&clinic_id, id).await? else {
        return Err(ApiError::not_found());
    };
    let record = match record {
        Some(record) => {
            if !state
                .store
                .clinic_patient_exists(&clinic_id, &record)
                .await?
            {
                return Err(ApiError::not_found());
            }
            record
        }
        None => {
            let new = requester(state, &account).await?;
            crate::registry::add_patient(state, auth, &new).await?
        }
    };
    if !state
        .store
        .decide_join(
            &clinic_id,
            id,
            &auth.session.account_id,
            Some(&record),
            now_ms(),
        )
        .await?
    {
        return Err(decided_already());
    }
    Ok(record)
}

/// A member refuses an open request of their clinic.
pub async fn refuse(state: &AppState, auth: &Authenticated, id: &str) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::DecideJoin)?.to_owned();
    if state
        .store
        .open_join_request(&clinic_id, id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found());
    }
    if !state
        .store
        .decide_join(&clinic_id, id, &auth.session.account_id, None, now_ms())
        .await?
    {
        return Err(decided_already());
    }
    Ok(())
}

/// `POST /api/v1/join-requests/{id}/approve {"clinic_patient_id"?}` (clinic member) → 200
/// `{"clinic_patient_id"}`.
pub async fn approve_join(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let a: Approve = match body {
        Ok(bytes) if bytes.is_empty() => Approve::default(),
        other => json_body(other)?,
    };
    let record = approve(&state, &auth, &id, a.clinic_patient_id).await?;
    Ok(Json(json!({ "clinic_patient_id": record })))
}

/// `POST /api/v1/join-requests/{id}/refuse` (clinic member) → 204.
pub async fn refuse_join(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    refuse(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
