//! Visit notes (FUNC-6) at the HTTP edge: drafts (a doctor's own, or staff's on a named doctor's
//! behalf), finalising or approving, amendments with a reason, entries in error, and the identity
//! check of an online visit. The rules are in [`enshin_core::record`]; every version is kept
//! (ROLE-3). Each answer that shows a note notes the patient as read in the access log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Actor};
use enshin_core::people::Role;
use enshin_core::record::{
    self, CallTimes, FinaliseError, IdentityCheck, IdentityMethod, NoteBody, NoteContent,
    NoteRuleError, NoteState, Outcome, RecordError, Soap, VersionKind,
};
use enshin_store::appointments::Appointment;
use enshin_store::records::{DraftNote, Note, NoteVersion, RecordStoreError, Signing};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::AccessFacts;
use crate::booking::clinic_appointment;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

impl From<RecordStoreError> for ApiError {
    fn from(e: RecordStoreError) -> Self {
        match e {
            RecordStoreError::NotFound => Self::not_found(),
            RecordStoreError::Changed => Self::new(
                StatusCode::CONFLICT,
                "record_changed",
                "the record was changed meanwhile; reload it and try again",
            ),
            RecordStoreError::Keyring(e) => Self::unavailable(&e),
            RecordStoreError::Database(e) => Self::unavailable(&e),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        let problem = match e {
            RecordError::TooLong { .. } => "too_long",
            RecordError::Control { .. } => "control_characters",
            RecordError::Required { .. } => "required",
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            e.to_string(),
        )
        .with_field(e.field())
        .with_problem(problem)
    }
}

impl From<NoteRuleError> for ApiError {
    fn from(e: NoteRuleError) -> Self {
        let (status, code) = match e {
            NoteRuleError::DoctorRequired => (StatusCode::UNPROCESSABLE_ENTITY, "doctor_required"),
            NoteRuleError::NotYourNote => (StatusCode::FORBIDDEN, "not_your_note"),
            NoteRuleError::Finalised => (StatusCode::CONFLICT, "note_finalised"),
            NoteRuleError::NotFinalised => (StatusCode::CONFLICT, "note_not_finalised"),
            NoteRuleError::InError => (StatusCode::CONFLICT, "note_in_error"),
            NoteRuleError::NoVisit => (StatusCode::CONFLICT, "visit_not_held"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<FinaliseError> for ApiError {
    fn from(e: FinaliseError) -> Self {
        let code = match e {
            FinaliseError::Blank => "note_empty",
            FinaliseError::Outcome => "outcome_required",
            FinaliseError::OutcomeReason => "outcome_reason_required",
            FinaliseError::Identity => "identity_check_required",
        };
        ApiError::new(StatusCode::CONFLICT, code, e.to_string())
    }
}

/// A visit with its notes (the one in force last) and identity checks.
pub struct VisitRecord {
    /// The visit.
    pub appointment: Appointment,
    /// Every note of the visit with its versions, oldest first.
    pub notes: Vec<(Note, Vec<NoteVersion>)>,
    /// The identity checks, oldest first.
    pub identity: Vec<IdentityCheck>,
}

impl VisitRecord {
    /// The note not marked in error, if any.
    pub fn live(&self) -> Option<&(Note, Vec<NoteVersion>)> {
        self.notes
            .iter()
            .find(|(n, _)| n.state != NoteState::EnteredInError)
    }
}

/// The visit's record, as the member may read it; the patient is noted as read.
pub async fn visit_record(
    state: &AppState,
    auth: &Authenticated,
    action: Action,
    appointment_id: &str,
    facts: &AccessFacts,
) -> Result<VisitRecord, ApiError> {
    let clinic_id = auth.member_clinic(action)?;
    let appointment = clinic_appointment(state, clinic_id, appointment_id).await?;
    let mut notes = Vec::new();
    for note in state
        .store
        .visit_notes(&state.keyring, clinic_id, appointment_id)
        .await?
    {
        let versions = state.store.note_versions(&state.keyring, &note).await?;
        notes.push((note, versions));
    }
    let identity = state
        .store
        .identity_checks(clinic_id, appointment_id)
        .await?;
    facts.read_patients([appointment.clinic_patient_id.as_str()]);
    Ok(VisitRecord {
        appointment,
        notes,
        identity,
    })
}

/// A draft as typed.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TypedDraft {
    /// The note.
    #[serde(default)]
    pub soap: Soap,
    /// The outcome of an online visit.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Staff: the doctor the draft is for.
    #[serde(default)]
    pub doctor_id: Option<String>,
}

fn member_role(auth: &Authenticated) -> Option<Role> {
    match &auth.actor {
        Actor::Member { role, .. } => Some(*role),
        _ => None,
    }
}

/// Saves the visit's draft: a doctor's own, or staff's for a named doctor of the clinic.
pub async fn save_draft(
    state: &AppState,
    auth: &Authenticated,
    appointment_id: &str,
    typed: &TypedDraft,
    facts: &AccessFacts,
) -> Result<(), ApiError> {
    let visit = visit_record(state, auth, Action::DraftNote, appointment_id, facts).await?;
    let clinic_id = &visit.appointment.clinic_id;
    record::visit_takes_note(visit.appointment.state)?;
    let me = auth.session.account_id.as_str();
    let is_doctor = member_role(auth) == Some(Role::Doctor);
    let live = visit.live().map(|(n, _)| n);
    let doctor_id = match (live, is_doctor, typed.doctor_id.as_deref()) {
        (Some(n), _, Some(named)) if named != n.doctor_id => {
            return Err(NoteRuleError::NotYourNote.into());
        }
        (Some(n), _, _) => n.doctor_id.clone(),
        (None, true, Some(named)) if named != me => {
            return Err(NoteRuleError::NotYourNote.into());
        }
        (None, true, _) => me.to_owned(),
        (None, false, None) => return Err(NoteRuleError::DoctorRequired.into()),
        (None, false, Some(named)) => {
            let doctors = state.store.doctors(clinic_id).await?;
            if !doctors.iter().any(|d| d.id == named) {
                return Err(ApiError::from(NoteRuleError::DoctorRequired).with_field("doctor_id"));
            }
            named.to_owned()
        }
    };
    record::may_save_draft(live.map(|n| n.state), &doctor_id, me, is_doctor)?;
    let body = record::draft(&NoteBody {
        soap: typed.soap.clone(),
        outcome: typed.outcome.clone(),
    })?;
    // A proxy draft keeps its state and its staff author when the doctor edits it before
    // approving, so the final version still names who entered it.
    let (note_state, by) = match live {
        Some(n) if n.state == NoteState::AwaitingApproval => (
            NoteState::AwaitingApproval,
            if is_doctor {
                n.drafted_by.clone().unwrap_or_else(|| me.to_owned())
            } else {
                me.to_owned()
            },
        ),
        _ if is_doctor => (NoteState::Draft, me.to_owned()),
        _ => (NoteState::AwaitingApproval, me.to_owned()),
    };
    let new_id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .save_note_draft(
            &state.keyring,
            &DraftNote {
                id: live.map_or(new_id.as_str(), |n| n.id.as_str()),
                clinic_id,
                clinic_patient_id: &visit.appointment.clinic_patient_id,
                appointment_id,
                mode: &visit.appointment.mode,
                doctor_id: &doctor_id,
                state: note_state,
                body: &body,
                by: &by,
            },
            now_ms(),
        )
        .await?;
    Ok(())
}

fn call_times(online: bool, call: Option<enshin_store::calls::CallRecord>) -> Option<CallTimes> {
    if !online {
        return None;
    }
    Some(call.map_or(
        CallTimes {
            started_at: None,
            ended_at: None,
        },
        |c| CallTimes {
            started_at: c.started_at,
            ended_at: c.ended_at,
        },
    ))
}

/// Finalises the visit's note, or approves the proxy draft: only the note's doctor, and an
/// online visit only with its outcome and identity check; the call's times are filled in.
pub async fn finalise(
    state: &AppState,
    auth: &Authenticated,
    appointment_id: &str,
    facts: &AccessFacts,
) -> Result<i64, ApiError> {
    let visit = visit_record(state, auth, Action::SignNote, appointment_id, facts).await?;
    let me = auth.session.account_id.as_str();
    let (note, _) = visit.live().ok_or_else(ApiError::not_found)?;
    record::may_finalise(note.state, &note.doctor_id, me)?;
    let body = note.draft.clone().unwrap_or_default();
    let online = note.mode == "online";
    let identity = visit.identity.last().filter(|_| online).cloned();
    record::finalisable(&body, online, identity.as_ref())?;
    let call = call_times(online, state.store.call_record(appointment_id).await?);
    let entered_by = match note.state {
        NoteState::AwaitingApproval => note.drafted_by.as_deref().filter(|by| *by != me),
        _ => None,
    };
    let content = NoteContent {
        body,
        call,
        identity,
        reason: None,
    };
    Ok(state
        .store
        .append_note_version(
            &state.keyring,
            note,
            &Signing {
                kind: VersionKind::Original,
                content: &content,
                signed_by: me,
                entered_by,
                state: NoteState::Final,
            },
            now_ms(),
        )
        .await?)
}

/// An amendment as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedAmendment {
    /// The note as it should now read.
    #[serde(default)]
    pub soap: Soap,
    /// The outcome of an online visit.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Why it changes.
    #[serde(default)]
    pub reason: String,
}

/// Amends a finalised note: a new version with its reason; the earlier ones stay.
pub async fn amend(
    state: &AppState,
    auth: &Authenticated,
    appointment_id: &str,
    typed: &TypedAmendment,
    facts: &AccessFacts,
) -> Result<i64, ApiError> {
    let visit = visit_record(state, auth, Action::SignNote, appointment_id, facts).await?;
    let (note, versions) = visit.live().ok_or_else(ApiError::not_found)?;
    record::may_amend(note.state)?;
    let reason = record::reason("reason", &typed.reason)?;
    let body = record::draft(&NoteBody {
        soap: typed.soap.clone(),
        outcome: typed.outcome.clone(),
    })?;
    let online = note.mode == "online";
    let last = versions.last().map(|v| &v.content);
    let identity = visit
        .identity
        .last()
        .cloned()
        .or_else(|| last.and_then(|c| c.identity.clone()))
        .filter(|_| online);
    record::finalisable(&body, online, identity.as_ref())?;
    let content = NoteContent {
        body,
        call: last.and_then(|c| c.call),
        identity,
        reason: Some(reason),
    };
    Ok(state
        .store
        .append_note_version(
            &state.keyring,
            note,
            &Signing {
                kind: VersionKind::Amendment,
                content: &content,
                signed_by: &auth.session.account_id,
                entered_by: None,
                state: NoteState::Final,
            },
            now_ms(),
        )
        .await?)
}

/// A reason as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedReason {
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// Marks the visit's note as made in error: a last version with the reason; nothing is removed.
pub async fn enter_in_error(
    state: &AppState,
    auth: &Authenticated,
    appointment_id: &str,
    typed: &TypedReason,
    facts: &AccessFacts,
) -> Result<i64, ApiError> {
    let visit = visit_record(state, auth, Action::SignNote, appointment_id, facts).await?;
    let (note, versions) = visit.live().ok_or_else(ApiError::not_found)?;
    let reason = record::reason("reason", &typed.reason)?;
    let content = match versions.last() {
        Some(last) if note.state == NoteState::Final => NoteContent {
            reason: Some(reason),
            ..last.content.clone()
        },
        _ => NoteContent {
            body: note.draft.clone().unwrap_or_default(),
            call: None,
            identity: None,
            reason: Some(reason),
        },
    };
    Ok(state
        .store
        .append_note_version(
            &state.keyring,
            note,
            &Signing {
                kind: VersionKind::EnteredInError,
                content: &content,
                signed_by: &auth.session.account_id,
                entered_by: None,
                state: NoteState::EnteredInError,
            },
            now_ms(),
        )
        .await?)
}

/// An identity check as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedIdentity {
    /// `known_patient`, `photo_id`, `two_ids` or `id_and_questions`.
    pub method: String,
}

/// Records how the doctor checked the patient's identity in an online visit.
pub async fn check_identity(
    state: &AppState,
    auth: &Authenticated,
    appointment_id: &str,
    typed: &TypedIdentity,
) -> Result<IdentityCheck, ApiError> {
    let clinic_id = auth.member_clinic(Action::SignNote)?;
    let appointment = clinic_appointment(state, clinic_id, appointment_id).await?;
    record::visit_takes_note(appointment.state)?;
    if appointment.mode != "online" {
        return Err(enshin_core::call::CallError::NotOnline.into());
    }
    let method = IdentityMethod::parse(&typed.method).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "method must be known_patient, photo_id, two_ids or id_and_questions",
        )
        .with_field("method")
        .with_problem("unknown_method")
    })?;
    let check = IdentityCheck {
        method,
        by: auth.session.account_id.clone(),
        at: now_ms(),
    };
    state
        .store
        .add_identity_check(
            &uuid::Uuid::now_v7().to_string(),
            clinic_id,
            appointment_id,
            &check,
        )
        .await?;
    Ok(check)
}

