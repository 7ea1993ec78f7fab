//! The clinical record pages: a visit's note (draft, finalise or approve, amend, entered in
//! error, identity check, every version), a patient's consultation plan (draft, offer, verbal
//! agreement, versions and agreements), the print view of a patient's record (見読性), and the
//! patient's own plans with the agreement button. The rules are those of the API
//! ([`crate::notes`], [`crate::plans`]); these pages only show and post.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use enshin_core::authz::{Action, Actor};
use enshin_core::people::Role;
use enshin_core::plan::PlanItems;
use enshin_core::record::{
    IdentityCheck, IdentityMethod, NoteState, Outcome, OutcomeKind, Soap, VersionKind,
};
use enshin_store::appointments::Appointment;
use enshin_store::monitoring::StoredReading;
use enshin_store::records::{Note, NoteVersion};
use enshin_store::registry::PatientFields;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use super::questionnaires::RequestRow;
use super::record_texts::RecordTexts;
use super::texts::{Lang, Texts};
use crate::access::AccessFacts;
use crate::booking::zone;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::notes::{self, TypedAmendment, TypedDraft, TypedIdentity, TypedReason, VisitRecord};
use crate::plans::{self, PlanRecord, TypedAgreement};
use crate::registry::member_record;
use crate::routes::AppState;
use crate::schedule::settings_of;
use crate::session::Authenticated;

/// One version as a page shows it.
pub struct VersionView {
    version: i64,
    kind: &'static str,
    at: String,
    signed_by: String,
    entered_by: String,
    reason: String,
    soap: Soap,
    outcome: String,
    call: String,
    identity: String,
}

/// A note with its state and versions.
pub struct NoteView {
    state: &'static str,
    in_error: bool,
    visit: String,
    versions: Vec<VersionView>,
}

/// One plan item with its label.
pub struct ItemView {
    name: &'static str,
    label: &'static str,
    value: String,
}

/// One plan version with its agreements.
pub struct PlanVersionView {
    version: i64,
    at: String,
    by: String,
    items: Vec<ItemView>,
    agreements: Vec<String>,
}

fn state_label(r: &RecordTexts, s: NoteState) -> &'static str {
    match s {
        NoteState::Draft => r.state_draft,
        NoteState::AwaitingApproval => r.state_awaiting,
        NoteState::Final => r.state_final,
        NoteState::EnteredInError => r.state_in_error,
    }
}

fn method_label(r: &RecordTexts, m: IdentityMethod) -> &'static str {
    match m {
        IdentityMethod::KnownPatient => r.m_known_patient,
        IdentityMethod::PhotoId => r.m_photo_id,
        IdentityMethod::TwoIds => r.m_two_ids,
        IdentityMethod::IdAndQuestions => r.m_id_and_questions,
    }
}

fn outcome_label(r: &RecordTexts, o: &Outcome) -> String {
    let kind = match o.kind {
        OutcomeKind::CompletedOnline => r.outcome_completed,
        OutcomeKind::SwitchedToInPerson => r.outcome_switched,
        OutcomeKind::Aborted => r.outcome_aborted,
    };
    if o.reason.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}({})", o.reason)
    }
}

fn item_label(r: &RecordTexts, name: &str) -> &'static str {
    match name {
        "conditions_and_treatment" => r.i_conditions_and_treatment,
        "combination" => r.i_combination,
        "schedule" => r.i_schedule,
        "method_and_devices" => r.i_method_and_devices,
        "switch_to_in_person" => r.i_switch_to_in_person,
        "patient_cooperation" => r.i_patient_cooperation,
        "emergency_policy" => r.i_emergency_policy,
        "emergency_institution" => r.i_emergency_institution,
        "emergency_phone" => r.i_emergency_phone,
        "doctors" => r.i_doctors,
        _ => r.i_security,
    }
}

/// Names of the clinic's members by account id (authors of records are members).
pub(crate) async fn names(
    store: &enshin_store::Store,
    clinic_id: &str,
) -> Result<HashMap<String, String>, ApiError> {
    Ok(store
        .list_members(clinic_id)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .into_iter()
        .map(|m| (m.id, m.display_name))
        .collect())
}

struct Shown<'a> {
    r: &'static RecordTexts,
    b: &'static super::booking_texts::BookingTexts,
    tz: &'a TimeZone,
    names: &'a HashMap<String, String>,
}

