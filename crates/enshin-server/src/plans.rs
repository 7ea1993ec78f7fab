//! The online consultation plan (FUNC-7) at the HTTP edge: a doctor drafts a patient's plan and
//! offers it once no item is blank; the patient agrees in the app, or a doctor attests a verbal
//! agreement; every version and agreement is kept, and the patient can always open them. The
//! clinic's setting decides whether an online call waits for agreement to the current version.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::plan::{self, AgreementMethod, PlanItems};
use enshin_store::Store;
use enshin_store::keyring::Keyring;
use enshin_store::records::{Agreement, Plan, PlanDraft, PlanVersion};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::access::AccessFacts;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::monitoring::clinic_patient;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// A patient's plan with its versions and agreements.
pub struct PlanRecord {
    /// The plan, if one was started.
    pub plan: Option<Plan>,
    /// Offered versions, oldest first.
    pub versions: Vec<PlanVersion>,
    /// Agreements, oldest first.
    pub agreements: Vec<Agreement>,
}

impl PlanRecord {
    /// Whether the current version is agreed to.
    pub fn agreed(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| {
            p.current_version > 0
                && self
                    .agreements
                    .iter()
                    .any(|a| a.version == p.current_version)
        })
    }
}

/// A patient's plan with its versions and agreements, opened (the caller checks who asks).
pub(crate) async fn record_of(
    store: &Store,
    keyring: &Keyring,
    clinic_id: &str,
    patient_id: &str,
) -> Result<PlanRecord, ApiError> {
    let Some(plan) = store.plan(keyring, clinic_id, patient_id).await? else {
        return Ok(PlanRecord {
            plan: None,
            versions: Vec::new(),
            agreements: Vec::new(),
        });
    };
    let versions = store.plan_versions(keyring, &plan).await?;
    let agreements = store.plan_agreements(&plan.id).await?;
    Ok(PlanRecord {
        plan: Some(plan),
        versions,
        agreements,
    })
}

/// A patient's plan at the member's clinic; the patient is noted as read.
pub async fn member_plan(
    state: &AppState,
    auth: &Authenticated,
    action: Action,
    patient_id: &str,
    facts: &AccessFacts,
) -> Result<PlanRecord, ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, action, patient_id).await?;
    facts.read_patients([patient_id]);
    record_of(&state.store, &state.keyring, &clinic_id, patient_id).await
}

/// Saves the draft of the patient's next plan version (blanks allowed).
pub async fn save_draft(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    items: &PlanItems,
    facts: &AccessFacts,
) -> Result<(), ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::WritePlan, patient_id).await?;
    facts.read_patients([patient_id]);
    let items = plan::draft(items)?;
    state
        .store
        .save_plan_draft(
            &state.keyring,
            &PlanDraft {
                clinic_id: &clinic_id,
                clinic_patient_id: patient_id,
                new_id: &uuid::Uuid::now_v7().to_string(),
                items: &items,
                by: &auth.session.account_id,
            },
            now_ms(),
        )
        .await?;
    Ok(())
}

/// Offers the draft as the next version: refused while any item is blank.
pub async fn offer(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    facts: &AccessFacts,
) -> Result<i64, ApiError> {
    let record = member_plan(state, auth, Action::WritePlan, patient_id, facts).await?;
    let (Some(plan), Some(items)) = (
        record.plan.as_ref(),
        record.plan.as_ref().and_then(|p| p.draft.as_ref()),
    ) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_draft",
            "there is no draft to offer; save the plan first",
        ));
    };
    // Offering the current version again would only ask the patient to agree twice.
    if record.versions.last().is_some_and(|v| &v.items == items) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "plan_unchanged",
            "the draft is the same as the current version; change an item before offering it",
        ));
    }
    plan::offerable(items).map_err(|blank| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plan_incomplete",
            "every item of the plan must be filled in before it is offered",
        )
        .with_problem("blank_items")
        .with_detail(blank.join(","))
    })?;
    Ok(state
        .store
        .offer_plan(
            &state.keyring,
            plan,
            items,
            &auth.session.account_id,
            now_ms(),
        )
        .await?)
}

/// The version an agreement is for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedAgreement {
    /// The version shown to the patient (it must still be the current one).
    pub version: i64,
}

fn plan_changed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "plan_changed",
        "this is not the current version of the plan; open the current one and agree to it",
    )
}

async fn agree(
    state: &AppState,
    plan: &Plan,
    version: i64,
    method: AgreementMethod,
    account_id: Option<String>,
    attested_by: Option<String>,
) -> Result<(), ApiError> {
    if version != plan.current_version || version < 1 {
        return Err(plan_changed());
    }
    let agreement = Agreement {
        id: uuid::Uuid::now_v7().to_string(),
        version,
        version_hash: String::new(),
        method,
        account_id,
        attested_by,
        agreed_at: now_ms(),
    };
    state
        .store
        .add_plan_agreement(&plan.id, version, &agreement)
        .await
        .map_err(|e| match e {
            enshin_store::records::RecordStoreError::Changed => plan_changed(),
            e => e.into(),
        })
}

/// A doctor attests that the patient agreed verbally to the current version.
pub async fn attest_verbal(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    typed: &TypedAgreement,
    facts: &AccessFacts,
) -> Result<(), ApiError> {
    let record = member_plan(state, auth, Action::WritePlan, patient_id, facts).await?;
    let plan = record.plan.as_ref().ok_or_else(plan_changed)?;
    let account = state
        .store
        .linked_account(&plan.clinic_id, patient_id)
        .await?;
    agree(
        state,
        plan,
        typed.version,
        AgreementMethod::Verbal,
        account,
        Some(auth.session.account_id.clone()),
    )
    .await
}

