//! Video consultation (FUNC-5) at the HTTP edge: who may enter an appointment's room, the join
//! credential and ICE servers a page asks for right before it connects, the signalling socket,
//! the call record, and the clinic's contact number. The room itself is in [`crate::call_room`].
//!
//! Entering takes two things: the session (cookie or bearer, as on every route) and a join
//! credential, minted by `POST …/call` for that person and that appointment, valid for two
//! minutes and once. Browsers cannot set headers on a WebSocket, so the credential travels as a
//! second subprotocol (`Sec-WebSocket-Protocol: enshin-call, enscall_…`), never in the URL.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use enshin_core::appointment::State as Visit;
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::call::{
    self, CREDENTIAL_PREFIX, CREDENTIAL_TTL_MS, CallError, CredentialError, MESSAGE_MAX, Role,
    StoredCredential,
};
use enshin_core::session::token_digest;
use enshin_store::appointments::Appointment;
use enshin_store::bus::Bus;
use enshin_store::registry::PatientFields;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::watch;
use zeroize::Zeroizing;

use crate::access::AccessFacts;
use crate::booking::{local, zone};
use crate::call_room::{self, Seat};
use crate::clock::now_ms;
use crate::config::VideoConfig;
use crate::error::ApiError;
use crate::registry::member_record;
use crate::routes::AppState;
use crate::schedule::settings_of;
use crate::session::{Authenticated, json_body, same_origin};

/// The subprotocol of the signalling socket.
pub const PROTOCOL: &str = "enshin-call";

/// What the calls of one instance share: the bus between instances, the ICE servers, and the
/// shutdown signal the rooms watch.
#[derive(Clone)]
pub struct CallHub {
    /// Messages between the sockets of every instance.
    pub bus: Bus,
    ice: Arc<Ice>,
    /// Becomes true when the instance shuts down.
    pub stopped: watch::Receiver<bool>,
}

struct Ice {
    stun_urls: Vec<String>,
    turn: Option<Turn>,
}

struct Turn {
    urls: Vec<String>,
    secret: Zeroizing<Vec<u8>>,
    minutes: i64,
}

impl CallHub {
    /// The hub of an instance; the TURN secret is read from its file now.
    pub fn new(
        bus: Bus,
        video: &VideoConfig,
        stopped: watch::Receiver<bool>,
    ) -> Result<Self, crate::messages::SetupError> {
        let turn = match &video.turn {
            Some(t) => Some(Turn {
                urls: t.urls.clone(),
                secret: Zeroizing::new(crate::messages::secret(&t.secret_file)?.into_bytes()),
                minutes: t.credential_minutes,
            }),
            None => None,
        };
        Ok(Self {
            bus,
            ice: Arc::new(Ice {
                stun_urls: video.stun_urls.clone(),
                turn,
            }),
            stopped,
        })
    }

    /// The `iceServers` of an `RTCPeerConnection`, with a TURN credential labelled `label`.
    fn ice_servers(&self, label: &str, now: i64) -> serde_json::Value {
        let mut servers = Vec::new();
        if !self.ice.stun_urls.is_empty() {
            servers.push(json!({ "urls": self.ice.stun_urls }));
        }
        if let Some(turn) = &self.ice.turn {
            let expires = now / 1000 + turn.minutes * 60;
            let c = call::turn_credential(&turn.secret, label, expires);
            servers.push(
                json!({ "urls": turn.urls, "username": c.username, "credential": c.credential }),
            );
        }
        serde_json::Value::Array(servers)
    }
}

