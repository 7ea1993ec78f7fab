//! Incident mode (AVAIL-4): while the service, or a clinic, is suspended, its users get 503 with
//! the operator's message. Every instance re-reads suspensions from the database every few
//! seconds; the instance that records one applies it at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use enshin_store::Store;
use enshin_store::suspensions::SERVICE;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::listener::{ConnInfo, ListenerKind};
use crate::routes::AppState;

/// How often suspensions are re-read.
pub const RELOAD: Duration = Duration::from_secs(2);

/// The suspensions in force: scope (`service` or a clinic id) → message.
pub type Current = Arc<HashMap<String, String>>;

/// The suspensions as this instance sees them, and the means to update them.
#[derive(Clone, Debug)]
pub struct Suspensions {
    current: watch::Receiver<Current>,
    update: Arc<watch::Sender<Current>>,
}

impl Suspensions {
    /// Reads the suspensions in force.
    pub async fn load(store: &Store) -> Result<Self, sqlx::Error> {
        let (update, current) = watch::channel(read(store).await?);
        Ok(Self {
            current,
            update: Arc::new(update),
        })
    }

    /// Re-reads them from the database now (after a change on this instance).
    pub async fn refresh(&self, store: &Store) -> Result<(), sqlx::Error> {
        let _ = self.update.send(read(store).await?);
        Ok(())
    }

    /// The message for a user of `clinic` (or of no clinic), if they are suspended.
    pub fn message_for(&self, clinic: Option<&str>) -> Option<String> {
        let current = self.current.borrow();
        current
            .get(SERVICE)
            .or_else(|| clinic.and_then(|c| current.get(c)))
            .cloned()
    }

    /// Re-reads the suspensions every [`RELOAD`] until `stop`.
    pub async fn keep_current(self, store: Store, mut stop: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(RELOAD);
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if let Err(error) = self.refresh(&store).await {
                        tracing::warn!(%error, "could not read suspensions; keeping the last known");
                    }
                }
                () = async { let _ = stop.wait_for(|s| *s).await; } => return,
            }
        }
    }
}

async fn read(store: &Store) -> Result<Current, sqlx::Error> {
    Ok(Arc::new(
        store
            .suspensions()
            .await?
            .into_iter()
            .map(|(scope, message, _)| (scope, message))
            .collect(),
    ))
}

/// The layer of the patient and clinic listeners: a suspended service, or a request that comes
/// with a suspended clinic's certificate, gets 503 with the message (the operator listener stays).
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state.listener == ListenerKind::Operator {
        return next.run(request).await;
    }
    let clinic = request
        .extensions()
        .get::<ConnInfo>()
        .and_then(|c| c.client_cert.as_ref())
        .and_then(|c| c.clinic_id.clone());
    match state.suspensions.message_for(clinic.as_deref()) {
        None => next.run(request).await,
        Some(message) => {
            let mut response = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "suspended", message)
                .into_response();
            response.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("600"),
            );
            response
        }
    }
}
