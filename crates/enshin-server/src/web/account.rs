//! Pages every person of the patient and clinic listeners has: log-in, log-out, start page and
//! "my sessions" (AUTH-2, SESS-1, SESS-2).

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use enshin_core::authz::Actor;
use enshin_core::people::Role;
use serde::Deserialize;

use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::access::AccessFacts;
use crate::announcements::recent;
use crate::certificates::clinic_certificates;
use crate::certs::expires_soon;
use crate::clock::{japan_time, now_ms};
use crate::listener::{ConnInfo, ListenerKind};
use crate::routes::AppState;
use crate::session::{
    clear_session_cookie, end_own_session, own_sessions, session_cookie, sign_in, sign_out,
};

/// `GET /`: the start page, or the log-in page on the way there.
pub async fn root(page: Page) -> Response {
    page.redirect("/home")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    f: Frame,
    login_id: String,
    error: Option<String>,
    patient: bool,
    totp: bool,
}

/// `GET /login`.
pub async fn login_page(page: Page, Extension(conn): Extension<ConnInfo>) -> Response {
    let template = LoginPage {
        f: page.frame(None),
        login_id: String::new(),
        error: None,
        patient: conn.listener == ListenerKind::Patient,
        totp: conn.listener == ListenerKind::Operator,
    };
    page.render(StatusCode::OK, &template)
}

/// The log-in form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    login_id: String,
    password: String,
    totp: Option<String>,
}

/// `POST /login`: the API's log-in; a failure shows the form again with the same message for
/// a wrong password and an unknown ID.
pub async fn login(
    State(state): State<AppState>,
    Extension(conn): Extension<ConnInfo>,
    Extension(facts): Extension<AccessFacts>,
    page: Page,
    Posted(posted): Posted<LoginForm>,
) -> Response {
    // From the moment the form was read: the floor hides the server's work, not the upload.
    let started = tokio::time::Instant::now();
    match sign_in(
        &state,
        &conn,
        &facts,
        started,
        &posted.login_id,
        posted.password,
        posted.totp.as_deref(),
    )
    .await
    {
        Ok(signed) => match session_cookie(&signed.token) {
            Ok(cookie) => {
                let mut response = page.redirect("/home");
                response.headers_mut().append(header::SET_COOKIE, cookie);
                response
            }
            Err(err) => page.error(None, &err),
        },
        Err(err) => {
            let template = LoginPage {
                f: page.frame(None),
                login_id: posted.login_id.chars().take(64).collect(),
                error: Some(page.t().error(&err)),
                patient: conn.listener == ListenerKind::Patient,
                totp: conn.listener == ListenerKind::Operator,
            };
            let mut response = page.render(err.status, &template);
            if let Some(seconds) = err.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
            }
            response
        }
    }
}

/// To the log-in page with "logged out", the session cookie removed.
fn logged_out(page: &Page) -> Response {
    let mut response = page.redirect("/login?done=logged_out");
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie());
    response
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(_): Posted<Button>,
) -> Response {
    match sign_out(&state, &auth).await {
        Ok(()) => logged_out(&page),
        Err(err) => page.error(Some(&auth), &err),
    }
}

struct AnnouncementRow {
    security: bool,
    title: String,
    text: String,
    effective: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    f: Frame,
    text: &'static str,
    cert_warning: bool,
    access_waiting: bool,
    announcements: Vec<AnnouncementRow>,
    /// Patients: whether their e-mail and phone are proven (None: not a patient).
    contact: Option<(bool, bool)>,
    /// Clinic members: their own address (None: not a member).
    own_email: Option<String>,
}