impl From<CallError> for ApiError {
    fn from(e: CallError) -> Self {
        let code = match e {
            CallError::NotOnline => "not_online",
            CallError::NotOpen(_) => "call_closed",
            CallError::TooEarly { .. } => "too_early",
            CallError::Contact => "invalid_field",
        };
        let status = match e {
            CallError::Contact => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        let status = match e {
            CredentialError::Unknown => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

/// A person at the door of an appointment's room.
pub struct Entrant {
    /// The appointment.
    pub appointment: Appointment,
    /// Their side.
    pub role: Role,
}

/// Whether the person of `auth` may enter the room of appointment `id` now: its doctor
/// (`conduct_call`) or its patient (`join_own_call`), nobody else. Another clinic's
/// appointment, another doctor's or another patient's answers like a missing one.
pub async fn enter(state: &AppState, auth: &Authenticated, id: &str) -> Result<Entrant, ApiError> {
    let (appointment, role) = match &auth.actor {
        Actor::Member {
            account_id,
            clinic_id,
            ..
        } => {
            authorize(
                &auth.actor,
                Action::ConductCall,
                Target::Account(account_id),
            )?;
            let a = crate::booking::clinic_appointment(state, clinic_id, id).await?;
            authorize(
                &auth.actor,
                Action::ConductCall,
                Target::Account(&a.doctor_id),
            )?;
            (a, Role::Doctor)
        }
        actor => {
            let account = actor.account_id();
            authorize(actor, Action::JoinOwnCall, Target::Account(account))?;
            let a = state
                .store
                .account_appointment(account, id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            (a, Role::Patient)
        }
    };
    call::may_enter(
        &appointment.mode,
        appointment.state,
        appointment.starts_at,
        now_ms(),
        role,
    )?;
    let clinic = &appointment.clinic_id;
    if state.store.plan_required_for_calls(clinic).await?
        && !state
            .store
            .agreed_to_current_plan(clinic, &appointment.clinic_patient_id)
            .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "plan_not_agreed",
            "the patient has not agreed to the current online consultation plan",
        ));
    }
    Ok(Entrant { appointment, role })
}

/// What each side sees of the other during the call, so nobody talks to the wrong person: the
/// patient sees the doctor, the clinic and its number; the doctor sees the patient's record.
pub struct Counterpart {
    /// The clinic's time zone (the appointment's times are shown in it).
    pub tz: TimeZone,
    /// The clinic's telephone number (empty when not set).
    pub clinic_phone: String,
    /// The patient's record, for the doctor's side only.
    pub patient: Option<PatientFields>,
}

/// Reads the [`Counterpart`] of an entrant; the doctor's read of the record is noted in the
/// access log.
pub async fn counterpart(
    state: &AppState,
    entrant: &Entrant,
    facts: &AccessFacts,
) -> Result<Counterpart, ApiError> {
    let a = &entrant.appointment;
    let patient = if entrant.role == Role::Doctor {
        let p = member_record(state, &a.clinic_id, &a.clinic_patient_id).await?;
        facts.read_patients([a.clinic_patient_id.as_str()]);
        Some(p)
    } else {
        None
    };
    Ok(Counterpart {
        tz: zone(&settings_of(state, &a.clinic_id).await?),
        clinic_phone: state
            .store
            .clinic_phone(&a.clinic_id)
            .await?
            .unwrap_or_default(),
        patient,
    })
}

fn counterpart_json(entrant: &Entrant, who: &Counterpart) -> serde_json::Value {
    let a = &entrant.appointment;
    let mut v = json!({
        "appointment_id": a.id, "role": entrant.role.as_str(), "menu_name": a.menu_name,
        "start": local(a.starts_at, &who.tz), "end": local(a.ends_at, &who.tz),
        "state": a.state.as_str(), "doctor_name": a.doctor_name, "clinic_name": a.clinic_name,
        "clinic_phone": who.clinic_phone,
    });
    if let Some(p) = &who.patient {
        v["patient"] = json!({ "name": p.name(), "kana": p.kana(), "birth_date": p.birth_date });
    }
    v
}

/// `POST /api/v1/appointments/{id}/call` (both listeners): a join credential for the caller,
/// the ICE servers with a fresh TURN credential, and who is on the other side.
pub async fn credential(
    State(state): State<AppState>,
    auth: Authenticated,
    Extension(facts): Extension<AccessFacts>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let entrant = enter(&state, &auth, &id).await?;
    let now = now_ms();
    let (secret, _) = enshin_core::session::new_token()
        .map_err(|_| ApiError::unavailable(&"the system's random source failed"))?;
    let token = format!("{CREDENTIAL_PREFIX}{secret}");
    let stored = StoredCredential {
        appointment_id: entrant.appointment.id.clone(),
        account_id: auth.session.account_id.clone(),
        role: entrant.role,
        expires_at: now + CREDENTIAL_TTL_MS,
        used_at: None,
    };
    state
        .store
        .add_call_credential(&token_digest(&token), &stored, now)
        .await?;
    // coturn logs TURN user names: the label is random, not the person.
    let label = uuid::Uuid::now_v7().simple().to_string();
    Ok(Json(json!({
        "credential": token,
        "expires_at": stored.expires_at,
        "protocol": PROTOCOL,
        "ice_servers": state.calls.ice_servers(&label, now),
        "call": counterpart_json(&entrant, &counterpart(&state, &entrant, &facts).await?),
    })))
}

/// The join credential among the offered subprotocols.
fn offered_credential(headers: &HeaderMap) -> Option<String> {
    let offered: Vec<&str> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    if !offered.contains(&PROTOCOL) {
        return None;
    }
    offered
        .into_iter()
        .find(|p| p.starts_with(CREDENTIAL_PREFIX) && p.len() <= 128)
        .map(str::to_owned)
}

/// `GET /api/v1/appointments/{id}/call/signal` (both listeners): the signalling socket of the
/// room. Refusals are HTTP answers before the upgrade, so each is one access-log entry.
pub async fn signal(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // A page of another site could open a socket with the user's cookie (cross-site WebSocket
    // hijacking); browsers always send Origin, so a foreign or missing one is refused.
    if headers.contains_key("origin") && !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "the call can be joined only from this site's own page",
        ));
    }
    let upgrade = upgrade.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "websocket_required",
            "this address is a WebSocket (subprotocol enshin-call); open it from the call page",
        )
    })?;
    let token = offered_credential(&headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "credential_missing",
            "a join credential is required: POST /api/v1/appointments/{id}/call, then offer it as a second subprotocol",
        )
    })?;
    let entrant = enter(&state, &auth, &id).await?;
    let digest = token_digest(&token);
    let now = now_ms();
    let stored = state
        .store
        .call_credential(&digest)
        .await?
        .ok_or(CredentialError::Unknown)?;
    call::check_credential(&stored, &id, &auth.session.account_id, now)?;
    if !state.store.use_call_credential(&digest, now).await? {
        return Err(CredentialError::Used.into());
    }
    let seat = Seat {
        appointment_id: entrant.appointment.id.clone(),
        clinic_id: entrant.appointment.clinic_id.clone(),
        account_id: auth.session.account_id.clone(),
        kind: auth.session.kind.clone(),
        session_id: auth.session.id.clone(),
        role: entrant.role,
        connection_id: uuid::Uuid::now_v7().to_string(),
    };
    Ok(upgrade
        .protocols([PROTOCOL])
        .max_message_size(MESSAGE_MAX)
        .max_frame_size(MESSAGE_MAX)
        .on_upgrade(move |socket| call_room::run(state, seat, socket)))
}

