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
        (self.status, Json(json!({ "error": error }))).into_response()
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
