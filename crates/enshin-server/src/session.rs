//! The session API of DESIGN.md: log in, who am I, log out (SESS-1..3, AUTH-1, AUTH-5, AUTH-10).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use enshin_core::authz::{Action, Actor, Target, authorize};
use enshin_core::emergency;
use enshin_core::password::{self, HashParams, Verified};
use enshin_core::people::{AccountKind, LoginId, Role};
use enshin_core::session::{SessionPolicy, SessionTimes, ThrottleScope, new_token, token_digest};
use enshin_store::sessions::{NewSession, SessionRecord};
use serde::Deserialize;
use serde_json::json;

use crate::access::{AccessFacts, Principal};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::listener::{ConnInfo, ListenerKind};
use crate::patients::TERMS_VERSION;
use crate::routes::AppState;

/// The session cookie; `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
pub const COOKIE: &str = "__Host-enshin_session";
/// Longest password accepted at log-in, in bytes (the policy allows 128 characters).
const MAX_PASSWORD_BYTES: usize = 1024;
/// A failed log-in is answered no sooner than this after the request began, so that no failure
/// is faster than another (AUTH-10: no enumeration of login IDs by timing). Well above the p99 of
/// a failure's own work on the reference machine (about 75 ms).
const FAILED_LOGIN_FLOOR: std::time::Duration = std::time::Duration::from_millis(250);
/// Activity is written at most this often per session (the idle timeout is minutes).
const TOUCH_EVERY_MS: i64 = 15_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    login_id: String,
    password: String,
    /// Operators only: the current TOTP code (AUTH-9).
    #[serde(default)]
    totp: Option<String>,
}

/// Parses a JSON body into `T`, answering 413/400/422 with a message instead of a panic.
pub fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| {
        ApiError::new(
            e.status(),
            "invalid_body",
            "the request body is too large or could not be read",
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_fields",
                format!("the JSON fields are not as expected: {e}"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "the body is not valid JSON",
            )
        }
    })
}

/// The session lifetimes of an account kind: operators' are fixed and shorter (AUTH-9).
fn policy_for(state: &AppState, kind: &str) -> SessionPolicy {
    if kind == AccountKind::Operator.as_str() {
        SessionPolicy::OPERATOR
    } else {
        state.sessions
    }
}

fn account_kind(listener: ListenerKind) -> AccountKind {
    match listener {
        ListenerKind::Clinic => AccountKind::Member,
        ListenerKind::Patient => AccountKind::Patient,
        ListenerKind::Operator => AccountKind::Operator,
    }
}

/// 429 for a log-in while its account, address or TOTP counter is locked, until `until`.
fn locked_out(until: i64, now: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "too many failed log-ins; try again later",
    )
    .with_retry_after((until - now) / 1000 + 1)
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "the login ID or the password is wrong",
    )
}

/// SESS-3: a request authenticated by cookie that changes state must come from our own pages.
/// Bearer tokens are exempt (a browser never attaches them on its own).
pub fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    match (header("origin"), header("host")) {
        (Some(origin), Some(host)) => origin == format!("https://{host}"),
        _ => false,
    }
}

/// The value of the cookie `name`, if the request has one.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The session token of the session cookie, if the request has one.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, COOKIE)
}

/// `POST /api/v1/session`: [`sign_in`], answered with the token and the session cookie.
pub async fn login(
    State(state): State<AppState>,
    Extension(conn): Extension<ConnInfo>,
    Extension(facts): Extension<AccessFacts>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    if headers.contains_key("origin") && !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site",
            "log-in from another site is refused",
        ));
    }
    let body: LoginBody = json_body(body)?;
    let signed = sign_in(
        &state,
        &conn,
        &facts,
        started,
        &body.login_id,
        body.password,
        body.totp.as_deref(),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(json!({ "token": signed.token, "expires_at": signed.expires_at })),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&signed.token)?);
    Ok(response)
}

/// The `Set-Cookie` value that carries a new session token.
pub fn session_cookie(token: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict"
    ))
    .map_err(|e| ApiError::unavailable(&e))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-enshin_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
    )
}

/// A new session.
pub struct SignedIn {
    /// The bearer token (also the cookie value); shown once, stored only as a digest.
    pub token: String,
    /// When the session ends if left idle, unix ms.
    pub expires_at: i64,
}

