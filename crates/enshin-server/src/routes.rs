//! The router of each listener: a route of one listener does not exist on another (NET-3).

use axum::Router;
use axum::routing::get;
use enshin_store::Store;

use crate::error::ApiError;
use crate::health::healthz;
use crate::listener::ListenerKind;
use crate::middleware::request_frame;

/// What handlers of one listener share.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The listener this router belongs to.
    pub listener: ListenerKind,
}

/// The router of one listener.
pub fn router(store: Store, listener: ListenerKind) -> Router {
    let state = AppState { store, listener };
    Router::new()
        .route("/healthz", get(healthz))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::from_fn(request_frame))
        .with_state(state)
}
