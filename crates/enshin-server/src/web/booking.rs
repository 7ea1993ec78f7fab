//! Booking pages (FUNC-2): a patient's appointments, booking and moving a visit (phone first);
//! the clinic's reception worklist, which keeps itself current with a small same-origin script,
//! booking for a patient, and the admin's booking setup. The same functions as the JSON API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use enshin_core::appointment::State as Visit;
use enshin_core::schedule::{Mode, Visit as Kind};
use enshin_store::appointments::Appointment;
use enshin_store::schedule::StoredMenu;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::booking_texts::BookingTexts;
use super::context::{Button, Frame, Page, Posted, SignedIn};
use crate::access::AccessFacts;
use crate::booking::{
    DoctorSlots, SlotQuery, TypedBooking, WorklistQuery, book_for_patient, book_own, cancel_own,
    day_appointments, free_slots, local, offer, own_appointments, reschedule_own, set_state,
    worklist, zone,
};
use crate::error::ApiError;
use crate::params::Params;
use crate::routes::AppState;
use crate::schedule::{
    TypedBlock, TypedHours, TypedMenu, TypedSettings, add_menu, clear_day, clinic_today, hhmm,
    set_day, set_menu_active, set_settings, set_week, settings_of,
};
use crate::session::Authenticated;
use enshin_core::authz::Action;

fn state_label(b: &BookingTexts, s: Visit) -> &'static str {
    let i = Visit::ALL.iter().position(|x| *x == s).unwrap_or(0);
    b.states[i]
}

fn mode_label(b: &BookingTexts, mode: &str) -> &'static str {
    if mode == Mode::Online.as_str() {
        b.online
    } else {
        b.in_person
    }
}

/// `YYYY-MM-DD (曜) HH:MM` of an instant on the clinic's wall clock.
pub(super) fn when(b: &BookingTexts, ms: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            let z = t.to_zoned(tz.clone());
            let day = b.weekdays[usize::from(z.weekday().to_monday_zero_offset().unsigned_abs())];
            format!("{} ({day}) {}", z.date(), hhmm(z.time()))
        })
        .unwrap_or_default()
}

fn menu_line(b: &BookingTexts, m: &StoredMenu) -> String {
    format!(
        "{} · {} · {}{} · {}{}",
        if m.menu.mode == Mode::Online {
            b.online
        } else {
            b.in_person
        },
        if m.menu.visit == Kind::First {
            b.first
        } else {
            b.repeat
        },
        m.menu.minutes,
        b.minutes,
        m.menu.fee_yen,
        b.yen
    )
}

struct VisitRow {
    id: String,
    when: String,
    clinic: String,
    doctor: String,
    menu: String,
    mode: String,
    state: String,
    changeable: bool,
    /// The video room can be entered (an online visit, confirmed or under way).
    call: bool,
}

#[derive(Template)]
#[template(path = "appointments.html")]
struct AppointmentsPage {
    f: Frame,
    visits: Vec<VisitRow>,
    clinics: Vec<(String, String)>,
    error: Option<String>,
}

