//! Password-reset pages (AUTH-6): patients ask for a code and set a new password with it;
//! clinic admins ask for a link and set a new password from it. The same functions as the API,
//! so the same answer for every ID.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::{Frame, Page, Posted};
use crate::error::ApiError;
use crate::listener::ListenerKind;
use crate::reset::{
    LinkReset, ResetConfirm, ResetRequest, ask_reset, confirm_reset, reset_with_link,
};
use crate::routes::AppState;

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    f: Frame,
    patient: bool,
    login_id: String,
    error: Option<String>,
}

fn forgot_view(
    page: &Page,
    state: &AppState,
    login_id: String,
    err: Option<&ApiError>,
) -> Response {
    let template = ForgotPage {
        f: page.frame(None),
        patient: state.listener == ListenerKind::Patient,
        login_id,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /forgot`.
pub async fn forgot_page(State(state): State<AppState>, page: Page) -> Response {
    forgot_view(&page, &state, String::new(), None)
}

/// The request form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotForm {
    login_id: String,
    channel: Option<String>,
}

/// `POST /forgot`: the same next page for every ID.
pub async fn forgot(
    State(state): State<AppState>,
    page: Page,
    Posted(form): Posted<ForgotForm>,
) -> Response {
    let request = ResetRequest {
        login_id: form.login_id.clone(),
        channel: form.channel,
    };
    match ask_reset(&state, &request).await {
        Ok(()) if state.listener == ListenerKind::Patient => {
            page.redirect("/forgot/code?done=code_sent")
        }
        Ok(()) => page.redirect("/forgot?done=link_sent"),
        Err(e) => forgot_view(
            &page,
            &state,
            form.login_id.chars().take(64).collect(),
            Some(&e),
        ),
    }
}

#[derive(Template)]
#[template(path = "forgot_code.html")]
struct CodePage {
    f: Frame,
    login_id: String,
    error: Option<String>,
}

/// `GET /forgot/code` (patients).
pub async fn code_page(page: Page) -> Response {
    let template = CodePage {
        f: page.frame(None),
        login_id: String::new(),
        error: None,
    };
    page.render(StatusCode::OK, &template)
}

/// The code form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    login_id: String,
    code: String,
    new_password: String,
}

/// `POST /forgot/code`: sets the new password with the code.
pub async fn code(
    State(state): State<AppState>,
    page: Page,
    Posted(form): Posted<CodeForm>,
) -> Response {
    let login_id: String = form.login_id.chars().take(64).collect();
    let confirm = ResetConfirm {
        login_id: form.login_id,
        code: form.code,
        new_password: form.new_password,
    };
    match confirm_reset(&state, confirm).await {
        Ok(()) => page.redirect("/login?done=password_reset"),
        Err(e) => {
            let template = CodePage {
                f: page.frame(None),
                login_id,
                error: Some(page.t().error(&e)),
            };
            page.render(e.status, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "reset_link.html")]
struct LinkPage {
    f: Frame,
    token: String,
    error: Option<String>,
}

/// The link's token (`/reset?token=…`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

fn link_view(page: &Page, token: String, err: Option<&ApiError>) -> Response {
    let template = LinkPage {
        f: page.frame(None),
        token: token
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(64)
            .collect(),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /reset?token=…` (clinic admins, from the mailed link).
pub async fn link_page(page: Page, Query(q): Query<TokenQuery>) -> Response {
    link_view(&page, q.token, None)
}

/// The new-password form of a link.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    token: String,
    new_password: String,
}

/// `POST /reset`.
pub async fn link(
    State(state): State<AppState>,
    page: Page,
    Posted(form): Posted<LinkForm>,
) -> Response {
    let token = form.token.clone();
    let reset = LinkReset {
        token: form.token,
        new_password: form.new_password,
    };
    match reset_with_link(&state, reset).await {
        Ok(()) => page.redirect("/login?done=password_reset"),
        Err(e) => link_view(&page, token, Some(&e)),
    }
}