/// Log-in, for the API and the pages alike: throttled before any hashing; a wrong password, an
/// unknown or disabled ID and (on the clinic listener) a certificate of another clinic all get
/// the same 401 at the same time after `started`.
pub async fn sign_in(
    state: &AppState,
    conn: &ConnInfo,
    facts: &AccessFacts,
    started: tokio::time::Instant,
    typed_login_id: &str,
    typed_password: String,
    typed_totp: Option<&str>,
) -> Result<SignedIn, ApiError> {
    let typed = zeroize::Zeroizing::new(typed_password);
    if typed.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "password_too_long",
            "the password is longer than any password enshin accepts",
        ));
    }
    let now = now_ms();
    let login_id = LoginId::parse(typed_login_id).ok();
    let address = conn.peer.ip().to_string();
    let mut subjects = vec![(ThrottleScope::Address, address.as_str())];
    if let Some(id) = &login_id {
        subjects.push((ThrottleScope::Account, id.as_str()));
    }
    for (scope, subject) in &subjects {
        if let Some(until) = state.store.locked_until(*scope, subject, now).await? {
            return Err(locked_out(until, now));
        }
    }
    let kind = account_kind(conn.listener);
    if kind == AccountKind::Member {
        certificate_in_force(state, conn, now).await?;
    }
    let record = match &login_id {
        Some(id) => state.store.find_login(kind, id).await?,
        None => None,
    };
    if let Some(r) = &record {
        // The access log names the account a log-in was for, failed or not (LOG-1).
        facts.principal(Principal {
            id: r.account_id.clone(),
            kind: kind.as_str().to_owned(),
            role: None,
            clinic_id: r.clinic_id.clone(),
            session_id: None,
            access: None,
            subjects: Vec::new(),
        });
    }
    let usable = record.as_ref().filter(|r| {
        !r.disabled && emergency::member_may_act(r.emergency_until, r.clinic_emergency_until, now)
    });
    // Unknown and disabled IDs are verified against a dummy hash so the answer takes as long.
    let stored = usable.map_or_else(|| state.dummy_hash.to_string(), |r| r.password_hash.clone());
    let typed_for_hash = typed.clone();
    let verified = tokio::task::spawn_blocking(move || {
        password::verify(&typed_for_hash, &stored, HashParams::OWASP)
    })
    .await
    .map_err(|e| ApiError::unavailable(&e))?
    .unwrap_or(Verified::No);
    let cert_clinic = conn
        .client_cert
        .as_ref()
        .and_then(|c| c.clinic_id.as_deref());
    let account = match usable {
        Some(r)
            if verified != Verified::No
                && (kind != AccountKind::Member || r.clinic_id.as_deref() == cert_clinic) =>
        {
            r
        }
        _ => {
            for (scope, subject) in &subjects {
                state.store.record_failure(*scope, subject, now).await?;
            }
            // The dummy hash equalises the hashing, not the database work around it (measured by
            // `enshin-bench login-timing`: unknown IDs answered ~10 ms slower). Every failure is
            // therefore answered at one fixed time after the request began.
            tokio::time::sleep_until(started + FAILED_LOGIN_FLOOR).await;
            return Err(invalid_credentials());
        }
    };
    if kind == AccountKind::Operator {
        // AUTH-9: the second factor, with a throttle of its own, answered like a wrong password.
        let subject = format!("totp:{}", account.account_id);
        if let Some(until) = state
            .store
            .locked_until(ThrottleScope::Account, &subject, now)
            .await?
        {
            return Err(locked_out(until, now));
        }
        if !crate::operators::totp_accepted(state, &account.account_id, typed_totp).await? {
            state
                .store
                .record_failure(ThrottleScope::Account, &subject, now)
                .await?;
            tokio::time::sleep_until(started + FAILED_LOGIN_FLOOR).await;
            return Err(invalid_credentials());
        }
    }
    if verified == Verified::YesRehash {
        let hash = tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
            .await
            .map_err(|e| ApiError::unavailable(&e))?;
        if let Ok(hash) = hash {
            state
                .store
                .set_password_hash(&account.account_id, &hash)
                .await?;
        }
    }
    if let Some(id) = &login_id {
        state
            .store
            .clear_failures(ThrottleScope::Account, id.as_str())
            .await?;
    }
    let (token, digest) =
        new_token().map_err(|_| ApiError::unavailable(&"random number generator failed"))?;
    let id = uuid::Uuid::now_v7().to_string();
    let session = NewSession {
        id: &id,
        token_digest: &digest,
        account_id: &account.account_id,
        client_cert_serial: conn.client_cert.as_ref().map(|c| c.serial_hex.as_str()),
    };
    state.store.create_session(&session, now).await?;
    facts.principal(Principal {
        id: account.account_id.clone(),
        kind: kind.as_str().to_owned(),
        role: None,
        clinic_id: account.clinic_id.clone(),
        session_id: Some(id.clone()),
        access: account.emergency_until.map(|_| "emergency".to_owned()),
        subjects: Vec::new(),
    });
    let expires_at = policy_for(state, kind.as_str()).expires_at(SessionTimes {
        created_at: now,
        last_seen_at: now,
        ended_at: None,
    });
    Ok(SignedIn { token, expires_at })
}

