//! Slots and appointments (FUNC-2) on both listeners. Members book for their clinic's patients
//! and move visits through their states; patients see the free slots of the clinics they are
//! linked to and book, move or cancel their own visits until the clinic's deadline. The store
//! keeps a slot from being taken twice.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use enshin_core::appointment::{NoSuchMove, State as Visit, check_move};
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::booking::{self, DAYS_MAX, Settings};
use enshin_core::schedule::{self, Slot};
use enshin_store::appointments::{Appointment, BookError, NewAppointment};
use enshin_store::registry::PatientFields;
use enshin_store::schedule::{Doctor, StoredMenu};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::json;

use crate::access::AccessFacts;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::params::Params;
use crate::registry::{listed_records, member_record};
use crate::routes::AppState;
use crate::schedule::{clinic_today, doctor_of, invalid_date, menu_json, parse_date, settings_of};
use crate::session::{Authenticated, json_body};

impl From<BookError> for ApiError {
    fn from(e: BookError) -> Self {
        match e {
            BookError::Taken => ApiError::new(
                StatusCode::CONFLICT,
                "slot_taken",
                "this time was booked by someone else just now; choose another slot",
            ),
            BookError::Changed => ApiError::new(
                StatusCode::CONFLICT,
                "appointment_changed",
                "the appointment was changed meanwhile; reload it and try again",
            ),
            BookError::Database(e) => ApiError::unavailable(&e),
        }
    }
}

impl From<NoSuchMove> for ApiError {
    fn from(e: NoSuchMove) -> Self {
        ApiError::new(StatusCode::CONFLICT, "invalid_state_change", e.to_string())
    }
}

/// The clinic's time zone (checked when it was set).
pub fn zone(settings: &Settings) -> TimeZone {
    TimeZone::get(&settings.time_zone).unwrap_or(TimeZone::UTC)
}

/// An instant on the clinic's wall clock, RFC 3339 with its offset (`2026-11-30T09:00:00+09:00`).
pub fn local(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

fn invalid_start() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        "start: give the slot's start as returned by the slots list, e.g. 2026-11-30T09:00:00+09:00",
    )
    .with_field("start")
}

/// A start typed as RFC 3339 with an offset, in unix ms.
pub fn parse_start(typed: &str) -> Result<i64, ApiError> {
    typed
        .trim()
        .parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|_| invalid_start())
}

/// The clinic's calendar day of an instant.
fn day_of(ms: i64, tz: &TimeZone) -> Result<Date, ApiError> {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).date())
        .map_err(|_| invalid_start())
}

/// The free slots of one doctor.
pub struct DoctorSlots {
    /// The doctor.
    pub doctor: Doctor,
    /// Their free slots, by start.
    pub slots: Vec<Slot>,
}

/// An offered menu of the clinic, or a 422 naming the field.
async fn offered_menu(
    state: &AppState,
    clinic_id: &str,
    menu_id: &str,
) -> Result<StoredMenu, ApiError> {
    match state.store.menu(clinic_id, menu_id).await? {
        Some(m) if m.active => Ok(m),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "menu_id: no such menu is offered",
        )
        .with_field("menu_id")),
    }
}

/// A doctor's slots for `minutes`-long visits over `days` days from `from`, and the ranges
/// already held (but by `except`).
async fn doctor_slots(
    state: &AppState,
    clinic_id: &str,
    tz: &TimeZone,
    doctor_id: &str,
    minutes: i64,
    (from, days): (Date, i64),
    except: &str,
) -> Result<(Vec<Slot>, Vec<(i64, i64)>), ApiError> {
    let until = from
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(from);
    let week = state.store.weekly_hours(clinic_id, doctor_id).await?;
    let exceptions = state
        .store
        .exceptions(clinic_id, doctor_id, from, until)
        .await?;
    let slots = schedule::slots(tz, &week, &exceptions, minutes, from, days);
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Ok((slots, Vec::new()));
    };
    let busy = state
        .store
        .busy_ranges(
            doctor_id,
            booking::ms(first.start),
            booking::ms(last.end),
            except,
        )
        .await?;
    Ok((slots, busy))
}

/// What a slot list asks for.
#[derive(Deserialize)]
pub struct SlotQuery {
    /// The menu (its length cuts the slots).
    pub menu_id: String,
    /// One doctor, or all.
    #[serde(default)]
    pub doctor_id: Option<String>,
    /// First day, `YYYY-MM-DD` in the clinic's zone; today when absent.
    #[serde(default)]
    pub from: Option<String>,
    /// Number of days, 1 to 92; 7 when absent.
    #[serde(default)]
    pub days: Option<i64>,
}

