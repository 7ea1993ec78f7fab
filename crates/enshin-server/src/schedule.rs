//! A clinic's booking rules, visit menus and doctors' hours on the clinic listener (FUNC-2):
//! admins set them, every member reads them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use enshin_core::authz::Action;
use enshin_core::booking::{BookingError, Settings};
use enshin_core::schedule::{Exception, Hours, Menu, Mode, ScheduleError, Visit, Weekly};
use enshin_store::schedule::{Doctor, StoredMenu};
use jiff::civil::{Date, Time, Weekday};
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// 422 `invalid_field` naming the field at fault.
pub(crate) fn unprocessable(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> Self {
        let field = match e {
            ScheduleError::Name => "name",
            ScheduleError::Minutes => "minutes",
            ScheduleError::Fee => "fee_yen",
            ScheduleError::Hours => "hours",
        };
        unprocessable(field, e.to_string())
    }
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        let (status, code) = match e {
            BookingError::NotOffered => (StatusCode::CONFLICT, "slot_not_offered"),
            BookingError::Past => (StatusCode::UNPROCESSABLE_ENTITY, "slot_past"),
            BookingError::TooLate { .. } => (StatusCode::CONFLICT, "too_late_to_change"),
            BookingError::TooMany => (StatusCode::CONFLICT, "too_many_visits"),
            BookingError::Settings => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_settings"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// A wall-clock time typed `HH:MM`.
pub fn parse_time(field: &'static str, typed: &str) -> Result<Time, ApiError> {
    let bad = || {
        unprocessable(
            field,
            format!("{field}: write the time as HH:MM, e.g. 09:30"),
        )
    };
    let (h, m) = typed.trim().split_once(':').ok_or_else(bad)?;
    let two = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !(two(h) && two(m)) {
        return Err(bad());
    }
    Time::new(
        h.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        0,
        0,
    )
    .map_err(|_| bad())
}

/// The answer to a date that is not `YYYY-MM-DD` or out of range.
pub fn invalid_date(field: &'static str) -> ApiError {
    unprocessable(field, format!("{field}: write a date as YYYY-MM-DD"))
}

/// A date typed `YYYY-MM-DD`.
pub fn parse_date(field: &'static str, typed: &str) -> Result<Date, ApiError> {
    let t = typed.trim();
    let shaped = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| t.parse::<Date>().ok())
        .flatten()
        .ok_or_else(|| invalid_date(field))
}

/// `HH:MM` of a time.
pub fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// The clinic's booking rules.
pub async fn settings_of(state: &AppState, clinic_id: &str) -> Result<Settings, ApiError> {
    state
        .store
        .booking_settings(clinic_id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn settings_json(s: &Settings) -> Json<serde_json::Value> {
    Json(json!({
        "time_zone": s.time_zone,
        "self_booking": s.self_booking,
        "cancel_deadline_minutes": s.cancel_deadline_minutes,
    }))
}

/// `GET /api/v1/booking-settings` (clinic).
pub async fn get_settings(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    Ok(settings_json(&settings_of(&state, clinic_id).await?))
}

/// Booking rules as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedSettings {
    /// IANA time zone; the clinic's current one when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Patients book directly.
    pub self_booking: bool,
    /// Minutes before a visit after which patients can no longer change it.
    pub cancel_deadline_minutes: i64,
}

/// An admin sets the clinic's booking rules.
pub async fn set_settings(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedSettings,
) -> Result<Settings, ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    let current = settings_of(state, clinic_id).await?;
    let settings = Settings::new(
        typed.time_zone.as_deref().unwrap_or(&current.time_zone),
        typed.self_booking,
        typed.cancel_deadline_minutes,
    )?;
    state
        .store
        .set_booking_settings(clinic_id, &settings)
        .await?;
    Ok(settings)
}

/// `PUT /api/v1/booking-settings` (clinic admin).
pub async fn put_settings(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let typed: TypedSettings = json_body(body)?;
    Ok(settings_json(&set_settings(&state, &auth, &typed).await?))
}

/// A menu for the API.
pub fn menu_json(m: &StoredMenu) -> serde_json::Value {
    json!({
        "id": m.id, "name": m.menu.name, "mode": m.menu.mode.as_str(), "visit": m.menu.visit.as_str(),
        "minutes": m.menu.minutes, "fee_yen": m.menu.fee_yen, "active": m.active,
    })
}

/// `GET /api/v1/menus` (clinic): every menu, withdrawn ones too.
pub async fn list_menus(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    let menus: Vec<_> = state
        .store
        .menus(clinic_id)
        .await?
        .iter()
        .map(menu_json)
        .collect();
    Ok(Json(json!({ "menus": menus })))
}

/// A menu as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedMenu {
    /// Name shown to patients.
    pub name: String,
    /// `online` or `in_person`.
    pub mode: String,
    /// `first` or `repeat`.
    pub visit: String,
    /// Length in minutes.
    pub minutes: i64,
    /// Fee in yen.
    pub fee_yen: i64,
}