impl Shown<'_> {
    fn at(&self, ms: i64) -> String {
        super::booking::when(self.b, ms, self.tz)
    }

    fn visit(&self, visit: Option<&Appointment>) -> String {
        visit.map_or_else(String::new, |a| {
            format!(
                "{} {} · {}",
                self.at(a.starts_at),
                a.menu_name,
                a.doctor_name
            )
        })
    }

    fn name(&self, id: &str) -> String {
        self.names.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    fn identity(&self, c: &IdentityCheck) -> String {
        format!(
            "{} — {} — {}",
            method_label(self.r, c.method),
            self.name(&c.by),
            self.at(c.at)
        )
    }

    fn version(&self, v: &NoteVersion) -> VersionView {
        let r = self.r;
        let c = &v.content;
        let call = match c.call {
            Some(times) => match (times.started_at, times.ended_at) {
                (Some(s), Some(e)) => format!("{} – {}", self.at(s), self.at(e)),
                (Some(s), None) => self.at(s),
                _ => r.call_none.to_owned(),
            },
            None => String::new(),
        };
        VersionView {
            version: v.version,
            kind: match v.kind {
                VersionKind::Original => r.kind_original,
                VersionKind::Amendment => r.kind_amendment,
                VersionKind::EnteredInError => r.kind_in_error,
            },
            at: self.at(v.created_at),
            signed_by: self.name(&v.signed_by),
            entered_by: v
                .entered_by
                .as_deref()
                .map(|id| self.name(id))
                .unwrap_or_default(),
            reason: c.reason.clone().unwrap_or_default(),
            soap: c.body.soap.clone(),
            outcome: c
                .body
                .outcome
                .as_ref()
                .map(|o| outcome_label(r, o))
                .unwrap_or_default(),
            call,
            identity: c
                .identity
                .as_ref()
                .map(|i| self.identity(i))
                .unwrap_or_default(),
        }
    }

    fn note(&self, n: &Note, versions: &[NoteVersion], visit: String) -> NoteView {
        NoteView {
            state: state_label(self.r, n.state),
            in_error: n.state == NoteState::EnteredInError,
            visit,
            versions: versions.iter().map(|v| self.version(v)).collect(),
        }
    }

    fn plan_versions(&self, record: &PlanRecord) -> Vec<PlanVersionView> {
        let r = self.r;
        record
            .versions
            .iter()
            .rev()
            .map(|v| PlanVersionView {
                version: v.version,
                at: self.at(v.created_at),
                by: self.name(&v.signed_by),
                items: items_view(r, &v.items),
                agreements: record
                    .agreements
                    .iter()
                    .filter(|a| a.version == v.version)
                    .map(|a| match &a.attested_by {
                        Some(doctor) => {
                            format!(
                                "{} — {} — {}",
                                r.method_verbal,
                                self.name(doctor),
                                self.at(a.agreed_at)
                            )
                        }
                        None => format!("{} — {}", r.method_patient, self.at(a.agreed_at)),
                    })
                    .collect(),
            })
            .collect()
    }
}

fn items_view(r: &RecordTexts, items: &PlanItems) -> Vec<ItemView> {
    items
        .fields()
        .iter()
        .map(|(name, value)| ItemView {
            name,
            label: item_label(r, name),
            value: (*value).to_owned(),
        })
        .collect()
}

/// The note form as posted.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NoteForm {
    subjective: String,
    objective: String,
    assessment: String,
    plan: String,
    outcome: String,
    outcome_reason: String,
    doctor_id: String,
    reason: String,
}

impl NoteForm {
    fn soap(&self) -> Soap {
        Soap {
            subjective: self.subjective.clone(),
            objective: self.objective.clone(),
            assessment: self.assessment.clone(),
            plan: self.plan.clone(),
        }
    }

