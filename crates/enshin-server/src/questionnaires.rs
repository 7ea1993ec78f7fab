//! Questionnaires (問診, FUNC-3) at the HTTP edge. Doctors and admins build them; members ask a
//! patient, or a menu asks at booking; the patient answers on the phone (drafts, then one
//! submission, photos checked by their bytes); members read what was submitted, on the patient
//! and on the visit. A submitted response never changes (ROLE-3): its author and time stay with it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::questionnaire::{
    self, AnswerError, AnswerProblem, Answers, Definition, DefinitionError,
};
use enshin_store::Store;
use enshin_store::questionnaires::{Current, QuestionnaireError, Request};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::AccessFacts;
use crate::booking::local;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::monitoring::clinic_patient;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

impl From<QuestionnaireError> for ApiError {
    fn from(e: QuestionnaireError) -> Self {
        match e {
            QuestionnaireError::NotFound => Self::not_found(),
            QuestionnaireError::Submitted => Self::new(
                StatusCode::CONFLICT,
                "already_submitted",
                "this questionnaire was submitted already; a submitted answer does not change",
            ),
            QuestionnaireError::TooManyPhotos => Self::new(
                StatusCode::CONFLICT,
                "too_many_photos",
                format!(
                    "at most {} photos per questionnaire",
                    questionnaire::PHOTOS_MAX
                ),
            ),
            QuestionnaireError::Keyring(e) => Self::unavailable(&e),
            QuestionnaireError::Database(e) => Self::unavailable(&e),
        }
    }
}

impl From<DefinitionError> for ApiError {
    fn from(e: DefinitionError) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_questionnaire",
            e.to_string(),
        )
    }
}

impl From<AnswerError> for ApiError {
    fn from(e: AnswerError) -> Self {
        let problem = match e.problem {
            AnswerProblem::Unknown => "answer_unknown",
            AnswerProblem::Required => "answer_required",
            AnswerProblem::Shape => "answer_shape",
            AnswerProblem::Choice => "answer_choice",
            AnswerProblem::Number { .. } => "answer_number",
            AnswerProblem::Date => "answer_date",
            AnswerProblem::Text => "answer_text",
        };
        let detail = match &e.problem {
            AnswerProblem::Number { min, max } => Some(format!("{min}–{max}")),
            _ => None,
        };
        let err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
            e.to_string(),
        )
        .with_problem(problem);
        let err = err.with_field("answers");
        match detail {
            Some(d) => err.with_detail(d),
            None => err,
        }
    }
}

/// The body that creates or changes a questionnaire.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedDefinition {
    definition: Definition,
}

fn current_json(q: &Current) -> Value {
    json!({ "id": q.id, "version": q.version, "definition": q.definition })
}

/// Adds a questionnaire to the member's clinic.
pub async fn add(
    state: &AppState,
    auth: &Authenticated,
    d: Definition,
) -> Result<Current, ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageQuestionnaires)?;
    let definition = questionnaire::definition(d)?;
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .add_questionnaire(
            &id,
            clinic_id,
            &definition,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(Current {
        id,
        version: 1,
        definition,
    })
}

/// Changes a questionnaire of the member's clinic (a new version once anyone has answered).
pub async fn change(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    d: Definition,
) -> Result<Current, ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageQuestionnaires)?;
    state.store.questionnaire(clinic_id, id).await?;
    let definition = questionnaire::definition(d)?;
    let version = state
        .store
        .change_questionnaire(
            clinic_id,
            id,
            &definition,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(Current {
        id: id.to_owned(),
        version,
        definition,
    })
}

/// The clinic's questionnaires (any member may see them, to ask a patient).
pub async fn catalogue(state: &AppState, auth: &Authenticated) -> Result<Vec<Current>, ApiError> {
    let clinic_id = auth.member_clinic(Action::AskQuestionnaire)?;
    Ok(state.store.questionnaires(clinic_id).await?)
}

/// One questionnaire of the member's clinic, current version.
pub async fn current(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<Current, ApiError> {
    let clinic_id = auth.member_clinic(Action::AskQuestionnaire)?;
    Ok(state.store.questionnaire(clinic_id, id).await?)
}

/// `GET /api/v1/questionnaires` (clinic).
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = catalogue(&state, &auth)
        .await?
        .iter()
        .map(current_json)
        .collect();
    Ok(Json(json!({ "questionnaires": list })))
}