async fn appointments_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let (list, clinics) = match tokio::try_join!(
        own_appointments(state, auth),
        crate::links::my_clinics(state, auth)
    ) {
        Ok(both) => both,
        Err(e) => return page.error(Some(auth), &e),
    };
    let b = page.t().b;
    let now = crate::clock::now_ms();
    let template = AppointmentsPage {
        f: page.frame(Some(auth)),
        visits: list
            .iter()
            .rev()
            .map(|(a, tz)| VisitRow {
                id: a.id.clone(),
                when: when(b, a.starts_at, tz),
                clinic: a.clinic_name.clone(),
                doctor: a.doctor_name.clone(),
                menu: a.menu_name.clone(),
                mode: mode_label(b, &a.mode).to_owned(),
                state: state_label(b, a.state).to_owned(),
                changeable: matches!(a.state, Visit::Requested | Visit::Confirmed)
                    && a.starts_at > now,
                call: crate::calls::callable(a),
            })
            .collect(),
        clinics: clinics
            .into_iter()
            .map(|l| (l.clinic_id, l.clinic_name))
            .collect(),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /appointments` (patient).
pub async fn appointments_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    appointments_view(&state, &page, &auth, None).await
}

/// `POST /appointments/{id}/cancel` (patient).
pub async fn cancel(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match cancel_own(&state, &auth, &id).await {
        Ok(()) => page.redirect("/appointments?done=cancelled"),
        Err(e) if e.status == StatusCode::NOT_FOUND => page.error(Some(&auth), &e),
        Err(e) => appointments_view(&state, &page, &auth, Some(&e)).await,
    }
}

struct SlotButton {
    time: String,
    start: String,
    doctor_id: String,
    doctor: String,
}

struct DayGroup {
    label: String,
    slots: Vec<SlotButton>,
}

struct MenuLink {
    href: String,
    name: String,
    line: String,
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    f: Frame,
    title: String,
    /// Menus to choose from (no menu chosen yet).
    menus: Vec<MenuLink>,
    /// The chosen menu's line.
    chosen: Option<String>,
    days: Vec<DayGroup>,
    action: String,
    /// Hidden fields of every slot form (name, value).
    hidden: Vec<(&'static str, String)>,
    earlier: Option<String>,
    later: Option<String>,
    deadline: Option<i64>,
    error: Option<String>,
}

/// The slots of each doctor grouped by day, for buttons.
fn day_groups(b: &BookingTexts, tz: &TimeZone, doctors: &[DoctorSlots]) -> Vec<DayGroup> {
    let mut all: Vec<(i64, &DoctorSlots, &enshin_core::schedule::Slot)> = doctors
        .iter()
        .flat_map(|d| {
            d.slots
                .iter()
                .map(move |s| (s.start.as_millisecond(), d, s))
        })
        .collect();
    all.sort_by_key(|(start, d, _)| (*start, d.doctor.name.clone()));
    let mut days: Vec<DayGroup> = Vec::new();
    for (start, d, _) in all {
        let full = when(b, start, tz);
        let (label, time) = full.rsplit_once(' ').unwrap_or((&full, ""));
        let button = SlotButton {
            time: time.to_owned(),
            start: local(start, tz),
            doctor_id: d.doctor.id.clone(),
            doctor: if doctors.len() > 1 {
                d.doctor.name.clone()
            } else {
                String::new()
            },
        };
        match days.last_mut() {
            Some(day) if day.label == label => day.slots.push(button),
            _ => days.push(DayGroup {
                label: label.to_owned(),
                slots: vec![button],
            }),
        }
    }
    days
}

/// What a booking page asks for.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BookQuery {
    menu_id: String,
    from: String,
}

/// Days of slots on one booking page: short enough to scroll on a phone.
const PAGE_DAYS: i64 = 3;

/// The days before and after `from` as links, keeping `base` (which ends in `&` or `?`).
fn paging(
    base: &str,
    from: jiff::civil::Date,
    today: jiff::civil::Date,
) -> (Option<String>, Option<String>) {
    let step = jiff::Span::new().days(PAGE_DAYS);
    let earlier = from
        .checked_sub(step)
        .ok()
        .filter(|d| *d >= today)
        .map(|d| format!("{base}from={d}"));
    let later = from
        .checked_add(step)
        .ok()
        .map(|d| format!("{base}from={d}"));
    (earlier, later)
}

struct BookContext<'a> {
    clinic_id: &'a str,
    title: String,
    /// `/clinics/{id}/book?` or `/patients/{id}/book?`.
    base: String,
    action: String,
    hidden: Vec<(&'static str, String)>,
    doctor_id: Option<String>,
    show_deadline: bool,
}

async fn book_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    ctx: BookContext<'_>,
    q: &BookQuery,
    err: Option<&ApiError>,
) -> Response {
    let b = page.t().b;
    let settings = match settings_of(state, ctx.clinic_id).await {
        Ok(s) => s,
        Err(e) => return page.error(Some(auth), &e),
    };
    let tz = zone(&settings);
    let mut template = BookPage {
        f: page.frame(Some(auth)),
        title: ctx.title,
        menus: Vec::new(),
        chosen: None,
        days: Vec::new(),
        action: ctx.action,
        hidden: ctx.hidden,
        earlier: None,
        later: None,
        deadline: ctx
            .show_deadline
            .then_some(settings.cancel_deadline_minutes),
        error: err.map(|e| page.t().error(e)),
    };
    if q.menu_id.is_empty() {
        let menus = match state.store.menus(ctx.clinic_id).await {
            Ok(m) => m,
            Err(e) => return page.error(Some(auth), &ApiError::from(e)),
        };
        template.menus = menus
            .iter()
            .filter(|m| m.active)
            .map(|m| MenuLink {
                href: format!("{}menu_id={}", ctx.base, m.id),
                name: m.menu.name.clone(),
                line: menu_line(b, m),
            })
            .collect();
    } else {
        let today = clinic_today(&settings);
        let query = SlotQuery {
            menu_id: q.menu_id.clone(),
            doctor_id: ctx.doctor_id,
            from: (!q.from.is_empty()).then(|| q.from.clone()),
            days: Some(PAGE_DAYS),
        };
        let (_, menu, doctors) = match free_slots(state, ctx.clinic_id, &query).await {
            Ok(found) => found,
            Err(e) => return page.error(Some(auth), &e),
        };
        let from = query
            .from
            .as_deref()
            .and_then(|d| d.parse().ok())
            .unwrap_or(today);
        let (earlier, later) = paging(&format!("{}menu_id={}&", ctx.base, menu.id), from, today);
        template.chosen = Some(format!("{} — {}", menu.menu.name, menu_line(b, &menu)));
        template.days = day_groups(b, &tz, &doctors);
        template.hidden.push(("menu_id", menu.id));
        template.earlier = earlier;
        template.later = later;
    }
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /clinics/{id}/book?menu_id&from` (patient, linked clinics).
pub async fn book_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(clinic_id): Path<String>,
    Params(q): Params<BookQuery>,
) -> Response {
    if let Err(e) = offer(&state, &auth, &clinic_id).await {
        return page.error(Some(&auth), &e);
    }
    let ctx = patient_context(&page, &clinic_id);
    book_view(&state, &page, &auth, ctx, &q, None).await
}