    fn outcome(&self) -> Result<Option<Outcome>, ApiError> {
        let kind = match self.outcome.as_str() {
            "" => return Ok(None),
            "completed_online" => OutcomeKind::CompletedOnline,
            "switched_to_in_person" => OutcomeKind::SwitchedToInPerson,
            "aborted" => OutcomeKind::Aborted,
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_form",
                    "outcome is not one of the choices",
                ));
            }
        };
        Ok(Some(Outcome {
            kind,
            reason: self.outcome_reason.clone(),
        }))
    }

    fn of(soap: &Soap, outcome: Option<&Outcome>, doctor_id: &str) -> Self {
        Self {
            subjective: soap.subjective.clone(),
            objective: soap.objective.clone(),
            assessment: soap.assessment.clone(),
            plan: soap.plan.clone(),
            outcome: outcome
                .map(|o| o.kind.as_str().to_owned())
                .unwrap_or_default(),
            outcome_reason: outcome.map(|o| o.reason.clone()).unwrap_or_default(),
            doctor_id: doctor_id.to_owned(),
            reason: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "note.html")]
struct NotePage {
    f: Frame,
    id: String,
    patient_id: String,
    patient_name: String,
    patient_kana: String,
    birth_date: String,
    visit: String,
    online: bool,
    doctor: bool,
    staff: bool,
    checks: Vec<String>,
    methods: Vec<(&'static str, &'static str)>,
    outcomes: Vec<(&'static str, &'static str)>,
    doctors: Vec<(String, String)>,
    state: &'static str,
    editable: bool,
    finalisable: bool,
    approval: bool,
    amendable: bool,
    retractable: bool,
    draft: NoteForm,
    amendment: NoteForm,
    notes: Vec<NoteView>,
    error: Option<String>,
}

fn is_role(auth: &Authenticated, role: Role) -> bool {
    matches!(&auth.actor, Actor::Member { role: r, .. } if *r == role)
}

/// The note page of a visit, with what was typed and the error when a post was refused.
async fn note_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
    typed: Option<(&str, &NoteForm, &ApiError)>,
) -> Response {
    let view = async {
        let visit = notes::visit_record(state, auth, Action::ReadRecords, id, facts).await?;
        let a = &visit.appointment;
        let record = member_record(state, &a.clinic_id, &a.clinic_patient_id).await?;
        let tz = zone(&settings_of(state, &a.clinic_id).await?);
        let names = names(&state.store, &a.clinic_id).await?;
        let doctors = state.store.doctors(&a.clinic_id).await?;
        Ok::<_, ApiError>((visit, record, tz, names, doctors))
    }
    .await;
    let (visit, record, tz, names, doctors) = match view {
        Ok(v) => v,
        Err(e) => return page.error(Some(auth), &e),
    };
    let t = page.t();
    let shown = Shown {
        r: t.r,
        b: t.b,
        tz: &tz,
        names: &names,
    };
    let render = build_note_page(page, auth, &visit, &shown, &record, doctors, typed);
    let status = typed.map_or(StatusCode::OK, |(_, _, e)| e.status);
    page.render(status, &render)
}

