//! The one error type of the HTTP edge: a status, a stable code and a message for people.
//! Internals are logged by whoever maps an internal error to it, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer: `{"error": {"code", "message"}}` with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code for programs.
    pub code: &'static str,
    /// Explanation for people.
    pub message: String,
    /// The request field at fault, if one is.
    pub field: Option<&'static str>,
    /// The password rule that failed (AUTH-3), if one did.
    pub rule: Option<&'static str>,
    /// What is wrong with `field`, as a code pages translate (not sent in JSON).
    pub problem: Option<&'static str>,
    /// Seconds until a throttled client may try again (`Retry-After`).
    pub retry_after: Option<u32>,
    /// Words a translation of `problem` needs, the same in every language (e.g. `30.0–45.0 °C`).
    pub detail: Option<Box<str>>,
}

impl ApiError {
    /// An error with its status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            rule: None,
            problem: None,
            retry_after: None,
            detail: None,
        }
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// Names the failed password rule.
    pub fn with_rule(mut self, rule: &'static str) -> Self {
        self.rule = Some(rule);
        self
    }

    /// Names what is wrong with the field, for pages to translate.
    pub fn with_problem(mut self, problem: &'static str) -> Self {
        self.problem = Some(problem);
        self
    }

    /// Adds the words a translation of the problem needs.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into().into_boxed_str());
        self
    }

    /// Asks the client to wait this many seconds.
    pub fn with_retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(u32::try_from(seconds.max(1)).unwrap_or(u32::MAX));
        self
    }

    /// 503 for a database failure; the cause is logged here and never sent.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "database failure");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable; try again shortly",
        )
    }

    /// 401 for a request without a live session.
    pub fn not_authenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
            "log in first (the session is missing, ended or expired)",
        )
    }

    /// 404 for a path that does not exist on this listener.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource on this listener",
        )
    }

    /// 405 for a method the path does not take.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this method is not allowed here",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        if let Some(rule) = self.rule {
            error["rule"] = json!(rule);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<enshin_core::authz::Denied> for ApiError {
    fn from(denied: enshin_core::authz::Denied) -> Self {
        match denied {
            enshin_core::authz::Denied::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role does not allow this",
            ),
            // Identical to a missing resource (ROLE-2).
            enshin_core::authz::Denied::NotFound => Self::not_found(),
        }
    }
}

/// A database failure is a 503; the cause is logged by [`ApiError::unavailable`], never sent.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::unavailable(&err)
    }
}

/// A login ID that breaks the rules is a 422 naming the field.
impl From<enshin_core::people::LoginIdError> for ApiError {
    fn from(err: enshin_core::people::LoginIdError) -> Self {
        use enshin_core::people::LoginIdError;
        let problem = match err {
            LoginIdError::Length => "login_id_length",
            LoginIdError::Character => "login_id_character",
        };
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("login_id: {err}"),
        )
        .with_field("login_id")
        .with_problem(problem)
    }
}

/// A password that breaks AUTH-3 is a 422 naming the rule.
impl From<enshin_core::password::PasswordRule> for ApiError {
    fn from(rule: enshin_core::password::PasswordRule) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_rejected",
            rule.to_string(),
        )
        .with_field("password")
        .with_rule(rule.code())
    }
}

/// A publication that raced another is a 409 to retry; the rest is a 503.
impl From<crate::disclosure::DisclosureError> for ApiError {
    fn from(err: crate::disclosure::DisclosureError) -> Self {
        match err {
            crate::disclosure::DisclosureError::Busy => Self::new(
                StatusCode::CONFLICT,
                "busy",
                "another revision is being published: try again",
            ),
            other => Self::unavailable(&other),
        }
    }
}

/// Creating or changing people: the caller's mistakes are 4xx naming the field, the rest 503.
impl From<crate::exit::ExitFailure> for ApiError {
    fn from(err: crate::exit::ExitFailure) -> Self {
        use crate::exit::ExitFailure;
        use enshin_core::exit::ExitError;
        match err {
            ExitFailure::NoClinic(_) => Self::not_found(),
            ExitFailure::NoNotice(_) => Self::new(
                StatusCode::CONFLICT,
                "no_notice",
                "this clinic has no termination notice: record its termination date first",
            ),
            ExitFailure::Rule(e @ ExitError::TooEarly(_)) => Self::new(
                StatusCode::CONFLICT,
                "before_termination_date",
                e.to_string(),
            ),
            ExitFailure::Rule(e) => {
                let problem = match e {
                    ExitError::PastDate(_) => "date_past",
                    _ => "date_format",
                };
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("date: {e}"),
                )
                .with_field("date")
                .with_problem(problem)
            }
            other => Self::unavailable(&other),
        }
    }
}

impl From<crate::people::PeopleOpError> for ApiError {
    fn from(err: crate::people::PeopleOpError) -> Self {
        use crate::people::PeopleOpError;
        use enshin_core::people::NameError;
        use enshin_store::people::PeopleError;
        match err {
            PeopleOpError::Name(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("name: {e}"),
            )
            .with_field("name")
            .with_problem(match e {
                NameError::Length(_) => "name_length",
                NameError::Control => "control_character",
            }),
            PeopleOpError::LoginId(e) => e.into(),
            PeopleOpError::Password(rule) => rule.into(),
            PeopleOpError::People(PeopleError::LoginIdTaken(_)) => Self::new(
                StatusCode::CONFLICT,
                "login_id_taken",
                "this login ID is taken; choose another",
            )
            .with_field("login_id"),
            other => Self::unavailable(&other),
        }
    }
}