fn patient_context<'a>(page: &Page, clinic_id: &'a str) -> BookContext<'a> {
    BookContext {
        clinic_id,
        title: page.t().b.book.to_owned(),
        base: format!("/clinics/{clinic_id}/book?"),
        action: "/appointments".into(),
        hidden: vec![("clinic_id", clinic_id.to_owned())],
        doctor_id: None,
        show_deadline: true,
    }
}

/// A slot button's form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SlotForm {
    clinic_id: String,
    menu_id: String,
    doctor_id: String,
    start: String,
}

/// `POST /appointments` (patient): books the slot.
pub async fn book(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<SlotForm>,
) -> Response {
    let typed = TypedBooking {
        clinic_id: Some(form.clinic_id.clone()),
        patient_id: None,
        menu_id: form.menu_id.clone(),
        doctor_id: form.doctor_id,
        start: form.start,
    };
    match book_own(&state, &auth, &typed).await {
        Ok(a) if a.state == Visit::Requested => page.redirect("/appointments?done=requested"),
        Ok(_) => page.redirect("/appointments?done=booked"),
        Err(e) if e.status == StatusCode::NOT_FOUND => page.error(Some(&auth), &e),
        Err(e) => {
            let ctx = patient_context(&page, &form.clinic_id);
            let q = BookQuery {
                menu_id: form.menu_id,
                from: String::new(),
            };
            book_view(&state, &page, &auth, ctx, &q, Some(&e)).await
        }
    }
}