fn build_note_page(
    page: &Page,
    auth: &Authenticated,
    visit: &VisitRecord,
    shown: &Shown<'_>,
    record: &enshin_store::registry::PatientFields,
    doctors: Vec<enshin_store::schedule::Doctor>,
    typed: Option<(&str, &NoteForm, &ApiError)>,
) -> NotePage {
    let t = page.t();
    let r = t.r;
    let a = &visit.appointment;
    let me = auth.session.account_id.as_str();
    let doctor = is_role(auth, Role::Doctor);
    let staff = is_role(auth, Role::Staff);
    let live = visit.live();
    let live_state = live.map(|(n, _)| n.state);
    let note_doctor = live.map_or(if doctor { me } else { "" }, |(n, _)| n.doctor_id.as_str());
    let editable = match live_state {
        None => doctor || staff,
        Some(NoteState::Draft) => doctor && note_doctor == me,
        Some(NoteState::AwaitingApproval) => staff || (doctor && note_doctor == me),
        Some(_) => false,
    };
    let finalisable = doctor
        && note_doctor == me
        && matches!(
            live_state,
            Some(NoteState::Draft | NoteState::AwaitingApproval)
        );
    let last = live.and_then(|(_, vs)| vs.last());
    let draft_doctor = if staff && note_doctor.is_empty() {
        a.doctor_id.as_str()
    } else {
        note_doctor
    };
    let mut draft = live
        .and_then(|(n, _)| n.draft.as_ref())
        .map(|d| NoteForm::of(&d.soap, d.outcome.as_ref(), draft_doctor))
        .unwrap_or_else(|| NoteForm {
            doctor_id: draft_doctor.to_owned(),
            ..NoteForm::default()
        });
    let mut amendment = last
        .map(|v| NoteForm::of(&v.content.body.soap, v.content.body.outcome.as_ref(), ""))
        .unwrap_or_default();
    let mut error = None;
    if let Some((which, form, e)) = typed {
        error = Some(t.error(e));
        match which {
            "amend" => amendment = form.clone(),
            "draft" => draft = form.clone(),
            _ => {}
        }
    }
    let visits_label = format!(
        "{} {} · {}",
        super::booking::when(t.b, a.starts_at, shown.tz),
        a.menu_name,
        if a.mode == "online" {
            r.visit_online
        } else {
            r.visit_in_person
        }
    );
    NotePage {
        f: page.frame(Some(auth)),
        id: a.id.clone(),
        patient_id: a.clinic_patient_id.clone(),
        patient_name: record.name(),
        patient_kana: record.kana(),
        birth_date: record.birth_date.clone(),
        visit: format!("{visits_label} · {}: {}", t.c.doctor, a.doctor_name),
        online: a.mode == "online",
        doctor,
        staff,
        checks: visit.identity.iter().map(|c| shown.identity(c)).collect(),
        methods: [
            IdentityMethod::PhotoId,
            IdentityMethod::TwoIds,
            IdentityMethod::IdAndQuestions,
            IdentityMethod::KnownPatient,
        ]
        .into_iter()
        .map(|m| (m.as_str(), method_label(r, m)))
        .collect(),
        outcomes: vec![
            ("", r.outcome_unset),
            ("completed_online", r.outcome_completed),
            ("switched_to_in_person", r.outcome_switched),
            ("aborted", r.outcome_aborted),
        ],
        doctors: doctors.into_iter().map(|d| (d.id, d.name)).collect(),
        state: live_state.map_or("", |s| state_label(r, s)),
        editable,
        finalisable,
        approval: live_state == Some(NoteState::AwaitingApproval),
        amendable: doctor && live_state == Some(NoteState::Final),
        retractable: doctor && live.is_some(),
        draft,
        amendment,
        notes: visit
            .notes
            .iter()
            .rev()
            .map(|(n, vs)| shown.note(n, vs, String::new()))
            .collect(),
        error,
    }
}

/// `GET /visits/{id}/note` (clinic members).
pub async fn note_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Response {
    note_view(&state, &page, &auth, &id, &facts, None).await
}

/// Whether a refusal is about what was typed or the record's state (shown on the page with
/// the form as typed) rather than about who asks (the error page, as everywhere).
fn shown_on_form(e: &ApiError) -> bool {
    matches!(
        e.status,
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT
    )
}

/// After a note form: back to the page, or the page again with the form and the error.
async fn after_note(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
    (which, form): (&str, &NoteForm),
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => page.redirect(&format!("/visits/{id}/note?done=record_saved")),
        Err(e) if shown_on_form(&e) => {
            note_view(state, page, auth, id, facts, Some((which, form, &e))).await
        }
        Err(e) => page.error(Some(auth), &e),
    }
}

/// `POST /visits/{id}/note` (doctor, staff): save the draft.
pub async fn draft_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<NoteForm>,
) -> Response {
    let result = async {
        let typed = TypedDraft {
            soap: form.soap(),
            outcome: form.outcome()?,
            doctor_id: Some(form.doctor_id.clone()).filter(|d| !d.is_empty()),
        };
        notes::save_draft(&state, &auth, &id, &typed, &facts).await
    }
    .await;
    after_note(&state, &page, &auth, &id, &facts, ("draft", &form), result).await
}

/// `POST /visits/{id}/note/finalise` (the note's doctor).
pub async fn finalise_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = notes::finalise(&state, &auth, &id, &facts)
        .await
        .map(|_| ());
    let empty = NoteForm::default();
    after_note(
        &state,
        &page,
        &auth,
        &id,
        &facts,
        ("finalise", &empty),
        result,
    )
    .await
}

/// `POST /visits/{id}/note/amend` (doctor).
pub async fn amend_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<NoteForm>,
) -> Response {
    let result = async {
        let typed = TypedAmendment {
            soap: form.soap(),
            outcome: form.outcome()?,
            reason: form.reason.clone(),
        };
        notes::amend(&state, &auth, &id, &typed, &facts)
            .await
            .map(|_| ())
    }
    .await;
    after_note(&state, &page, &auth, &id, &facts, ("amend", &form), result).await
}

