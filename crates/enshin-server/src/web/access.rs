//! Operators' access to patient data as pages (DATA-4): the clinic admin's "operator access"
//! page (approve, refuse, end; every operator action on the clinic from the access log) and the
//! operator's request / break-glass page. The same functions as the JSON API.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use enshin_core::grant::{Kind, Scope, State as GrantState};
use enshin_store::grants::GrantRecord;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use super::texts::Texts;
use crate::access::AccessFacts;
use crate::clock::{japan_time, now_ms};
use crate::console::list_clinics;
use crate::error::ApiError;
use crate::grants::{Ask, Decision, ask_access, decide, operator_entries, visible_grants};
use crate::routes::AppState;
use crate::session::Authenticated;

struct GrantRow {
    id: String,
    clinic: String,
    operator: String,
    kind: &'static str,
    scope: String,
    reason: String,
    minutes: i64,
    period: String,
    state: &'static str,
    state_text: &'static str,
}

fn grant_row(t: &Texts, g: &GrantRecord, now: i64) -> GrantRow {
    let state = g.state(now);
    GrantRow {
        id: g.id.clone(),
        clinic: g.clinic_id.clone(),
        operator: g.operator_login.clone(),
        kind: match g.kind {
            Kind::Request => t.grant_request,
            Kind::BreakGlass => t.grant_break_glass,
        },
        scope: match &g.scope {
            Scope::Clinic => t.scope_clinic.to_owned(),
            Scope::Patient(id) => format!("{} {id}", t.scope_patient),
        },
        reason: g.reason.clone(),
        minutes: g.duration_ms / 60_000,
        period: match (g.times.starts_at, g.times.ends_at) {
            (Some(s), Some(e)) => format!("{} – {}", japan_time(s), japan_time(e)),
            _ => japan_time(g.times.requested_at),
        },
        state: state.as_str(),
        state_text: match state {
            GrantState::Pending => t.state_pending,
            GrantState::Active => t.state_active,
            GrantState::Ended => t.state_ended,
            GrantState::Refused => t.state_refused,
            GrantState::Lapsed => t.state_lapsed,
        },
    }
}

struct ActionRow {
    time: String,
    operator: String,
    action: String,
    target: String,
    outcome: &'static str,
    access: String,
}

#[derive(Template)]
#[template(path = "operator_access.html")]
struct OperatorAccessPage {
    f: Frame,
    grants: Vec<GrantRow>,
    actions: Vec<ActionRow>,
    error: Option<String>,
}

async fn operator_access_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let (grants, entries) =
        match tokio::try_join!(visible_grants(state, auth), operator_entries(state, auth)) {
            Ok(both) => both,
            Err(e) => return page.error(Some(auth), &e),
        };
    if let Some(clinic) = &auth.session.clinic_id
        && let Err(e) = state.store.acknowledge_break_glass(clinic, now_ms()).await
    {
        return page.error(Some(auth), &ApiError::from(e));
    }
    let (t, now) = (page.t(), now_ms());
    let logins: HashMap<&str, &str> = grants
        .iter()
        .map(|g| (g.operator_id.as_str(), g.operator_login.as_str()))
        .collect();
    let dash = |v: Option<&String>| v.cloned().unwrap_or_else(|| "-".into());
    let actions = entries
        .iter()
        .rev()
        .map(|s| {
            let e = &s.entry;
            let id = e.principal_id.as_deref().unwrap_or("-");
            ActionRow {
                time: japan_time(e.at_ms),
                operator: logins.get(id).map_or(id, |l| l).to_owned(),
                action: e.action.clone(),
                target: format!(
                    "{} {}",
                    dash(e.target_type.as_ref()),
                    dash(e.target_id.as_ref())
                ),
                outcome: e.outcome.as_str(),
                access: dash(e.access.as_ref()),
            }
        })
        .collect();
    let template = OperatorAccessPage {
        f: page.frame(Some(auth)),
        grants: grants.iter().map(|g| grant_row(t, g, now)).collect(),
        actions,
        error: err.map(|e| t.error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /operator-access` (clinic admin).
pub async fn operator_access_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    operator_access_view(&state, &page, &auth, None).await
}

async fn decided(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    decision: Decision,
) -> Response {
    let done = match decision {
        Decision::Approve => "access_approved",
        Decision::Refuse => "access_refused",
        Decision::End => "access_ended",
    };
    match decide(state, auth, id, decision).await {
        Ok(_) => page.redirect(&format!("/operator-access?done={done}")),
        Err(e) if e.status == StatusCode::CONFLICT => {
            operator_access_view(state, page, auth, Some(&e)).await
        }
        Err(e) => page.error(Some(auth), &e),
    }
}

/// `POST /operator-access/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    decided(&state, &page, &auth, &id, Decision::Approve).await
}

/// `POST /operator-access/{id}/refuse`.
pub async fn refuse(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    decided(&state, &page, &auth, &id, Decision::Refuse).await
}

/// `POST /operator-access/{id}/end`.
pub async fn end(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    decided(&state, &page, &auth, &id, Decision::End).await
}

/// The operator's request form as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AskForm {
    clinic: String,
    patient_id: String,
    minutes: String,
    reason: String,
    kind: String,
}

struct ClinicOption {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "operator_grants.html")]
struct GrantsPage {
    f: Frame,
    clinics: Vec<ClinicOption>,
    grants: Vec<GrantRow>,
    typed: AskForm,
    error: Option<String>,
}

impl GrantsPage {
    fn chosen(&self, clinic: &str) -> bool {
        self.typed.clinic == clinic
    }
}

async fn grants_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    typed: AskForm,
    err: Option<&ApiError>,
) -> Response {
    let (clinics, grants) =
        match tokio::try_join!(list_clinics(state, auth), visible_grants(state, auth)) {
            Ok(both) => both,
            Err(e) => return page.error(Some(auth), &e),
        };
    let (t, now) = (page.t(), now_ms());
    let template = GrantsPage {
        f: page.frame(Some(auth)),
        clinics: clinics
            .into_iter()
            .map(|c| ClinicOption {
                id: c.id,
                name: c.name,
            })
            .collect(),
        grants: grants.iter().map(|g| grant_row(t, g, now)).collect(),
        typed,
        error: err.map(|e| t.error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /access` (operator): request access or break the glass; one's own grants.
pub async fn grants_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    let typed = AskForm {
        minutes: "60".into(),
        ..AskForm::default()
    };
    grants_view(&state, &page, &auth, typed, None).await
}

/// `POST /access`: a request (`kind=request`) or break-glass (`kind=break_glass`).
pub async fn ask(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Posted(typed): Posted<AskForm>,
) -> Response {
    let kind = if typed.kind == "break_glass" {
        Kind::BreakGlass
    } else {
        Kind::Request
    };
    let body = Ask {
        reason: typed.reason.clone(),
        patient_id: Some(typed.patient_id.clone()),
        // Not a number: zero, which the duration rule refuses with its own message.
        minutes: typed.minutes.trim().parse().unwrap_or(0),
    };
    match ask_access(&state, &auth, Some(&facts), &typed.clinic, kind, &body).await {
        Ok(_) if kind == Kind::BreakGlass => page.redirect("/access?done=access_opened"),
        Ok(_) => page.redirect("/access?done=access_requested"),
        Err(e) => {
            let typed = AskForm {
                reason: typed.reason.chars().take(500).collect(),
                patient_id: typed.patient_id.chars().take(64).collect(),
                minutes: typed.minutes.chars().take(6).collect(),
                ..typed
            };
            grants_view(&state, &page, &auth, typed, Some(&e)).await
        }
    }
}