/// The patient's own appointment, or the 404 page.
async fn own_visit(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(Appointment, TimeZone), ApiError> {
    own_appointments(state, auth)
        .await?
        .into_iter()
        .find(|(a, _)| a.id == id)
        .ok_or_else(ApiError::not_found)
}

async fn move_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    from: String,
    err: Option<&ApiError>,
) -> Response {
    let (a, _) = match own_visit(state, auth, id).await {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &e),
    };
    let ctx = BookContext {
        clinic_id: &a.clinic_id,
        title: page.t().b.move_visit.to_owned(),
        base: format!("/appointments/{id}/move?"),
        action: format!("/appointments/{id}/move"),
        hidden: Vec::new(),
        doctor_id: Some(a.doctor_id.clone()),
        show_deadline: true,
    };
    let q = BookQuery {
        menu_id: a.menu_id.clone(),
        from,
    };
    book_view(state, page, auth, ctx, &q, err).await
}

/// `GET /appointments/{id}/move?from` (patient): free slots of the same doctor and menu.
pub async fn move_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Params(q): Params<BookQuery>,
) -> Response {
    move_view(&state, &page, &auth, &id, q.from, None).await
}

/// `POST /appointments/{id}/move` (patient).
pub async fn move_visit(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<SlotForm>,
) -> Response {
    match reschedule_own(&state, &auth, &id, &form.start).await {
        Ok(()) => page.redirect("/appointments?done=moved"),
        Err(e) if e.status == StatusCode::NOT_FOUND => page.error(Some(&auth), &e),
        Err(e) => move_view(&state, &page, &auth, &id, String::new(), Some(&e)).await,
    }
}

/// `GET /patients/{id}/book?menu_id&from` (clinic): book for a patient of the clinic.
pub async fn member_book_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(patient_id): Path<String>,
    Params(q): Params<BookQuery>,
) -> Response {
    let clinic_id = match auth.member_clinic(Action::BookVisit) {
        Ok(c) => c.to_owned(),
        Err(e) => return page.error(Some(&auth), &e),
    };
    let ctx = member_context(&page, &clinic_id, &patient_id);
    book_view(&state, &page, &auth, ctx, &q, None).await
}

fn member_context<'a>(page: &Page, clinic_id: &'a str, patient_id: &str) -> BookContext<'a> {
    BookContext {
        clinic_id,
        title: page.t().b.book.to_owned(),
        base: format!("/patients/{patient_id}/book?"),
        action: format!("/patients/{patient_id}/book"),
        hidden: Vec::new(),
        doctor_id: None,
        show_deadline: false,
    }
}

/// `POST /patients/{id}/book` (clinic).
pub async fn member_book(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(patient_id): Path<String>,
    Posted(form): Posted<SlotForm>,
) -> Response {
    let typed = TypedBooking {
        clinic_id: None,
        patient_id: Some(patient_id.clone()),
        menu_id: form.menu_id.clone(),
        doctor_id: form.doctor_id,
        start: form.start,
    };
    match book_for_patient(&state, &auth, &typed).await {
        Ok(a) => {
            let tz = settings_of(&state, &a.clinic_id)
                .await
                .map(|s| zone(&s))
                .unwrap_or(TimeZone::UTC);
            let day = local(a.starts_at, &tz).chars().take(10).collect::<String>();
            page.redirect(&format!("/worklist?date={day}&done=booked"))
        }
        Err(e) if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::FORBIDDEN => {
            page.error(Some(&auth), &e)
        }
        Err(e) => {
            let Ok(clinic_id) = auth.member_clinic(Action::BookVisit) else {
                return page.error(Some(&auth), &e);
            };
            let ctx = member_context(&page, clinic_id, &patient_id);
            let q = BookQuery {
                menu_id: form.menu_id,
                from: String::new(),
            };
            book_view(&state, &page, &auth, ctx, &q, Some(&e)).await
        }
    }
}