/// `POST /visits/{id}/note/error` (doctor): entered in error.
pub async fn error_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<NoteForm>,
) -> Response {
    let typed = TypedReason {
        reason: form.reason.clone(),
    };
    let result = notes::enter_in_error(&state, &auth, &id, &typed, &facts)
        .await
        .map(|_| ());
    after_note(&state, &page, &auth, &id, &facts, ("error", &form), result).await
}

/// The identity form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MethodForm {
    method: String,
}

/// `POST /visits/{id}/identity` (doctor).
pub async fn identity_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<MethodForm>,
) -> Response {
    let typed = TypedIdentity {
        method: form.method,
    };
    let result = notes::check_identity(&state, &auth, &id, &typed)
        .await
        .map(|_| ());
    let empty = NoteForm::default();
    after_note(
        &state,
        &page,
        &auth,
        &id,
        &facts,
        ("identity", &empty),
        result,
    )
    .await
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    f: Frame,
    patient_id: String,
    patient_name: String,
    patient_kana: String,
    birth_date: String,
    doctor: bool,
    current: i64,
    agreed: bool,
    draft: Vec<ItemView>,
    has_draft: bool,
    versions: Vec<PlanVersionView>,
    error: Option<String>,
}

/// The plan page, with the typed items and the error when a post was refused.
async fn plan_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
    typed: Option<(&PlanItems, &ApiError)>,
) -> Response {
    let view = async {
        let plan = plans::member_plan(state, auth, Action::ReadRecords, id, facts).await?;
        let clinic_id = auth.member_clinic(Action::ReadRecords)?.to_owned();
        let record = member_record(state, &clinic_id, id).await?;
        let tz = zone(&settings_of(state, &clinic_id).await?);
        let names = names(&state.store, &clinic_id).await?;
        Ok::<_, ApiError>((plan, record, tz, names))
    }
    .await;
    let (plan, record, tz, names) = match view {
        Ok(v) => v,
        Err(e) => return page.error(Some(auth), &e),
    };
    let t = page.t();
    let shown = Shown {
        r: t.r,
        b: t.b,
        tz: &tz,
        names: &names,
    };
    let stored = plan.plan.as_ref().and_then(|p| p.draft.clone());
    let latest = plan.versions.last().map(|v| v.items.clone());
    let draft_items = typed
        .map(|(items, _)| items.clone())
        .or_else(|| stored.clone())
        .or(latest)
        .unwrap_or_default();
    let error = typed.map(|(items, e)| {
        let mut message = t.error(e);
        if e.code == "plan_incomplete" {
            let blank: Vec<&str> = items
                .fields()
                .iter()
                .filter(|(_, v)| v.trim().is_empty())
                .map(|(name, _)| item_label(t.r, name))
                .collect();
            message = format!("{message} {}", blank.join("、"));
        }
        message
    });
    let template = PlanPage {
        f: page.frame(Some(auth)),
        patient_id: id.to_owned(),
        patient_name: record.name(),
        patient_kana: record.kana(),
        birth_date: record.birth_date.clone(),
        doctor: is_role(auth, Role::Doctor),
        current: plan.plan.as_ref().map_or(0, |p| p.current_version),
        agreed: plan.agreed(),
        draft: items_view(t.r, &draft_items),
        has_draft: stored.is_some(),
        versions: shown.plan_versions(&plan),
        error,
    };
    page.render(typed.map_or(StatusCode::OK, |(_, e)| e.status), &template)
}

/// `GET /patients/{id}/plan` (clinic members).
pub async fn plan_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Response {
    plan_view(&state, &page, &auth, &id, &facts, None).await
}

async fn after_plan(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
    items: &PlanItems,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => page.redirect(&format!("/patients/{id}/plan?done=record_saved")),
        Err(e) if shown_on_form(&e) => {
            plan_view(state, page, auth, id, facts, Some((items, &e))).await
        }
        Err(e) => page.error(Some(auth), &e),
    }
}

/// `POST /patients/{id}/plan` (doctor): save the draft.
pub async fn plan_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(items): Posted<PlanItems>,
) -> Response {
    let result = plans::save_draft(&state, &auth, &id, &items, &facts).await;
    after_plan(&state, &page, &auth, &id, &facts, &items, result).await
}