fn version_json(v: &NoteVersion) -> Value {
    json!({
        "version": v.version,
        "kind": v.kind.as_str(),
        "soap": v.content.body.soap,
        "outcome": v.content.body.outcome,
        "call": v.content.call,
        "identity": v.content.identity,
        "reason": v.content.reason,
        "signed_by": v.signed_by,
        "entered_by": v.entered_by,
        "created_at": v.created_at,
        "hash": v.hash,
    })
}

/// A note with its draft and every version, as JSON.
pub fn note_json(note: &Note, versions: &[NoteVersion]) -> Value {
    json!({
        "id": note.id,
        "state": note.state.as_str(),
        "mode": note.mode,
        "doctor_id": note.doctor_id,
        "draft": note.draft,
        "drafted_by": note.drafted_by,
        "drafted_at": note.drafted_at,
        "versions": versions.iter().map(version_json).collect::<Vec<_>>(),
    })
}

fn visit_json(v: &VisitRecord) -> Value {
    json!({
        "appointment_id": v.appointment.id,
        "patient_id": v.appointment.clinic_patient_id,
        "mode": v.appointment.mode,
        "notes": v.notes.iter().map(|(n, vs)| note_json(n, vs)).collect::<Vec<_>>(),
        "identity_checks": v.identity,
    })
}

