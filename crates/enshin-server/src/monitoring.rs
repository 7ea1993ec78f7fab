//! Home monitoring (FUNC-4) at the HTTP edge. Patients record their own readings and register
//! measuring devices; a device posts batches with its own token, which can do nothing else;
//! members of a clinic the patient is linked to read the readings, set thresholds and work the
//! alert list. Values are never put into e-mail (DATA-2): an alert waits on the worklist.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::{Extension, Json};
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::session::token_digest;
use enshin_core::vitals::{
    self, BATCH_MAX, Bounds, BoundsError, DEVICE_NAME_MAX, DEVICE_TOKEN_PREFIX, Kind, NOTE_MAX,
    Reading, TimeError, VitalError,
};
use enshin_store::monitoring::{
    Alert, Batch, Device, Ingested, MANUAL, MonitoringError, NewReading, ReadingQuery,
    StoredReading, Threshold,
};
use enshin_store::registry::PatientFields;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::json;

use crate::access::{AccessFacts, Principal};
use crate::booking::{local, zone};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::params::Params;
use crate::routes::AppState;
use crate::schedule::{settings_of, unprocessable};
use crate::session::{Authenticated, json_body};

/// Longest id a sender may give a reading.
const CLIENT_ID_MAX: usize = 64;
/// Most readings one list answer carries.
const LIST_MAX: i64 = 1000;
/// Most readings a chart reads (a year of a reading every five minutes).
const CHART_MAX: i64 = 200_000;
/// Longest comment on an alert.
pub const COMMENT_MAX: usize = 400;
const DAY_MS: i64 = 86_400_000;

impl From<MonitoringError> for ApiError {
    fn from(e: MonitoringError) -> Self {
        match e {
            MonitoringError::NotFound => Self::not_found(),
            MonitoringError::AlreadyAcknowledged => Self::new(
                StatusCode::CONFLICT,
                "already_acknowledged",
                "this alert was acknowledged already",
            ),
            MonitoringError::Keyring(e) => Self::unavailable(&e),
            MonitoringError::Database(e) => Self::unavailable(&e),
        }
    }
}

/// The range of an out-of-range error, as a translation shows it (`30.0–45.0 °C`).
fn range_detail(e: &VitalError) -> Option<String> {
    match e {
        VitalError::OutOfRange { min, max, unit } => Some(format!("{min}–{max} {unit}")),
        _ => None,
    }
}

/// A refused value, naming its kind and, for a form, what went wrong.
fn invalid_value(kind: Kind, e: &VitalError) -> ApiError {
    let problem = match e {
        VitalError::NotANumber { .. } => "not_a_number",
        VitalError::TooPrecise { .. } => "too_precise",
        VitalError::OutOfRange { .. } => "out_of_range",
        VitalError::PressureOrder => "pressure_order",
        VitalError::PressurePair => "pressure_pair",
    };
    let name = kind.spec().name;
    let err = unprocessable(name, format!("{name}: {e}")).with_problem(problem);
    match range_detail(e) {
        Some(range) => err.with_detail(range),
        None => err,
    }
}

fn invalid_time(field: &'static str, e: TimeError) -> ApiError {
    unprocessable(field, format!("{field}: {e}")).with_problem(match e {
        TimeError::Future => "future",
        TimeError::TooOld => "too_old",
    })
}

/// A zone by name, Tokyo if the stored name is unknown.
pub fn zone_named(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|_| TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC))
}

/// Reads a measurement time: RFC 3339 with an offset, or a wall-clock time
/// (`2026-11-28T07:30`) in the patient's zone; then checks it against the clock.
pub fn parse_measured_at(
    field: &'static str,
    typed: &str,
    tz: &TimeZone,
    now: i64,
) -> Result<i64, ApiError> {
    let t = typed.trim();
    let bad = || {
        unprocessable(
            field,
            format!("{field}: write a time as 2026-11-28T07:30 or 2026-11-28T07:30:00+09:00"),
        )
        .with_problem("bad_time")
    };
    if t.len() > 40 {
        return Err(bad());
    }
    let ms = match t.parse::<Timestamp>() {
        Ok(ts) => ts.as_millisecond(),
        Err(_) => t
            .parse::<DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp().as_millisecond())
            .ok_or_else(bad)?,
    };
    vitals::measured_at(ms, now).map_err(|e| invalid_time(field, e))?;
    Ok(ms)
}

