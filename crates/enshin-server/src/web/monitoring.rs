//! Home-monitoring pages (FUNC-4): the patient records readings on the phone, sees charts and
//! manages devices; the clinic sees a patient's charts with its thresholds, sets them, exports
//! CSV, prints, and works the alert list. The same functions as the JSON API.

use std::collections::BTreeMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::vitals::{self, Bounds, Kind};
use enshin_store::monitoring::{MANUAL, ReadingQuery, StoredReading};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::chart::{self, Chart, Limit, Range, Series};
use super::context::{Button, Frame, Page, Posted, SignedIn};
use super::monitoring_texts::MonitoringTexts;
use crate::access::AccessFacts;
use crate::booking::zone;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::monitoring::{
    TypedEntry, TypedThreshold, acknowledge, alert_list, clinic_patient, open_only, own_devices,
    patient_zone, readings_csv, record_own, register_device, remove_threshold, revoke_device,
    set_threshold, set_zone,
};
use crate::params::Params;
use crate::registry::member_record;
use crate::routes::AppState;
use crate::schedule::settings_of;
use crate::session::Authenticated;

/// Most readings a chart page reads (a year of one every three minutes).
const CHART_READINGS_MAX: i64 = 200_000;
const DAY_MS: i64 = 86_400_000;

/// What one chart shows: blood pressure (both values) or one other kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Pressure,
    One(Kind),
}

impl Group {
    fn all() -> Vec<Group> {
        let mut all = vec![Group::Pressure];
        all.extend(
            Kind::ALL
                .into_iter()
                .filter(|k| !matches!(k, Kind::Systolic | Kind::Diastolic))
                .map(Group::One),
        );
        all
    }

    fn name(self) -> &'static str {
        match self {
            Self::Pressure => "blood_pressure",
            Self::One(k) => k.spec().name,
        }
    }

    fn parse(name: &str) -> Self {
        Self::all()
            .into_iter()
            .find(|g| g.name() == name)
            .unwrap_or(Self::Pressure)
    }

    fn kinds(self) -> Vec<Kind> {
        match self {
            Self::Pressure => vec![Kind::Systolic, Kind::Diastolic],
            Self::One(k) => vec![k],
        }
    }

    fn title(self, m: &MonitoringTexts) -> &'static str {
        match self {
            Self::Pressure => m.pressure,
            Self::One(k) => m.kind(k),
        }
    }
}

/// A chart on a page.
struct ChartView {
    name: &'static str,
    title: String,
    svg: String,
}

/// Draws a group's chart from readings of any kinds (oldest first).
fn chart_of(
    m: &MonitoringTexts,
    group: Group,
    range: Range,
    until: i64,
    tz: &TimeZone,
    readings: &[(Kind, i64, i64)],
    bounds: &[Bounds],
) -> ChartView {
    let kinds = group.kinds();
    let series = kinds
        .iter()
        .map(|k| Series {
            kind: *k,
            label: m.kind(*k).to_owned(),
            points: readings
                .iter()
                .filter(|r| r.0 == *k)
                .map(|r| (r.1, r.2))
                .collect(),
        })
        .collect();
    let mut limits = Vec::new();
    for b in bounds.iter().filter(|b| kinds.contains(&b.kind)) {
        if let Some(v) = b.above {
            limits.push(Limit {
                value: v,
                upper: true,
                label: format!("{} {}", m.above, vitals::format(b.kind, v)),
            });
        }
        if let Some(v) = b.below {
            limits.push(Limit {
                value: v,
                upper: false,
                label: format!("{} {}", m.below, vitals::format(b.kind, v)),
            });
        }
    }
    let title = format!(
        "{} ({})",
        group.title(m),
        m.ranges[Range::ALL.iter().position(|r| *r == range).unwrap_or(0)]
    );
    let svg = chart::svg(&Chart {
        title: &title,
        unit: kinds[0].spec().unit_label,
        from: until - range.days() * DAY_MS,
        until,
        tz,
        range,
        series,
        limits,
        empty: m.no_data,
    });
    ChartView {
        name: group.name(),
        title,
        svg,
    }
}

