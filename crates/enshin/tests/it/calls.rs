//! Video consultation signalling (FUNC-5): only the appointment's doctor and patient enter its
//! room, each with a short-lived single-use credential; the patient waits until admitted; a
//! second device of the patient replaces the first; every join, admission, end and refusal is in
//! the access log; the call's start, end and connections are kept for the visit record; a doctor
//! on one instance and a patient on another connect through PostgreSQL.
// covers FUNC-5, ROLE-2, LOG-1, NET-1

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use enshin_core::appointment::State as Visit;
use enshin_core::call::{CREDENTIAL_PREFIX, Role as Side, StoredCredential};
use enshin_core::people::Role;
use enshin_core::pki::IssuedCert;
use enshin_store::appointments::NewAppointment;
use enshin_testkit::{
    TestApp, TestMember, call, client_tls, https_client, spawn_app, spawn_app_with,
};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::audit::{audit_store, entries};
use crate::booking::bookable;
use crate::links::{clinic, invite, patient, redeem};

type Socket = WebSocketStream<TlsStream<TcpStream>>;

/// A member with the certificate they logged in with (sessions are bound to it).
pub(crate) struct Member {
    pub(crate) id: String,
    pub(crate) login: TestMember,
    cert: IssuedCert,
    pub(crate) pc: Client,
    pub(crate) token: String,
}