/// `POST /api/v1/questionnaires` (clinic: admin, doctor) `{definition}` → 201.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed: TypedDefinition = json_body(body)?;
    let q = add(&state, &auth, typed.definition).await?;
    Ok((StatusCode::CREATED, Json(current_json(&q))))
}

/// What reads one version.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// A version number; the current one when absent.
    #[serde(default)]
    pub version: Option<i64>,
}

/// `GET /api/v1/questionnaires/{id}?version` (clinic).
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    crate::params::Params(q): crate::params::Params<VersionQuery>,
) -> Result<Json<Value>, ApiError> {
    let current = current(&state, &auth, &id).await?;
    match q.version {
        None => Ok(Json(current_json(&current))),
        Some(v) if (1..=current.version).contains(&v) => {
            let definition = state.store.questionnaire_version(&id, v).await?;
            Ok(Json(current_json(&Current {
                id,
                version: v,
                definition,
            })))
        }
        Some(_) => Err(ApiError::not_found()),
    }
}

/// `PUT /api/v1/questionnaires/{id}` (clinic: admin, doctor) `{definition}`.
pub async fn put(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedDefinition = json_body(body)?;
    let q = change(&state, &auth, &id, typed.definition).await?;
    Ok(Json(current_json(&q)))
}

/// Which questionnaire a menu asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedMenuQuestionnaire {
    /// The questionnaire, or null for none.
    pub questionnaire_id: Option<String>,
}

/// Sets the questionnaire a menu asks for at booking (the admin's booking setup).
pub async fn set_menu(
    state: &AppState,
    auth: &Authenticated,
    menu_id: &str,
    questionnaire_id: Option<&str>,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    Ok(state
        .store
        .set_menu_questionnaire(clinic_id, menu_id, questionnaire_id)
        .await?)
}

