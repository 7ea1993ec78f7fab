//! The operator console's management pages (AVAIL-4, AVAIL-5): add clinics, suspend and resume,
//! a clinic's state (members without names, certificates, administrator address, emergency
//! accounts) and announcements. The same functions as the JSON API.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use enshin_core::exit::{japan_today, may_delete};
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::access::AccessFacts;
use crate::announcements::{NewAnnouncement, publish_announcement, recent};
use crate::certs::expires_soon;
use crate::clock::{japan_time, now_ms};
use crate::console::{
    add_clinic_as, clinic_state, end_sessions_of, lift_scope, list_clinics, suspend_scope,
};
use crate::emergency::{end_emergency, set_admin_email_of, start_emergency};
use crate::error::ApiError;
use crate::exit::{certificate_html, certificate_of, delete_as, notice_as, withdraw_as};
use crate::routes::AppState;
use crate::session::Authenticated;

struct ClinicRow {
    id: String,
    name: String,
    created: String,
    active_members: i64,
}

struct SuspensionRow {
    scope: String,
    name: String,
    message: String,
    since: String,
}

/// A clinic leaving the service, as the console lists it.
struct TerminationRow {
    name: String,
    id: String,
    effective_on: String,
    deleted: Option<String>,
}

#[derive(Template)]
#[template(path = "operator_clinics.html")]
struct ClinicsPage {
    f: Frame,
    clinics: Vec<ClinicRow>,
    terminations: Vec<TerminationRow>,
    suspensions: Vec<SuspensionRow>,
    error: Option<String>,
}

async fn clinics_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let list = match list_clinics(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let suspended = match state.store.suspensions().await {
        Ok(s) => s,
        Err(e) => return page.error(Some(auth), &ApiError::from(e)),
    };
    let terminations = match state.store.terminations().await {
        Ok(list) => list
            .into_iter()
            .map(|t| TerminationRow {
                name: t.clinic_name,
                id: t.clinic_id,
                effective_on: t.effective_on,
                deleted: t.deleted_at.map(japan_time),
            })
            .collect(),
        Err(e) => return page.error(Some(auth), &ApiError::from(e)),
    };
    let t = page.t();
    let name_of = |scope: &str| {
        list.iter()
            .find(|c| c.id == scope)
            .map_or_else(|| t.whole_service.to_owned(), |c| c.name.clone())
    };
    let suspensions = suspended
        .into_iter()
        .map(|(scope, message, since)| SuspensionRow {
            name: name_of(&scope),
            scope,
            message,
            since: japan_time(since),
        })
        .collect();
    let template = ClinicsPage {
        f: page.frame(Some(auth)),
        terminations,
        suspensions,
        clinics: list
            .into_iter()
            .map(|c| ClinicRow {
                created: japan_time(c.created_at),
                id: c.id,
                name: c.name,
                active_members: c.active_members,
            })
            .collect(),
        error: err.map(|e| t.error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /clinics`: every clinic, the suspensions in force, and the forms to add and suspend.
pub async fn clinics_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    clinics_view(&state, &page, &auth, None).await
}

/// The add-clinic form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewClinicForm {
    name: String,
}

/// `POST /clinics`: adds a clinic and its data key.
pub async fn create_clinic(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<NewClinicForm>,
) -> Response {
    let created = add_clinic_as(&state, &auth, &form.name).await;
    match created {
        Ok(clinic) => page.redirect(&format!("/clinics/{}?done=clinic_created", clinic.id)),
        Err(e) => clinics_view(&state, &page, &auth, Some(&e)).await,
    }
}

/// The suspend form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SuspendForm {
    scope: String,
    message: String,
}

/// `POST /suspensions`: suspends the service or a clinic (AVAIL-4).
pub async fn suspend(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<SuspendForm>,
) -> Response {
    match suspend_scope(&state, &auth, &form.scope, &form.message).await {
        Ok(()) => page.redirect("/clinics?done=suspended"),
        Err(e) => clinics_view(&state, &page, &auth, Some(&e)).await,
    }
}

/// `POST /suspensions/{scope}/lift`.
pub async fn lift(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(scope): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match lift_scope(&state, &auth, &scope).await {
        Ok(()) => page.redirect("/clinics?done=lifted"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

struct MemberRow {
    id: String,
    role: String,
    disabled: bool,
    emergency_until: Option<String>,
}

struct CertRow {
    label: String,
    until: String,
    last_used: String,
    revoked: bool,
    expiring: bool,
}

#[derive(Template)]
#[template(path = "operator_clinic.html")]
struct ClinicPage {
    f: Frame,
    id: String,
    name: String,
    admin_email: String,
    suspended: Option<String>,
    emergency_until: Option<String>,
    members: Vec<MemberRow>,
    certs: Vec<CertRow>,
    terminates_on: Option<String>,
    deletable: bool,
    today: String,
    error: Option<String>,
}

async fn clinic_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    err: Option<&ApiError>,
) -> Response {
    let c = match clinic_state(state, auth, id).await {
        Ok(c) => c,
        Err(e) => return page.error(Some(auth), &e),
    };
    let (t, now) = (page.t(), now_ms());
    let termination = match state.store.termination(id).await {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &ApiError::from(e)),
    };
    let terminates_on = termination.map(|t| t.effective_on);
    let today = japan_today(now);
    let deletable = terminates_on
        .as_deref()
        .and_then(|d| d.parse().ok())
        .is_some_and(|on| may_delete(on, now).is_ok());
    let template = ClinicPage {
        terminates_on,
        deletable,
        today: today.to_string(),
        f: page.frame(Some(auth)),
        id: id.to_owned(),
        name: c.contact.name,
        admin_email: c.contact.admin_email.unwrap_or_default(),
        suspended: c.suspended,
        emergency_until: c
            .contact
            .emergency_until
            .filter(|until| *until > now)
            .map(japan_time),
        members: c
            .members
            .into_iter()
            .map(|m| MemberRow {
                id: m.id,
                role: m.role,
                disabled: m.disabled,
                emergency_until: m.emergency_until.map(japan_time),
            })
            .collect(),
        certs: c
            .certificates
            .iter()
            .map(|cert| CertRow {
                label: cert.label.clone(),
                until: japan_time(cert.not_after),
                last_used: cert
                    .last_used_at
                    .map_or_else(|| t.never.to_owned(), japan_time),
                revoked: cert.revoked_at.is_some(),
                expiring: expires_soon(cert, now),
            })
            .collect(),
        error: err.map(|e| t.error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /clinics/{id}`.
pub async fn clinic_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    clinic_view(&state, &page, &auth, &id, None).await
}

async fn clinic_outcome(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    done: &str,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => page.redirect(&format!("/clinics/{id}?done={done}")),
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => {
            page.error(Some(auth), &e)
        }
        Err(e) => clinic_view(state, page, auth, id, Some(&e)).await,
    }
}

/// The administrator-address form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    email: String,
}