fn typed_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn check_note(field: &'static str, note: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if note.chars().count() > NOTE_MAX || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(unprocessable(
            field,
            format!("{field}: at most {NOTE_MAX} characters, no control characters"),
        )
        .with_problem("bad_note"));
    }
    Ok(Some(note.to_owned()))
}

fn check_client_id(field: &'static str, id: &str) -> Result<(), ApiError> {
    let ok =
        !id.is_empty() && id.len() <= CLIENT_ID_MAX && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(unprocessable(
            field,
            format!("{field}: 1 to {CLIENT_ID_MAX} visible ASCII characters"),
        ))
    }
}

/// One entry a patient types: values of several kinds measured at one time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedEntry {
    /// When, in the patient's zone or with an offset; now when absent.
    #[serde(default)]
    pub measured_at: Option<String>,
    /// Kind name → value (string or number); blank values are skipped.
    #[serde(default)]
    pub values: BTreeMap<String, serde_json::Value>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
    /// The form's or app's id of the entry, so sending it twice records it once.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// The readings of a typed entry, checked: known kinds, plausible values, the blood-pressure
/// pair complete and in order.
pub fn entry_readings(
    typed: &TypedEntry,
    tz: &TimeZone,
    now: i64,
) -> Result<Vec<NewReading>, ApiError> {
    let measured_at = match typed
        .measured_at
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        Some(t) => parse_measured_at("measured_at", t, tz, now)?,
        None => now,
    };
    let note = check_note("note", typed.note.as_deref())?;
    if let Some(id) = &typed.client_id {
        check_client_id("client_id", id)?;
    }
    let mut values: BTreeMap<Kind, Reading> = BTreeMap::new();
    for (name, value) in &typed.values {
        let kind = Kind::parse(name).ok_or_else(|| {
            unprocessable(
                "values",
                format!("values: {name:.40} is not a kind of measurement"),
            )
        })?;
        let text = typed_text(value)
            .ok_or_else(|| unprocessable("values", format!("{name}: write a number")))?;
        if text.trim().is_empty() {
            continue;
        }
        let reading = vitals::reading(kind, &text).map_err(|e| invalid_value(kind, &e))?;
        values.insert(kind, reading);
    }
    vitals::pressure(values.get(&Kind::Systolic), values.get(&Kind::Diastolic)).map_err(
        |e| match e {
            VitalError::PressurePair => {
                unprocessable("values", e.to_string()).with_problem("pressure_pair")
            }
            _ => invalid_value(Kind::Diastolic, &e),
        },
    )?;
    if values.is_empty() {
        return Err(
            unprocessable("values", "values: give at least one measurement").with_problem("empty"),
        );
    }
    Ok(values
        .into_values()
        .map(|r| NewReading {
            id: uuid::Uuid::now_v7().to_string(),
            kind: r.kind,
            scaled: r.scaled,
            measured_at,
            note: note.clone(),
            client_id: typed
                .client_id
                .as_ref()
                .map(|c| format!("{c}/{}", r.kind.spec().name)),
        })
        .collect())
}

/// The patient's own account, allowed to record readings.
fn own_account(auth: &Authenticated) -> Result<&str, ApiError> {
    let account = auth.session.account_id.as_str();
    authorize(
        &auth.actor,
        Action::RecordOwnReadings,
        Target::Account(account),
    )?;
    Ok(account)
}

/// The zone of the patient's measurement times.
pub async fn patient_zone(state: &AppState, account_id: &str) -> Result<TimeZone, ApiError> {
    Ok(zone_named(
        &state.store.patient_time_zone(account_id).await?,
    ))
}

/// Records a patient's typed entry.
pub async fn record_own(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedEntry,
) -> Result<Ingested, ApiError> {
    let account = own_account(auth)?;
    let now = now_ms();
    let readings = entry_readings(typed, &patient_zone(state, account).await?, now)?;
    state
        .ingest
        .add(Batch {
            account_id: account.to_owned(),
            source: MANUAL.to_owned(),
            readings,
            now,
        })
        .await
}

fn ingested_json(i: &Ingested) -> serde_json::Value {
    json!({ "added": i.added, "duplicates": i.duplicates })
}