/// `PUT /api/v1/menus/{id}/questionnaire` (clinic: admin) `{questionnaire_id}` → 204.
pub async fn put_menu(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedMenuQuestionnaire = json_body(body)?;
    set_menu(&state, &auth, &id, typed.questionnaire_id.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks a patient of the member's clinic to answer a questionnaire; the request's id.
pub async fn ask(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    questionnaire_id: &str,
) -> Result<String, ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::AskQuestionnaire, patient_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .request_questionnaire(
            &id,
            &clinic_id,
            patient_id,
            questionnaire_id,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(id)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedAsk {
    questionnaire_id: String,
}

/// `POST /api/v1/patients/{id}/questionnaires` (clinic) `{questionnaire_id}` → 201 `{id}`.
pub async fn post_ask(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed: TypedAsk = json_body(body)?;
    let request = ask(&state, &auth, &id, &typed.questionnaire_id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": request }))))
}

/// Where a request stands.
pub fn request_state(r: &Request) -> &'static str {
    match (r.submitted_at, r.saved_at) {
        (Some(_), _) => "submitted",
        (None, Some(_)) => "draft",
        (None, None) => "requested",
    }
}

/// A request with the version it answers (or would answer now).
pub struct Shown {
    /// The request.
    pub request: Request,
    /// Its version's number.
    pub version: i64,
    /// Its version's content.
    pub definition: Definition,
}

/// The version a request answers: the one fixed at its first save, else the current one.
pub(crate) async fn shown(store: &Store, request: Request) -> Result<Shown, ApiError> {
    let (version, definition) = match request.version {
        Some(v) => (
            v,
            store
                .questionnaire_version(&request.questionnaire_id, v)
                .await?,
        ),
        None => {
            let q = store
                .questionnaire(&request.clinic_id, &request.questionnaire_id)
                .await?;
            (q.version, q.definition)
        }
    };
    Ok(Shown {
        request,
        version,
        definition,
    })
}

/// The answers of a request as the clinic reads them: each question with its answer, in order;
/// only a submitted response is shown (a draft is the patient's, unfinished).
pub(crate) fn answers_json(s: &Shown, tz: &jiff::tz::TimeZone) -> Value {
    let r = &s.request;
    let answers: Vec<Value> = match (&r.answers, r.submitted_at) {
        (Some(a), Some(_)) => s
            .definition
            .questions
            .iter()
            .map(|q| {
                json!({
                    "question": q.id, "text": q.text, "kind": q.kind,
                    "answer": a.get(&q.id).cloned().unwrap_or(Value::Null),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    json!({
        "id": r.id, "questionnaire_id": r.questionnaire_id, "version": s.version,
        "title": s.definition.staff_title, "appointment_id": r.appointment_id,
        "requested_at": local(r.requested_at, tz), "state": request_state(r),
        "submitted_at": r.submitted_at.map(|t| local(t, tz)), "submitted_by": r.submitted_by,
        "answers": answers,
    })
}

/// A patient's requests at the member's clinic, with the versions they answer.
pub async fn patient_answers(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
) -> Result<Vec<Shown>, ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::ReadAnswers, patient_id).await?;
    let list = state
        .store
        .patient_requests(&state.keyring, &clinic_id, patient_id)
        .await?;
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        out.push(shown(&state.store, r).await?);
    }
    Ok(out)
}

/// `GET /api/v1/patients/{id}/questionnaires` (clinic): the patient's questionnaires, newest
/// first, with the submitted answers.
pub async fn patient_list(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let list = patient_answers(&state, &auth, &id).await?;
    let tz = clinic_zone(&state, &auth).await?;
    let list: Vec<Value> = list.iter().map(|s| answers_json(s, &tz)).collect();
    Ok(Json(json!({ "questionnaires": list })))
}

async fn clinic_zone(
    state: &AppState,
    auth: &Authenticated,
) -> Result<jiff::tz::TimeZone, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadAnswers)?;
    Ok(crate::booking::zone(
        &crate::schedule::settings_of(state, clinic_id).await?,
    ))
}

/// The questionnaires a visit asked for, with the submitted answers.
pub async fn visit_answers(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    appointment_id: &str,
) -> Result<Vec<Shown>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadAnswers)?;
    let a = crate::booking::clinic_appointment(state, clinic_id, appointment_id).await?;
    facts.read_patients([a.clinic_patient_id.as_str()]);
    let list = state
        .store
        .patient_requests(&state.keyring, clinic_id, &a.clinic_patient_id)
        .await?;
    let mut out = Vec::new();
    for r in list
        .into_iter()
        .filter(|r| r.appointment_id.as_deref() == Some(appointment_id))
    {
        out.push(shown(&state.store, r).await?);
    }
    Ok(out)
}

/// `GET /api/v1/appointments/{id}/questionnaires` (clinic).
pub async fn visit_list(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let list = visit_answers(&state, &auth, &facts, &id).await?;
    let tz = clinic_zone(&state, &auth).await?;
    let list: Vec<Value> = list.iter().map(|s| answers_json(s, &tz)).collect();
    Ok(Json(json!({ "questionnaires": list })))
}

/// The patient's own account, allowed to answer.
fn own_account(auth: &Authenticated) -> Result<&str, ApiError> {
    let account = auth.session.account_id.as_str();
    authorize(
        &auth.actor,
        Action::AnswerQuestionnaire,
        Target::Account(account),
    )?;
    Ok(account)
}

/// The patient's requests at every linked clinic, with their versions and clinic names.
pub async fn own_requests(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<(Shown, String)>, ApiError> {
    let account = own_account(auth)?;
    let clinics: BTreeMap<String, String> = crate::links::my_clinics(state, auth)
        .await?
        .into_iter()
        .map(|l| (l.clinic_id, l.clinic_name))
        .collect();
    let mut out = Vec::new();
    for r in state.store.account_requests(account).await? {
        let name = clinics.get(&r.clinic_id).cloned().unwrap_or_default();
        out.push((shown(&state.store, r).await?, name));
    }
    Ok(out)
}

/// One of the patient's own requests with its answers so far.
pub async fn own_request(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<Shown, ApiError> {
    let account = own_account(auth)?;
    let r = state
        .store
        .account_request(&state.keyring, account, id)
        .await?;
    shown(&state.store, r).await
}

/// `GET /api/v1/questionnaire-requests` (patient).
pub async fn own_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = own_requests(&state, &auth)
        .await?
        .iter()
        .map(|(s, clinic)| {
            json!({
                "id": s.request.id, "clinic_id": s.request.clinic_id, "clinic_name": clinic,
                "title": s.definition.patient_title, "state": request_state(&s.request),
                "appointment_id": s.request.appointment_id,
            })
        })
        .collect();
    Ok(Json(json!({ "questionnaires": list })))
}

/// `GET /api/v1/questionnaire-requests/{id}` (patient): the questions (without the staff's
/// title) and the answers so far.
pub async fn own_read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = own_request(&state, &auth, &id).await?;
    let questions: Vec<Value> = s
        .definition
        .questions
        .iter()
        .map(|q| json!({ "id": q.id, "text": q.text, "required": q.required, "kind": q.kind }))
        .collect();
    Ok(Json(json!({
        "id": s.request.id, "version": s.version, "title": s.definition.patient_title,
        "questions": questions, "state": request_state(&s.request),
        "answers": s.request.answers.clone().unwrap_or_default(),
    })))
}

/// What a patient saves.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedAnswers {
    /// The version shown to the patient.
    pub version: i64,
    /// Question id → answer.
    #[serde(default)]
    pub answers: BTreeMap<String, Value>,
}