struct WorkRow {
    id: String,
    /// The patient's registry record (links to their questionnaires and home records).
    patient_id: String,
    time: String,
    name: String,
    kana: String,
    birth_date: String,
    doctor: String,
    menu: String,
    mode: String,
    state: String,
    /// (state to move to, button label, quiet/danger class).
    moves: Vec<(&'static str, &'static str, &'static str)>,
    /// The viewer is this online visit's doctor and can open its video room.
    call: bool,
}

#[derive(Template)]
#[template(path = "worklist.html")]
struct WorklistPage {
    f: Frame,
    date: String,
    doctor_id: String,
    doctors: Vec<(String, String)>,
    rows: Vec<WorkRow>,
    stamp: String,
    query: String,
}

#[derive(Template)]
#[template(path = "worklist_rows.html")]
struct WorklistRows {
    f: Frame,
    rows: Vec<WorkRow>,
    date: String,
    doctor_id: String,
}

/// The moves a member can make from a state, as buttons.
fn moves(b: &BookingTexts, s: Visit) -> Vec<(&'static str, &'static str, &'static str)> {
    let [confirm, start, complete, no_show, cancel] = b.actions;
    match s {
        Visit::Requested => vec![("confirmed", confirm, ""), ("cancelled", cancel, "danger")],
        Visit::Confirmed => vec![
            ("in_consultation", start, ""),
            ("no_show", no_show, "quiet"),
            ("cancelled", cancel, "danger"),
        ],
        Visit::InConsultation => vec![("completed", complete, "")],
        _ => Vec::new(),
    }
}

/// What changes when the worklist changes: the number of visits and the latest change.
fn stamp_of<'a>(list: impl Iterator<Item = &'a Appointment>) -> String {
    let (count, latest) = list.fold((0usize, 0i64), |(n, m), a| (n + 1, m.max(a.updated_at)));
    format!("{count}-{latest}")
}

async fn worklist_rows(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    facts: &AccessFacts,
    q: &WorklistQuery,
) -> Result<(crate::booking::Worklist, Vec<WorkRow>), ApiError> {
    let w = worklist(state, auth, facts, q).await?;
    let b = page.t().b;
    let rows = w
        .rows
        .iter()
        .map(|(a, p)| WorkRow {
            id: a.id.clone(),
            patient_id: a.clinic_patient_id.clone(),
            time: when(b, a.starts_at, &w.tz)
                .rsplit_once(' ')
                .map(|(_, t)| t.to_owned())
                .unwrap_or_default(),
            name: p.name(),
            kana: p.kana(),
            birth_date: p.birth_date.clone(),
            doctor: a.doctor_name.clone(),
            menu: a.menu_name.clone(),
            mode: mode_label(b, &a.mode).to_owned(),
            state: state_label(b, a.state).to_owned(),
            moves: moves(b, a.state),
            call: crate::calls::callable(a) && a.doctor_id == auth.session.account_id,
        })
        .collect();
    Ok((w, rows))
}

fn worklist_query(date: &str, doctor_id: &str) -> String {
    format!("date={date}&doctor_id={doctor_id}")
}