/// `POST /api/v1/readings` (patient): one entry → 201 `{added, duplicates}`.
pub async fn post_own(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let typed: TypedEntry = json_body(body)?;
    let done = record_own(&state, &auth, &typed).await?;
    Ok((StatusCode::CREATED, Json(ingested_json(&done))))
}

/// A reading for the API, its time in `tz`.
pub fn reading_json(r: &StoredReading, tz: &TimeZone) -> serde_json::Value {
    let spec = r.kind.spec();
    json!({
        "id": r.id, "kind": spec.name, "value": vitals::format(r.kind, r.scaled),
        "unit": spec.unit, "loinc": spec.loinc, "measured_at": local(r.measured_at, tz),
        "source": if r.source == MANUAL { "manual" } else { "device" }, "note": r.note,
    })
}

/// What a list of readings asks for.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// One kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// The last this many days (1–3660, 30 by default).
    #[serde(default)]
    pub days: Option<i64>,
    /// At most this many (1–1000, 200 by default).
    #[serde(default)]
    pub limit: Option<i64>,
}

fn parse_kind(field: &'static str, name: &str) -> Result<Kind, ApiError> {
    Kind::parse(name).ok_or_else(|| {
        unprocessable(
            field,
            format!(
                "{field}: one of {}",
                Kind::ALL.map(|k| k.spec().name).join(", ")
            ),
        )
    })
}

impl ListQuery {
    fn query(&self, now: i64, limit_max: i64) -> Result<ReadingQuery, ApiError> {
        let days = self.days.unwrap_or(30);
        if !(1..=3660).contains(&days) {
            return Err(unprocessable("days", "days: 1 to 3660"));
        }
        let limit = self.limit.unwrap_or(200.min(limit_max));
        if !(1..=limit_max).contains(&limit) {
            return Err(unprocessable("limit", format!("limit: 1 to {limit_max}")));
        }
        Ok(ReadingQuery {
            kind: self
                .kind
                .as_deref()
                .map(|k| parse_kind("kind", k))
                .transpose()?,
            from: now - days * DAY_MS,
            until: now + vitals::FUTURE_SLACK_MS + 1,
            limit,
            notes: true,
            newest_first: true,
        })
    }
}

/// `GET /api/v1/readings?kind&days&limit` (patient): one's own, newest first.
pub async fn list_own(
    State(state): State<AppState>,
    auth: Authenticated,
    Params(q): Params<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let account = own_account(&auth)?;
    let query = q.query(now_ms(), LIST_MAX)?;
    let tz = patient_zone(&state, account).await?;
    let list = state.store.readings(&state.keyring, account, query).await?;
    let list: Vec<_> = list.iter().map(|r| reading_json(r, &tz)).collect();
    Ok(Json(
        json!({ "time_zone": tz.iana_name(), "readings": list }),
    ))
}

/// Withdraws one of the patient's own readings (a mistake): it leaves charts, lists and
/// exports, and stays stored, marked.
pub async fn withdraw(state: &AppState, auth: &Authenticated, id: &str) -> Result<(), ApiError> {
    let account = own_account(auth)?;
    Ok(state.store.withdraw_reading(account, id, now_ms()).await?)
}

