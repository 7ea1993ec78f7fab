//! The clinic admin's member list: add, change role, force log-off, disable (ROLE-1, AUTH-7,
//! SESS-2). The same functions as `/api/v1/members`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use enshin_core::people::Role;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::certificates::clinic_certificates;
use crate::certs::expires_soon;
use crate::clock::{japan_time, now_ms};
use crate::error::ApiError;
use crate::members::{
    NewMemberBody, add_member, change_member_role, disable_member, end_member_sessions, members,
};
use crate::routes::AppState;
use crate::session::Authenticated;

const ROLES: [&str; 3] = [
    Role::Admin.as_str(),
    Role::Doctor.as_str(),
    Role::Staff.as_str(),
];

struct MemberRow {
    id: String,
    login_id: String,
    name: String,
    role: String,
    disabled: bool,
    is_self: bool,
}

impl MemberRow {
    fn has_role(&self, role: &str) -> bool {
        self.role == role
    }
}

/// What the add form shows again after a mistake (never the password).
struct Typed {
    login_id: String,
    name: String,
    role: String,
}

impl Typed {
    fn has_role(&self, role: &str) -> bool {
        self.role == role
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    f: Frame,
    members: Vec<MemberRow>,
    roles: [&'static str; 3],
    new: Typed,
    error: Option<String>,
}

async fn members_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    new: Typed,
    err: Option<&ApiError>,
) -> Response {
    let list = match members(state, auth).await {
        Ok(list) => list,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = MembersPage {
        f: page.frame(Some(auth)),
        members: list
            .into_iter()
            .map(|m| MemberRow {
                is_self: m.id == auth.session.account_id,
                id: m.id,
                login_id: m.login_id,
                name: m.display_name,
                role: m.role,
                disabled: m.disabled,
            })
            .collect(),
        roles: ROLES,
        new,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

fn blank() -> Typed {
    Typed {
        login_id: String::new(),
        name: String::new(),
        role: Role::Staff.as_str().to_owned(),
    }
}

/// `GET /members`.
pub async fn members_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    members_view(&state, &page, &auth, blank(), None).await
}

/// The add form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddForm {
    login_id: String,
    name: String,
    role: String,
    password: String,
}

/// `POST /members`: adds a member with an initial password.
pub async fn add(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(posted): Posted<AddForm>,
) -> Response {
    let body = NewMemberBody {
        login_id: posted.login_id,
        name: posted.name,
        role: posted.role,
        password: posted.password,
    };
    match add_member(&state, &auth, &body).await {
        Ok(_) => page.redirect("/members?done=member_added"),
        Err(err) => {
            let typed = Typed {
                login_id: body.login_id.chars().take(64).collect(),
                name: body.name.chars().take(100).collect(),
                role: body.role.chars().take(10).collect(),
            };
            members_view(&state, &page, &auth, typed, Some(&err)).await
        }
    }
}

/// The role form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// The answer to a member action: back to the list with a notice, or the error shown there
/// (a 403 or 404 on a page of its own, saying no more than the API would).
async fn outcome(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    done: &str,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => page.redirect(&format!("/members?done={done}")),
        Err(err) if err.status == StatusCode::NOT_FOUND || err.status == StatusCode::FORBIDDEN => {
            page.error(Some(auth), &err)
        }
        Err(err) => members_view(state, page, auth, blank(), Some(&err)).await,
    }
}

/// `POST /members/{id}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(posted): Posted<RoleForm>,
) -> Response {
    let result = change_member_role(&state, &auth, &id, &posted.role).await;
    outcome(&state, &page, &auth, "role_changed", result).await
}

/// The set-password form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    password: String,
}

/// `POST /members/{id}/password`: the admin sets a member's new password (AUTH-6 (ii)).
pub async fn set_password(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(posted): Posted<PasswordForm>,
) -> Response {
    let new = crate::reset::NewPassword {
        password: posted.password,
    };
    let result = crate::reset::set_member_password(&state, &auth, &id, new).await;
    outcome(&state, &page, &auth, "password_set", result).await
}

/// `POST /members/{id}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = disable_member(&state, &auth, &id).await;
    outcome(&state, &page, &auth, "member_disabled", result).await
}

/// `POST /members/{id}/end-sessions`.
pub async fn end_sessions(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    let result = end_member_sessions(&state, &auth, &id).await;
    outcome(&state, &page, &auth, "sessions_ended", result).await
}

struct CertRow {
    serial: String,
    label: String,
    until: String,
    last_used: String,
    state: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct CertificatesPage {
    f: Frame,
    certs: Vec<CertRow>,
}

/// `GET /certificates`: the clinic's certificates, expiry and last use (AUTH-1).
pub async fn certificates_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    let certs = match clinic_certificates(&state, &auth).await {
        Ok(certs) => certs,
        Err(err) => return page.error(Some(&auth), &err),
    };
    let now = now_ms();
    let t = page.t();
    let rows = certs
        .into_iter()
        .map(|c| CertRow {
            state: match (c.revoked_at, c.not_after <= now) {
                (Some(_), _) => "revoked",
                (None, true) => "expired",
                (None, false) if expires_soon(&c, now) => "expiring",
                (None, false) => "in_force",
            },
            current: auth.session.client_cert_serial.as_deref() == Some(c.serial.as_str()),
            until: japan_time(c.not_after),
            last_used: c
                .last_used_at
                .map_or_else(|| t.never.to_owned(), japan_time),
            serial: c.serial,
            label: c.label,
        })
        .collect();
    let template = CertificatesPage {
        f: page.frame(Some(&auth)),
        certs: rows,
    };
    page.render(StatusCode::OK, &template)
}
