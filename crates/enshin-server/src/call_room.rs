//! One person's socket in an appointment's room. Sockets of one room find each other over the
//! bus (on any instance): a newcomer says hello, the other side answers "here". The patient
//! waits until the doctor admits them; then the doctor's page offers and the patient's answers,
//! and from then on only session descriptions and ICE candidates pass between them. A second
//! socket of the same person replaces the first, so a reload or a second phone never makes a
//! third party. The doctor's "end" closes both sides. Media never passes through here.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use enshin_core::audit::entry::Outcome;
use enshin_core::call::{ClientMessage, Role};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::audit::event_entry;
use crate::clock::now_ms;
use crate::routes::AppState;

/// How often the server pings a socket; a browser answers by itself.
const PING_EVERY: Duration = Duration::from_secs(15);
/// A socket silent this long (no answer to two pings) is taken as lost.
const SILENCE_MAX: Duration = Duration::from_secs(40);
/// How often the session behind a socket is checked: a log-out, a forced log-off or a disabled
/// account ends the call within this time. The check also counts the call as activity.
const SESSION_EVERY: Duration = Duration::from_secs(10);

/// Said when an admission or an end cannot be logged, and so does not happen.
const UNLOGGED: &str = "the service is temporarily unavailable; try again shortly";

/// Who holds a socket, as checked at the door ([`crate::calls::signal`]).
#[derive(Debug, Clone)]
pub struct Seat {
    /// The room.
    pub appointment_id: String,
    /// The appointment's clinic.
    pub clinic_id: String,
    /// The person.
    pub account_id: String,
    /// `member` or `patient`, for the access log.
    pub kind: String,
    /// The session the socket was opened with.
    pub session_id: String,
    /// Their side.
    pub role: Role,
    /// This socket.
    pub connection_id: String,
}

/// What goes over the bus between the sockets of a room.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    room: String,
    from: String,
    account: String,
    role: String,
    #[serde(default)]
    to: Option<String>,
    event: Event,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Hello,
    Here,
    Bye,
    Admit,
    End,
    Restart,
    Signal { message: ClientMessage },
}

/// Why a socket closed, as recorded with the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Left,
    Replaced,
    Ended,
    Lost,
    Shutdown,
    SessionEnded,
}

impl Exit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Replaced => "replaced",
            Self::Ended => "ended",
            Self::Lost => "lost",
            Self::Shutdown => "shutdown",
            Self::SessionEnded => "session_ended",
        }
    }
}

struct Room {
    state: AppState,
    seat: Seat,
    socket: WebSocket,
    peer: Option<String>,
    admitted: bool,
}

/// Serves one socket until it closes, then records how it left.
pub async fn run(state: AppState, seat: Seat, socket: WebSocket) {
    state.metrics.call_sockets(1);
    let mut room = Room {
        state,
        seat,
        socket,
        peer: None,
        admitted: false,
    };
    let exit = match room.serve().await {
        Ok(exit) => exit,
        Err(error) => {
            tracing::warn!(%error, "call socket failed");
            Exit::Lost
        }
    };
    room.leave(exit).await;
    room.state.metrics.call_sockets(-1);
}

