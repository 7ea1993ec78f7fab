//! The clinic's patient registry on the clinic listener, and an operator's reading of it under an
//! access grant on the operator listener (DATA-4). The store decides who may open a record.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::patient::{self, FieldError};
use enshin_core::roster::{self, RosterError, RowError};
use enshin_store::registry::{Listed, Opened, PatientFields, Reader, RegistryError};
use serde::Deserialize;
use serde_json::json;

use crate::access::AccessFacts;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::params::Params;
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
    /// `male`, `female`, `other`, `unknown` (or 男, 女, その他, 不明); may be empty.
    #[serde(default)]
    pub sex: String,
    /// Clinic card number; may be empty.
    #[serde(default)]
    pub card_number: String,
    /// Phone number or e-mail address; may be empty.
    #[serde(default)]
    pub contact: String,
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
            RegistryError::CardTaken(_) => card_taken(),
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

fn card_taken() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "card_number_taken",
        "card_number: another patient of the clinic has this card number",
    )
    .with_field("card_number")
}

/// A member adds a patient to their clinic's registry; the new record's id.
pub async fn add_patient(
    state: &AppState,
    auth: &Authenticated,
    p: &NewPatient,
) -> Result<String, ApiError> {
    let clinic_id = auth.member_clinic(Action::RegisterPatient)?;
    let fields = PatientFields {
        family_name: patient::name("family_name", &p.family_name).map_err(invalid)?,
        given_name: patient::name("given_name", &p.given_name).map_err(invalid)?,
        family_name_kana: patient::kana("family_name_kana", &p.family_name_kana)
            .map_err(invalid)?,
        given_name_kana: patient::kana("given_name_kana", &p.given_name_kana).map_err(invalid)?,
        birth_date: patient::birth_date(&p.birth_date, &crate::clock::today_in_japan())
            .map_err(invalid)?,
        sex: patient::sex(&p.sex).map_err(invalid)?,
        card_number: patient::card_number(&p.card_number).map_err(invalid)?,
        contact: patient::contact(&p.contact).map_err(invalid)?,
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

/// The clinic's registry, opened, for one of its members, narrowed by `q` (kana, name or card
/// number; empty: everyone); each record shown is a read in the access log.
pub async fn registry(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    q: &str,
) -> Result<Vec<Listed>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadPatient)?;
    let reader = Reader::Member { clinic_id };
    let q = q.trim();
    // An exact card number is found through its blind index without opening anyone else.
    if let Ok(card) = patient::card_number(q)
        && card.bytes().any(|b| b.is_ascii_digit())
        && let Some(id) = state
            .store
            .find_by_card(&state.keyring, clinic_id, &card)
            .await?
    {
        let opened = state
            .store
            .open_clinic_patient(&state.keyring, reader, clinic_id, &id, now_ms())
            .await?;
        let linked = state.store.linked_account(clinic_id, &id).await?.is_some();
        facts.read_patients([id.as_str()]);
        return Ok(vec![Listed {
            id,
            fields: opened.fields,
            linked,
        }]);
    }
    let mut list = state
        .store
        .list_clinic_patients(&state.keyring, reader, clinic_id, now_ms())
        .await?;
    if !q.is_empty() {
        let wanted: String = patient::kana("q", q)
            .unwrap_or_else(|_| enshin_core::password::normalize(q).to_string())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        list.retain(|p| {
            let f = &p.fields;
            let kana: String = format!("{}{}", f.family_name_kana, f.given_name_kana)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let name = format!("{}{}", f.family_name, f.given_name);
            kana.contains(&wanted) || name.contains(&wanted) || f.card_number == wanted
        });
    }
    facts.read_patients(list.iter().map(|p| p.id.as_str()));
    Ok(list)
}

/// `?q=` of a registry search.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Search {
    /// Kana, name or card number.
    pub q: String,
}

fn listed_json(p: &Listed) -> serde_json::Value {
    let f = &p.fields;
    json!({
        "id": p.id, "family_name": f.family_name, "given_name": f.given_name,
        "family_name_kana": f.family_name_kana, "given_name_kana": f.given_name_kana,
        "birth_date": f.birth_date, "sex": f.sex, "card_number": f.card_number,
        "contact": f.contact, "linked": p.linked,
    })
}

/// `GET /api/v1/patients?q` (clinic listener): the registry in kana order, or a search.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Params(search): Params<Search>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<_> = registry(&state, &auth, &facts, &search.q)
        .await?
        .iter()
        .map(listed_json)
        .collect();
    Ok(Json(json!({ "patients": list })))
}

/// What an import found: the good rows as records, and the refused ones.
pub struct Checked {
    /// Records ready to add (id, fields) with their line.
    pub records: Vec<(u64, String, PatientFields)>,
    /// Refused rows.
    pub errors: Vec<RowError>,
}

impl From<RosterError> for ApiError {
    fn from(e: RosterError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_csv",
            e.to_string(),
        )
    }
}