/// `POST /api/v1/readings/{id}/withdraw` (patient) → 204.
pub async fn post_withdraw(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    withdraw(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What changes the zone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedZone {
    /// An IANA zone name, e.g. `Asia/Tokyo`.
    pub time_zone: String,
}

/// Sets the zone a patient's times are typed and shown in.
pub async fn set_zone(state: &AppState, auth: &Authenticated, name: &str) -> Result<(), ApiError> {
    let account = own_account(auth)?;
    let name = name.trim();
    if name.len() > 64 || TimeZone::get(name).is_err() {
        return Err(
            unprocessable("time_zone", "time_zone: a zone name such as Asia/Tokyo")
                .with_problem("bad_zone"),
        );
    }
    state.store.set_patient_time_zone(account, name).await?;
    Ok(())
}

/// `PUT /api/v1/profile/time-zone` (patient) → 204.
pub async fn put_zone(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedZone = json_body(body)?;
    set_zone(&state, &auth, &typed.time_zone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device just registered, with its token (shown this once).
pub struct NewDevice {
    /// Id.
    pub id: String,
    /// Token.
    pub token: String,
}

/// Registers a device of the patient and makes its token.
pub async fn register_device(
    state: &AppState,
    auth: &Authenticated,
    name: &str,
) -> Result<NewDevice, ApiError> {
    let account = own_account(auth)?;
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > DEVICE_NAME_MAX
        || name.chars().any(char::is_control)
    {
        return Err(unprocessable(
            "name",
            format!("name: 1 to {DEVICE_NAME_MAX} characters, e.g. 血圧計"),
        )
        .with_problem("bad_name"));
    }
    let (secret, _) = enshin_core::session::new_token()
        .map_err(|_| ApiError::unavailable(&"the system's random source failed"))?;
    let token = format!("{DEVICE_TOKEN_PREFIX}{secret}");
    let id = uuid::Uuid::now_v7().to_string();
    state
        .store
        .add_device(
            &state.keyring,
            &id,
            account,
            name,
            &token_digest(&token),
            now_ms(),
        )
        .await?;
    Ok(NewDevice { id, token })
}

/// A patient's devices.
pub async fn own_devices(state: &AppState, auth: &Authenticated) -> Result<Vec<Device>, ApiError> {
    let account = own_account(auth)?;
    Ok(state.store.devices(&state.keyring, account).await?)
}

/// Revokes one of the patient's devices.
pub async fn revoke_device(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(), ApiError> {
    let account = own_account(auth)?;
    Ok(state.store.revoke_device(account, id, now_ms()).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedDevice {
    name: String,
}

/// `POST /api/v1/devices` (patient) `{name}` → 201 `{id, name, token}`; the token is shown
/// only here.
pub async fn create_device(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let typed: TypedDevice = json_body(body)?;
    let d = register_device(&state, &auth, &typed.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": d.id, "name": typed.name.trim(), "token": d.token })),
    ))
}

/// `GET /api/v1/devices` (patient).
pub async fn list_devices(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tz = patient_zone(&state, &auth.session.account_id).await?;
    let list: Vec<_> = own_devices(&state, &auth)
        .await?
        .iter()
        .map(|d| {
            json!({
                "id": d.id, "name": d.name, "created_at": local(d.created_at, &tz),
                "last_used_at": d.last_used_at.map(|t| local(t, &tz)),
                "revoked_at": d.revoked_at.map(|t| local(t, &tz)),
            })
        })
        .collect();
    Ok(Json(json!({ "devices": list })))
}

/// `POST /api/v1/devices/{id}/revoke` (patient) → 204.
pub async fn revoke(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    revoke_device(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A request made with a device token (never a session).
pub struct DeviceAuth {
    /// The device.
    pub device_id: String,
    /// The principal, for [`authorize`].
    pub actor: Actor,
}

fn invalid_device_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_device_token",
        "send the device token as 'Authorization: Bearer ensdev_…'; a revoked token no longer works",
    )
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(DEVICE_TOKEN_PREFIX) && t.len() <= 128)
            .ok_or_else(invalid_device_token)?;
        let (device_id, account_id) = state
            .store
            .device_by_token(&token_digest(token))
            .await?
            .ok_or_else(invalid_device_token)?;
        if let Some(facts) = parts.extensions.get::<AccessFacts>() {
            facts.principal(Principal {
                id: device_id.clone(),
                kind: "device".to_owned(),
                ..Principal::default()
            });
        }
        Ok(Self {
            actor: Actor::Device {
                device_id: device_id.clone(),
                account_id,
            },
            device_id,
        })
    }
}

/// One reading as a device sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceReading {
    id: String,
    kind: String,
    value: serde_json::Value,
    measured_at: String,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceBatch {
    readings: Vec<DeviceReading>,
}

/// A device's batch, checked whole: one bad reading refuses the batch, naming its position,
/// so a device never half-sends and retries cleanly.
fn batch_readings(
    batch: &DeviceBatch,
    tz: &TimeZone,
    now: i64,
) -> Result<Vec<NewReading>, ApiError> {
    if batch.readings.is_empty() || batch.readings.len() > BATCH_MAX {
        return Err(unprocessable(
            "readings",
            format!("readings: 1 to {BATCH_MAX} per request"),
        ));
    }
    let mut out = Vec::with_capacity(batch.readings.len());
    for (i, r) in batch.readings.iter().enumerate() {
        let at = |e: ApiError| {
            let mut e = e.with_field("readings");
            e.message = format!("readings[{i}]: {}; nothing was added", e.message);
            e
        };
        check_client_id("id", &r.id).map_err(at)?;
        let kind = parse_kind("kind", &r.kind).map_err(at)?;
        let text =
            typed_text(&r.value).ok_or_else(|| at(unprocessable("value", "value: a number")))?;
        let reading = vitals::reading(kind, &text).map_err(|e| at(invalid_value(kind, &e)))?;
        out.push(NewReading {
            id: uuid::Uuid::now_v7().to_string(),
            kind,
            scaled: reading.scaled,
            measured_at: parse_measured_at("measured_at", &r.measured_at, tz, now).map_err(at)?,
            note: check_note("note", r.note.as_deref()).map_err(at)?,
            client_id: Some(r.id.clone()),
        });
    }
    Ok(out)
}

/// `POST /api/v1/device/readings` (device token) `{readings: [{id, kind, value, measured_at,
/// note?}]}` → 200 `{added, duplicates}`; a reading whose `id` the device sent before is not
/// added again.
pub async fn post_device(
    State(state): State<AppState>,
    device: DeviceAuth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let account = device.actor.account_id().to_owned();
    authorize(
        &device.actor,
        Action::PostReadings,
        Target::Account(&account),
    )?;
    let batch: DeviceBatch = json_body(body)?;
    let now = now_ms();
    let readings = batch_readings(&batch, &patient_zone(&state, &account).await?, now)?;
    let done = state
        .ingest
        .add(Batch {
            account_id: account,
            source: device.device_id,
            readings,
            now,
        })
        .await?;
    Ok(Json(ingested_json(&done)))
}

/// The member's clinic (allowed `action`) and its patient `patient_id` with the linked
/// account, if the patient has linked one; another clinic's patient is a 404.
pub async fn clinic_patient(
    state: &AppState,
    auth: &Authenticated,
    action: Action,
    patient_id: &str,
) -> Result<(String, Option<String>), ApiError> {
    let clinic_id = auth.member_clinic(action)?;
    if !state
        .store
        .clinic_patient_exists(clinic_id, patient_id)
        .await?
    {
        return Err(ApiError::not_found());
    }
    let account = state.store.linked_account(clinic_id, patient_id).await?;
    Ok((clinic_id.to_owned(), account))
}

/// A patient's readings as a clinic sees them, and the clinic's zone.
pub async fn clinic_readings(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    query: ReadingQuery,
) -> Result<(Vec<StoredReading>, TimeZone, bool), ApiError> {
    let (clinic_id, account) =
        clinic_patient(state, auth, Action::ReadReadings, patient_id).await?;
    let tz = zone(&settings_of(state, &clinic_id).await?);
    let Some(account) = account else {
        return Ok((Vec::new(), tz, false));
    };
    let list = state
        .store
        .readings(&state.keyring, &account, query)
        .await?;
    Ok((list, tz, true))
}

/// `GET /api/v1/patients/{id}/readings?kind&days&limit` (clinic).
pub async fn list_for_clinic(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    Params(q): Params<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let query = q.query(now_ms(), LIST_MAX)?;
    let (list, tz, linked) = clinic_readings(&state, &auth, &id, query).await?;
    let list: Vec<_> = list.iter().map(|r| reading_json(r, &tz)).collect();
    Ok(Json(
        json!({ "linked": linked, "time_zone": tz.iana_name(), "readings": list }),
    ))
}

/// Header of the readings CSV.
const CSV_HEADER: [&str; 8] = [
    "測定日時",
    "項目",
    "LOINC",
    "値",
    "単位",
    "入力",
    "メモ",
    "記録日時",
];

/// A patient's readings over `days` as CSV (oldest first), for spreadsheets.
pub async fn readings_csv(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    days: Option<i64>,
) -> Result<Vec<u8>, ApiError> {
    let q = ListQuery {
        days: Some(days.unwrap_or(366)),
        ..ListQuery::default()
    };
    let mut query = q.query(now_ms(), CHART_MAX)?;
    query.limit = CHART_MAX;
    query.newest_first = false;
    let (list, tz, _) = clinic_readings(state, auth, patient_id, query).await?;
    Ok(readings_spreadsheet(&list, &tz))
}

/// Readings as CSV for spreadsheets, in the clinic's zone.
pub(crate) fn readings_spreadsheet(list: &[StoredReading], tz: &TimeZone) -> Vec<u8> {
    let rows = list.iter().map(|r| {
        let spec = r.kind.spec();
        [
            local(r.measured_at, tz),
            spec.name.to_owned(),
            spec.loinc.to_owned(),
            vitals::format(r.kind, r.scaled),
            spec.unit.to_owned(),
            if r.source == MANUAL {
                "manual"
            } else {
                "device"
            }
            .to_owned(),
            r.note.clone().unwrap_or_default(),
            local(r.recorded_at, tz),
        ]
    });
    enshin_core::roster::spreadsheet(&CSV_HEADER, rows)
}

/// What an export asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The last this many days (1–3660, 366 by default).
    #[serde(default)]
    pub days: Option<i64>,
}

/// `GET /api/v1/patients/{id}/readings/export?days` (clinic): `readings.csv`.
pub async fn export(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    Params(q): Params<ExportQuery>,
) -> Result<Response, ApiError> {
    let bytes = readings_csv(&state, &auth, &id, q.days).await?;
    Ok(crate::registry::csv_response("readings.csv", bytes))
}

impl From<BoundsError> for ApiError {
    fn from(e: BoundsError) -> Self {
        let (field, detail) = match &e {
            BoundsError::Value { which, error } => (*which, range_detail(error)),
            BoundsError::Empty | BoundsError::Crossed => ("above", None),
        };
        let err = unprocessable(field, e.to_string()).with_problem(match e {
            BoundsError::Empty => "bounds_empty",
            BoundsError::Crossed => "bounds_crossed",
            BoundsError::Value { .. } => "bounds_value",
        });
        match detail {
            Some(d) => err.with_detail(d),
            None => err,
        }
    }
}

/// What sets a threshold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedThreshold {
    /// The kind.
    pub kind: String,
    /// Alert above this (empty: no upper limit).
    #[serde(default)]
    pub above: Option<serde_json::Value>,
    /// Alert below this (empty: no lower limit).
    #[serde(default)]
    pub below: Option<serde_json::Value>,
}

/// Sets a patient's threshold for one kind.
pub async fn set_threshold(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    typed: &TypedThreshold,
) -> Result<Bounds, ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::SetThresholds, patient_id).await?;
    let kind = parse_kind("kind", &typed.kind)?;
    let side = |field: &'static str, v: &Option<serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => Ok(String::new()),
        Some(v) => typed_text(v).ok_or_else(|| unprocessable(field, format!("{field}: a number"))),
    };
    let bounds = Bounds::typed(
        kind,
        &side("above", &typed.above)?,
        &side("below", &typed.below)?,
    )?;
    state
        .store
        .set_threshold(
            &state.keyring,
            &clinic_id,
            patient_id,
            &bounds,
            &auth.session.account_id,
            now_ms(),
        )
        .await?;
    Ok(bounds)
}

