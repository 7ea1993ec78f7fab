//! A clinic admin's view of the clinic's client certificates: which exist, when they expire,
//! when each was last used (AUTH-1). Issuing and revoking are the operator's (`enshin cert`).

use axum::Json;
use axum::extract::State;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_store::certificates::CertificateRecord;
use serde_json::json;

use crate::certs::expires_soon;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::Authenticated;

/// The certificates of the admin's own clinic, soonest expiry first.
pub async fn clinic_certificates(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<CertificateRecord>, ApiError> {
    let clinic = match &auth.actor {
        Actor::Member { clinic_id, .. } => clinic_id.as_str(),
        _ => "",
    };
    authorize(
        &auth.actor,
        Action::ListCertificates,
        Target::Clinic(clinic),
    )?;
    Ok(state.store.list_certificates(Some(clinic)).await?)
}

/// `GET /api/v1/certificates`: serial, label, validity, last use, revocation, and whether it
/// expires within 30 days; `current` marks the certificate of this session.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = now_ms();
    let certs: Vec<_> = clinic_certificates(&state, &auth)
        .await?
        .iter()
        .map(|c| {
            json!({
                "serial": c.serial,
                "label": c.label,
                "not_before": c.not_before,
                "not_after": c.not_after,
                "last_used_at": c.last_used_at,
                "revoked_at": c.revoked_at,
                "expires_soon": expires_soon(c, now),
                "current": auth.session.client_cert_serial.as_deref() == Some(c.serial.as_str()),
            })
        })
        .collect();
    Ok(Json(json!({ "certificates": certs })))
}