/// `GET /worklist?date&doctor_id` (clinic): today's visits, kept current by `worklist.js`.
pub async fn worklist_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Params(q): Params<WorklistQuery>,
) -> Response {
    let (w, rows) = match worklist_rows(&state, &page, &auth, &facts, &q).await {
        Ok(found) => found,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let Ok(clinic_id) = auth.member_clinic(Action::ReadWorklist) else {
        return page.error(Some(&auth), &ApiError::not_found());
    };
    let doctors = match state.store.doctors(clinic_id).await {
        Ok(d) => d.into_iter().map(|d| (d.id, d.name)).collect(),
        Err(e) => return page.error(Some(&auth), &ApiError::from(e)),
    };
    let doctor_id = q.doctor_id.clone().unwrap_or_default();
    let template = WorklistPage {
        f: page.frame(Some(&auth)),
        date: w.date.to_string(),
        query: worklist_query(&w.date.to_string(), &doctor_id),
        doctor_id,
        doctors,
        stamp: stamp_of(w.rows.iter().map(|(a, _)| a)),
        rows,
    };
    page.render(StatusCode::OK, &template)
}

/// `GET /worklist/stamp?date&doctor_id` (clinic): the worklist's stamp, no patient data; the
/// script asks for the rows only when it changes.
pub async fn worklist_stamp(
    State(state): State<AppState>,
    auth: Authenticated,
    Params(q): Params<WorklistQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadWorklist)?;
    let (_, _, list) = day_appointments(&state, clinic_id, &q).await?;
    Ok(Json(serde_json::json!({ "stamp": stamp_of(list.iter()) })))
}