/// AUTH-1: the clinic certificate of the connection must be one enshin issued and still in
/// force. The handshake already proved it is the service CA's and not on the CRL; this also
/// catches a revocation in the seconds before the next CRL reload, and a certificate the CA
/// signed that was never recorded. Notes the certificate's use.
async fn certificate_in_force(state: &AppState, conn: &ConnInfo, now: i64) -> Result<(), ApiError> {
    let facts = conn.client_cert.as_ref();
    let record = match facts {
        Some(facts) => state.store.certificate(&facts.serial_hex).await?,
        None => None,
    };
    match (facts, record) {
        (Some(facts), Some(cert))
            if cert.revoked_at.is_none()
                && cert.not_after > now
                && facts.clinic_id.as_deref() == Some(cert.clinic_id.as_str()) =>
        {
            state.store.touch_certificate(&cert.serial, now).await?;
            Ok(())
        }
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "certificate_not_valid",
            "this computer's clinic certificate is revoked or unknown to enshin; ask the service operator for a new one",
        )),
    }
}

/// Whether a session still stands: not ended, not idle or old past its policy (it is ended
/// now if so), its account not disabled, its member not held by a clinic emergency.
pub async fn in_force(state: &AppState, session: &SessionRecord, now: i64) -> Result<(), ApiError> {
    let times = SessionTimes {
        created_at: session.created_at,
        last_seen_at: session.last_seen_at,
        ended_at: session.ended_at,
    };
    if let Err(end) = policy_for(state, &session.kind).check(times, now) {
        if session.ended_at.is_none() {
            let reason = format!("{end:?}").to_lowercase();
            state.store.end_session(&session.id, now, &reason).await?;
        }
        return Err(ApiError::not_authenticated());
    }
    let held =
        !emergency::member_may_act(session.emergency_until, session.clinic_emergency_until, now);
    if session.disabled_at.is_some() || held {
        return Err(ApiError::not_authenticated());
    }
    Ok(())
}

/// Finds the live session of a request (bearer token or cookie) and records activity.
pub async fn authenticate(
    state: &AppState,
    conn: &ConnInfo,
    method: &Method,
    headers: &HeaderMap,
) -> Result<SessionRecord, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = match (bearer, cookie_token(headers)) {
        (Some(token), _) => token,
        (None, Some(token)) => {
            if !matches!(*method, Method::GET | Method::HEAD) && !same_origin(headers) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a state-changing request must come from enshin's own pages",
                ));
            }
            token
        }
        (None, None) => return Err(ApiError::not_authenticated()),
    };
    let now = now_ms();
    let session = state
        .store
        .find_session(&token_digest(token.trim()))
        .await?
        .ok_or_else(ApiError::not_authenticated)?;
    in_force(state, &session, now).await?;
    let same_kind = session.kind == account_kind(conn.listener).as_str();
    // AUTH-1: every request of a member's session comes with the certificate it logged in with.
    let same_cert = conn.listener != ListenerKind::Clinic
        || session.client_cert_serial.as_deref()
            == conn.client_cert.as_ref().map(|c| c.serial_hex.as_str());
    if !same_kind || !same_cert {
        return Err(ApiError::not_authenticated());
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        state.store.touch_session(&session.id, now).await?;
        if let Some(serial) = &session.client_cert_serial {
            state.store.touch_certificate(serial, now).await?;
        }
    }
    Ok(session)
}

/// A request with a live session, and who it belongs to.
pub struct Authenticated {
    /// The session.
    pub session: SessionRecord,
    /// The principal, for [`authorize`].
    pub actor: Actor,
}

impl Authenticated {
    /// The clinic of a member allowed to do `action` there, or the refusal: 403 for a role or
    /// kind that may never do it, 404 (like a missing id) otherwise.
    pub fn member_clinic(&self, action: Action) -> Result<&str, ApiError> {
        let Actor::Member { clinic_id, .. } = &self.actor else {
            authorize(&self.actor, action, Target::Service)?;
            return Err(ApiError::not_found());
        };
        authorize(&self.actor, action, Target::Clinic(clinic_id))?;
        Ok(clinic_id)
    }
}

/// What a patient who has not accepted the current terms may still do (CONSENT-1): read and
/// accept them, and log out.
const TERMS_EXEMPT: &[(Method, &str)] = &[
    (Method::POST, "/api/v1/terms/accept"),
    (Method::DELETE, "/api/v1/session"),
    (Method::GET, "/terms"),
    (Method::POST, "/terms"),
    (Method::POST, "/logout"),
];