async fn answer(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
) -> Result<Json<Value>, ApiError> {
    let visit = visit_record(state, auth, Action::ReadRecords, id, facts).await?;
    Ok(Json(visit_json(&visit)))
}

/// `GET /api/v1/appointments/{id}/note` (clinic): the visit's notes with every version.
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    answer(&state, &auth, &id, &facts).await
}

/// `PUT /api/v1/appointments/{id}/note {soap, outcome?, doctor_id?}` (doctor, staff): the draft.
pub async fn put_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedDraft = json_body(body)?;
    save_draft(&state, &auth, &id, &typed, &facts).await?;
    answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/appointments/{id}/note/finalise` (the note's doctor; approves a proxy draft).
pub async fn post_finalise(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    finalise(&state, &auth, &id, &facts).await?;
    answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/appointments/{id}/note/amend {soap, outcome?, reason}` (doctor).
pub async fn post_amend(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedAmendment = json_body(body)?;
    amend(&state, &auth, &id, &typed, &facts).await?;
    answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/appointments/{id}/note/entered-in-error {reason}` (doctor).
pub async fn post_in_error(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedReason = json_body(body)?;
    enter_in_error(&state, &auth, &id, &typed, &facts).await?;
    answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/appointments/{id}/identity-check {method}` (doctor) → 201.
pub async fn post_identity(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed: TypedIdentity = json_body(body)?;
    let check = check_identity(&state, &auth, &id, &typed).await?;
    Ok((StatusCode::CREATED, Json(json!(check))))
}