/// The readings of a chart's period, lightest form.
async fn series(
    state: &AppState,
    account: &str,
    range: Range,
    now: i64,
) -> Result<Vec<(Kind, i64, i64)>, ApiError> {
    Ok(state
        .store
        .series(
            &state.keyring,
            account,
            now - range.days() * DAY_MS,
            now + vitals::FUTURE_SLACK_MS + 1,
            CHART_READINGS_MAX,
        )
        .await?)
}

/// `YYYY-MM-DD HH:MM` on a wall clock.
pub(crate) fn wall(ms: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A reading in a list: the patient's records, the clinic's chart, the exported record.
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) when: String,
    pub(crate) kind: &'static str,
    pub(crate) value: String,
    pub(crate) unit: &'static str,
    pub(crate) source: &'static str,
    pub(crate) note: String,
}

/// The readings as a list shows them.
pub(crate) fn rows(m: &MonitoringTexts, list: &[StoredReading], tz: &TimeZone) -> Vec<Row> {
    list.iter()
        .map(|r| Row {
            id: r.id.clone(),
            when: wall(r.measured_at, tz),
            kind: m.kind(r.kind),
            value: vitals::format(r.kind, r.scaled),
            unit: r.kind.spec().unit_label,
            source: if r.source == MANUAL {
                m.source_manual
            } else {
                m.source_device
            },
            note: r.note.clone().unwrap_or_default(),
        })
        .collect()
}

/// The record form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct RecordForm {
    systolic: String,
    diastolic: String,
    pulse: String,
    weight: String,
    temperature: String,
    spo2: String,
    respiratory_rate: String,
    glucose: String,
    hba1c: String,
    steps: String,
    measured_at: String,
    note: String,
    client_id: String,
}