/// Saves the patient's answers: a draft, or the submission (all required answered).
pub async fn save(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    typed: &TypedAnswers,
    submit: bool,
) -> Result<Answers, ApiError> {
    let s = own_request(state, auth, id).await?;
    if s.request.submitted_at.is_some() {
        return Err(QuestionnaireError::Submitted.into());
    }
    let definition = if typed.version == s.version {
        s.definition
    } else if s.request.version.is_none() && typed.version >= 1 && typed.version < s.version {
        // The clinic changed the questionnaire while the patient had the older one open.
        state
            .store
            .questionnaire_version(&s.request.questionnaire_id, typed.version)
            .await?
    } else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "version_changed",
            "the questionnaire changed; open it again",
        ));
    };
    let photos = state.store.photo_ids(id).await?;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
        .to_string();
    let checked = questionnaire::answers(&definition, &typed.answers, submit, &today, &|p| {
        photos.iter().any(|x| x == p)
    })?;
    state
        .store
        .save_answers(
            &state.keyring,
            &s.request,
            typed.version,
            &checked,
            submit,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(checked)
}

/// `PUT /api/v1/questionnaire-requests/{id}` (patient) `{version, answers}`: a draft → 200.
pub async fn put_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedAnswers = json_body(body)?;
    let answers = save(&state, &auth, &id, &typed, false).await?;
    Ok(Json(json!({ "state": "draft", "answers": answers })))
}

/// `POST /api/v1/questionnaire-requests/{id}/submit` (patient) `{version, answers}` → 200;
/// once only.
pub async fn submit(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedAnswers = json_body(body)?;
    let answers = save(&state, &auth, &id, &typed, true).await?;
    Ok(Json(json!({ "state": "submitted", "answers": answers })))
}

/// Attaches a photo to one of the patient's responses; its id.
pub async fn add_photo(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    bytes: &[u8],
) -> Result<String, ApiError> {
    let s = own_request(state, auth, id).await?;
    let refused = || {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_photo",
            format!(
                "send a JPEG or PNG photo of at most {} MiB",
                questionnaire::PHOTO_BYTES_MAX / 1024 / 1024
            ),
        )
        .with_problem("photo")
    };
    let content_type = questionnaire::photo_type(bytes).ok_or_else(refused)?;
    // Where and when it was taken is not the clinic's business (and may be the patient's home).
    let clean = questionnaire::strip_metadata(bytes).ok_or_else(refused)?;
    let photo = uuid::Uuid::now_v7().to_string();
    state
        .store
        .add_photo(
            &state.keyring,
            &s.request,
            &photo,
            content_type,
            &clean,
            now_ms(),
        )
        .await?;
    Ok(photo)
}

/// `POST /api/v1/questionnaire-requests/{id}/photos` (patient), the image as the body → 201
/// `{id}`; the type is read from the bytes, whatever the request says.
pub async fn post_photo(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            "invalid_body",
            "the photo is too large or could not be read",
        )
    })?;
    let photo = add_photo(&state, &auth, &id, &bytes).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": photo }))))
}

/// A photo as an answer to a request the caller may read: its own (patient) or the clinic's
/// (members, submitted or not).
pub async fn photo_bytes(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    id: &str,
    photo: &str,
) -> Result<(String, Vec<u8>), ApiError> {
    let request = match auth.actor {
        enshin_core::authz::Actor::Member { .. } => {
            let clinic_id = auth.member_clinic(Action::ReadAnswers)?;
            let r = state
                .store
                .clinic_request(&state.keyring, clinic_id, id)
                .await?;
            facts.read_patients([r.clinic_patient_id.as_str()]);
            r
        }
        _ => own_request(state, auth, id).await?.request,
    };
    Ok(state.store.photo(&state.keyring, &request, photo).await?)
}

/// `GET /api/v1/questionnaire-requests/{id}/photos/{photo}` (both listeners): the image,
/// never cached, never sniffed as anything else.
pub async fn get_photo(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path((id, photo)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (content_type, bytes) = photo_bytes(&state, &auth, &facts, &id, &photo).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("inline"),
    );
    Ok((headers, bytes).into_response())
}