/// `GET /worklist/rows?date&doctor_id` (clinic): the table body, for the script.
pub async fn worklist_rows_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Params(q): Params<WorklistQuery>,
) -> Response {
    match worklist_rows(&state, &page, &auth, &facts, &q).await {
        Ok((w, rows)) => {
            let doctor_id = q.doctor_id.clone().unwrap_or_default();
            let template = WorklistRows {
                f: page.frame(Some(&auth)),
                date: w.date.to_string(),
                doctor_id,
                rows,
            };
            page.render(StatusCode::OK, &template)
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// A state button's form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StateForm {
    state: String,
    date: String,
    doctor_id: String,
}

/// `POST /appointments/{id}/state` (clinic), back to the worklist.
pub async fn change_state(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<StateForm>,
) -> Response {
    match set_state(&state, &auth, &id, &form.state).await {
        Ok(()) => {
            let date: String = form
                .date
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '-')
                .take(10)
                .collect();
            let doctor: String = form
                .doctor_id
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect();
            page.redirect(&format!(
                "/worklist?{}&done=state_changed",
                worklist_query(&date, &doctor)
            ))
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// The worklist's script: same origin, no inline code (CSP `script-src 'self'`).
pub async fn worklist_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/worklist.js"),
    )
}

struct MenuRow {
    id: String,
    name: String,
    line: String,
    active: bool,
    /// The questionnaire the menu asks for at booking.
    questionnaire: String,
}

struct DoctorHours {
    id: String,
    name: String,
    /// (weekday number, name, start, end) of the first block of each day.
    week: Vec<(i8, &'static str, String, String)>,
    /// (date, hours or "closed").
    days: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct SchedulePage {
    f: Frame,
    self_booking: bool,
    deadline: i64,
    time_zone: String,
    /// The number patients see during calls.
    contact_phone: String,
    /// Whether online calls wait for the patient's agreement to the current plan.
    plan_required: bool,
    menus: Vec<MenuRow>,
    /// The clinic's questionnaires (id, staff title), for the menus.
    questionnaires: Vec<(String, String)>,
    doctors: Vec<DoctorHours>,
    error: Option<String>,
}

async fn schedule_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    err: Option<&ApiError>,
) -> Response {
    let result = async {
        let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
        let settings = settings_of(state, clinic_id).await?;
        let menus = state.store.menus(clinic_id).await?;
        let asks: std::collections::HashMap<String, String> = state
            .store
            .menu_questionnaires(clinic_id)
            .await?
            .into_iter()
            .collect();
        let questionnaires = state.store.questionnaires(clinic_id).await?;
        let today = clinic_today(&settings);
        let until = today
            .checked_add(jiff::Span::new().days(enshin_core::booking::DAYS_MAX))
            .unwrap_or(today);
        let b = page.t().b;
        let mut doctors = Vec::new();
        for d in state.store.doctors(clinic_id).await? {
            let week = state.store.weekly_hours(clinic_id, &d.id).await?;
            let days = state
                .store
                .exceptions(clinic_id, &d.id, today, until)
                .await?;
            doctors.push(DoctorHours {
                week: (1..=7i8)
                    .map(|n| {
                        let block = week.iter().find(|w| w.weekday.to_monday_one_offset() == n);
                        (
                            n,
                            b.weekdays[usize::from(n.unsigned_abs()) - 1],
                            block.map(|w| hhmm(w.hours.start)).unwrap_or_default(),
                            block.map(|w| hhmm(w.hours.end)).unwrap_or_default(),
                        )
                    })
                    .collect(),
                days: days
                    .iter()
                    .map(|e| {
                        let hours = if e.hours.is_empty() {
                            b.closed.to_owned()
                        } else {
                            e.hours
                                .iter()
                                .map(|h| format!("{}–{}", hhmm(h.start), hhmm(h.end)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        (e.date.to_string(), hours)
                    })
                    .collect(),
                id: d.id,
                name: d.name,
            });
        }
        Ok::<_, ApiError>(SchedulePage {
            f: page.frame(Some(auth)),
            self_booking: settings.self_booking,
            deadline: settings.cancel_deadline_minutes,
            time_zone: settings.time_zone,
            contact_phone: state
                .store
                .clinic_phone(clinic_id)
                .await?
                .unwrap_or_default(),
            plan_required: state.store.plan_required_for_calls(clinic_id).await?,
            menus: menus
                .iter()
                .map(|m| MenuRow {
                    id: m.id.clone(),
                    name: m.menu.name.clone(),
                    line: menu_line(b, m),
                    active: m.active,
                    questionnaire: asks.get(&m.id).cloned().unwrap_or_default(),
                })
                .collect(),
            questionnaires: questionnaires
                .into_iter()
                .map(|q| (q.id, q.definition.staff_title))
                .collect(),
            doctors,
            error: err.map(|e| page.t().error(e)),
        })
    }
    .await;
    match result {
        Ok(template) => page.render(err.map_or(StatusCode::OK, |e| e.status), &template),
        Err(e) => page.error(Some(auth), &e),
    }
}

/// `GET /schedule` (clinic admin).
pub async fn schedule_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    schedule_view(&state, &page, &auth, None).await
}

async fn after_schedule(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    done: Result<(), ApiError>,
) -> Response {
    match done {
        Ok(()) => page.redirect("/schedule?done=saved"),
        Err(e) if e.status == StatusCode::FORBIDDEN || e.status == StatusCode::NOT_FOUND => {
            page.error(Some(auth), &e)
        }
        Err(e) => schedule_view(state, page, auth, Some(&e)).await,
    }
}

/// The booking-rules form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    self_booking: Option<String>,
    cancel_deadline_minutes: String,
    time_zone: String,
    contact_phone: String,
    plan_required_for_calls: Option<String>,
}

fn number(field: &'static str, typed: &str) -> Result<i64, ApiError> {
    typed.trim().parse().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("{field}: a whole number"),
        )
        .with_field(field)
    })
}

/// `POST /schedule/settings` (clinic admin).
pub async fn settings(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<SettingsForm>,
) -> Response {
    let done = async {
        let typed = TypedSettings {
            time_zone: Some(form.time_zone.trim().to_owned()),
            self_booking: form.self_booking.is_some(),
            cancel_deadline_minutes: number(
                "cancel_deadline_minutes",
                &form.cancel_deadline_minutes,
            )?,
        };
        set_settings(&state, &auth, &typed).await?;
        let contact = crate::calls::TypedContact {
            phone: form.contact_phone,
        };
        crate::calls::set_contact(&state, &auth, &contact).await?;
        crate::plans::set_requirement(&state, &auth, form.plan_required_for_calls.is_some()).await
    }
    .await;
    after_schedule(&state, &page, &auth, done).await
}

/// The add-menu form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MenuForm {
    name: String,
    mode: String,
    visit: String,
    minutes: String,
    fee_yen: String,
}

