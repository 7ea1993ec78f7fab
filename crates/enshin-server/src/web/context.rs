//! What every page needs from its request: the language, the form secret and token (SESS-3),
//! who is signed in; and the answers pages give: HTML, redirects, error pages.

use std::collections::HashMap;
use std::convert::Infallible;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use enshin_core::authz::Actor;
use enshin_core::people::Role;
use enshin_core::session::{form_token, form_token_matches, new_token};

use super::form;
use super::texts::{Lang, Texts};
use crate::error::ApiError;
use crate::listener::{ConnInfo, ListenerKind};
use crate::routes::AppState;
use crate::session::{Authenticated, cookie_token, cookie_value, same_origin};

/// The browser's random form secret; form tokens are HMACs keyed by it.
const FORM_COOKIE: &str = "__Host-enshin_form";
/// The chosen language.
const LANG_COOKIE: &str = "__Host-enshin_lang";

/// The notices a redirect may ask the next page to show (`?done=`); anything else is ignored,
/// so a link cannot put words of its own on a page.
fn notice(t: &'static Texts, done: &str) -> Option<&'static str> {
    Some(match done {
        "logged_out" => t.logged_out,
        "record_saved" => t.r.saved,
        "registered" => t.registered,
        "session_ended" => t.session_ended,
        "member_added" => t.member_added,
        "member_disabled" => t.member_disabled,
        "role_changed" => t.role_changed,
        "sessions_ended" => t.sessions_ended,
        "access_approved" => t.access_approved,
        "access_refused" => t.access_refused,
        "access_ended" => t.access_ended,
        "access_requested" => t.access_requested,
        "access_opened" => t.access_opened,
        "clinic_created" => t.clinic_created,
        "suspended" => t.suspended_done,
        "lifted" => t.lifted,
        "contact_saved" => t.contact_saved,
        "termination_noticed" => t.termination_noticed,
        "termination_withdrawn" => t.termination_withdrawn,
        "emergency_started" => t.emergency_started,
        "emergency_ended" => t.emergency_ended,
        "announcement_published" => t.announcement_published,
        "disclosure_published" => t.d.published,
        "code_sent" => t.code_sent,
        "link_sent" => t.link_sent,
        "password_reset" => t.password_reset,
        "password_set" => t.password_set,
        "email_saved" => t.email_saved,
        "contact_code_sent" => t.contact_code_sent,
        "contact_verified" => t.contact_verified,
        "patient_added" => t.patient_added,
        "clinic_linked" => t.clinic_linked,
        "join_approved" => t.join_approved,
        "join_refused" => t.join_refused,
        "join_requested" => t.join_requested,
        "booked" => t.b.booked,
        "requested" => t.b.requested,
        "cancelled" => t.b.cancelled,
        "moved" => t.b.moved,
        "saved" => t.b.saved,
        "state_changed" => t.b.state_changed,
        "imported" => t.b.imported,
        "recorded" => t.m.recorded,
        "threshold_saved" => t.m.threshold_saved,
        "alert_acknowledged" => t.m.alert_acknowledged,
        "device_revoked" => t.m.device_revoked,
        "zone_saved" => t.m.zone_saved,
        "reading_withdrawn" => t.m.withdrawn,
        "answers_saved" => t.q.saved,
        "answers_submitted" => t.q.submitted,
        "questionnaire_asked" => t.q.asked,
        "questionnaire_changed" => t.q.changed,
        _ => return None,
    })
}

/// The page side of a request.
pub struct Page {
    lang: Lang,
    lang_chosen: bool,
    form_secret: String,
    new_secret: bool,
    session_token: Option<String>,
    notice: Option<&'static str>,
    listener: ListenerKind,
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts))
    }
}

