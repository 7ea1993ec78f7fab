//! The access-log entry of every request (LOG-1, LOG-7): a layer on every route that touches
//! data or authentication. Extractors note who the principal is; the layer adds what, how it
//! ended and from where, waits until the entry is durable, and only then lets the response go.
//! If the entry cannot be made durable, the response is replaced by a 503 (fail closed).

use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use enshin_core::audit::entry::{Entry, Outcome};
use enshin_core::encoding::to_hex;
use ring::digest::{SHA256, digest};

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::listener::ConnInfo;
use crate::middleware::RequestId;
use crate::routes::AppState;

/// Longest path value kept as a target id; ids are short, anything longer is cut.
const TARGET_MAX: usize = 100;

/// Who made the request, as far as it became known while handling it.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// Account id.
    pub id: String,
    /// `member`, `patient` or `operator`.
    pub kind: String,
    /// The member's role.
    pub role: Option<String>,
    /// The member's clinic.
    pub clinic_id: Option<String>,
    /// The session's id (logged only as a hash).
    pub session_id: Option<String>,
    /// Access beyond standing rights (see [`Entry::access`]).
    pub access: Option<String>,
    /// Patient records a list showed (see [`Entry::subjects`]).
    pub subjects: Vec<String>,
}

/// The facts of one request that handlers and extractors fill in.
#[derive(Debug, Clone, Default)]
pub struct AccessFacts(Arc<Mutex<Option<Principal>>>);

impl AccessFacts {
    /// Notes the principal of the request.
    pub fn principal(&self, principal: Principal) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(principal);
        }
    }

    /// Notes the clinic an operator's request concerned and the grant it used, so the clinic's
    /// admins find it on their "operator access" page.
    pub fn concerning(&self, clinic_id: &str, access: Option<String>) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(principal) = slot.as_mut()
        {
            principal
                .clinic_id
                .get_or_insert_with(|| clinic_id.to_owned());
            if access.is_some() {
                principal.access = access;
            }
        }
    }

    /// Notes the patient records a list answer shows, each one a read.
    pub fn read_patients<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(principal) = slot.as_mut()
        {
            principal
                .subjects
                .extend(ids.into_iter().map(str::to_owned));
        }
    }

    fn take(&self) -> Option<Principal> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// The kind and id of what a route acts on: the last path parameter, the most specific, and
/// the segment naming it (`/api/v1/members/{id}/role` → `member`, the id;
/// `/api/v1/clinics/{id}/patients/{patient}` → `patient`, its id; the clinic goes in the
/// entry's clinic field).
fn target(pattern: &str, path: &str) -> (Option<String>, Option<String>) {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let actual: Vec<&str> = path.split('/').collect();
    let Some(i) = pattern
        .iter()
        .rposition(|segment| segment.starts_with('{') && segment.ends_with('}'))
    else {
        return (None, None);
    };
    let kind = i
        .checked_sub(1)
        .and_then(|j| pattern.get(j))
        .map(|s| s.trim_end_matches('s').to_owned());
    let id = actual
        .get(i)
        .map(|v| v.chars().take(TARGET_MAX).collect::<String>());
    (kind, id)
}

/// The layer: records one entry per request and holds the response until it is durable.
pub async fn record(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let facts = AccessFacts::default();
    request.extensions_mut().insert(facts.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let pattern = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let conn = request.extensions().get::<ConnInfo>().cloned();
    let request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let (target_type, target_id) = target(&pattern, &path);
    let principal = facts.take();
    let entry = Entry {
        at_ms: now_ms(),
        listener: state.listener.name().to_owned(),
        action: format!("{method} {pattern}"),
        target_type,
        target_id,
        outcome: Outcome::of_status(status),
        status,
        principal_id: principal.as_ref().map(|p| p.id.clone()),
        principal_kind: principal.as_ref().map(|p| p.kind.clone()),
        role: principal.as_ref().and_then(|p| p.role.clone()),
        clinic_id: principal.as_ref().and_then(|p| p.clinic_id.clone()),
        source: conn.as_ref().map(|c| c.peer.ip().to_string()),
        cert_serial: conn
            .as_ref()
            .and_then(|c| c.client_cert.as_ref())
            .map(|c| c.serial_hex.clone()),
        session_hash: principal
            .as_ref()
            .and_then(|p| p.session_id.as_deref())
            .map(|id| to_hex(digest(&SHA256, id.as_bytes()).as_ref())),
        request_id,
        access: principal.as_ref().and_then(|p| p.access.clone()),
        subjects: principal.map(|p| p.subjects).unwrap_or_default(),
    };
    match state.audit.record(entry).await {
        Ok(_) => response,
        Err(error) => {
            tracing::error!(%error, "request refused: its access-log entry is not durable");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable; try again shortly",
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn targets_come_from_the_path_parameter_and_the_segment_before_it() {
        assert_eq!(
            target("/api/v1/members/{id}/role", "/api/v1/members/0190-ab/role"),
            (Some("member".into()), Some("0190-ab".into()))
        );
        assert_eq!(
            target("/sessions/{id}/end", "/sessions/x/end"),
            (Some("session".into()), Some("x".into()))
        );
        assert_eq!(target("/api/v1/me", "/api/v1/me"), (None, None));
        assert_eq!(
            target(
                "/api/v1/clinics/{id}/patients/{patient}",
                "/api/v1/clinics/c1/patients/p9"
            ),
            (Some("patient".into()), Some("p9".into()))
        );
        let long = format!("/members/{}/disable", "9".repeat(5000));
        assert_eq!(target("/members/{id}/disable", &long).1.unwrap().len(), 100);
    }
}