/// `POST /patients/{id}/plan/offer` (doctor): save the items and offer them.
pub async fn offer_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(items): Posted<PlanItems>,
) -> Response {
    let result = async {
        plans::save_draft(&state, &auth, &id, &items, &facts).await?;
        plans::offer(&state, &auth, &id, &facts).await.map(|_| ())
    }
    .await;
    after_plan(&state, &page, &auth, &id, &facts, &items, result).await
}

/// The version form (a string: flattened form fields arrive as text).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VersionForm {
    version: String,
}

impl VersionForm {
    /// The version as agreed to; anything but a number matches no version.
    fn typed(&self) -> TypedAgreement {
        TypedAgreement {
            version: self.version.trim().parse().unwrap_or(0),
        }
    }
}

/// `POST /patients/{id}/plan/verbal` (doctor): attest a verbal agreement.
pub async fn verbal_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<VersionForm>,
) -> Response {
    let typed = form.typed();
    let result = plans::attest_verbal(&state, &auth, &id, &typed, &facts).await;
    after_plan(
        &state,
        &page,
        &auth,
        &id,
        &facts,
        &PlanItems::default(),
        result,
    )
    .await
}

#[derive(Template)]
#[template(path = "record_print.html")]
struct PrintPage {
    f: Frame,
    clinic_name: String,
    patient_name: String,
    patient_kana: String,
    birth_date: String,
    made_at: String,
    plan: Vec<PlanVersionView>,
    notes: Vec<NoteView>,
}

/// `GET /patients/{id}/record` (clinic members): the whole record, readable on paper.
pub async fn print_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Response {
    let t = page.t();
    let view = async {
        let plan = plans::member_plan(&state, &auth, Action::ReadRecords, &id, &facts).await?;
        let clinic_id = auth.member_clinic(Action::ReadRecords)?.to_owned();
        let record = member_record(&state, &clinic_id, &id).await?;
        let tz = zone(&settings_of(&state, &clinic_id).await?);
        let names = names(&state.store, &clinic_id).await?;
        let notes = state
            .store
            .patient_notes(&state.keyring, &clinic_id, &id)
            .await?;
        let mut with_versions = Vec::new();
        for note in notes {
            let versions = state.store.note_versions(&state.keyring, &note).await?;
            let visit = state
                .store
                .appointment(&clinic_id, &note.appointment_id)
                .await?;
            with_versions.push((note, versions, visit));
        }
        let clinic_name = state
            .store
            .clinic_name(&clinic_id)
            .await?
            .unwrap_or_default();
        Ok::<_, ApiError>((plan, record, tz, names, with_versions, clinic_name))
    }
    .await;
    let (plan, record, tz, names, notes, clinic_name) = match view {
        Ok(v) => v,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let shown = Shown {
        r: t.r,
        b: t.b,
        tz: &tz,
        names: &names,
    };
    let template = PrintPage {
        f: page.frame(Some(&auth)),
        clinic_name,
        patient_name: record.name(),
        patient_kana: record.kana(),
        birth_date: record.birth_date.clone(),
        made_at: shown.at(now_ms()),
        plan: shown.plan_versions(&plan),
        notes: notes
            .iter()
            .map(|(n, vs, visit)| shown.note(n, vs, shown.visit(visit.as_ref())))
            .collect(),
    };
    page.render(StatusCode::OK, &template)
}

/// The frame of an exported page: the texts only, no session.
struct ExportFrame {
    t: &'static Texts,
}

#[derive(Template)]
#[template(path = "export_record.html")]
struct ExportRecordPage<'a> {
    f: ExportFrame,
    clinic_name: &'a str,
    patient_name: String,
    patient_kana: String,
    birth_date: &'a str,
    made_at: String,
    plan: Vec<PlanVersionView>,
    notes: Vec<NoteView>,
    requests: &'a [RequestRow],
    readings: Vec<super::monitoring::Row>,
}

