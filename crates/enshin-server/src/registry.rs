//! The clinic's patient registry on the clinic listener, and an operator's reading of it under an
//! access grant on the operator listener (DATA-4). The store decides who may open a record.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::patient::{self, FieldError};
use enshin_store::registry::{Listed, Opened, PatientFields, Reader, RegistryError};
use serde::Deserialize;
use serde_json::json;

use crate::access::AccessFacts;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// A registry entry as typed.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewPatient {
    /// Family name (kanji).
    pub family_name: String,
    /// Given name (kanji).
    pub given_name: String,
    /// Family name in kana.
    pub family_name_kana: String,
    /// Given name in kana.
    pub given_name_kana: String,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: String,
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

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound => Self::not_found(),
            RegistryError::NoGrant => Self::new(
                StatusCode::FORBIDDEN,
                "no_access_grant",
                "operators read patient data only under an access grant the clinic's admin approved, or by break-glass",
            ),
            RegistryError::Keyring(e) => Self::unavailable(&e),
            RegistryError::Database(e) => Self::unavailable(&e),
        }
    }
}

/// A member adds a patient to their clinic's registry; the new record's id.
pub async fn add_patient(
    state: &AppState,
    auth: &Authenticated,
    p: &NewPatient,
) -> Result<String, ApiError> {
    let Actor::Member { clinic_id, .. } = &auth.actor else {
        authorize(&auth.actor, Action::RegisterPatient, Target::Service)?;
        return Err(ApiError::not_found());
    };
    authorize(
        &auth.actor,
        Action::RegisterPatient,
        Target::Clinic(clinic_id),
    )?;
    let fields = PatientFields {
        family_name: patient::name("family_name", &p.family_name).map_err(invalid)?,
        given_name: patient::name("given_name", &p.given_name).map_err(invalid)?,
        family_name_kana: patient::kana("family_name_kana", &p.family_name_kana)
            .map_err(invalid)?,
        given_name_kana: patient::kana("given_name_kana", &p.given_name_kana).map_err(invalid)?,
        birth_date: patient::birth_date(&p.birth_date, &crate::clock::today_in_japan())
            .map_err(invalid)?,
    };
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .add_clinic_patient(&state.keyring, &id, clinic_id, &fields, now_ms())
        .await?;
    Ok(id)
}

/// `POST /api/v1/patients` (clinic listener): adds a patient to the clinic's registry → 201 `{"id"}`.
pub async fn add(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let p: NewPatient = json_body(body)?;
    let id = add_patient(&state, &auth, &p).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// The clinic's registry, opened, for one of its members; each record shown is a read in the
/// access log.
pub async fn registry(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
) -> Result<Vec<Listed>, ApiError> {
    let Actor::Member { clinic_id, .. } = &auth.actor else {
        authorize(&auth.actor, Action::ReadPatient, Target::Service)?;
        return Err(ApiError::not_found());
    };
    authorize(&auth.actor, Action::ReadPatient, Target::Clinic(clinic_id))?;
    let list = state
        .store
        .list_clinic_patients(
            &state.keyring,
            Reader::Member { clinic_id },
            clinic_id,
            now_ms(),
        )
        .await?;
    facts.read_patients(list.iter().map(|p| p.id.as_str()));
    Ok(list)
}

/// `GET /api/v1/patients` (clinic listener): the registry, in kana order.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<_> = registry(&state, &auth, &facts)
        .await?
        .iter()
        .map(|p| {
            json!({
                "id": p.id, "family_name": p.fields.family_name, "given_name": p.fields.given_name,
                "family_name_kana": p.fields.family_name_kana, "given_name_kana": p.fields.given_name_kana,
                "birth_date": p.fields.birth_date, "linked": p.linked,
            })
        })
        .collect();
    Ok(Json(json!({ "patients": list })))
}

fn record_json(id: &str, opened: &Opened) -> Json<serde_json::Value> {
    let f = &opened.fields;
    Json(json!({
        "id": id,
        "family_name": f.family_name,
        "given_name": f.given_name,
        "family_name_kana": f.family_name_kana,
        "given_name_kana": f.given_name_kana,
        "birth_date": f.birth_date,
    }))
}

/// `GET /api/v1/patients/{id}` (clinic listener): a patient of the member's own clinic.
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Actor::Member { clinic_id, .. } = &auth.actor else {
        authorize(&auth.actor, Action::ReadPatient, Target::Service)?;
        return Err(ApiError::not_found());
    };
    authorize(&auth.actor, Action::ReadPatient, Target::Clinic(clinic_id))?;
    let opened = state
        .store
        .open_clinic_patient(
            &state.keyring,
            Reader::Member { clinic_id },
            clinic_id,
            &id,
            now_ms(),
        )
        .await?;
    Ok(record_json(&id, &opened))
}

/// `GET /api/v1/clinics/{id}/patients/{patient}` (operator listener): only under an open grant
/// reaching the patient; the access-log entry names the clinic and the grant, refused or not.
pub async fn read_as_operator(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path((clinic_id, patient_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&auth.actor, Action::ReadPatient, Target::Clinic(&clinic_id))?;
    if !state.store.clinic_exists(&clinic_id).await? {
        return Err(ApiError::not_found());
    }
    facts.concerning(&clinic_id, None);
    let opened = state
        .store
        .open_clinic_patient(
            &state.keyring,
            Reader::Operator {
                account_id: &auth.session.account_id,
            },
            &clinic_id,
            &patient_id,
            now_ms(),
        )
        .await?;
    if let Some(grant) = &opened.grant_id {
        let kind = match state.store.grant(grant).await? {
            Some(g) if g.kind == enshin_core::grant::Kind::BreakGlass => "break_glass",
            _ => "grant",
        };
        facts.concerning(&clinic_id, Some(format!("{kind}:{grant}")));
    }
    Ok(record_json(&patient_id, &opened))
}
