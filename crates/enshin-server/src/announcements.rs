//! Service announcements (AVAIL-5): operators publish on the operator listener; clinic admins
//! read them on the clinic listener (and on their start page).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use enshin_core::announcement::{Kind, check};
use enshin_core::authz::{Action, Target, authorize};
use enshin_store::announcements::Announcement;
use serde::Deserialize;
use serde_json::json;

use crate::clock::{japan_day_start, japan_time, now_ms};
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// Announcements are shown for this long after publication.
const SHOWN_DAYS: i64 = 90;

/// An announcement as typed.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncement {
    /// `change` or `security`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// `YYYY-MM-DD`, Japan time.
    pub effective_date: String,
}

fn invalid(field: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
}

/// `POST /api/v1/announcements {"kind", "title", "text", "effective_date"}` → 201 `{"id"}`;
/// a change effective less than 14 days ahead → 422 `too_soon`.
pub async fn publish(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&auth.actor, Action::PublishAnnouncement, Target::Service)?;
    let new: NewAnnouncement = json_body(body)?;
    let id = publish_announcement(&state, &auth, &new).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// Checks and publishes an announcement (AVAIL-5); its id.
pub async fn publish_announcement(
    state: &AppState,
    auth: &Authenticated,
    new: &NewAnnouncement,
) -> Result<String, ApiError> {
    authorize(&auth.actor, Action::PublishAnnouncement, Target::Service)?;
    let kind = Kind::parse(&new.kind)
        .ok_or_else(|| invalid("kind", "kind must be change or security".into()))?;
    let effective = japan_day_start(&new.effective_date).ok_or_else(|| {
        invalid(
            "effective_date",
            "effective_date must be a date written YYYY-MM-DD".into(),
        )
    })?;
    let now = now_ms();
    check(kind, &new.title, &new.text, now, effective, |ms| {
        japan_time(ms)[..10].to_owned()
    })
    .map_err(|e| {
        let code = match e {
            enshin_core::announcement::AnnouncementError::TooSoon { .. } => "too_soon",
            _ => "invalid_field",
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    })?;
    let announcement = Announcement {
        id: uuid::Uuid::now_v7().to_string(),
        kind: kind.as_str().to_owned(),
        title: new.title.trim().to_owned(),
        body: new.text.trim().to_owned(),
        effective_at: effective,
        published_at: now,
        published_by: auth.session.account_id.clone(),
    };
    state.store.publish_announcement(&announcement).await?;
    Ok(announcement.id)
}

/// The announcements of the last 90 days, newest first, for an admin or an operator.
pub async fn recent(state: &AppState, auth: &Authenticated) -> Result<Vec<Announcement>, ApiError> {
    authorize(&auth.actor, Action::ReadAnnouncements, Target::Service)?;
    Ok(state
        .store
        .announcements_since(now_ms() - SHOWN_DAYS * 86_400_000)
        .await?)
}

/// `GET /api/v1/announcements`.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<_> = recent(&state, &auth)
        .await?
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "kind": a.kind, "title": a.title, "text": a.body,
                "effective_at": a.effective_at, "published_at": a.published_at,
            })
        })
        .collect();
    Ok(Json(json!({ "announcements": list })))
}