/// A patient's plan at one of their clinics.
pub struct OwnPlan {
    /// The clinic.
    pub clinic_id: String,
    /// Its name.
    pub clinic_name: String,
    /// The plan.
    pub record: PlanRecord,
}

/// The plans the patient's clinics offered them (those with at least one version).
pub async fn own_plans(state: &AppState, auth: &Authenticated) -> Result<Vec<OwnPlan>, ApiError> {
    let account = &auth.session.account_id;
    authorize(&auth.actor, Action::AgreeOwnPlan, Target::Account(account))?;
    let mut out = Vec::new();
    for link in state.store.links_of(account).await? {
        let Some(patient_id) = state.store.linked_record(&link.clinic_id, account).await? else {
            continue;
        };
        let record = record_of(&state.store, &state.keyring, &link.clinic_id, &patient_id).await?;
        if !record.versions.is_empty() {
            out.push(OwnPlan {
                clinic_id: link.clinic_id,
                clinic_name: link.clinic_name,
                record,
            });
        }
    }
    Ok(out)
}

/// The patient agrees to the current version of their plan `plan_id`.
pub async fn agree_own(
    state: &AppState,
    auth: &Authenticated,
    plan_id: &str,
    typed: &TypedAgreement,
) -> Result<(), ApiError> {
    let plans = own_plans(state, auth).await?;
    let plan = plans
        .iter()
        .filter_map(|p| p.record.plan.as_ref())
        .find(|p| p.id == plan_id)
        .ok_or_else(ApiError::not_found)?;
    agree(
        state,
        plan,
        typed.version,
        AgreementMethod::Patient,
        Some(auth.session.account_id.clone()),
        None,
    )
    .await
}

fn version_json(v: &PlanVersion) -> Value {
    json!({
        "version": v.version,
        "items": v.items,
        "signed_by": v.signed_by,
        "created_at": v.created_at,
        "hash": v.hash,
    })
}

fn agreement_json(a: &Agreement) -> Value {
    json!({
        "version": a.version,
        "version_hash": a.version_hash,
        "method": a.method.as_str(),
        "account_id": a.account_id,
        "attested_by": a.attested_by,
        "agreed_at": a.agreed_at,
    })
}

/// A plan record as JSON; the draft only for members.
pub fn record_json(r: &PlanRecord, with_draft: bool) -> Value {
    json!({
        "id": r.plan.as_ref().map(|p| &p.id),
        "current_version": r.plan.as_ref().map_or(0, |p| p.current_version),
        "agreed": r.agreed(),
        "draft": if with_draft { json!(r.plan.as_ref().and_then(|p| p.draft.as_ref())) } else { Value::Null },
        "versions": r.versions.iter().map(version_json).collect::<Vec<_>>(),
        "agreements": r.agreements.iter().map(agreement_json).collect::<Vec<_>>(),
    })
}

async fn member_answer(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    facts: &AccessFacts,
) -> Result<Json<Value>, ApiError> {
    let record = member_plan(state, auth, Action::ReadRecords, id, facts).await?;
    Ok(Json(record_json(&record, true)))
}

/// `GET /api/v1/patients/{id}/plan` (clinic).
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    member_answer(&state, &auth, &id, &facts).await
}

/// `PUT /api/v1/patients/{id}/plan {items}` (doctor): the draft.
pub async fn put_draft(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let items: PlanItems = json_body(body)?;
    save_draft(&state, &auth, &id, &items, &facts).await?;
    member_answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/patients/{id}/plan/offer` (doctor): the draft becomes the next version.
pub async fn post_offer(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    offer(&state, &auth, &id, &facts).await?;
    member_answer(&state, &auth, &id, &facts).await
}

/// `POST /api/v1/patients/{id}/plan/verbal-agreement {version}` (doctor).
pub async fn post_verbal(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let typed: TypedAgreement = json_body(body)?;
    attest_verbal(&state, &auth, &id, &typed, &facts).await?;
    let Json(v) = member_answer(&state, &auth, &id, &facts).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// `GET /api/v1/plans` (patient): the plans offered to one, with one's agreements.
pub async fn own_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    let plans: Vec<Value> = own_plans(&state, &auth)
        .await?
        .iter()
        .map(|p| {
            let mut v = record_json(&p.record, false);
            v["clinic_id"] = json!(p.clinic_id);
            v["clinic_name"] = json!(p.clinic_name);
            v
        })
        .collect();
    Ok(Json(json!({ "plans": plans })))
}

/// `POST /api/v1/plans/{id}/agree {version}` (patient) → 201.
pub async fn post_agree(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedAgreement = json_body(body)?;
    agree_own(&state, &auth, &id, &typed).await?;
    Ok(StatusCode::CREATED)
}

/// The clinic's record settings as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedSettings {
    /// Whether online calls wait for the patient's agreement to the current plan.
    pub plan_required_for_calls: bool,
}

/// `GET /api/v1/record-settings` (clinic members).
pub async fn get_settings(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadRecords)?;
    let required = state.store.plan_required_for_calls(clinic_id).await?;
    Ok(Json(json!({ "plan_required_for_calls": required })))
}

/// An admin sets whether the clinic's online calls wait for an agreed plan.
pub async fn set_requirement(
    state: &AppState,
    auth: &Authenticated,
    required: bool,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    Ok(state
        .store
        .set_plan_required_for_calls(clinic_id, required)
        .await?)
}

/// `PUT /api/v1/record-settings {plan_required_for_calls}` (clinic admin).
pub async fn put_settings(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let typed: TypedSettings = json_body(body)?;
    set_requirement(&state, &auth, typed.plan_required_for_calls).await?;
    Ok(Json(
        json!({ "plan_required_for_calls": typed.plan_required_for_calls }),
    ))
}