/// `POST /clinics/{id}/admin-email`.
pub async fn admin_email(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<ContactForm>,
) -> Response {
    let result = set_admin_email_of(&state, &auth, &id, &form.email).await;
    clinic_outcome(&state, &page, &auth, &id, "contact_saved", result).await
}

/// `POST /clinics/{id}/members/{member}/end-sessions`: logs a member off everywhere (SESS-2).
pub async fn end_member_sessions(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path((id, member)): Path<(String, String)>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = end_sessions_of(&state, &auth, &member).await;
    clinic_outcome(&state, &page, &auth, &id, "sessions_ended", result).await
}

/// The emergency form: hours, and how many accounts of each role.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmergencyForm {
    hours: String,
    admins: String,
    doctors: String,
    staff: String,
}

/// `POST /clinics/{id}/emergency`.
pub async fn emergency(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<EmergencyForm>,
) -> Response {
    // Counts that are not small numbers count as none; the account-count rule then answers.
    let count = |typed: &str| typed.trim().parse::<usize>().unwrap_or(0).min(10);
    let roles: Vec<String> = [
        ("admin", &form.admins),
        ("doctor", &form.doctors),
        ("staff", &form.staff),
    ]
    .iter()
    .flat_map(|(role, n)| std::iter::repeat_n((*role).to_owned(), count(n)))
    .collect();
    let hours = form.hours.trim().parse().unwrap_or(0);
    let result = start_emergency(&state, &auth, &facts, &id, hours, &roles)
        .await
        .map(|_| ());
    clinic_outcome(&state, &page, &auth, &id, "emergency_started", result).await
}

/// `POST /clinics/{id}/emergency/end`.
pub async fn emergency_end(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = end_emergency(&state, &auth, &facts, &id).await;
    clinic_outcome(&state, &page, &auth, &id, "emergency_ended", result).await
}