impl RecordForm {
    fn values(&self) -> [(&'static str, &str); 10] {
        [
            ("systolic", &self.systolic),
            ("diastolic", &self.diastolic),
            ("pulse", &self.pulse),
            ("weight", &self.weight),
            ("temperature", &self.temperature),
            ("spo2", &self.spo2),
            ("respiratory_rate", &self.respiratory_rate),
            ("glucose", &self.glucose),
            ("hba1c", &self.hba1c),
            ("steps", &self.steps),
        ]
    }

    fn entry(&self) -> TypedEntry {
        TypedEntry {
            measured_at: Some(self.measured_at.clone()),
            values: self
                .values()
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
                .collect(),
            note: Some(self.note.clone()),
            client_id: Some(self.client_id.clone()).filter(|c| !c.is_empty()),
        }
    }
}

/// An input of the record form.
struct Field {
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    value: String,
    invalid: bool,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    f: Frame,
    pressure: Vec<Field>,
    top: Vec<Field>,
    others: Vec<Field>,
    measured_at: String,
    note: String,
    client_id: String,
    recent: Vec<Row>,
    charts: Vec<(&'static str, &'static str)>,
    zone: String,
    error: Option<String>,
}

async fn records_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    typed: Option<&RecordForm>,
    err: Option<&ApiError>,
) -> Response {
    let m = page.t().m;
    let account = &auth.session.account_id;
    let loaded = async {
        authorize(
            &auth.actor,
            Action::RecordOwnReadings,
            Target::Account(account),
        )?;
        let tz = patient_zone(state, account).await?;
        let now = now_ms();
        let recent = state
            .store
            .readings(
                &state.keyring,
                account,
                ReadingQuery {
                    kind: None,
                    from: now - 3660 * DAY_MS,
                    until: now + vitals::FUTURE_SLACK_MS + 1,
                    limit: 20,
                    notes: true,
                    newest_first: true,
                },
            )
            .await?;
        Ok::<_, ApiError>((tz, recent))
    }
    .await;
    let (tz, recent) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &e),
    };
    let blank = RecordForm::default();
    let form = typed.unwrap_or(&blank);
    let field = |name: &'static str, value: &str| {
        let kind = Kind::parse(name).unwrap_or(Kind::Pulse);
        Field {
            name,
            label: m.kind(kind),
            unit: kind.spec().unit_label,
            value: value.to_owned(),
            invalid: err.is_some_and(|e| e.field == Some(name)),
        }
    };
    let mut fields: BTreeMap<&'static str, Field> = form
        .values()
        .iter()
        .map(|(n, v)| (*n, field(n, v)))
        .collect();
    let mut take = |names: &[&'static str]| -> Vec<Field> {
        names.iter().filter_map(|n| fields.remove(n)).collect()
    };
    let mut pressure = take(&["systolic", "diastolic"]);
    if let [upper, lower] = pressure.as_mut_slice() {
        upper.label = m.upper;
        lower.label = m.lower;
    }
    let top = take(&["pulse"]);
    let others = take(&[
        "weight",
        "temperature",
        "spo2",
        "respiratory_rate",
        "glucose",
        "hba1c",
        "steps",
    ]);
    // A fresh id for each blank form, so a double tap records once; a form shown again after a
    // mistake keeps its id.
    let client_id = if form.client_id.is_empty() {
        uuid::Uuid::now_v7().to_string()
    } else {
        form.client_id.clone()
    };
    let template = RecordsPage {
        f: page.frame(Some(auth)),
        pressure,
        top,
        others,
        measured_at: form.measured_at.clone(),
        note: form.note.clone(),
        client_id,
        recent: rows(m, &recent, &tz),
        charts: Group::all()
            .into_iter()
            .map(|g| (g.name(), g.title(m)))
            .collect(),
        zone: tz.iana_name().unwrap_or("Asia/Tokyo").to_owned(),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /records` (patient).
pub async fn records_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    records_view(&state, &page, &auth, None, None).await
}

/// `POST /records` (patient).
pub async fn record(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<RecordForm>,
) -> Response {
    match record_own(&state, &auth, &form.entry()).await {
        Ok(_) => page.redirect("/records?done=recorded"),
        Err(e) => records_view(&state, &page, &auth, Some(&form), Some(&e)).await,
    }
}

/// `POST /records/{id}/withdraw` (patient): a reading entered by mistake.
pub async fn withdraw_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match crate::monitoring::withdraw(&state, &auth, &id).await {
        Ok(()) => page.redirect("/records?done=reading_withdrawn"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// The zone form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ZoneForm {
    time_zone: String,
}

/// `POST /records/time-zone` (patient).
pub async fn zone_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<ZoneForm>,
) -> Response {
    match set_zone(&state, &auth, &form.time_zone).await {
        Ok(()) => page.redirect("/records?done=zone_saved"),
        Err(e) => records_view(&state, &page, &auth, None, Some(&e)).await,
    }
}

/// What a chart page asks for.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChartQuery {
    kind: String,
    range: String,
    print: String,
}

struct RangeTab {
    href: String,
    label: &'static str,
    current: bool,
}

fn range_tabs(m: &MonitoringTexts, base: &str, current: Range) -> Vec<RangeTab> {
    Range::ALL
        .iter()
        .enumerate()
        .map(|(i, r)| RangeTab {
            href: format!("{base}range={}", r.as_str()),
            label: m.ranges[i],
            current: *r == current,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "record_chart.html")]
struct RecordChartPage {
    f: Frame,
    chart: ChartView,
    tabs: Vec<RangeTab>,
}

/// `GET /records/chart?kind&range` (patient): one chart of one's own readings.
pub async fn record_chart_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Params(q): Params<ChartQuery>,
) -> Response {
    let m = page.t().m;
    let account = &auth.session.account_id;
    let group = Group::parse(&q.kind);
    let range = Range::parse(&q.range);
    let now = now_ms();
    let loaded = async {
        authorize(
            &auth.actor,
            Action::RecordOwnReadings,
            Target::Account(account),
        )?;
        let tz = patient_zone(&state, account).await?;
        let readings = series(&state, account, range, now).await?;
        Ok::<_, ApiError>((tz, readings))
    }
    .await;
    let (tz, readings) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(&auth), &e),
    };
    let template = RecordChartPage {
        f: page.frame(Some(&auth)),
        chart: chart_of(m, group, range, now, &tz, &readings, &[]),
        tabs: range_tabs(m, &format!("/records/chart?kind={}&", group.name()), range),
    };
    page.render(StatusCode::OK, &template)
}

/// A device in the list.
struct DeviceRow {
    id: String,
    name: String,
    added: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    f: Frame,
    devices: Vec<DeviceRow>,
    token: Option<String>,
    name: String,
    error: Option<String>,
}

async fn devices_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    token: Option<String>,
    name: &str,
    err: Option<&ApiError>,
) -> Response {
    let m = page.t().m;
    let loaded = async {
        let list = own_devices(state, auth).await?;
        let tz = patient_zone(state, &auth.session.account_id).await?;
        Ok::<_, ApiError>((list, tz))
    }
    .await;
    let (list, tz) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = DevicesPage {
        f: page.frame(Some(auth)),
        devices: list
            .iter()
            .map(|d| DeviceRow {
                id: d.id.clone(),
                name: d.name.clone(),
                added: wall(d.created_at, &tz),
                last_used: d.last_used_at.map_or(m.never.to_owned(), |t| wall(t, &tz)),
                revoked: d.revoked_at.is_some(),
            })
            .collect(),
        token,
        name: name.to_owned(),
        error: err.map(|e| page.t().error(e)),
    };
    let status = match (err, template.token.is_some()) {
        (Some(e), _) => e.status,
        (None, true) => StatusCode::CREATED,
        (None, false) => StatusCode::OK,
    };
    page.render(status, &template)
}

/// `GET /devices` (patient).
pub async fn devices_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
) -> Response {
    devices_view(&state, &page, &auth, None, "", None).await
}

/// The register-device form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeviceForm {
    name: String,
}

/// `POST /devices` (patient): registers a device and shows its token, this once.
pub async fn add_device(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Posted(form): Posted<DeviceForm>,
) -> Response {
    match register_device(&state, &auth, &form.name).await {
        Ok(d) => devices_view(&state, &page, &auth, Some(d.token), "", None).await,
        Err(e) => devices_view(&state, &page, &auth, None, &form.name, Some(&e)).await,
    }
}

/// `POST /devices/{id}/revoke` (patient).
pub async fn revoke(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(_): Posted<Button>,
) -> Response {
    match revoke_device(&state, &auth, &id).await {
        Ok(()) => page.redirect("/devices?done=device_revoked"),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// A threshold in the clinic's table.
struct ThresholdRow {
    kind: &'static str,
    name: &'static str,
    above: String,
    below: String,
    unit: &'static str,
}

#[derive(Template)]
#[template(path = "monitoring.html")]
struct MonitoringPage {
    f: Frame,
    id: String,
    name: String,
    kana: String,
    birth_date: String,
    linked: bool,
    print: bool,
    range: &'static str,
    tabs: Vec<RangeTab>,
    charts: Vec<ChartView>,
    thresholds: Vec<ThresholdRow>,
    may_set: bool,
    kinds: Vec<(&'static str, &'static str)>,
    typed: TypedThresholdForm,
    recent: Vec<Row>,
    error: Option<String>,
}

/// The threshold form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct TypedThresholdForm {
    kind: String,
    above: String,
    below: String,
}

async fn monitoring_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    id: &str,
    q: &ChartQuery,
    typed: Option<&TypedThresholdForm>,
    err: Option<&ApiError>,
) -> Response {
    let m = page.t().m;
    let range = Range::parse(&q.range);
    let now = now_ms();
    let loaded = async {
        let (clinic_id, account) = clinic_patient(state, auth, Action::ReadReadings, id).await?;
        let record = member_record(state, &clinic_id, id).await?;
        let thresholds = state
            .store
            .thresholds(&state.keyring, &clinic_id, id)
            .await?;
        let tz = zone(&settings_of(state, &clinic_id).await?);
        let (readings, recent) = match &account {
            Some(a) => {
                let recent = ReadingQuery {
                    kind: None,
                    from: now - range.days() * DAY_MS,
                    until: now + vitals::FUTURE_SLACK_MS + 1,
                    limit: 50,
                    notes: true,
                    newest_first: true,
                };
                (
                    series(state, a, range, now).await?,
                    state.store.readings(&state.keyring, a, recent).await?,
                )
            }
            None => (Vec::new(), Vec::new()),
        };
        let may_set = authorize(
            &auth.actor,
            Action::SetThresholds,
            Target::Clinic(&clinic_id),
        )
        .is_ok();
        Ok::<_, ApiError>((
            record,
            thresholds,
            tz,
            readings,
            recent,
            account.is_some(),
            may_set,
        ))
    }
    .await;
    let (record, thresholds, tz, readings, recent, linked, may_set) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &e),
    };
    let bounds: Vec<Bounds> = thresholds.iter().map(|t| t.bounds).collect();
    let charts = Group::all()
        .into_iter()
        .filter(|g| {
            let kinds = g.kinds();
            readings.iter().any(|r| kinds.contains(&r.0))
                || bounds.iter().any(|b| kinds.contains(&b.kind))
        })
        .map(|g| chart_of(m, g, range, now, &tz, &readings, &bounds))
        .collect();
    let f = &record;
    let template = MonitoringPage {
        f: page.frame(Some(auth)),
        id: id.to_owned(),
        name: f.name(),
        kana: f.kana(),
        birth_date: f.birth_date.clone(),
        linked,
        print: q.print == "1",
        range: range.as_str(),
        tabs: range_tabs(m, &format!("/patients/{id}/monitoring?"), range),
        charts,
        thresholds: thresholds
            .iter()
            .map(|t| {
                let b = t.bounds;
                let side =
                    |v: Option<i64>| v.map(|v| vitals::format(b.kind, v)).unwrap_or_default();
                ThresholdRow {
                    kind: b.kind.spec().name,
                    name: m.kind(b.kind),
                    above: side(b.above),
                    below: side(b.below),
                    unit: b.kind.spec().unit_label,
                }
            })
            .collect(),
        may_set,
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.spec().name, m.kind(*k)))
            .collect(),
        typed: typed.cloned().unwrap_or_default(),
        recent: rows(m, &recent, &tz),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /patients/{id}/monitoring?range&print` (clinic).
pub async fn monitoring_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Params(q): Params<ChartQuery>,
) -> Response {
    monitoring_view(&state, &page, &auth, &id, &q, None, None).await
}