impl Authenticated {
    /// The session of a request and its principal; patients are held at the terms gate.
    pub async fn of(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        let conn = parts
            .extensions
            .get::<ConnInfo>()
            .cloned()
            .ok_or_else(ApiError::not_authenticated)?;
        let session = authenticate(state, &conn, &parts.method, &parts.headers).await?;
        if let Some(facts) = parts.extensions.get::<AccessFacts>() {
            facts.principal(Principal {
                id: session.account_id.clone(),
                kind: session.kind.clone(),
                role: session.role.clone(),
                clinic_id: session.clinic_id.clone(),
                session_id: Some(session.id.clone()),
                access: session.emergency_until.map(|_| "emergency".to_owned()),
                subjects: Vec::new(),
            });
        }
        let actor = match (
            session.kind.as_str(),
            &session.clinic_id,
            session.role.as_deref().map(str::parse::<Role>),
        ) {
            ("member", Some(clinic_id), Some(Ok(role))) => Actor::Member {
                account_id: session.account_id.clone(),
                clinic_id: clinic_id.clone(),
                role,
            },
            ("patient", _, _) => Actor::Patient {
                account_id: session.account_id.clone(),
            },
            ("operator", _, _) => Actor::Operator {
                account_id: session.account_id.clone(),
            },
            _ => return Err(ApiError::not_authenticated()),
        };
        let exempt = TERMS_EXEMPT
            .iter()
            .any(|(method, path)| parts.method == *method && parts.uri.path() == *path);
        if matches!(actor, Actor::Patient { .. }) && !exempt {
            let accepted = state
                .store
                .has_accepted_terms(&session.account_id, TERMS_VERSION)
                .await?;
            if !accepted {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "terms_not_accepted",
                    format!(
                        "the terms of use have changed; read GET /api/v1/terms and accept version {TERMS_VERSION}"
                    ),
                ));
            }
        }
        Ok(Self { session, actor })
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::of(parts, state).await
    }
}

/// `GET /api/v1/me`.
pub async fn me(auth: Authenticated) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(
        &auth.actor,
        Action::ReadSelf,
        Target::Account(&auth.session.account_id),
    )?;
    let session = auth.session;
    Ok(Json(json!({
        "id": session.account_id,
        "kind": session.kind,
        "role": session.role,
        "clinic_id": session.clinic_id,
    })))
}

/// Ends the session of the request itself.
pub async fn sign_out(state: &AppState, auth: &Authenticated) -> Result<(), ApiError> {
    authorize(
        &auth.actor,
        Action::EndOwnSession,
        Target::Account(&auth.session.account_id),
    )?;
    state
        .store
        .end_session(&auth.session.id, now_ms(), "logout")
        .await?;
    Ok(())
}

/// `DELETE /api/v1/session`: ends this session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Response, ApiError> {
    sign_out(&state, &auth).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie());
    Ok(response)
}

/// One open session of a person, as "my sessions" lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OpenSession {
    /// The session id (not the token).
    pub id: String,
    /// Log-in time, unix ms.
    pub created_at: i64,
    /// Last activity, unix ms (written at most every 15 s).
    pub last_seen_at: i64,
    /// Whether this is the session of the request.
    pub current: bool,
}

/// One's own live sessions, the current one marked.
pub async fn own_sessions(
    state: &AppState,
    auth: &Authenticated,
) -> Result<Vec<OpenSession>, ApiError> {
    authorize(
        &auth.actor,
        Action::ListOwnSessions,
        Target::Account(&auth.session.account_id),
    )?;
    let now = now_ms();
    let sessions = state.store.open_sessions(&auth.session.account_id).await?;
    Ok(sessions
        .into_iter()
        .filter(|s| {
            let times = SessionTimes {
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                ended_at: None,
            };
            policy_for(state, &auth.session.kind)
                .check(times, now)
                .is_ok()
        })
        .map(|s| OpenSession {
            current: s.id == auth.session.id,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
        })
        .collect())
}

/// `GET /api/v1/sessions`: one's own open sessions ("my sessions"), marking the current one.
pub async fn list_own(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sessions = own_sessions(&state, &auth).await?;
    Ok(Json(json!({ "sessions": sessions })))
}

/// Ends one of one's own sessions; another person's session answers like a missing one.
pub async fn end_own_session(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
) -> Result<(), ApiError> {
    let owner = state.store.session_owner(id).await?.unwrap_or_default();
    authorize(&auth.actor, Action::EndOwnSession, Target::Account(&owner))?;
    state
        .store
        .end_session(id, now_ms(), "ended_by_owner")
        .await?;
    Ok(())
}

/// `DELETE /api/v1/sessions/{id}`: ends one of one's own sessions, e.g. on another device (SESS-2).
pub async fn end_own(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    end_own_session(&state, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