impl Room {
    async fn serve(&mut self) -> Result<Exit, sqlx::Error> {
        let mut bus = self.state.calls.bus.subscribe();
        let mut stopped = self.state.calls.stopped.clone();
        let now = now_ms();
        let seat = &self.seat;
        self.state
            .store
            .open_call_connection(
                &seat.connection_id,
                &seat.appointment_id,
                &seat.clinic_id,
                &seat.account_id,
                seat.role,
                now,
            )
            .await?;
        self.admitted = self
            .state
            .store
            .call_record(&seat.appointment_id)
            .await?
            .is_some_and(|r| r.admitted);
        self.publish(Event::Hello, None).await?;
        self.send(
            json!({ "type": "joined", "role": self.seat.role.as_str(), "admitted": self.admitted }),
        )
        .await;
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut recheck = tokio::time::interval(SESSION_EVERY);
        let mut heard = tokio::time::Instant::now();
        loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    heard = tokio::time::Instant::now();
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            if let Some(exit) = self.on_browser(text.as_str()).await? {
                                return Ok(exit);
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            self.refuse("messages are JSON text").await;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => return Ok(Exit::Left),
                        Some(Err(_)) => return Ok(Exit::Lost),
                    }
                }
                message = bus.recv() => match message {
                    Ok(text) => {
                        if let Some(exit) = self.on_bus(&text).await? {
                            return Ok(exit);
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "call socket fell behind the bus");
                    }
                    Err(RecvError::Closed) => return Ok(Exit::Shutdown),
                },
                _ = ping.tick() => {
                    if heard.elapsed() > SILENCE_MAX {
                        return Ok(Exit::Lost);
                    }
                    let _ = self.socket.send(Message::Ping(Vec::new().into())).await;
                }
                _ = recheck.tick() => {
                    if !self.session_stands().await? {
                        self.send(json!({ "type": "session_ended" })).await;
                        return Ok(Exit::SessionEnded);
                    }
                }
                _ = stopped.changed() => return Ok(Exit::Shutdown),
            }
        }
    }

    /// Handles a browser's message; `Some` when the socket is to close.
    async fn on_browser(&mut self, text: &str) -> Result<Option<Exit>, sqlx::Error> {
        let message = match ClientMessage::parse(text, self.seat.role) {
            Ok(m) => m,
            Err(e) => {
                self.refuse(&e.to_string()).await;
                return Ok(None);
            }
        };
        match message {
            ClientMessage::Admit {} => {
                if self.peer.is_none() {
                    self.refuse("nobody is waiting").await;
                    return Ok(None);
                }
                let seat = &self.seat;
                self.state
                    .store
                    .admit_to_call(&seat.appointment_id, &seat.account_id, now_ms())
                    .await?;
                if !self.log("call_admit").await {
                    self.refuse(UNLOGGED).await;
                    return Ok(None);
                }
                self.admitted = true;
                self.publish(Event::Admit, None).await?;
                self.send(json!({ "type": "start" })).await;
            }
            ClientMessage::End {} => {
                let seat = &self.seat;
                self.state
                    .store
                    .end_call(&seat.appointment_id, &seat.account_id, now_ms())
                    .await?;
                if !self.log("call_end").await {
                    self.refuse(UNLOGGED).await;
                    return Ok(None);
                }
                self.publish(Event::End, None).await?;
                self.send(json!({ "type": "ended" })).await;
                return Ok(Some(Exit::Ended));
            }
            ClientMessage::Restart {} => {
                if let Some(peer) = self.peer.clone() {
                    self.publish(Event::Restart, Some(peer)).await?;
                }
            }
            signal => {
                // Nobody to pass it to: the other side's page starts over when it comes.
                if let Some(peer) = self.peer.clone() {
                    self.publish(Event::Signal { message: signal }, Some(peer))
                        .await?;
                }
            }
        }
        Ok(None)
    }

    /// Handles a message of the room from the bus; `Some` when the socket is to close.
    async fn on_bus(&mut self, text: &str) -> Result<Option<Exit>, sqlx::Error> {
        let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
            return Ok(None);
        };
        if envelope.room != self.seat.appointment_id
            || envelope.from == self.seat.connection_id
            || envelope
                .to
                .as_ref()
                .is_some_and(|to| *to != self.seat.connection_id)
        {
            return Ok(None);
        }
        if envelope.role == self.seat.role.as_str() {
            // Only one person has each side, so this is the same person on another socket.
            if matches!(envelope.event, Event::Hello) && envelope.account == self.seat.account_id {
                self.send(json!({ "type": "replaced" })).await;
                return Ok(Some(Exit::Replaced));
            }
            return Ok(None);
        }
        match envelope.event {
            Event::Hello => {
                self.peer = Some(envelope.from.clone());
                self.publish(Event::Here, Some(envelope.from)).await?;
                self.peer_arrived().await;
            }
            Event::Here => {
                self.peer = Some(envelope.from);
                self.peer_arrived().await;
            }
            Event::Bye if self.peer.as_ref() == Some(&envelope.from) => {
                self.peer = None;
                self.send(json!({ "type": "peer_left" })).await;
            }
            Event::Bye => {}
            Event::Admit => {
                self.admitted = true;
                self.send(json!({ "type": "admitted" })).await;
                self.send(json!({ "type": "start" })).await;
            }
            Event::End => {
                self.send(json!({ "type": "ended" })).await;
                return Ok(Some(Exit::Ended));
            }
            Event::Restart => self.send(json!({ "type": "start" })).await,
            Event::Signal { message } => {
                if let Ok(value) = serde_json::to_value(&message) {
                    self.send(value).await;
                }
            }
        }
        Ok(None)
    }

    /// Whether the socket's session is still in force; if so, the call counts as its activity.
    async fn session_stands(&mut self) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let Some(session) = self
            .state
            .store
            .session_by_id(&self.seat.session_id)
            .await?
        else {
            return Ok(false);
        };
        if crate::session::in_force(&self.state, &session, now)
            .await
            .is_err()
        {
            return Ok(false);
        }
        self.state.store.touch_session(&session.id, now).await?;
        Ok(true)
    }

    /// The other side is in the room: the doctor learns a patient waits (or, once admitted,
    /// offers); an admitted patient gets ready for the offer.
    async fn peer_arrived(&mut self) {
        let waiting = !self.admitted;
        self.send(json!({ "type": "peer", "waiting": waiting }))
            .await;
        if self.admitted {
            self.send(json!({ "type": "start" })).await;
        }
    }

    async fn publish(&mut self, event: Event, to: Option<String>) -> Result<(), sqlx::Error> {
        let envelope = Envelope {
            room: self.seat.appointment_id.clone(),
            from: self.seat.connection_id.clone(),
            account: self.seat.account_id.clone(),
            role: self.seat.role.as_str().to_owned(),
            to,
            event,
        };
        let text = serde_json::to_string(&envelope)
            .map_err(|e| sqlx::Error::Protocol(format!("call envelope: {e}")))?;
        let id = uuid::Uuid::now_v7().to_string();
        self.state.calls.bus.publish(&id, &text, now_ms()).await
    }

    async fn send(&mut self, value: serde_json::Value) {
        let _ = self
            .socket
            .send(Message::Text(value.to_string().into()))
            .await;
    }

    async fn refuse(&mut self, message: &str) {
        self.send(json!({ "type": "error", "message": message }))
            .await;
    }

    /// An access-log entry for something done in the room, durable before the other side
    /// learns of it (LOG-1); false if it could not be made durable.
    async fn log(&mut self, action: &str) -> bool {
        let seat = &self.seat;
        let entry = enshin_core::audit::entry::Entry {
            outcome: Outcome::Allowed,
            status: 200,
            target_type: Some("appointment".into()),
            target_id: Some(seat.appointment_id.clone()),
            principal_id: Some(seat.account_id.clone()),
            principal_kind: Some(seat.kind.clone()),
            role: (seat.role == Role::Doctor).then(|| "doctor".to_owned()),
            clinic_id: Some(seat.clinic_id.clone()),
            ..event_entry(self.state.listener.name(), action)
        };
        match self.state.audit.record(entry).await {
            Ok(_) => true,
            Err(error) => {
                tracing::error!(%error, action, "a call event's access-log entry is not durable");
                false
            }
        }
    }

    /// Says goodbye to the room and records the connection's end.
    async fn leave(&mut self, exit: Exit) {
        if let Err(error) = self.publish(Event::Bye, None).await {
            tracing::warn!(%error, "call: goodbye not published");
        }
        let seat = &self.seat;
        if let Err(error) = self
            .state
            .store
            .close_call_connection(
                &seat.connection_id,
                &seat.appointment_id,
                exit.as_str(),
                now_ms(),
            )
            .await
        {
            tracing::warn!(%error, "call: the connection's end was not recorded");
        }
        self.log(&format!("call_leave_{}", exit.as_str())).await;
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code: 1000,
                reason: exit.as_str().into(),
            })))
            .await;
    }
}