/// Reads and checks a CSV file for the member's clinic, also against the card numbers already
/// in the registry; nothing is stored.
pub async fn check_import(
    state: &AppState,
    auth: &Authenticated,
    bytes: &[u8],
) -> Result<Checked, ApiError> {
    let clinic_id = auth.member_clinic(Action::TransferRegistry)?;
    let parsed = roster::parse(bytes, &crate::clock::today_in_japan())?;
    let mut errors = parsed.errors;
    let mut records = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        let fields = PatientFields::from_values(row.values);
        let card_number = &fields.card_number;
        if !card_number.is_empty()
            && state
                .store
                .find_by_card(&state.keyring, clinic_id, card_number)
                .await?
                .is_some()
        {
            errors.push(RowError {
                line: row.line,
                field: Some("card_number"),
                code: "card_number_taken",
                message: "card_number: another patient of the clinic has this card number".into(),
            });
            continue;
        }
        records.push((row.line, uuid::Uuid::now_v7().to_string(), fields));
    }
    errors.sort_by_key(|e| e.line);
    Ok(Checked { records, errors })
}

/// Adds every checked record in one transaction, or none.
pub async fn commit_import(
    state: &AppState,
    auth: &Authenticated,
    checked: &Checked,
) -> Result<usize, ApiError> {
    let clinic_id = auth.member_clinic(Action::TransferRegistry)?;
    let records: Vec<(String, PatientFields)> = checked
        .records
        .iter()
        .map(|(_, id, f)| (id.clone(), f.clone()))
        .collect();
    match state
        .store
        .add_clinic_patients(&state.keyring, clinic_id, &records, now_ms())
        .await
    {
        Ok(()) => Ok(records.len()),
        // A card number added meanwhile by someone else: nothing was imported.
        Err(RegistryError::CardTaken(position)) => {
            let line = checked.records.get(position).map_or(0, |r| r.0);
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "card_number_taken",
                format!(
                    "line {line}: another patient of the clinic has this card number; nothing was imported"
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `?commit=true` to import; a preview otherwise.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ImportQuery {
    /// Import (all or nothing) instead of previewing.
    pub commit: bool,
}

fn errors_json(errors: &[RowError]) -> Vec<serde_json::Value> {
    errors
        .iter()
        .map(|e| json!({ "line": e.line, "field": e.field, "code": e.code, "message": e.message }))
        .collect()
}

/// `POST /api/v1/patients/import?commit` (clinic admin, body: the CSV file): a preview with the
/// per-row report, or the import — 201 when every row was added, 422 with the report and nothing
/// added when any row is refused.
pub async fn import(
    State(state): State<AppState>,
    auth: Authenticated,
    Params(q): Params<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            "invalid_body",
            "the file is too large (at most 4 MiB) or could not be read",
        )
    })?;
    let checked = check_import(&state, &auth, &bytes).await?;
    let errors = errors_json(&checked.errors);
    if !q.commit {
        let preview: Vec<_> = checked
            .records
            .iter()
            .take(20)
            .map(|(line, _, f)| {
                json!({ "line": line, "family_name": f.family_name, "given_name": f.given_name,
                    "family_name_kana": f.family_name_kana, "given_name_kana": f.given_name_kana,
                    "birth_date": f.birth_date, "sex": f.sex, "card_number": f.card_number, "contact": f.contact })
            })
            .collect();
        return Ok(Json(
            json!({ "rows": checked.records.len(), "errors": errors, "preview": preview }),
        )
        .into_response());
    }
    if !checked.errors.is_empty() {
        let body = json!({
            "error": { "code": "import_refused", "message": format!(
                "{} rows have mistakes; nothing was imported. Correct them and import the file again.",
                checked.errors.len()) },
            "errors": errors,
        });
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    let imported = commit_import(&state, &auth, &checked).await?;
    Ok((StatusCode::CREATED, Json(json!({ "imported": imported }))).into_response())
}

/// The registry as CSV for the member's clinic; every record is a read in the access log.
pub async fn export_csv(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
) -> Result<Vec<u8>, ApiError> {
    let clinic_id = auth.member_clinic(Action::TransferRegistry)?;
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
    Ok(roster::export(list.iter().map(|p| p.fields.values())))
}

/// `GET /api/v1/patients/export` (clinic admin): `patients.csv`.
pub async fn export(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
) -> Result<Response, ApiError> {
    let bytes = export_csv(&state, &auth, &facts).await?;
    Ok(csv_response("patients.csv", bytes))
}

/// A record of the member's clinic, opened for a member; the caller notes the read.
pub async fn member_record(
    state: &AppState,
    clinic_id: &str,
    id: &str,
) -> Result<PatientFields, ApiError> {
    Ok(state
        .store
        .open_clinic_patient(
            &state.keyring,
            Reader::Member { clinic_id },
            clinic_id,
            id,
            now_ms(),
        )
        .await?
        .fields)
}

/// The records a list of the member's clinic shows, each opened once and noted as read in
/// the request's access-log entry.
pub async fn listed_records(
    state: &AppState,
    clinic_id: &str,
    ids: &[&str],
    facts: &AccessFacts,
) -> Result<std::collections::BTreeMap<String, PatientFields>, ApiError> {
    let mut records = std::collections::BTreeMap::new();
    for &id in ids {
        if !records.contains_key(id) {
            records.insert(id.to_owned(), member_record(state, clinic_id, id).await?);
        }
    }
    facts.read_patients(records.keys().map(String::as_str));
    Ok(records)
}

/// A CSV file to download, with its name.
pub fn csv_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
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
        "sex": f.sex,
        "card_number": f.card_number,
        "contact": f.contact,
    }))
}

/// `GET /api/v1/patients/{id}` (clinic listener): a patient of the member's own clinic.
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadPatient)?;
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