/// What one patient's page of the export shows: the print view's record, with the
/// questionnaires and the home readings.
pub(crate) struct ExportedRecord<'a> {
    /// The clinic's name.
    pub clinic_name: &'a str,
    /// The registry record.
    pub patient: &'a PatientFields,
    /// When the export was made.
    pub made_at: i64,
    /// The clinic's time zone.
    pub tz: &'a TimeZone,
    /// Members' names by account id.
    pub names: &'a HashMap<String, String>,
    /// The plan with every version and agreement.
    pub plan: &'a PlanRecord,
    /// The notes with every version and their visits.
    pub notes: &'a [(Note, Vec<NoteVersion>, Option<Appointment>)],
    /// The questionnaires as the clinic reads them.
    pub requests: &'a [RequestRow],
    /// The home readings, oldest first.
    pub readings: &'a [StoredReading],
}

/// The patient's record page of the export, in Japanese (the clinic's language of record).
pub(crate) fn export_record_html(e: &ExportedRecord) -> Result<String, askama::Error> {
    let t = Lang::Ja.texts();
    let shown = Shown {
        r: t.r,
        b: t.b,
        tz: e.tz,
        names: e.names,
    };
    ExportRecordPage {
        f: ExportFrame { t },
        clinic_name: e.clinic_name,
        patient_name: e.patient.name(),
        patient_kana: e.patient.kana(),
        birth_date: &e.patient.birth_date,
        made_at: shown.at(e.made_at),
        plan: shown.plan_versions(e.plan),
        notes: e
            .notes
            .iter()
            .map(|(n, vs, visit)| shown.note(n, vs, shown.visit(visit.as_ref())))
            .collect(),
        requests: e.requests,
        readings: super::monitoring::rows(t.m, e.readings, e.tz),
    }
    .render()
}

/// One of the patient's plans as their page shows it.
pub struct OwnPlanView {
    id: String,
    clinic_name: String,
    current: i64,
    agreed: bool,
    agreed_at: String,
    items: Vec<ItemView>,
    earlier: Vec<PlanVersionView>,
}

#[derive(Template)]
#[template(path = "plans_mine.html")]
struct MyPlansPage {
    f: Frame,
    plans: Vec<OwnPlanView>,
    error: Option<String>,
}

async fn my_plans_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    error: Option<&ApiError>,
) -> Response {
    let t = page.t();
    let plans = match plans::own_plans(state, auth).await {
        Ok(p) => p,
        Err(e) => return page.error(Some(auth), &e),
    };
    let mut views = Vec::new();
    for p in &plans {
        let tz = match settings_of(state, &p.clinic_id).await {
            Ok(s) => zone(&s),
            Err(e) => return page.error(Some(auth), &e),
        };
        // Plans are signed by doctors; the patient sees their names, as on the booking pages.
        let names: HashMap<String, String> = match state.store.doctors(&p.clinic_id).await {
            Ok(doctors) => doctors.into_iter().map(|d| (d.id, d.name)).collect(),
            Err(e) => return page.error(Some(auth), &ApiError::unavailable(&e)),
        };
        let shown = Shown {
            r: t.r,
            b: t.b,
            tz: &tz,
            names: &names,
        };
        let current = p.record.plan.as_ref().map_or(0, |x| x.current_version);
        let mut versions = shown.plan_versions(&p.record);
        let latest = if versions.is_empty() {
            None
        } else {
            Some(versions.remove(0))
        };
        views.push(OwnPlanView {
            id: p
                .record
                .plan
                .as_ref()
                .map(|x| x.id.clone())
                .unwrap_or_default(),
            clinic_name: p.clinic_name.clone(),
            current,
            agreed: p.record.agreed(),
            agreed_at: latest
                .as_ref()
                .map(|v| v.agreements.join(" / "))
                .unwrap_or_default(),
            items: latest.map(|v| v.items).unwrap_or_default(),
            earlier: versions,
        });
    }
    let template = MyPlansPage {
        f: page.frame(Some(auth)),
        plans: views,
        error: error.map(|e| t.error(e)),
    };
    page.render(error.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /plans` (patient): the plans one's clinics offered, with the agreement button.
pub async fn my_plans_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    my_plans_view(&state, &page, &auth, None).await
}

/// `POST /plans/{id}/agree` (patient).
pub async fn agree_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<VersionForm>,
) -> Response {
    let typed = form.typed();
    match plans::agree_own(&state, &auth, &id, &typed).await {
        Ok(()) => page.redirect("/plans?done=record_saved"),
        Err(e) if e.status == StatusCode::CONFLICT => {
            my_plans_view(&state, &page, &auth, Some(&e)).await
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}