/// The free slots of a clinic for a menu, per doctor.
pub async fn free_slots(
    state: &AppState,
    clinic_id: &str,
    q: &SlotQuery,
) -> Result<(Settings, StoredMenu, Vec<DoctorSlots>), ApiError> {
    let settings = settings_of(state, clinic_id).await?;
    let tz = zone(&settings);
    let menu = offered_menu(state, clinic_id, &q.menu_id).await?;
    let from = match &q.from {
        Some(day) => parse_date("from", day)?,
        None => clinic_today(&settings),
    };
    let days = q.days.unwrap_or(7);
    if !(1..=DAYS_MAX).contains(&days) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "days: 1 to 92",
        )
        .with_field("days"));
    }
    let doctors = match &q.doctor_id {
        Some(id) => vec![doctor_of(state, clinic_id, id).await?],
        None => state.store.doctors(clinic_id).await?,
    };
    let now = now_ms();
    let mut out = Vec::with_capacity(doctors.len());
    for doctor in doctors {
        let (slots, busy) = doctor_slots(
            state,
            clinic_id,
            &tz,
            &doctor.id,
            menu.menu.minutes,
            (from, days),
            "",
        )
        .await?;
        out.push(DoctorSlots {
            slots: booking::free(&slots, &busy, now),
            doctor,
        });
    }
    Ok((settings, menu, out))
}

fn slots_json(
    tz: &TimeZone,
    menu: &StoredMenu,
    doctors: &[DoctorSlots],
) -> Json<serde_json::Value> {
    let doctors: Vec<_> = doctors
        .iter()
        .map(|d| {
            let slots: Vec<_> = d
                .slots
                .iter()
                .map(|s| json!({ "start": local(booking::ms(s.start), tz), "end": local(booking::ms(s.end), tz) }))
                .collect();
            json!({ "id": d.doctor.id, "name": d.doctor.name, "slots": slots })
        })
        .collect();
    Json(json!({ "menu": menu_json(menu), "doctors": doctors }))
}

/// `GET /api/v1/slots?menu_id&doctor_id&from&days` (clinic).
pub async fn clinic_slots(
    State(state): State<AppState>,
    auth: Authenticated,
    Params(q): Params<SlotQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    let (settings, menu, doctors) = free_slots(&state, clinic_id, &q).await?;
    Ok(slots_json(&zone(&settings), &menu, &doctors))
}