impl Page {
    /// Reads the language (`?lang=`, then the cookie, then Japanese) and the form secret.
    pub fn of(parts: &Parts) -> Self {
        let query: HashMap<String, String> = Query::try_from_uri(&parts.uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        let asked = query.get("lang").and_then(|l| Lang::parse(l));
        let lang = asked
            .or_else(|| cookie_value(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
            .unwrap_or(Lang::Ja);
        let existing = cookie_value(&parts.headers, FORM_COOKIE)
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        let (form_secret, new_secret) = match existing {
            Some(secret) => (secret.to_owned(), false),
            // Without randomness no form can be trusted; an empty secret never matches below.
            None => (new_token().map(|(t, _)| t).unwrap_or_default(), true),
        };
        let listener = parts
            .extensions
            .get::<ConnInfo>()
            .map_or(ListenerKind::Patient, |c| c.listener);
        Self {
            lang,
            lang_chosen: asked.is_some(),
            form_secret,
            new_secret,
            session_token: cookie_token(&parts.headers).map(str::to_owned),
            notice: query.get("done").and_then(|d| notice(lang.texts(), d)),
            listener,
        }
    }

    /// The texts of the page's language.
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    /// The frame of a page for someone signed in (or not).
    pub fn frame(&self, auth: Option<&Authenticated>) -> Frame {
        let t = self.t();
        Frame {
            t,
            csrf: form_token(&self.form_secret, self.session_token.as_deref()),
            site: match self.listener {
                ListenerKind::Clinic => t.clinic_site,
                ListenerKind::Operator => t.operator_site,
                ListenerKind::Patient => t.patient_site,
            },
            operator: auth.is_some() && self.listener == ListenerKind::Operator,
            patient: matches!(auth.map(|a| &a.actor), Some(Actor::Patient { .. })),
            member: matches!(auth.map(|a| &a.actor), Some(Actor::Member { .. })),
            signed_in: auth.is_some(),
            admin: matches!(
                auth.map(|a| &a.actor),
                Some(Actor::Member {
                    role: Role::Admin,
                    ..
                })
            ),
            notice: self.notice,
        }
    }

    /// SESS-3 for forms: the post comes from our own page (Fetch metadata or Origin) and carries
    /// the token of this browser's secret and session.
    pub fn check_form(&self, headers: &HeaderMap, presented: &str) -> Result<(), ApiError> {
        let valid = !self.new_secret
            && !self.form_secret.is_empty()
            && same_origin(headers)
            && form_token_matches(&self.form_secret, self.session_token.as_deref(), presented);
        if valid {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "this form has expired or was not sent from enshin's own page; reload the page and try again",
            ))
        }
    }

    fn with_cookies(&self, mut response: Response) -> Response {
        let mut cookies = Vec::new();
        if self.new_secret && !self.form_secret.is_empty() {
            cookies.push(format!(
                "{FORM_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict",
                self.form_secret
            ));
        }
        if self.lang_chosen {
            cookies.push(format!(
                "{LANG_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=31536000",
                self.lang.code()
            ));
        }
        for cookie in cookies {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// A rendered page with its status.
    pub fn render(&self, status: StatusCode, template: &impl Template) -> Response {
        match template.render() {
            Ok(html) => self.with_cookies((status, Html(html)).into_response()),
            Err(e) => ApiError::unavailable(&e).into_response(),
        }
    }

    /// 303 to a path of this site (POST → redirect → GET).
    pub fn redirect(&self, to: &str) -> Response {
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(value) = HeaderValue::from_str(to) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        self.with_cookies(response)
    }

    /// The error page for `err`, with its status.
    pub fn error(&self, auth: Option<&Authenticated>, err: &ApiError) -> Response {
        let template = ErrorPage {
            f: self.frame(auth),
            message: self.t().error(err),
        };
        let mut response = self.render(err.status, &template);
        if let Some(seconds) = err.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// What the base template shows around every page.
pub struct Frame {
    /// The texts.
    pub t: &'static Texts,
    /// The form token for hidden `csrf` fields.
    pub csrf: String,
    /// The subtitle of this listener's site.
    pub site: &'static str,
    /// Whether someone is signed in (navigation and log-out button).
    pub signed_in: bool,
    /// Whether a clinic admin is signed in (member management link).
    pub admin: bool,
    /// Whether an operator is signed in (console links).
    pub operator: bool,
    /// Whether a patient is signed in ("my clinics" link).
    pub patient: bool,
    /// Whether a clinic member is signed in (patient list link).
    pub member: bool,
    /// A notice from the previous step (`?done=`).
    pub notice: Option<&'static str>,
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The frame.
    pub f: Frame,
    /// What went wrong, for a person.
    pub message: String,
}

/// A request with a live session, for pages: without one the browser goes to the log-in page,
/// a patient who has not accepted the current terms goes to the terms page.
pub struct SignedIn(pub Authenticated);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match Authenticated::of(parts, state).await {
            Ok(auth) => Ok(Self(auth)),
            Err(err) => {
                let page = Page::of(parts);
                Err(match err.code {
                    "not_authenticated" => page.redirect("/login"),
                    "terms_not_accepted" => page.redirect("/terms"),
                    _ => page.error(None, &err),
                })
            }
        }
    }
}

/// A form with nothing but its token (a button).
#[derive(serde::Deserialize, Default)]
pub struct Button {}

/// A posted form with its token in a `csrf` field next to the form's own fields.
#[derive(serde::Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

/// A form that was read and passed [`Page::check_form`]; otherwise the error page answers
/// (413, 415, 400 for a form that cannot be read, 403 for a missing or wrong token).
pub struct Posted<T>(pub T);

impl<T> FromRequest<AppState> for Posted<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let page = Page::of(&parts);
        let headers = parts.headers.clone();
        let posted =
            Form::<WithToken<T>>::from_request(Request::from_parts(parts, body), state).await;
        form(posted)
            .and_then(|posted| {
                page.check_form(&headers, &posted.csrf)
                    .map(|()| posted.form)
            })
            .map(Posted)
            .map_err(|err| page.error(None, &err))
    }
}
