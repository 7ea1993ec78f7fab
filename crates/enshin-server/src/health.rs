//! `GET /healthz` on every listener (AVAIL-3, LOG-5): status, database, clock, version; no secrets.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::clock::clock_status;
use crate::routes::AppState;

/// The health answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`, or `degraded` when a dependency fails (then the status code is 503).
    pub status: &'static str,
    /// `ok` or `unavailable`.
    pub database: &'static str,
    /// Whether the kernel reports the clock synchronised.
    pub clock_synchronized: bool,
    /// The running version.
    pub version: &'static str,
    /// Which listener answered.
    pub listener: &'static str,
    /// `ok`, or `failing` when the access log cannot be written (requests then fail closed).
    pub audit: &'static str,
    /// Client certificates refused at the clinic listener's handshake since start (expired,
    /// revoked, foreign CA); each is logged with its serial.
    pub refused_client_certificates: u64,
    /// The embedded default's backups: the newest, its age, and a failure since (absent on
    /// PostgreSQL, whose backups pgBackRest reports).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<BackupHealth>,
}

/// Backup state in the health answer.
#[derive(Debug, Serialize)]
pub struct BackupHealth {
    /// The newest backup's name, if any.
    pub last: Option<String>,
    /// Its age in seconds.
    pub age_seconds: Option<i64>,
    /// Whether the last backup attempt failed.
    pub failing: bool,
}

/// Answers 200 when the database responds within two seconds and the access log is writable,
/// 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database_ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.store.ping()).await,
        Ok(Ok(()))
    );
    let audit_ok = !state.audit.health().failing();
    let all_ok = database_ok && audit_ok;
    let health = Health {
        status: if all_ok { "ok" } else { "degraded" },
        database: if database_ok { "ok" } else { "unavailable" },
        clock_synchronized: clock_status().synchronized,
        version: env!("CARGO_PKG_VERSION"),
        listener: state.listener.name(),
        audit: if audit_ok { "ok" } else { "failing" },
        refused_client_certificates: state
            .refused_certificates
            .load(std::sync::atomic::Ordering::Relaxed),
        backup: state.backups.as_deref().map(|dir| {
            let b = crate::backup::state(dir);
            BackupHealth {
                age_seconds: b.last_at.map(|at| (crate::clock::now_ms() - at) / 1000),
                failing: b.failed_at.is_some(),
                last: b.last,
            }
        }),
    };
    let code = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(health))
}
