//! The router of each listener: a route of one listener does not exist on another (NET-3).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use enshin_core::session::SessionPolicy;
use enshin_store::Store;

use crate::error::ApiError;
use crate::health::healthz;
use crate::listener::ListenerKind;
use crate::middleware::request_frame;
use crate::{members, session};

/// What handlers of one listener share.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The listener this router belongs to.
    pub listener: ListenerKind,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// An Argon2id hash of a random password: unknown IDs are verified against it, so that
    /// their answer takes as long as a wrong password's.
    pub dummy_hash: Arc<str>,
}

/// Largest request body; the API takes small JSON documents.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The router of one listener.
pub fn router(state: AppState) -> Router {
    let listener = state.listener;
    let mut router = Router::new().route("/healthz", get(healthz));
    // Members log in on the clinic listener; patients and operators get their routes with
    // registration and TOTP.
    if listener == ListenerKind::Clinic {
        router = router
            .route(
                "/api/v1/session",
                post(session::login).delete(session::logout),
            )
            .route("/api/v1/me", get(session::me))
            .route("/api/v1/sessions", get(session::list_own))
            .route("/api/v1/sessions/{id}", delete(session::end_own))
            .route("/api/v1/members", get(members::list))
            .route("/api/v1/members/{id}/disable", post(members::disable))
            .route(
                "/api/v1/members/{id}/sessions",
                delete(members::end_sessions),
            );
    }
    router
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(request_frame))
        .with_state(state)
}