/// `POST /patients/{id}/thresholds` (clinic: admin, doctor).
pub async fn threshold(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<TypedThresholdForm>,
) -> Response {
    let typed = TypedThreshold {
        kind: form.kind.clone(),
        above: Some(serde_json::Value::String(form.above.clone())),
        below: Some(serde_json::Value::String(form.below.clone())),
    };
    match set_threshold(&state, &auth, &id, &typed).await {
        Ok(_) => page.redirect(&format!("/patients/{id}/monitoring?done=threshold_saved")),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let q = ChartQuery::default();
            monitoring_view(&state, &page, &auth, &id, &q, Some(&form), Some(&e)).await
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// The remove-threshold form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KindForm {
    kind: String,
}

/// `POST /patients/{id}/thresholds/remove` (clinic: admin, doctor).
pub async fn remove(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
    Posted(form): Posted<KindForm>,
) -> Response {
    match remove_threshold(&state, &auth, &id, &form.kind).await {
        Ok(()) => page.redirect(&format!("/patients/{id}/monitoring?done=threshold_saved")),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// `GET /patients/{id}/readings.csv` (clinic).
pub async fn export(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match readings_csv(&state, &auth, &id, None).await {
        Ok(bytes) => crate::registry::csv_response("readings.csv", bytes),
        Err(e) => page.error(Some(&auth), &e),
    }
}

/// An alert in the list.
struct AlertRow {
    id: String,
    patient_id: String,
    patient: String,
    kana: String,
    birth_date: String,
    kind: &'static str,
    value: String,
    unit: &'static str,
    bounds: String,
    measured: String,
    raised: String,
    acknowledged: Option<String>,
    comment: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    f: Frame,
    open: bool,
    alerts: Vec<AlertRow>,
    error: Option<String>,
}

/// What the alert page asks for.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AlertsQuery {
    state: Option<String>,
}

async fn alerts_view(
    state: &AppState,
    page: &Page,
    auth: &Authenticated,
    facts: &AccessFacts,
    open: Option<&str>,
    err: Option<&ApiError>,
) -> Response {
    let m = page.t().m;
    let loaded = async {
        let open = open_only(open)?;
        let (list, tz) = alert_list(state, auth, facts, open).await?;
        Ok::<_, ApiError>((open, list, tz))
    }
    .await;
    let (open, list, tz) = match loaded {
        Ok(found) => found,
        Err(e) => return page.error(Some(auth), &e),
    };
    let template = AlertsPage {
        f: page.frame(Some(auth)),
        open,
        alerts: list
            .iter()
            .map(|(a, p)| {
                let b = a.bounds;
                let mut bounds = Vec::new();
                if let Some(v) = b.above {
                    bounds.push(format!("{} {}", m.above, vitals::format(b.kind, v)));
                }
                if let Some(v) = b.below {
                    bounds.push(format!("{} {}", m.below, vitals::format(b.kind, v)));
                }
                AlertRow {
                    id: a.id.clone(),
                    patient_id: a.clinic_patient_id.clone(),
                    patient: p.name(),
                    kana: p.kana(),
                    birth_date: p.birth_date.clone(),
                    kind: m.kind(a.kind),
                    value: vitals::format(a.kind, a.scaled),
                    unit: a.kind.spec().unit_label,
                    bounds: bounds.join(" / "),
                    measured: wall(a.measured_at, &tz),
                    raised: wall(a.raised_at, &tz),
                    acknowledged: a.acknowledged.as_ref().map(|(_, at)| wall(*at, &tz)),
                    comment: a.comment.clone().unwrap_or_default(),
                }
            })
            .collect(),
        error: err.map(|e| page.t().error(e)),
    };
    page.render(err.map_or(StatusCode::OK, |e| e.status), &template)
}

/// `GET /alerts?state=open|all` (clinic).
pub async fn alerts_page(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Params(q): Params<AlertsQuery>,
) -> Response {
    alerts_view(&state, &page, &auth, &facts, q.state.as_deref(), None).await
}

/// The acknowledge form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AckForm {
    comment: String,
}

/// `POST /alerts/{id}/acknowledge` (clinic).
pub async fn acknowledge_form(
    State(state): State<AppState>,
    page: Page,
    SignedIn(auth): SignedIn,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
    Posted(form): Posted<AckForm>,
) -> Response {
    match acknowledge(&state, &auth, &id, &form.comment).await {
        Ok(()) => page.redirect("/alerts?done=alert_acknowledged"),
        Err(e)
            if e.status == StatusCode::UNPROCESSABLE_ENTITY || e.status == StatusCode::CONFLICT =>
        {
            alerts_view(&state, &page, &auth, &facts, None, Some(&e)).await
        }
        Err(e) => page.error(Some(&auth), &e),
    }
}