/// Removes a patient's threshold for one kind.
pub async fn remove_threshold(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
    kind: &str,
) -> Result<(), ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::SetThresholds, patient_id).await?;
    let kind = parse_kind("kind", kind)?;
    Ok(state
        .store
        .remove_threshold(&clinic_id, patient_id, kind)
        .await?)
}

/// A patient's thresholds at the member's clinic.
pub async fn thresholds_of(
    state: &AppState,
    auth: &Authenticated,
    patient_id: &str,
) -> Result<Vec<Threshold>, ApiError> {
    let (clinic_id, _) = clinic_patient(state, auth, Action::ReadReadings, patient_id).await?;
    Ok(state
        .store
        .thresholds(&state.keyring, &clinic_id, patient_id)
        .await?)
}

fn bounds_json(b: &Bounds) -> serde_json::Value {
    json!({
        "kind": b.kind.spec().name,
        "above": b.above.map(|v| vitals::format(b.kind, v)),
        "below": b.below.map(|v| vitals::format(b.kind, v)),
        "unit": b.kind.spec().unit,
    })
}

/// `GET /api/v1/patients/{id}/thresholds` (clinic).
pub async fn list_thresholds(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list: Vec<_> = thresholds_of(&state, &auth, &id)
        .await?
        .iter()
        .map(|t| {
            let mut v = bounds_json(&t.bounds);
            v["set_by"] = json!(t.set_by);
            v
        })
        .collect();
    Ok(Json(json!({ "thresholds": list })))
}

