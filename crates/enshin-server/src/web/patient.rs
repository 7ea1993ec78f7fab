//! The patient's registration with the terms of use, and the terms page that holds a patient
//! until the current terms are accepted (CONSENT-1).

use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::context::{Frame, Page, Posted, SignedIn};
use crate::clock::today_in_japan;
use crate::error::ApiError;
use crate::listener::ConnInfo;
use crate::patients::{Registration, TERMS_VERSION, accept_terms, register_patient, terms_text};
use crate::routes::AppState;
use crate::session::Authenticated;

/// The registration form as posted; every field is optional here so that a missing one is
/// answered by the same checks, with the same messages, as the API.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RegisterForm {
    login_id: String,
    password: String,
    email: String,
    phone: String,
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    birth_date: String,
    terms_version: String,
    accept: Option<String>,
}

/// What the form shows again after a mistake (never the password).
#[derive(Default)]
struct Typed {
    login_id: String,
    email: String,
    phone: String,
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    birth_date: String,
}

/// Longest value shown again in a field; longer input was refused anyway.
const ECHO_MAX: usize = 254;

fn echo(value: &str) -> String {
    value.chars().take(ECHO_MAX).collect()
}

impl From<&RegisterForm> for Typed {
    fn from(f: &RegisterForm) -> Self {
        Self {
            login_id: echo(&f.login_id),
            email: echo(&f.email),
            phone: echo(&f.phone),
            family_name: echo(&f.family_name),
            given_name: echo(&f.given_name),
            family_name_kana: echo(&f.family_name_kana),
            given_name_kana: echo(&f.given_name_kana),
            birth_date: echo(&f.birth_date),
        }
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    f: Frame,
    v: Typed,
    error: Option<String>,
    bad: &'static str,
    terms_text: &'static str,
    terms_version: &'static str,
    today: String,
}

fn register_view(page: &Page, v: Typed, err: Option<&ApiError>) -> Response {
    let template = RegisterPage {
        f: page.frame(None),
        v,
        error: err.map(|e| page.t().error(e)),
        bad: err.and_then(|e| e.field).unwrap_or(""),
        terms_text: terms_text(page.t().lang == super::texts::Lang::En),
        terms_version: TERMS_VERSION,
        today: today_in_japan(),
    };
    let status = err.map_or(StatusCode::OK, |e| e.status);
    page.render(status, &template)
}

/// `GET /register`.
pub async fn register_page(page: Page) -> Response {
    register_view(&page, Typed::default(), None)
}

fn must_accept(page: &Page) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "terms_not_accepted",
        page.t().must_accept,
    )
    .with_field("accept")
}

/// `POST /register`: the API's registration; then the log-in page.
pub async fn register(
    State(state): State<AppState>,
    Extension(conn): Extension<ConnInfo>,
    page: Page,
    Posted(posted): Posted<RegisterForm>,
) -> Response {
    let typed = Typed::from(&posted);
    if posted.accept.as_deref() != Some("yes") {
        let err = must_accept(&page);
        return register_view(&page, typed, Some(&err));
    }
    let registration = Registration {
        login_id: posted.login_id,
        password: posted.password,
        email: Some(posted.email),
        phone: Some(posted.phone),
        family_name: posted.family_name,
        given_name: posted.given_name,
        family_name_kana: posted.family_name_kana,
        given_name_kana: posted.given_name_kana,
        birth_date: posted.birth_date,
        terms_version: posted.terms_version,
    };
    match register_patient(&state, Some(&conn), registration).await {
        Ok(_) => page.redirect("/login?done=registered"),
        Err(err) => register_view(&page, typed, Some(&err)),
    }
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage {
    f: Frame,
    text: &'static str,
    version: &'static str,
    changed: bool,
    error: Option<String>,
}

async fn terms_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let accepted = match state
        .store
        .has_accepted_terms(&auth.session.account_id, TERMS_VERSION)
        .await
    {
        Ok(accepted) => accepted,
        Err(e) => return page.error(Some(auth), &ApiError::from(e)),
    };
    let template = TermsPage {
        f: page.frame(Some(auth)),
        text: terms_text(page.t().lang == super::texts::Lang::En),
        version: TERMS_VERSION,
        changed: !accepted,
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /terms`: the current terms; with an accept button while they are not yet accepted.
pub async fn terms_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    terms_view(&state, &page, &auth, None).await
}

/// The acceptance form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    version: String,
    accept: Option<String>,
}

/// `POST /terms`: accepts the current terms, then the start page.
pub async fn accept(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(posted): Posted<AcceptForm>,
) -> Response {
    if posted.accept.as_deref() != Some("yes") {
        return terms_view(&state, &page, &auth, Some(&must_accept(&page))).await;
    }
    match accept_terms(&state, &auth, &posted.version).await {
        Ok(()) => page.redirect("/home"),
        Err(err) => terms_view(&state, &page, &auth, Some(&err)).await,
    }
}