/// `GET /home`; a clinic admin is warned here of certificates about to expire.
pub async fn home(State(state): State<AppState>, page: Page, SignedIn(auth): SignedIn) -> Response {
    let text = match auth.actor {
        Actor::Patient { .. } | Actor::Device { .. } => page.t().home_patient,
        Actor::Operator { .. } => page.t().home_operator,
        Actor::Member { .. } => page.t().home_clinic,
    };
    let is_admin = matches!(
        auth.actor,
        Actor::Member {
            role: Role::Admin,
            ..
        }
    );
    let (cert_warning, announcements) = if is_admin {
        let now = now_ms();
        let certs = match clinic_certificates(&state, &auth).await {
            Ok(certs) => certs,
            Err(err) => return page.error(Some(&auth), &err),
        };
        let notices = match recent(&state, &auth).await {
            Ok(list) => list,
            Err(err) => return page.error(Some(&auth), &err),
        };
        (
            certs.iter().any(|c| expires_soon(c, now)),
            notices
                .into_iter()
                .map(|a| AnnouncementRow {
                    security: a.kind == "security",
                    title: a.title,
                    text: a.body,
                    effective: japan_time(a.effective_at)[..10].to_owned(),
                })
                .collect(),
        )
    } else {
        (false, Vec::new())
    };
    // Admins are told on arrival of requests to decide and of break-glass not yet looked at.
    let access_waiting = match (&auth.actor, is_admin) {
        (Actor::Member { clinic_id, .. }, true) => {
            let now = now_ms();
            match state.store.grants_of_clinic(clinic_id).await {
                Ok(grants) => grants.iter().any(|g| {
                    g.state(now) == enshin_core::grant::State::Pending
                        || (g.kind == enshin_core::grant::Kind::BreakGlass && g.seen_at.is_none())
                }),
                Err(e) => return page.error(Some(&auth), &crate::error::ApiError::from(e)),
            }
        }
        _ => false,
    };
    let (contact, own_email) = match &auth.actor {
        Actor::Patient { account_id } => match state.store.contact_verified(account_id).await {
            Ok((email, phone)) => (Some((email.is_some(), phone.is_some())), None),
            Err(e) => return page.error(Some(&auth), &crate::error::ApiError::from(e)),
        },
        Actor::Member { account_id, .. } => match state.store.member_email(account_id).await {
            Ok(email) => (None, Some(email.unwrap_or_default())),
            Err(e) => return page.error(Some(&auth), &crate::error::ApiError::from(e)),
        },
        Actor::Operator { .. } | Actor::Device { .. } => (None, None),
    };
    let template = HomePage {
        f: page.frame(Some(&auth)),
        text,
        cert_warning,
        access_waiting,
        announcements,
        contact,
        own_email,
    };
    page.render(StatusCode::OK, &template)
}

/// The contact-check forms.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    channel: String,
    code: String,
}

/// `POST /contact/verify`: sends a code to the patient's e-mail or phone.
pub async fn contact_send(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<ContactForm>,
) -> Response {
    match crate::reset::start_contact_check(&state, &auth, &form.channel).await {
        Ok(()) => page.redirect("/home?done=contact_code_sent"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `POST /contact/verify/confirm`: proves the contact with the code.
pub async fn contact_confirm(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<ContactForm>,
) -> Response {
    match crate::reset::confirm_contact(&state, &auth, &form.channel, &form.code).await {
        Ok(()) => page.redirect("/home?done=contact_verified"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// The own-address form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

/// `POST /email`: a clinic member's own address.
pub async fn own_email(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<EmailForm>,
) -> Response {
    match crate::reset::set_own_email(&state, &auth, &form.email).await {
        Ok(()) => page.redirect("/home?done=email_saved"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

struct SessionRow {
    id: String,
    created_at: String,
    last_seen_at: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    f: Frame,
    sessions: Vec<SessionRow>,
}

/// `GET /sessions`: "my sessions", with a log-off button for each.
pub async fn sessions(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    match own_sessions(&state, &auth).await {
        Ok(open) => {
            let template = SessionsPage {
                f: page.frame(Some(&auth)),
                sessions: open
                    .into_iter()
                    .map(|s| SessionRow {
                        id: s.id,
                        created_at: japan_time(s.created_at),
                        last_seen_at: japan_time(s.last_seen_at),
                        current: s.current,
                    })
                    .collect(),
            };
            page.render(StatusCode::OK, &template)
        }
        Err(err) => page.error(Some(&auth), &err),
    }
}

/// `POST /sessions/{id}/end`: ends one of one's own sessions (SESS-2).
pub async fn end_session(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match end_own_session(&state, &auth, &id).await {
        Ok(()) if id == auth.session.id => logged_out(&page),
        Ok(()) => page.redirect("/sessions?done=session_ended"),
        Err(err) => page.error(Some(&auth), &err),
    }
}