/// `PUT /api/v1/patients/{id}/thresholds` (clinic: admin, doctor) `{kind, above?, below?}`.
pub async fn put_threshold(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let typed: TypedThreshold = json_body(body)?;
    let bounds = set_threshold(&state, &auth, &id, &typed).await?;
    Ok(Json(bounds_json(&bounds)))
}

/// Which threshold to remove.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindQuery {
    /// The kind.
    pub kind: String,
}

/// `DELETE /api/v1/patients/{id}/thresholds?kind` (clinic: admin, doctor) → 204.
pub async fn delete_threshold(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    Params(q): Params<KindQuery>,
) -> Result<StatusCode, ApiError> {
    remove_threshold(&state, &auth, &id, &q.kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The clinic's alerts with their patients' records, and the clinic's zone; every record shown
/// is a read.
pub async fn alert_list(
    state: &AppState,
    auth: &Authenticated,
    facts: &AccessFacts,
    open_only: bool,
) -> Result<(Vec<(Alert, PatientFields)>, TimeZone), ApiError> {
    let clinic_id = auth.member_clinic(Action::HandleAlerts)?;
    let tz = zone(&settings_of(state, clinic_id).await?);
    let alerts = state
        .store
        .alerts(&state.keyring, clinic_id, open_only, 500)
        .await?;
    let ids: Vec<&str> = alerts
        .iter()
        .map(|a| a.clinic_patient_id.as_str())
        .collect();
    let records = crate::registry::listed_records(state, clinic_id, &ids, facts).await?;
    let rows = alerts
        .into_iter()
        .filter_map(|a| {
            let p = records.get(&a.clinic_patient_id)?.clone();
            Some((a, p))
        })
        .collect();
    Ok((rows, tz))
}

/// What the alert list asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `open` (default) or `all`.
    #[serde(default)]
    pub state: Option<String>,
}

/// Whether an alert list asks for open alerts only.
pub fn open_only(state: Option<&str>) -> Result<bool, ApiError> {
    match state.unwrap_or("open") {
        "open" => Ok(true),
        "all" => Ok(false),
        _ => Err(unprocessable("state", "state: open or all")),
    }
}

/// `GET /api/v1/alerts?state=open|all` (clinic).
pub async fn list_alerts(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Params(q): Params<AlertQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let open = open_only(q.state.as_deref())?;
    let (list, tz) = alert_list(&state, &auth, &facts, open).await?;
    let list: Vec<_> = list
        .iter()
        .map(|(a, p)| {
            json!({
                "id": a.id, "kind": a.kind.spec().name,
                "value": vitals::format(a.kind, a.scaled), "unit": a.kind.spec().unit,
                "measured_at": local(a.measured_at, &tz), "raised_at": local(a.raised_at, &tz),
                "bounds": bounds_json(&a.bounds),
                "patient": {
                    "id": a.clinic_patient_id,
                    "name": p.name(),
                    "kana": p.kana(),
                    "birth_date": p.birth_date,
                },
                "acknowledged_by": a.acknowledged.as_ref().map(|(by, _)| by),
                "acknowledged_at": a.acknowledged.as_ref().map(|(_, at)| local(*at, &tz)),
                "comment": a.comment,
            })
        })
        .collect();
    Ok(Json(json!({ "alerts": list })))
}

/// Acknowledges an alert of the member's clinic with a comment.
pub async fn acknowledge(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    comment: &str,
) -> Result<(), ApiError> {
    let clinic_id = auth.member_clinic(Action::HandleAlerts)?;
    let comment = comment.trim();
    if comment.is_empty()
        || comment.chars().count() > COMMENT_MAX
        || comment.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(unprocessable(
            "comment",
            format!(
                "comment: 1 to {COMMENT_MAX} characters: what was done (e.g. called the patient)"
            ),
        )
        .with_problem("bad_comment"));
    }
    Ok(state
        .store
        .acknowledge_alert(
            &state.keyring,
            clinic_id,
            id,
            &auth.session.account_id,
            comment,
            now_ms(),
        )
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypedAck {
    comment: String,
}

/// `POST /api/v1/alerts/{id}/acknowledge` (clinic) `{comment}` → 204.
pub async fn acknowledge_alert(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let typed: TypedAck = json_body(body)?;
    acknowledge(&state, &auth, &id, &typed.comment).await?;
    Ok(StatusCode::NO_CONTENT)
}