struct AnnouncementRow {
    security: bool,
    title: String,
    text: String,
    effective: String,
    published: String,
}

#[derive(Template)]
#[template(path = "operator_announcements.html")]
struct AnnouncementsPage {
    f: Frame,
    announcements: Vec<AnnouncementRow>,
    typed: NewAnnouncement,
    error: Option<String>,
}

impl AnnouncementsPage {
    fn is_security(&self) -> bool {
        self.typed.kind == "security"
    }
}

async fn announcements_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    typed: NewAnnouncement,
    err: Option<&ApiError>,
) -> Response {
    let list = match recent(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = AnnouncementsPage {
        f: page.frame(Some(auth)),
        announcements: list
            .into_iter()
            .map(|a| AnnouncementRow {
                security: a.kind == "security",
                title: a.title,
                text: a.body,
                effective: japan_time(a.effective_at)[..10].to_owned(),
                published: japan_time(a.published_at),
            })
            .collect(),
        typed,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /announcements`: the notices of the last 90 days and the form to publish one.
pub async fn announcements_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    let typed = NewAnnouncement {
        kind: "change".into(),
        ..NewAnnouncement::default()
    };
    announcements_view(&state, &page, &auth, typed, None).await
}

/// The publish form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnnouncementForm {
    kind: String,
    title: String,
    text: String,
    effective_date: String,
}

/// `POST /announcements`.
pub async fn publish(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<AnnouncementForm>,
) -> Response {
    let typed = NewAnnouncement {
        kind: form.kind,
        title: form.title,
        text: form.text,
        effective_date: form.effective_date,
    };
    match publish_announcement(&state, &auth, &typed).await {
        Ok(_) => page.redirect("/announcements?done=announcement_published"),
        Err(e) => {
            let typed = NewAnnouncement {
                title: typed.title.chars().take(200).collect(),
                text: typed.text.chars().take(4_000).collect(),
                effective_date: typed.effective_date.chars().take(10).collect(),
                ..typed
            };
            announcements_view(&state, &page, &auth, typed, Some(&e)).await
        }
    }
}

/// The termination form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TerminationForm {
    date: String,
}

/// `POST /clinics/{id}/termination`: records or moves the termination date (DATA-5).
pub async fn terminate(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<TerminationForm>,
) -> Response {
    let result = notice_as(&state, &auth, &id, &form.date).await.map(|_| ());
    clinic_outcome(&state, &page, &auth, &id, "termination_noticed", result).await
}

/// `POST /clinics/{id}/termination/withdraw`: the clinic stays after all.
pub async fn withdraw(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = withdraw_as(&state, &auth, &id).await;
    clinic_outcome(&state, &page, &auth, &id, "termination_withdrawn", result).await
}

/// The deletion form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeletionForm {
    confirm: String,
}

/// `POST /clinics/{id}/deletion`: on or after the termination date, deletes the clinic and
/// shows its deletion certificate.
pub async fn delete(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<DeletionForm>,
) -> Response {
    match delete_as(&state, &auth, &id, &form.confirm).await {
        Ok(_) => page.redirect(&format!("/clinics/{id}/deletion-certificate")),
        Err(e) => clinic_outcome(&state, &page, &auth, &id, "", Err(e)).await,
    }
}

/// `GET /clinics/{id}/deletion-certificate.json`: the signed certificate of a deleted clinic.
pub async fn deletion_certificate_json(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match certificate_of(&state, &auth, &id).await {
        Ok(c) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"deletion-certificate-{id}.json\""),
                ),
            ],
            serde_json::to_string_pretty(&c).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `GET /clinics/{id}/deletion-certificate`: the printable certificate of a deleted clinic.
pub async fn deletion_certificate(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match certificate_of(&state, &auth, &id).await {
        Ok(c) => {
            let html = certificate_html(&c);
            let policy = certificate_policy(&html);
            ([(header::CONTENT_SECURITY_POLICY, policy)], Html(html)).into_response()
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// A policy that lets the certificate's own inline style apply, and nothing else: the page is
/// the same file the command line writes, which must stand alone.
fn certificate_policy(html: &str) -> String {
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(style, _)| style);
    let hash = base64::engine::general_purpose::STANDARD
        .encode(ring::digest::digest(&ring::digest::SHA256, style.as_bytes()).as_ref());
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
}