/// `GET /api/v1/appointments/{id}/call` (clinic): the call record for the visit: start, end and
/// every connection with its person and times.
pub async fn record(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let clinic_id = auth.member_clinic(Action::ReadWorklist)?;
    let a = crate::booking::clinic_appointment(&state, clinic_id, &id).await?;
    Ok(Json(record_json(&state, &a).await?))
}

/// The call of an appointment as JSON (`call: null` when its room was never opened).
pub async fn record_json(state: &AppState, a: &Appointment) -> Result<serde_json::Value, ApiError> {
    let tz = zone(&settings_of(state, &a.clinic_id).await?);
    let Some(record) = state.store.call_record(&a.id).await? else {
        return Ok(json!({ "appointment_id": a.id, "call": null }));
    };
    let time = |ms: Option<i64>| ms.map(|ms| local(ms, &tz));
    let connections: Vec<_> = record
        .connections
        .iter()
        .map(|c| {
            json!({
                "role": c.role.as_str(),
                "account_id": c.account_id,
                "joined_at": local(c.joined_at, &tz),
                "left_at": time(c.left_at),
                "left_reason": c.left_reason,
            })
        })
        .collect();
    Ok(json!({
        "appointment_id": a.id,
        "call": {
            "started_at": time(record.started_at),
            "ended_at": time(record.ended_at),
            "admitted": record.admitted,
            "connections": connections,
        },
    }))
}

/// Whether an appointment's state lets a member open its room (for worklist links).
pub fn callable(a: &Appointment) -> bool {
    a.mode == "online" && matches!(a.state, Visit::Confirmed | Visit::InConsultation)
}

/// The clinic contact as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedContact {
    /// A telephone number, or empty.
    pub phone: String,
}

/// An admin sets the number patients see during calls.
pub async fn set_contact(
    state: &AppState,
    auth: &Authenticated,
    typed: &TypedContact,
) -> Result<String, ApiError> {
    let clinic_id = auth.member_clinic(Action::ManageSchedule)?;
    let phone = call::contact_phone(&typed.phone).map_err(|e| {
        ApiError::from(e)
            .with_field("phone")
            .with_problem("bad_phone")
    })?;
    state.store.set_clinic_phone(clinic_id, &phone).await?;
    Ok(phone)
}

/// `PUT /api/v1/clinic-contact {"phone"}` (clinic admin).
pub async fn put_contact(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let typed: TypedContact = json_body(body)?;
    let phone = set_contact(&state, &auth, &typed).await?;
    Ok(Json(json!({ "phone": phone })))
}