pub(crate) async fn member(app: &TestApp, clinic_id: &str, role: Role) -> Member {
    let m = app.add_member(clinic_id, role).await;
    let cert = app.issue_client_cert(clinic_id).await;
    let pc = https_client(app.ca_pem(), Some(&cert));
    let (status, session) = call(
        &pc,
        Method::POST,
        app.clinic_url("/api/v1/session"),
        "",
        Some(json!({ "login_id": m.login_id, "password": m.password })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    Member {
        id: m.id.clone(),
        login: m,
        cert,
        pc,
        token: session["token"].as_str().unwrap().to_owned(),
    }
}

/// An online visit of a linked patient starting in ten minutes.
pub(crate) struct OnlineVisit {
    pub(crate) clinic_id: String,
    pub(crate) doctor: Member,
    pub(crate) patient: String,
    pub(crate) appointment: String,
    pub(crate) record: String,
    menu: String,
    pub(crate) staff_pc: Client,
    pub(crate) staff: String,
}

/// An online visit whose patient agreed to their consultation plan, so the call may start.
async fn online_visit(app: &TestApp, login_id: &str) -> OnlineVisit {
    let v = visit_without_plan(app, login_id).await;
    crate::records::agreed_plan(app, &v).await;
    v
}

/// An online visit of a patient who has no consultation plan yet.
pub(crate) async fn visit_without_plan(app: &TestApp, login_id: &str) -> OnlineVisit {
    let (clinic_id, staff_pc, staff, record) = clinic(app, "A").await;
    let (admin_pc, admin, _, menu) = bookable(app, &clinic_id).await;
    let (status, _) = call(
        &admin_pc,
        Method::PUT,
        app.clinic_url("/api/v1/clinic-contact"),
        &admin,
        Some(json!({ "phone": "０３－１２３４－５６７８" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let doctor = member(app, &clinic_id, Role::Doctor).await;
    let patient = patient(app, login_id).await;
    let (_, inv) = invite(app, &staff_pc, &staff, &record).await;
    let (status, _) = redeem(app, &patient, inv["code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    let appointment = book(
        app,
        &clinic_id,
        &record,
        &doctor.id,
        &menu,
        10,
        Visit::Confirmed,
    )
    .await;
    OnlineVisit {
        clinic_id,
        doctor,
        patient,
        appointment,
        record,
        menu,
        staff_pc,
        staff,
    }
}

/// The visit's call record, as its doctor reads it.
async fn call_record(app: &TestApp, v: &OnlineVisit) -> Value {
    doctor_reads(app, v, "/call").await
}

/// `GET /api/v1/appointments/{id}{rest}` as the visit's doctor; must answer 200.
async fn doctor_reads(app: &TestApp, v: &OnlineVisit, rest: &str) -> Value {
    let (status, body) = call(
        &v.doctor.pc,
        Method::GET,
        app.clinic_url(&format!("/api/v1/appointments/{}{rest}", v.appointment)),
        &v.doctor.token,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    body
}

/// Writes an appointment starting `minutes` from now (the API offers only the doctor's hours).
async fn book(
    app: &TestApp,
    clinic_id: &str,
    record: &str,
    doctor: &str,
    menu: &str,
    minutes: i64,
    state: Visit,
) -> String {
    let now = jiff::Timestamp::now().as_millisecond();
    let id = format!("visit-{now}-{minutes}-{}", state.as_str());
    let starts_at = now + minutes * 60_000;
    app.store()
        .book_appointment(
            &NewAppointment {
                id: &id,
                clinic_id,
                clinic_patient_id: record,
                doctor_id: doctor,
                menu_id: menu,
                starts_at,
                ends_at: starts_at + 15 * 60_000,
                state,
                booked_by: doctor,
            },
            now,
        )
        .await
        .unwrap();
    id
}

/// `POST …/call` on the clinic site (with `cert`) or the patient site.
pub(crate) async fn grant(
    app: &TestApp,
    who: Option<&Member>,
    token: &str,
    id: &str,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/appointments/{id}/call");
    match who {
        Some(m) => call(&m.pc, Method::POST, app.clinic_url(&path), token, None).await,
        None => {
            call(
                &app.client(),
                Method::POST,
                app.patient_url(&path),
                token,
                None,
            )
            .await
        }
    }
}

/// Opens the signalling socket of `id` as a browser would (the credential as a second
/// subprotocol), or returns the refusal's status and body.
async fn open(
    addr: SocketAddr,
    app: &TestApp,
    cert: Option<&IssuedCert>,
    token: &str,
    id: &str,
    protocols: &str,
    origin: Option<&str>,
) -> Result<Socket, (u16, Value)> {
    let mut config = client_tls(app.ca_pem(), rustls::DEFAULT_VERSIONS, cert);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(
            rustls_pki_types::ServerName::IpAddress(addr.ip().into()),
            tcp,
        )
        .await
        .unwrap();
    let mut request = format!("wss://{addr}/api/v1/appointments/{id}/call/signal")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    if !protocols.is_empty() {
        headers.insert("sec-websocket-protocol", protocols.parse().unwrap());
    }
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::client_async(request, tls).await {
        Ok((socket, response)) => {
            assert_eq!(
                response.headers()["sec-websocket-protocol"],
                "enshin-call",
                "the server picks its own subprotocol, never echoes the credential"
            );
            Ok(socket)
        }
        Err(WsError::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            Err((
                response.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            ))
        }
        Err(other) => panic!("websocket: {other}"),
    }
}

/// The status and error code of a refused socket.
fn refusal(opened: Result<Socket, (u16, Value)>) -> (u16, String) {
    let Err((status, body)) = opened else {
        panic!("the socket was opened, not refused");
    };
    let code = body["error"]["code"].as_str().unwrap_or_default();
    (status, code.to_owned())
}

/// Mints a credential and opens the socket with it.
async fn enter(app: &TestApp, who: Option<&Member>, token: &str, id: &str) -> (Socket, Value) {
    let (status, granted) = grant(app, who, token, id).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    let addr = if who.is_some() {
        app.addrs().clinic
    } else {
        app.addrs().patient
    };
    let protocols = format!("enshin-call, {}", granted["credential"].as_str().unwrap());
    let socket = open(addr, app, who.map(|m| &m.cert), token, id, &protocols, None)
        .await
        .unwrap_or_else(|e| panic!("refused: {e:?}"));
    (socket, granted)
}

/// The next JSON message of type `kind`, skipping others; panics after 10 s.
async fn expect(socket: &mut Socket, kind: &str) -> Value {
    expect_within(socket, kind, 10).await
}

/// The next JSON message of type `kind`, skipping others; panics after `seconds`.
async fn expect_within(socket: &mut Socket, kind: &str, seconds: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} within {seconds} s"))
            .unwrap_or_else(|| panic!("closed before {kind}"))
            .unwrap();
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == kind {
                return value;
            }
        }
    }
}

async fn say(socket: &mut Socket, value: Value) {
    socket
        .send(Message::Text(value.to_string().into()))
        .await
        .unwrap();
}

/// Whether the socket closes within 10 s (messages before the close are skipped).
async fn closes(socket: &mut Socket) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn offer() -> Value {
    json!({ "type": "description", "kind": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" })
}

#[tokio::test]
async fn the_doctor_admits_the_patient_signals_pass_and_the_call_is_recorded() {
    let app = spawn_app().await;
    let v = online_visit(&app, "caller").await;
    let doctor = Some(&v.doctor);

    // Each side is told who is on the other: the doctor the patient, the patient the doctor,
    // the clinic and its number.
    let (mut d, granted) = enter(&app, doctor, &v.doctor.token, &v.appointment).await;
    assert!(
        granted["credential"]
            .as_str()
            .unwrap()
            .starts_with(CREDENTIAL_PREFIX)
    );
    assert_eq!(granted["call"]["patient"]["name"], "山田 花子");
    assert_eq!(granted["call"]["patient"]["birth_date"], "1948-03-09");
    assert_eq!(
        granted["ice_servers"],
        json!([]),
        "no STUN or TURN configured"
    );
    expect(&mut d, "joined").await;
    let (mut p, granted) = enter(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(granted["call"]["clinic_name"], "A");
    assert_eq!(granted["call"]["clinic_phone"], "03-1234-5678");
    assert_eq!(granted["call"]["doctor_name"], "Test Member");
    assert!(granted["call"].get("patient").is_none());
    let joined = expect(&mut p, "joined").await;
    assert_eq!(joined["admitted"], false);
    assert_eq!(expect(&mut d, "peer").await["waiting"], true);

    // Only the doctor admits, offers and ends; the patient's attempts are refused, not relayed.
    say(&mut p, json!({ "type": "admit" })).await;
    assert_eq!(
        expect(&mut p, "error").await["message"],
        "only the doctor can do this"
    );
    say(&mut p, offer()).await;
    expect(&mut p, "error").await;
    say(&mut p, json!({ "type": "end" })).await;
    expect(&mut p, "error").await;

    say(&mut d, json!({ "type": "admit" })).await;
    expect(&mut d, "start").await;
    expect(&mut p, "admitted").await;
    expect(&mut p, "start").await;
    say(&mut d, offer()).await;
    let relayed = expect(&mut p, "description").await;
    assert_eq!(relayed["kind"], "offer");
    say(
        &mut p,
        json!({ "type": "description", "kind": "answer", "sdp": "v=0\r\n" }),
    )
    .await;
    assert_eq!(expect(&mut d, "description").await["kind"], "answer");
    let candidate = "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host";
    say(&mut p, json!({ "type": "candidate", "candidate": candidate, "sdp_mid": "0", "sdp_m_line_index": 0 })).await;
    assert_eq!(expect(&mut d, "candidate").await["candidate"], candidate);

    // Admission starts the consultation.
    let read = doctor_reads(&app, &v, "").await;
    assert_eq!(read["state"], "in_consultation");

    // The patient's phone joins: it replaces the PC at once and goes straight in.
    let (mut phone, _) = enter(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(expect(&mut phone, "joined").await["admitted"], true);
    expect(&mut p, "replaced").await;
    assert!(closes(&mut p).await, "the replaced socket closes");
    assert_eq!(expect(&mut d, "peer").await["waiting"], false);
    expect(&mut d, "start").await;

    // The doctor ends the consultation for both.
    say(&mut d, json!({ "type": "end" })).await;
    expect(&mut d, "ended").await;
    expect(&mut phone, "ended").await;
    assert!(closes(&mut phone).await);
    assert!(closes(&mut d).await);

    // The call record: start, end, and who was connected from when to when. Each side's leave
    // is written as its socket winds down, so the record is read until both are in.
    let mut record = call_record(&app, &v).await;
    for _ in 0..50 {
        let open = record["call"]["connections"]
            .as_array()
            .is_none_or(|c| c.iter().any(|x| x["left_at"].is_null()));
        if !open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        record = call_record(&app, &v).await;
    }
    let c = &record["call"];
    assert!(
        c["started_at"].is_string() && c["ended_at"].is_string(),
        "{record}"
    );
    assert_eq!(c["admitted"], false, "after the end, a return waits again");
    let connections = c["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 3);
    let reasons: Vec<_> = connections
        .iter()
        .map(|x| {
            (
                x["role"].as_str().unwrap(),
                x["left_reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(reasons.contains(&("patient", "replaced")), "{reasons:?}");
    assert!(reasons.contains(&("doctor", "ended")), "{reasons:?}");

    // The access log holds the joins, the admission, the end and each leave.
    let log = entries(&audit_store(&app).await).await;
    let of = |action: &str| {
        log.iter()
            .filter(|s| {
                s.entry.action == action && s.entry.target_id.as_deref() == Some(&v.appointment)
            })
            .count()
    };
    assert_eq!(of("GET /api/v1/appointments/{id}/call/signal"), 3);
    assert_eq!(of("call_admit"), 1);
    assert_eq!(of("call_end"), 1);
    assert_eq!(of("call_leave_replaced"), 1);
    assert!(log.iter().any(|s| s.entry.action == "call_admit"
        && s.entry.principal_id.as_deref() == Some(v.doctor.id.as_str())));
    // The doctor's credential request read the patient's record, and says so.
    assert!(
        log.iter()
            .any(|s| s.entry.action == "POST /api/v1/appointments/{id}/call"
                && s.entry.subjects == vec![v.record.clone()])
    );
    app.stop().await;
}

#[tokio::test]
async fn strangers_stale_credentials_and_other_rooms_are_refused_and_logged() {
    let app = spawn_app().await;
    let v = online_visit(&app, "owner").await;
    let clinic_addr = app.addrs().clinic;
    let patient_addr = app.addrs().patient;
    let id = &v.appointment;

    // Nobody else gets a credential: staff and admins (403), another doctor of the clinic, a
    // doctor of another clinic and another patient (404, like a missing appointment).
    let staff = member(&app, &v.clinic_id, Role::Staff).await;
    let (status, body) = grant(&app, Some(&staff), &staff.token, id).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let colleague = member(&app, &v.clinic_id, Role::Doctor).await;
    assert_eq!(
        grant(&app, Some(&colleague), &colleague.token, id).await.0,
        StatusCode::NOT_FOUND
    );
    let other_clinic = app.add_clinic("B").await;
    let stranger = member(&app, &other_clinic, Role::Doctor).await;
    assert_eq!(
        grant(&app, Some(&stranger), &stranger.token, id).await.0,
        StatusCode::NOT_FOUND
    );
    let third = patient(&app, "third").await;
    let (status, missing) = grant(&app, None, &third, id).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        grant(&app, None, &third, "no-such-visit").await,
        (status, missing)
    );
    assert_eq!(grant(&app, None, "", id).await.0, StatusCode::UNAUTHORIZED);

    // The patient's credential opens this room once, for the patient only.
    let (_, mine) = grant(&app, None, &v.patient, id).await;
    let protocols = format!("enshin-call, {}", mine["credential"].as_str().unwrap());
    // Someone else's session with it: refused (the third person is not even let near).
    let refused = open(patient_addr, &app, None, &third, id, &protocols, None)
        .await
        .unwrap_err();
    assert_eq!(refused.0, 404);
    // A second visit of the same patient: the credential is for another room.
    let second = book(
        &app,
        &v.clinic_id,
        &v.record,
        &v.doctor.id,
        &v.menu,
        30,
        Visit::Confirmed,
    )
    .await;
    assert_eq!(
        refusal(
            open(
                patient_addr,
                &app,
                None,
                &v.patient,
                &second,
                &protocols,
                None,
            )
            .await
        ),
        (403, "credential_other_appointment".to_owned())
    );
    // From another site's page (cross-site WebSocket hijacking): refused before anything else.
    assert_eq!(
        refusal(
            open(
                patient_addr,
                &app,
                None,
                &v.patient,
                id,
                &protocols,
                Some("https://evil.example"),
            )
            .await
        ),
        (403, "cross_origin".to_owned())
    );
    // Without a credential, with a made-up one, or not as a WebSocket.
    assert_eq!(
        refusal(
            open(
                patient_addr,
                &app,
                None,
                &v.patient,
                id,
                "enshin-call",
                None,
            )
            .await
        ),
        (401, "credential_missing".to_owned())
    );
    let forged = format!("enshin-call, {CREDENTIAL_PREFIX}{}", "0".repeat(64));
    assert_eq!(
        refusal(open(patient_addr, &app, None, &v.patient, id, &forged, None).await),
        (401, "credential_unknown".to_owned())
    );
    let (status, plain) = call(
        &app.client(),
        Method::GET,
        app.patient_url(&format!("/api/v1/appointments/{id}/call/signal")),
        &v.patient,
        None,
    )
    .await;
    assert_eq!(
        (status, plain["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("websocket_required"))
    );
    // None of that used it up; it opens the room once.
    let socket = open(patient_addr, &app, None, &v.patient, id, &protocols, None).await;
    assert!(socket.is_ok());
    assert_eq!(
        refusal(open(patient_addr, &app, None, &v.patient, id, &protocols, None).await),
        (403, "credential_used".to_owned())
    );

    // An expired credential.
    let stale = format!("{CREDENTIAL_PREFIX}{}", "1".repeat(64));
    let now = jiff::Timestamp::now().as_millisecond();
    app.store()
        .add_call_credential(
            &enshin_core::session::token_digest(&stale),
            &StoredCredential {
                appointment_id: id.clone(),
                account_id: v.doctor.id.clone(),
                role: Side::Doctor,
                expires_at: now - 1,
                used_at: None,
            },
            now - 120_001,
        )
        .await
        .unwrap();
    assert_eq!(
        refusal(
            open(
                clinic_addr,
                &app,
                Some(&v.doctor.cert),
                &v.doctor.token,
                id,
                &format!("enshin-call, {stale}"),
                None,
            )
            .await
        ),
        (403, "credential_expired".to_owned())
    );

    // Rooms that are not open: too early for the patient, an in-person visit, a finished one.
    let later = book(
        &app,
        &v.clinic_id,
        &v.record,
        &v.doctor.id,
        &v.menu,
        120,
        Visit::Confirmed,
    )
    .await;
    let (status, early) = grant(&app, None, &v.patient, &later).await;
    assert_eq!(
        (status, early["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("too_early"))
    );
    assert_eq!(
        grant(&app, Some(&v.doctor), &v.doctor.token, &later)
            .await
            .0,
        StatusCode::OK
    );
    let done = book(
        &app,
        &v.clinic_id,
        &v.record,
        &v.doctor.id,
        &v.menu,
        60,
        Visit::Completed,
    )
    .await;
    let (status, closed) = grant(&app, Some(&v.doctor), &v.doctor.token, &done).await;
    assert_eq!(
        (status, closed["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("call_closed"))
    );

    // Every refusal is in the access log, as denied.
    let log = entries(&audit_store(&app).await).await;
    let denied = |status: u16| {
        log.iter()
            .filter(|s| {
                s.entry.action == "GET /api/v1/appointments/{id}/call/signal"
                    && s.entry.status == status
                    && s.entry.outcome == enshin_core::audit::entry::Outcome::Denied
            })
            .count()
    };
    assert_eq!(denied(401), 2);
    assert_eq!(denied(403), 4, "other room, cross origin, used, expired");
    assert_eq!(denied(404), 1);
    assert!(
        log.iter()
            .any(|s| s.entry.action == "POST /api/v1/appointments/{id}/call"
                && s.entry.status == 403
                && s.entry.principal_id.as_deref() == Some(staff.id.as_str()))
    );
    app.stop().await;
}

#[tokio::test]
async fn hostile_messages_are_refused_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let v = online_visit(&app, "noisy").await;
    let (mut d, _) = enter(&app, Some(&v.doctor), &v.doctor.token, &v.appointment).await;
    expect(&mut d, "joined").await;
    for bad in [
        "not json".to_owned(),
        "{}".to_owned(),
        r#"{"type":"shout"}"#.to_owned(),
        r#"{"type":"candidate","candidate":"x","extra":true}"#.to_owned(),
        format!(
            r#"{{"type":"candidate","candidate":"{}"}}"#,
            "a".repeat(2000)
        ),
    ] {
        d.send(Message::Text(bad.clone().into())).await.unwrap();
        let refused = expect(&mut d, "error").await;
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .starts_with("not a signalling message"),
            "{bad}"
        );
    }
    d.send(Message::Binary(vec![0u8; 16].into())).await.unwrap();
    assert_eq!(
        expect(&mut d, "error").await["message"],
        "messages are JSON text"
    );
    say(&mut d, json!({ "type": "admit" })).await;
    assert_eq!(
        expect(&mut d, "error").await["message"],
        "nobody is waiting"
    );
    // Still in the room: the patient arrives and is seen.
    let (mut p, _) = enter(&app, None, &v.patient, &v.appointment).await;
    expect(&mut p, "joined").await;
    assert_eq!(expect(&mut d, "peer").await["waiting"], true);
    // A message over the limit closes the socket (the server does not buffer it).
    let huge = format!(
        r#"{{"type":"description","kind":"offer","sdp":"{}"}}"#,
        "a".repeat(70_000)
    );
    let _ = d.send(Message::Text(huge.into())).await;
    assert!(closes(&mut d).await);
    // The patient is told and keeps waiting.
    expect(&mut p, "peer_left").await;
    app.stop().await;
}

#[tokio::test]
async fn ice_servers_carry_a_turn_credential_coturn_can_check() {
    let secret_dir = tempfile::tempdir().unwrap();
    let secret_file = secret_dir.path().join("turn.secret");
    std::fs::write(&secret_file, "north-wind-secret\n").unwrap();
    let mut permissions = std::fs::metadata(&secret_file).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o600);
    std::fs::set_permissions(&secret_file, permissions).unwrap();
    let file = secret_file.display().to_string();
    let app = spawn_app_with(|layers| {
        layers.flag("stun_urls", "stun:stun.example.jp:3478".into());
        layers.flag(
            "turn_urls",
            "turn:turn.example.jp:3478?transport=udp,turns:turn.example.jp:5349".into(),
        );
        layers.flag("turn_secret_file", file);
    })
    .await;
    let v = online_visit(&app, "turner").await;
    let (status, granted) = grant(&app, None, &v.patient, &v.appointment).await;
    assert_eq!(status, StatusCode::OK);
    let servers = granted["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"], json!(["stun:stun.example.jp:3478"]));
    let turn = &servers[1];
    assert_eq!(turn["urls"].as_array().unwrap().len(), 2);
    let username = turn["username"].as_str().unwrap();
    let (expiry, label) = username.split_once(':').unwrap();
    let expiry: i64 = expiry.parse().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now + 239 * 60..=now + 241 * 60).contains(&expiry),
        "four hours by default"
    );
    assert!(
        !label.contains(&v.patient) && label.len() == 32,
        "an opaque label, not the person"
    );
    let expected = enshin_core::call::turn_credential(b"north-wind-secret", label, expiry);
    assert_eq!(turn["credential"], expected.credential.as_str());
    app.stop().await;
}

#[tokio::test]
async fn a_doctor_on_one_instance_and_a_patient_on_another_connect() {
    let app = spawn_app().await;
    let Some(second) = app.second_instance().await else {
        eprintln!("two instances need PostgreSQL (ENSHIN_TEST_DATABASE_URL); SQLite allows one");
        return;
    };
    let v = online_visit(&app, "twohosts").await;
    let (mut d, _) = enter(&app, Some(&v.doctor), &v.doctor.token, &v.appointment).await;
    expect(&mut d, "joined").await;
    let (mut p, _) = enter(&second, None, &v.patient, &v.appointment).await;
    expect(&mut p, "joined").await;
    assert_eq!(expect(&mut d, "peer").await["waiting"], true);
    say(&mut d, json!({ "type": "admit" })).await;
    expect(&mut p, "admitted").await;
    // A real offer is a few KiB; this one is larger than a notification can carry, so it
    // goes through the parked-message path.
    let sdp = format!("v=0\r\n{}", "a=x-filler:0123456789abcdef\r\n".repeat(400));
    assert!(sdp.len() > 8000);
    say(
        &mut d,
        json!({ "type": "description", "kind": "offer", "sdp": sdp }),
    )
    .await;
    assert_eq!(expect(&mut p, "description").await["sdp"], sdp.as_str());
    say(
        &mut p,
        json!({ "type": "description", "kind": "answer", "sdp": "v=0\r\n" }),
    )
    .await;
    expect(&mut d, "description").await;
    // The patient's second device joins through the first instance and replaces the first.
    let (mut phone, _) = enter(&app, None, &v.patient, &v.appointment).await;
    expect(&mut phone, "joined").await;
    expect(&mut p, "replaced").await;
    second.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_call_pages_show_who_is_on_the_other_side_and_only_they_allow_the_camera() {
    let app = spawn_app().await;
    let v = online_visit(&app, "onthephone").await;
    let path = format!("/calls/{}", v.appointment);
    let media = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()";

    let doctor = app.member_browser(&v.doctor.login).await;
    let room = doctor.get(&path).await;
    assert_eq!(room.status, StatusCode::OK);
    assert_eq!(room.headers["permissions-policy"], media);
    for shown in [
        "山田 花子",
        "ヤマダ ハナコ",
        "1948-03-09",
        r#"id="admit""#,
        "録画・録音されません",
    ] {
        assert!(room.body.contains(shown), "{shown}");
    }
    assert!(
        room.body
            .contains(r#"<script type="module" src="/static/call.js"></script>"#)
    );
    assert_eq!(room.body.matches("<script").count(), 1, "no inline script");
    // The worklist links the doctor's own online visit (ten minutes from now) to its room.
    let today = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(10))
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").unwrap())
        .date();
    let worklist = doctor.get(&format!("/worklist?date={today}")).await;
    assert!(
        worklist
            .body
            .contains(&format!(r#"href="/calls/{}""#, v.appointment))
    );
    // Every other page keeps camera and microphone off.
    let home = doctor.get("/home").await;
    assert_eq!(
        home.headers["permissions-policy"],
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    );

    // Staff get 403; a member of another clinic and another doctor 404; an unknown id 404.
    let staff = app.add_member(&v.clinic_id, Role::Staff).await;
    let staff = app.member_browser(&staff).await;
    let refused = staff.get(&path).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("権限がありません"));
    assert!(!refused.body.contains("山田"));
    let colleague = app.add_member(&v.clinic_id, Role::Doctor).await;
    let colleague = app.member_browser(&colleague).await;
    assert_eq!(colleague.get(&path).await.status, StatusCode::NOT_FOUND);
    for odd in [
        "/calls/nope",
        "/calls/%00",
        &format!("/calls/{}", "x".repeat(5000)),
    ] {
        let answer = doctor.get(odd).await;
        assert!(answer.status.is_client_error(), "{odd}: {}", answer.status);
    }

    // The patient's room shows the doctor, the clinic and its number, in English too.
    let browser = app.patient_browser();
    let signed = browser
        .log_in(&[("login_id", "onthephone"), ("password", "Blue-Kettle-42")])
        .await;
    assert_eq!(signed.location(), Some("/home"));
    let room = browser.get(&path).await;
    assert_eq!(room.status, StatusCode::OK);
    assert_eq!(room.headers["permissions-policy"], media);
    for shown in [
        "医師: Test Member",
        "医療機関: A",
        "tel:03-1234-5678",
        "待合室",
        "カメラとマイクを試す",
    ] {
        assert!(room.body.contains(shown), "{shown}");
    }
    assert!(
        !room.body.contains(r#"id="admit""#),
        "no admit button for the patient"
    );
    let english = browser.get(&format!("{path}?lang=en")).await;
    assert!(
        english.body.contains("Video consultation")
            && english.body.contains("This call is not recorded.")
    );
    // The appointments page leads to it.
    let list = browser.get("/appointments?lang=ja").await;
    assert!(
        list.body
            .contains(&format!(r#"href="/calls/{}""#, v.appointment))
    );
    // Another patient's browser gets 404 for it.
    patient(&app, "nosy").await;
    let nosy = app.patient_browser();
    nosy.log_in(&[("login_id", "nosy"), ("password", "Blue-Kettle-42")])
        .await;
    assert_eq!(nosy.get(&path).await.status, StatusCode::NOT_FOUND);
    // The device test needs no sign-in and sends nothing.
    let test = app.patient_browser().get("/call-test").await;
    assert_eq!(test.status, StatusCode::OK);
    assert_eq!(test.headers["permissions-policy"], media);
    assert!(test.body.contains("カメラとマイクのテスト"));
    app.stop().await;
}

#[tokio::test]
async fn logging_out_ends_an_open_call_socket() {
    let app = spawn_app().await;
    let v = online_visit(&app, "leaver").await;
    let (mut p, _) = enter(&app, None, &v.patient, &v.appointment).await;
    expect(&mut p, "joined").await;
    let (status, _) = call(
        &app.client(),
        Method::DELETE,
        app.patient_url("/api/v1/session"),
        &v.patient,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Checked every 10 s.
    expect_within(&mut p, "session_ended", 25).await;
    assert!(closes(&mut p).await);
    let record = call_record(&app, &v).await;
    assert_eq!(
        record["call"]["connections"][0]["left_reason"],
        "session_ended"
    );
    app.stop().await;
}