/// `POST /schedule/menus` (clinic admin).
pub async fn menu(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<MenuForm>,
) -> Response {
    let done = async {
        let typed = TypedMenu {
            name: form.name,
            mode: form.mode,
            visit: form.visit,
            minutes: number("minutes", &form.minutes)?,
            fee_yen: number("fee_yen", &form.fee_yen)?,
        };
        add_menu(&state, &auth, &typed).await.map(|_| ())
    }
    .await;
    after_schedule(&state, &page, &auth, done).await
}

/// The offer-or-withdraw button's form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OfferForm {
    active: String,
}

/// `POST /schedule/menus/{id}/active` (clinic admin): `active=true` offers the menu again,
/// anything else withdraws it.
pub async fn menu_active(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<OfferForm>,
) -> Response {
    let done = set_menu_active(&state, &auth, &id, form.active == "true").await;
    after_schedule(&state, &page, &auth, done).await
}

/// The menu's questionnaire form (empty: none).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MenuQuestionnaireForm {
    questionnaire_id: String,
}

/// `POST /schedule/menus/{id}/questionnaire` (clinic admin).
pub async fn menu_questionnaire(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<MenuQuestionnaireForm>,
) -> Response {
    let chosen = Some(form.questionnaire_id.as_str()).filter(|q| !q.is_empty());
    let done = crate::questionnaires::set_menu(&state, &auth, &id, chosen).await;
    after_schedule(&state, &page, &auth, done).await
}

/// The week form: `start1`…`start7`, `end1`…`end7` (Monday first); empty days are off.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WeekForm {
    start1: String,
    end1: String,
    start2: String,
    end2: String,
    start3: String,
    end3: String,
    start4: String,
    end4: String,
    start5: String,
    end5: String,
    start6: String,
    end6: String,
    start7: String,
    end7: String,
}

/// `POST /schedule/doctors/{id}/hours` (clinic admin).
pub async fn week(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(doctor_id): Path<String>,
    Posted(form): Posted<WeekForm>,
) -> Response {
    let days = [
        (1, form.start1, form.end1),
        (2, form.start2, form.end2),
        (3, form.start3, form.end3),
        (4, form.start4, form.end4),
        (5, form.start5, form.end5),
        (6, form.start6, form.end6),
        (7, form.start7, form.end7),
    ];
    let typed = TypedHours {
        hours: days
            .into_iter()
            .filter(|(_, s, e)| !(s.trim().is_empty() && e.trim().is_empty()))
            .map(|(weekday, start, end)| TypedBlock {
                weekday: Some(weekday),
                start,
                end,
            })
            .collect(),
    };
    let done = set_week(&state, &auth, &doctor_id, &typed).await;
    after_schedule(&state, &page, &auth, done).await
}

/// The day form: a date, and hours (both empty: closed).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DayForm {
    date: String,
    start: String,
    end: String,
}

/// `POST /schedule/doctors/{id}/days` (clinic admin).
pub async fn day(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(doctor_id): Path<String>,
    Posted(form): Posted<DayForm>,
) -> Response {
    let hours = if form.start.trim().is_empty() && form.end.trim().is_empty() {
        Vec::new()
    } else {
        vec![TypedBlock {
            weekday: None,
            start: form.start,
            end: form.end,
        }]
    };
    let done = set_day(&state, &auth, &doctor_id, &form.date, &TypedHours { hours }).await;
    after_schedule(&state, &page, &auth, done).await
}

/// `POST /schedule/doctors/{id}/days/{date}/remove` (clinic admin).
pub async fn remove_day(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path((doctor_id, day)): Path<(String, String)>,
    Posted(_): Posted<Button>,
) -> Response {
    let done = clear_day(&state, &auth, &doctor_id, &day).await;
    after_schedule(&state, &page, &auth, done).await
}