/// The registry record of the patient in a clinic they are linked to; a clinic they are not
/// linked to answers like a missing one (ROLE-2).
pub async fn own_record(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
) -> Result<String, ApiError> {
    let account = &auth.session.account_id;
    authorize(&auth.actor, Action::BookOwnVisit, Target::Account(account))?;
    state
        .store
        .linked_record(clinic_id, account)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/clinics/{id}/slots?menu_id&doctor_id&from&days` (patient, linked clinics).
pub async fn patient_slots(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(clinic_id): Path<String>,
    Params(q): Params<SlotQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    own_record(&state, &auth, &clinic_id).await?;
    let (settings, menu, doctors) = free_slots(&state, &clinic_id, &q).await?;
    Ok(slots_json(&zone(&settings), &menu, &doctors))
}

/// What a patient may book at a linked clinic: its offered menus and doctors.
pub async fn offer(
    state: &AppState,
    auth: &Authenticated,
    clinic_id: &str,
) -> Result<(Vec<StoredMenu>, Vec<Doctor>), ApiError> {
    own_record(state, auth, clinic_id).await?;
    let menus = state
        .store
        .menus(clinic_id)
        .await?
        .into_iter()
        .filter(|m| m.active)
        .collect();
    Ok((menus, state.store.doctors(clinic_id).await?))
}

/// `GET /api/v1/clinics/{id}/offer` (patient): offered menus and doctors.
pub async fn patient_offer(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(clinic_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (menus, doctors) = offer(&state, &auth, &clinic_id).await?;
    let menus: Vec<_> = menus.iter().map(menu_json).collect();
    let doctors: Vec<_> = doctors
        .iter()
        .map(|d| json!({ "id": d.id, "name": d.name }))
        .collect();
    Ok(Json(json!({ "menus": menus, "doctors": doctors })))
}

/// A booking as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedBooking {
    /// The clinic (patients).
    #[serde(default)]
    pub clinic_id: Option<String>,
    /// The registry record (members).
    #[serde(default)]
    pub patient_id: Option<String>,
    /// The menu.
    pub menu_id: String,
    /// The doctor.
    pub doctor_id: String,
    /// The slot's start as listed.
    pub start: String,
}

/// Who books: a patient for themself or a member for a patient of the clinic.
struct Booker<'a> {
    clinic_id: &'a str,
    clinic_patient_id: &'a str,
    account_id: &'a str,
    is_patient: bool,
}

/// Books a free slot; the new appointment.
async fn book(
    state: &AppState,
    who: &Booker<'_>,
    typed: &TypedBooking,
) -> Result<Appointment, ApiError> {
    let settings = settings_of(state, who.clinic_id).await?;
    let tz = zone(&settings);
    let menu = offered_menu(state, who.clinic_id, &typed.menu_id).await?;
    doctor_of(state, who.clinic_id, &typed.doctor_id).await?;
    let start = parse_start(&typed.start)?;
    let day = day_of(start, &tz)?;
    let now = now_ms();
    let (slots, busy) = doctor_slots(
        state,
        who.clinic_id,
        &tz,
        &typed.doctor_id,
        menu.menu.minutes,
        (day, 1),
        "",
    )
    .await?;
    let slot = booking::offered(&slots, &busy, start, now)?;
    if who.is_patient {
        booking::patient_may_book(
            state
                .store
                .waiting_visits(who.clinic_patient_id, now)
                .await?,
        )?;
    }
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .book_appointment(
            &NewAppointment {
                id: &id,
                clinic_id: who.clinic_id,
                clinic_patient_id: who.clinic_patient_id,
                doctor_id: &typed.doctor_id,
                menu_id: &menu.id,
                starts_at: booking::ms(slot.start),
                ends_at: booking::ms(slot.end),
                state: settings.initial_state(who.is_patient),
                booked_by: who.account_id,
            },
            now,
        )
        .await?;
    state
        .store
        .appointment(who.clinic_id, &id)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn missing(field: &'static str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        format!("{field}: required"),
    )
    .with_field(field)
}

/// A member books a slot for a patient of the clinic (confirmed at once).
pub async fn book_for_patient(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedBooking,
) -> Result<Appointment, ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    let patient_id = typed
        .patient_id
        .as_deref()
        .ok_or_else(|| missing("patient_id"))?;
    if !state
        .store
        .clinic_patient_exists(clinic_id, patient_id)
        .await?
    {
        return Err(ApiError::not_found());
    }
    book(
        state,
        &Booker {
            clinic_id,
            clinic_patient_id: patient_id,
            account_id: &auth.session.account_id,
            is_patient: false,
        },
        typed,
    )
    .await
}

/// A patient books a slot at a linked clinic (a request, or confirmed where the clinic lets
/// patients book directly).
pub async fn book_own(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedBooking,
) -> Result<Appointment, ApiError> {
    let clinic_id = typed
        .clinic_id
        .as_deref()
        .ok_or_else(|| missing("clinic_id"))?;
    let record = own_record(state, auth, clinic_id).await?;
    book(
        state,
        &Booker {
            clinic_id,
            clinic_patient_id: &record,
            account_id: &auth.session.account_id,
            is_patient: true,
        },
        typed,
    )
    .await
}

/// An appointment for the API; `patient` only for members.
pub fn appointment_json(
    a: &Appointment,
    tz: &TimeZone,
    patient: Option<&PatientFields>,
) -> serde_json::Value {
    let mut v = json!({
        "id": a.id, "clinic_id": a.clinic_id, "clinic_name": a.clinic_name,
        "doctor_id": a.doctor_id, "doctor_name": a.doctor_name, "menu_id": a.menu_id,
        "menu_name": a.menu_name, "mode": a.mode, "start": local(a.starts_at, tz),
        "end": local(a.ends_at, tz), "state": a.state.as_str(),
    });
    if let Some(p) = patient {
        v["patient"] = json!({
            "id": a.clinic_patient_id,
            "name": p.name(),
            "kana": p.kana(),
            "birth_date": p.birth_date,
        });
    }
    v
}

/// `POST /api/v1/appointments` (both listeners) → 201 the appointment.
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let typed: TypedBooking = json_body(body)?;
    let a = if state.listener == crate::listener::ListenerKind::Patient {
        book_own(&state, &auth, &typed).await?
    } else {
        book_for_patient(&state, &auth, &typed).await?
    };
    let tz = zone(&settings_of(&state, &a.clinic_id).await?);
    Ok((StatusCode::CREATED, Json(appointment_json(&a, &tz, None))))
}

/// The reception worklist of a day: the clinic's appointments with the patients' records.
pub struct Worklist {
    /// The day.
    pub date: Date,
    /// The clinic's time zone.
    pub tz: TimeZone,
    /// The appointments with their patients.
    pub rows: Vec<(Appointment, PatientFields)>,
}

/// What a worklist asks for.
#[derive(Deserialize)]
pub struct WorklistQuery {
    /// `YYYY-MM-DD`, today in the clinic when absent.
    #[serde(default)]
    pub date: Option<String>,
    /// One doctor, or all.
    #[serde(default)]
    pub doctor_id: Option<String>,
}

/// The worklist's day (`date`, or today in the clinic's zone), the zone, and the clinic's
/// appointments starting that day, of one doctor or all; no patient record is opened.
pub async fn day_appointments(
    state: &AppState,
    clinic_id: &str,
    q: &WorklistQuery,
) -> Result<(Date, TimeZone, Vec<Appointment>), ApiError> {
    let settings = settings_of(state, clinic_id).await?;
    let tz = zone(&settings);
    let date = match &q.date {
        Some(d) => parse_date("date", d)?,
        None => clinic_today(&settings),
    };
    let start = |d: Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|_| invalid_date("date"))
    };
    let next = date.tomorrow().map_err(|_| invalid_date("date"))?;
    let doctor = q.doctor_id.as_deref().filter(|d| !d.is_empty());
    let list = state
        .store
        .clinic_appointments(clinic_id, start(date)?, start(next)?, doctor)
        .await?;
    Ok((date, tz, list))
}

/// A member's worklist; every record shown is noted as read in the access log.
pub async fn worklist(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    q: &WorklistQuery,
) -> Result<Worklist, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadWorklist)?;
    if let Some(d) = q.doctor_id.as_deref().filter(|d| !d.is_empty()) {
        doctor_of(state, clinic_id, d).await?;
    }
    let (date, tz, list) = day_appointments(state, clinic_id, q).await?;
    let ids: Vec<&str> = list.iter().map(|a| a.clinic_patient_id.as_str()).collect();
    let records = listed_records(state, clinic_id, &ids, facts).await?;
    let rows = list
        .iter()
        .filter_map(|a| {
            records
                .get(a.clinic_patient_id.as_str())
                .map(|p| (a.clone(), p.clone()))
        })
        .collect();
    Ok(Worklist { date, tz, rows })
}

/// `GET /api/v1/appointments?date&doctor_id` (clinic): the worklist.
pub async fn clinic_list(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Params(q): Params<WorklistQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let w = worklist(&state, &auth, &facts, &q).await?;
    let list: Vec<_> = w
        .rows
        .iter()
        .map(|(a, p)| appointment_json(a, &w.tz, Some(p)))
        .collect();
    Ok(Json(
        json!({ "date": w.date.to_string(), "time_zone": w.tz.iana_name(), "appointments": list }),
    ))
}

/// The patient's own appointments at every linked clinic, each with its clinic's zone.
pub async fn own_appointments(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<(Appointment, TimeZone)>, ApiError> {
    let account = &auth.session.account_id;
    authorize(&auth.actor, Action::BookOwnVisit, Target::Account(account))?;
    let list = state.store.account_appointments(account).await?;
    let mut zones: HashMap<String, TimeZone> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        if !zones.contains_key(&a.clinic_id) {
            let tz = zone(&settings_of(state, &a.clinic_id).await?);
            zones.insert(a.clinic_id.clone(), tz);
        }
        let tz = zones.get(&a.clinic_id).cloned().unwrap_or(TimeZone::UTC);
        out.push((a, tz));
    }
    Ok(out)
}

/// `GET /api/v1/appointments` (patient): one's own.
pub async fn patient_list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<_> = own_appointments(&state, &auth)
        .await?
        .iter()
        .map(|(a, tz)| appointment_json(a, tz, None))
        .collect();
    Ok(Json(json!({ "appointments": list })))
}

/// Appointment `id` of the member's clinic, or a 404 like another clinic's.
pub async fn clinic_appointment(
    state: &AppState,
    clinic_id: &str,
    id: &str,
) -> Result<Appointment, ApiError> {
    state
        .store
        .appointment(clinic_id, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The patient's own appointment `id`, or a 404 like anyone else's.
async fn own_appointment(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(Appointment, Settings), ApiError> {
    let (a, _) = own_appointments(state, auth)
        .await?
        .into_iter()
        .find(|(a, _)| a.id == id)
        .ok_or_else(ApiError::not_found)?;
    let settings = settings_of(state, &a.clinic_id).await?;
    Ok((a, settings))
}

/// Moves a visit (by its patient or a member) to another free slot of the same doctor and menu.
async fn move_to(
    state: &AppState,
    a: &Appointment,
    settings: &Settings,
    start: i64,
    by: &str,
) -> Result<(), ApiError> {
    if !matches!(a.state, Visit::Requested | Visit::Confirmed) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state_change",
            format!(
                "an appointment that is {} cannot be moved",
                a.state.as_str()
            ),
        ));
    }
    let tz = zone(settings);
    let minutes = (a.ends_at - a.starts_at) / 60_000;
    let day = day_of(start, &tz)?;
    let (slots, busy) = doctor_slots(
        state,
        &a.clinic_id,
        &tz,
        &a.doctor_id,
        minutes,
        (day, 1),
        &a.id,
    )
    .await?;
    let slot = booking::offered(&slots, &busy, start, now_ms())?;
    state
        .store
        .reschedule_appointment(
            a,
            booking::ms(slot.start),
            booking::ms(slot.end),
            by,
            now_ms(),
        )
        .await?;
    Ok(())
}

/// A new start as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedStart {
    /// The slot's start as listed.
    pub start: String,
}

/// A patient moves their own visit, before the clinic's deadline.
pub async fn reschedule_own(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    start: &str,
) -> Result<(), ApiError> {
    let (a, settings) = own_appointment(state, auth, id).await?;
    let start = parse_start(start)?;
    settings.patient_may_change(a.starts_at, now_ms())?;
    move_to(state, &a, &settings, start, &auth.session.account_id).await
}

/// A patient cancels their own visit, before the clinic's deadline.
pub async fn cancel_own(state: &AppState, auth: &Authenticated, id: &str) -> Result<(), ApiError> {
    let (a, settings) = own_appointment(state, auth, id).await?;
    check_move(a.state, Visit::Cancelled)?;
    settings.patient_may_change(a.starts_at, now_ms())?;
    state
        .store
        .move_appointment(
            &a.clinic_id,
            &a.id,
            a.state,
            Visit::Cancelled,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(())
}

/// `POST /api/v1/appointments/{id}/reschedule {"start"}` (both listeners) → 204.
pub async fn reschedule(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedStart = json_body(body)?;
    if state.listener == crate::listener::ListenerKind::Patient {
        reschedule_own(&state, &auth, &id, &typed.start).await?;
    } else {
        let clinic_id = auth.member_clinic(Action::BookVisit)?;
        let a = clinic_appointment(&state, clinic_id, &id).await?;
        let settings = settings_of(&state, clinic_id).await?;
        let start = parse_start(&typed.start)?;
        move_to(&state, &a, &settings, start, &auth.session.account_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/appointments/{id}/cancel` (patient) → 204.
pub async fn cancel(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    cancel_own(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member moves a visit to another state (confirm, start, finish, cancel, no-show).
pub async fn set_state(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    to: &str,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::BookVisit)?;
    let to = Visit::parse(to).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "state: one of confirmed, in_consultation, completed, cancelled, no_show",
        )
        .with_field("state")
    })?;
    let a = clinic_appointment(state, clinic_id, id).await?;
    check_move(a.state, to)?;
    state
        .store
        .move_appointment(
            clinic_id,
            id,
            a.state,
            to,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(())
}

/// A state as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedState {
    /// The new state.
    pub state: String,
}

/// `POST /api/v1/appointments/{id}/state {"state"}` (clinic) → 204.
pub async fn change_state(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedState = json_body(body)?;
    set_state(&state, &auth, &id, &typed.state).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/appointments/{id}` (clinic): one appointment with its patient.
pub async fn read(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadWorklist)?;
    let a = clinic_appointment(&state, clinic_id, &id).await?;
    let patient = member_record(&state, clinic_id, &a.clinic_patient_id).await?;
    facts.read_patients([a.clinic_patient_id.as_str()]);
    let tz = zone(&settings_of(&state, clinic_id).await?);
    Ok(Json(appointment_json(&a, &tz, Some(&patient))))
}