/// An admin adds a menu; its id.
pub async fn add_menu(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedMenu,
) -> Result<String, ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    let mode = Mode::parse(&typed.mode)
        .ok_or_else(|| unprocessable("mode", "mode: online or in_person"))?;
    let visit = Visit::parse(&typed.visit)
        .ok_or_else(|| unprocessable("visit", "visit: first or repeat"))?;
    let menu = Menu::new(&typed.name, mode, visit, typed.minutes, typed.fee_yen)?;
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .add_menu(&id, clinic_id, &menu, now_ms())
        .await?;
    Ok(id)
}

/// `POST /api/v1/menus` (clinic admin) → 201 `{"id"}`.
pub async fn create_menu(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let typed: TypedMenu = json_body(body)?;
    let id = add_menu(&state, &auth, &typed).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// An admin offers or withdraws a menu.
pub async fn set_menu_active(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    active: bool,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    if state.store.set_menu_active(clinic_id, id, active).await? {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// `POST /api/v1/menus/{id}/withdraw` (clinic admin) → 204.
pub async fn withdraw_menu(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_menu_active(&state, &auth, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/menus/{id}/offer` (clinic admin) → 204.
pub async fn offer_menu(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_menu_active(&state, &auth, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A doctor of `clinic_id`, or a 404 exactly like another clinic's.
pub async fn doctor_of(
    state: &AppState,
    clinic_id: &str,
    doctor_id: &str,
) -> Result<Doctor, ApiError> {
    state
        .store
        .doctors(clinic_id)
        .await?
        .into_iter()
        .find(|d| d.id == doctor_id)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/doctors` (clinic).
pub async fn list_doctors(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    let doctors: Vec<_> = state
        .store
        .doctors(clinic_id)
        .await?
        .iter()
        .map(|d| json!({ "id": d.id, "name": d.name }))
        .collect();
    Ok(Json(json!({ "doctors": doctors })))
}

/// One block of hours as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedBlock {
    /// 1 = Monday … 7 = Sunday (weekly hours only).
    #[serde(default)]
    pub weekday: Option<i8>,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
}

/// Hours as typed: a week, or one day's blocks (none: closed).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedHours {
    /// The blocks.
    pub hours: Vec<TypedBlock>,
}

/// The most blocks a week or a day can have.
const BLOCKS_MAX: usize = 50;

fn hours_of(b: &TypedBlock) -> Result<Hours, ApiError> {
    Ok(Hours::new(
        parse_time("start", &b.start)?,
        parse_time("end", &b.end)?,
    )?)
}

fn week_of(typed: &TypedHours) -> Result<Vec<Weekly>, ApiError> {
    if typed.hours.len() > BLOCKS_MAX {
        return Err(unprocessable("hours", "hours: at most 50 blocks"));
    }
    typed
        .hours
        .iter()
        .map(|b| {
            let weekday = b
                .weekday
                .and_then(|n| Weekday::from_monday_one_offset(n).ok())
                .ok_or_else(|| unprocessable("weekday", "weekday: 1 (Monday) to 7 (Sunday)"))?;
            Ok(Weekly {
                weekday,
                hours: hours_of(b)?,
            })
        })
        .collect()
}

/// An admin replaces a doctor's regular week.
pub async fn set_week(
    state: &AppState,
    auth: &Authenticated,
    doctor_id: &str,
    typed: &TypedHours,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    doctor_of(state, clinic_id, doctor_id).await?;
    let week = week_of(typed)?;
    state
        .store
        .set_weekly_hours(clinic_id, doctor_id, &week)
        .await?;
    Ok(())
}

/// `PUT /api/v1/doctors/{id}/hours {"hours": [{"weekday", "start", "end"}]}` (clinic admin) → 204.
pub async fn put_week(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(doctor_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedHours = json_body(body)?;
    set_week(&state, &auth, &doctor_id, &typed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/doctors/{id}/hours` (clinic): the week and the exceptions of the next 92 days.
pub async fn get_week(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(doctor_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    doctor_of(&state, clinic_id, &doctor_id).await?;
    let settings = settings_of(&state, clinic_id).await?;
    let today = clinic_today(&settings);
    let until = today
        .checked_add(jiff::Span::new().days(enshin_core::booking::DAYS_MAX))
        .unwrap_or(today);
    let week: Vec<_> = state
        .store
        .weekly_hours(clinic_id, &doctor_id)
        .await?
        .iter()
        .map(|w| json!({ "weekday": w.weekday.to_monday_one_offset(), "start": hhmm(w.hours.start), "end": hhmm(w.hours.end) }))
        .collect();
    let exceptions: Vec<_> = state
        .store
        .exceptions(clinic_id, &doctor_id, today, until)
        .await?
        .iter()
        .map(|e| {
            let hours: Vec<_> = e
                .hours
                .iter()
                .map(|h| json!({ "start": hhmm(h.start), "end": hhmm(h.end) }))
                .collect();
            json!({ "date": e.date.to_string(), "hours": hours })
        })
        .collect();
    Ok(Json(json!({ "hours": week, "exceptions": exceptions })))
}

/// Today in the clinic's time zone.
pub fn clinic_today(settings: &Settings) -> Date {
    let tz = jiff::tz::TimeZone::get(&settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date()
}

/// An admin sets the hours of one day of a doctor (no blocks: closed that day).
pub async fn set_day(
    state: &AppState,
    auth: &Authenticated,
    doctor_id: &str,
    day: &str,
    typed: &TypedHours,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    doctor_of(state, clinic_id, doctor_id).await?;
    let date = parse_date("date", day)?;
    if typed.hours.len() > BLOCKS_MAX {
        return Err(unprocessable("hours", "hours: at most 50 blocks"));
    }
    let hours = typed.hours.iter().map(hours_of).collect::<Result<_, _>>()?;
    state
        .store
        .set_exception(clinic_id, doctor_id, &Exception { date, hours })
        .await?;
    Ok(())
}

/// `PUT /api/v1/doctors/{id}/days/{date} {"hours": [{"start", "end"}]}` (clinic admin) → 204.
pub async fn put_day(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((doctor_id, day)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedHours = json_body(body)?;
    set_day(&state, &auth, &doctor_id, &day, &typed).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An admin removes a doctor's exception of one day: the week applies again.
pub async fn clear_day(
    state: &AppState,
    auth: &Authenticated,
    doctor_id: &str,
    day: &str,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    doctor_of(state, clinic_id, doctor_id).await?;
    let date = parse_date("date", day)?;
    if state
        .store
        .clear_exception(clinic_id, doctor_id, date)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// `DELETE /api/v1/doctors/{id}/days/{date}` (clinic admin) → 204: the week applies again.
pub async fn delete_day(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((doctor_id, day)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    clear_day(&state, &auth, &doctor_id, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}
