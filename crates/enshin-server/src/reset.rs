//! The three password-reset paths (AUTH-6) and patients' contact checks.
//!
//! - Patients: a six-digit code by e-mail or SMS to a contact they proved, ten minutes, five
//!   tries, once. Asking answers the same whether the ID exists or not, in body, status and
//!   time (the message is queued, never sent inside the request).
//! - Clinic admins: "forgot password" on the clinic listener (so the clinic certificate is still
//!   needed) mails a single-use link, 30 minutes, to the admin's own address.
//! - Other members: no self-service; their clinic's admin sets a new password.
//!
//! Every path sets the password under the policy (AUTH-3) and ends all sessions of the account.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use enshin_core::authz::{Action, Target, authorize};
use enshin_core::code::{self, PER_HOUR, Purpose, TTL_MS};
use enshin_core::crypto::envelope::FieldContext;
use enshin_core::password::{self, HashParams};
use enshin_core::people::{AccountKind, LoginId, Role};
use enshin_core::session::token_digest;
use enshin_store::messages::Channel;
use enshin_store::patients::PROFILE_COLUMNS;
use serde::Deserialize;
use serde_json::json;

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::patients::PATIENT_KEY;
use crate::routes::AppState;
use crate::session::{Authenticated, json_body};

/// Every answer of an unauthenticated reset request comes at this time after it began, whatever
/// happened, so its timing tells nothing about the ID.
const FLOOR: std::time::Duration = std::time::Duration::from_millis(250);
const HOUR_MS: i64 = 3_600_000;
/// How long an admin's reset link works.
pub const LINK_MINUTES: i64 = 30;

fn parse_channel(typed: &str) -> Result<Channel, ApiError> {
    match typed {
        "email" => Ok(Channel::Email),
        "sms" => Ok(Channel::Sms),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "channel: must be email or sms",
        )
        .with_field("channel")),
    }
}

fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_code",
        "the code is wrong, used or expired; ask for a new code",
    )
    .with_field("code")
}

fn code_context<'a>(id: &'a str) -> FieldContext<'a> {
    FieldContext {
        clinic_id: PATIENT_KEY,
        table: "one_time_codes",
        column: "code",
        row_id: id,
    }
}

/// The patient's proven contact on `channel` (opened from the sealed profile), if any.
pub(crate) async fn proven_contact(
    state: &AppState,
    account_id: &str,
    channel: Channel,
    require_proven: bool,
) -> Result<Option<String>, ApiError> {
    let (email_at, phone_at) = state.store.contact_verified(account_id).await?;
    let proven = match channel {
        Channel::Email => email_at.is_some(),
        Channel::Sms => phone_at.is_some(),
    };
    if require_proven && !proven {
        return Ok(None);
    }
    let Some(sealed) = state.store.patient_profile(account_id).await? else {
        return Ok(None);
    };
    let column = match channel {
        Channel::Email => "email",
        Channel::Sms => "phone",
    };
    let index = PROFILE_COLUMNS
        .iter()
        .position(|c| *c == column)
        .unwrap_or(PROFILE_COLUMNS.len());
    let Some(Some(value)) = sealed.get(index) else {
        return Ok(None);
    };
    let ctx = FieldContext {
        clinic_id: PATIENT_KEY,
        table: "patients",
        column,
        row_id: account_id,
    };
    let plain = state
        .keyring
        .open_field(&ctx, value)
        .map_err(|e| ApiError::unavailable(&e))?;
    Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
}

/// Makes, stores and queues a code for the patient to `to` on `channel`, unless the account had
/// its hourly share already (then nothing is sent, and the caller answers as if it was).
async fn send_code(
    state: &AppState,
    account_id: &str,
    purpose: Purpose,
    channel: Channel,
    to: &str,
) -> Result<(), ApiError> {
    let now = now_ms();
    if state
        .store
        .codes_sent_since(account_id, purpose, now - HOUR_MS)
        .await?
        >= PER_HOUR
    {
        tracing::warn!(account = %account_id, purpose = purpose.as_str(), "code not sent: hourly limit reached");
        return Ok(());
    }
    let code = code::new_code().map_err(|_| ApiError::unavailable(&"random generator"))?;
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = state
        .keyring
        .seal(&code_context(&id), code.as_bytes())
        .map_err(|e| ApiError::unavailable(&e))?;
    state
        .store
        .store_code(
            &id,
            account_id,
            purpose,
            channel,
            &sealed,
            now,
            now + TTL_MS,
        )
        .await?;
    let letter = enshin_core::letters::code(purpose, &code);
    match channel {
        Channel::Email => {
            state
                .messages
                .email(to, &letter.subject, &letter.body)
                .await?
        }
        Channel::Sms => state.messages.sms(to, &letter.sms).await?,
    }
    Ok(())
}

/// Checks a typed code against the account's open code of `purpose`; the try counts.
async fn check_code(
    state: &AppState,
    account_id: &str,
    purpose: Purpose,
    typed: &str,
) -> Result<String, ApiError> {
    if !code::well_formed(typed) {
        return Err(invalid_code());
    }
    let Some(open) = state.store.try_code(account_id, purpose, now_ms()).await? else {
        return Err(invalid_code());
    };
    let stored = state
        .keyring
        .open_field(&code_context(&open.id), &open.sealed)
        .map_err(|e| ApiError::unavailable(&e))?;
    if code::matches(typed, &stored) {
        Ok(open.id)
    } else {
        Err(invalid_code())
    }
}

async fn hash(password: String) -> Result<String, ApiError> {
    let typed = zeroize::Zeroizing::new(password);
    tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .map_err(|e| ApiError::unavailable(&e))
}

/// A patient's reset request as typed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The login ID.
    pub login_id: String,
    /// `email` or `sms`; an admin's request on the clinic listener leaves it out.
    pub channel: Option<String>,
}

/// Asks for a reset. Patients: a code to their proven contact; clinic admins: a link to their
/// own address. The same answer at the same time for every ID.
pub async fn ask_reset(state: &AppState, r: &ResetRequest) -> Result<(), ApiError> {
    let started = tokio::time::Instant::now();
    let kind = match state.listener {
        crate::listener::ListenerKind::Clinic => AccountKind::Member,
        _ => AccountKind::Patient,
    };
    let channel = match kind {
        AccountKind::Patient => Some(parse_channel(r.channel.as_deref().unwrap_or(""))?),
        _ => None,
    };
    let result = async {
        let Ok(login_id) = LoginId::parse(&r.login_id) else {
            return Ok(());
        };
        let Some(account) = state.store.find_login(kind, &login_id).await? else {
            return Ok(());
        };
        if account.disabled {
            return Ok(());
        }
        match channel {
            Some(channel) => {
                if let Some(to) = proven_contact(state, &account.account_id, channel, true).await? {
                    send_code(state, &account.account_id, Purpose::Reset, channel, &to).await?;
                }
            }
            None => send_admin_link(state, &account.account_id).await?,
        }
        Ok::<(), ApiError>(())
    }
    .await;
    tokio::time::sleep_until(started + FLOOR).await;
    result
}

async fn send_admin_link(state: &AppState, account_id: &str) -> Result<(), ApiError> {
    let Some((role, email)) = state.store.member_role_and_email(account_id).await? else {
        return Ok(());
    };
    let (Ok(Role::Admin), Some(email)) = (role.parse::<Role>(), email) else {
        return Ok(());
    };
    let now = now_ms();
    if state
        .store
        .links_sent_since(account_id, now - HOUR_MS)
        .await?
        >= PER_HOUR
    {
        return Ok(());
    }
    let (token, digest) = enshin_core::session::new_token()
        .map_err(|_| ApiError::unavailable(&"random generator"))?;
    state
        .store
        .store_reset_link(&digest, account_id, now, now + LINK_MINUTES * 60_000)
        .await?;
    let link = format!("{}/reset?token={token}", state.clinic_url);
    let letter = enshin_core::letters::admin_reset_link(&link, LINK_MINUTES);
    state
        .messages
        .email(&email, &letter.subject, &letter.body)
        .await?;
    Ok(())
}

/// `POST /api/v1/password-reset {"login_id", "channel"}` → 202, always the same.
pub async fn request(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let r: ResetRequest = json_body(body)?;
    ask_reset(&state, &r).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({ "status": "if the ID exists and can be reset this way, a message is on its way" }),
        ),
    ))
}

/// A patient's new password with the code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The login ID.
    pub login_id: String,
    /// The code from the message.
    pub code: String,
    /// The new password (AUTH-3).
    pub new_password: String,
}

/// Sets a patient's new password with a code; every session of the account ends.
pub async fn confirm_reset(state: &AppState, r: ResetConfirm) -> Result<(), ApiError> {
    let started = tokio::time::Instant::now();
    let result = async {
        let login_id = LoginId::parse(&r.login_id).map_err(|_| invalid_code())?;
        let account = state
            .store
            .find_login(AccountKind::Patient, &login_id)
            .await?
            .filter(|a| !a.disabled)
            .ok_or_else(invalid_code)?;
        let code_id = check_code(state, &account.account_id, Purpose::Reset, &r.code).await?;
        password::check(&r.new_password, login_id.as_str(), &state.common_passwords)?;
        let hash = hash(r.new_password).await?;
        if !state.store.use_code(&code_id, now_ms()).await? {
            return Err(invalid_code());
        }
        state
            .store
            .replace_password(&account.account_id, &hash, "password_reset", now_ms())
            .await?;
        Ok(())
    }
    .await;
    tokio::time::sleep_until(started + FLOOR).await;
    result
}

/// `POST /api/v1/password-reset/confirm {"login_id", "code", "new_password"}` → 204.
pub async fn confirm(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let r: ResetConfirm = json_body(body)?;
    confirm_reset(&state, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An admin's new password with the link's token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkReset {
    /// The token from the link.
    pub token: String,
    /// The new password (AUTH-3).
    pub new_password: String,
}

fn invalid_link() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_link",
        "this link is wrong, used or expired; ask for a new one",
    )
}

/// Sets an admin's new password with a reset link; the link then stops working.
pub async fn reset_with_link(state: &AppState, r: LinkReset) -> Result<(), ApiError> {
    let digest = token_digest(r.token.trim());
    let now = now_ms();
    let account = state
        .store
        .reset_link_account(&digest, now)
        .await?
        .ok_or_else(invalid_link)?;
    let login_id = state
        .store
        .member_clinic(&account)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .map(|(_, login)| login)
        .unwrap_or_default();
    password::check(&r.new_password, &login_id, &state.common_passwords)?;
    let hash = hash(r.new_password).await?;
    if state
        .store
        .use_reset_link(&digest, now_ms())
        .await?
        .is_none()
    {
        return Err(invalid_link());
    }
    state
        .store
        .replace_password(&account, &hash, "password_reset", now_ms())
        .await?;
    Ok(())
}

/// `POST /api/v1/password-reset/link {"token", "new_password"}` (clinic listener) → 204.
pub async fn link(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let r: LinkReset = json_body(body)?;
    reset_with_link(&state, r).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new password typed by an admin for a member.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password (AUTH-3).
    pub password: String,
}

/// An admin sets a member's password (the member's only reset path); the member's sessions end.
pub async fn set_member_password(
    state: &AppState,
    auth: &Authenticated,
    id: &str,
    new: NewPassword,
) -> Result<(), ApiError> {
    let (clinic, login_id) = state
        .store
        .member_clinic(id)
        .await
        .map_err(|e| ApiError::unavailable(&e))?
        .unwrap_or_default();
    authorize(
        &auth.actor,
        Action::SetMemberPassword,
        Target::Clinic(&clinic),
    )?;
    if auth.session.account_id == id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "own_account",
            "an admin cannot do this to their own account; ask another admin of the clinic",
        ));
    }
    password::check(&new.password, &login_id, &state.common_passwords)?;
    let hash = hash(new.password).await?;
    state
        .store
        .replace_password(id, &hash, "password_set_by_admin", now_ms())
        .await?;
    Ok(())
}

/// `PUT /api/v1/members/{id}/password {"password"}` (clinic admin) → 204.
pub async fn member_password(
    State(state): State<AppState>,
    auth: Authenticated,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let new: NewPassword = json_body(body)?;
    set_member_password(&state, &auth, &id, new).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnEmail {
    email: String,
}

/// A clinic member sets their own address, where an admin's reset link goes.
pub async fn set_own_email(
    state: &AppState,
    auth: &Authenticated,
    typed: &str,
) -> Result<(), ApiError> {
    authorize(
        &auth.actor,
        Action::SetOwnEmail,
        Target::Account(&auth.session.account_id),
    )?;
    let email = crate::people::checked_email(typed)?;
    state
        .store
        .set_member_email(&auth.session.account_id, &email)
        .await?;
    Ok(())
}

/// `PUT /api/v1/me/email {"email"}` (clinic member) → 204.
pub async fn own_email(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let e: OwnEmail = json_body(body)?;
    set_own_email(&state, &auth, &e.email).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyStart {
    channel: String,
}

/// Sends a code to the patient's own e-mail or phone from registration; 409 when there is none.
pub async fn start_contact_check(
    state: &AppState,
    auth: &Authenticated,
    channel: &str,
) -> Result<(), ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::VerifyContact, Target::Account(id))?;
    let channel = parse_channel(channel)?;
    let Some(to) = proven_contact(state, id, channel, false).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_contact",
            "there is no contact on this channel to check",
        ));
    };
    send_code(state, id, contact_purpose(channel), channel, &to).await
}

fn contact_purpose(channel: Channel) -> Purpose {
    match channel {
        Channel::Email => Purpose::VerifyEmail,
        Channel::Sms => Purpose::VerifyPhone,
    }
}

/// `POST /api/v1/contact/verify {"channel"}` (patient) → 202.
pub async fn verify_start(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let v: VerifyStart = json_body(body)?;
    start_contact_check(&state, &auth, &v.channel).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyConfirm {
    channel: String,
    code: String,
}

/// Proves the patient's contact with the code; then it may be used for resets.
pub async fn confirm_contact(
    state: &AppState,
    auth: &Authenticated,
    channel: &str,
    code: &str,
) -> Result<(), ApiError> {
    let id = &auth.session.account_id;
    authorize(&auth.actor, Action::VerifyContact, Target::Account(id))?;
    let channel = parse_channel(channel)?;
    let code_id = check_code(state, id, contact_purpose(channel), code).await?;
    if !state.store.use_code(&code_id, now_ms()).await? {
        return Err(invalid_code());
    }
    state
        .store
        .mark_contact_verified(id, channel, now_ms())
        .await?;
    Ok(())
}

/// `POST /api/v1/contact/verify/confirm {"channel", "code"}` (patient) → 204.
pub async fn verify_confirm(
    State(state): State<AppState>,
    auth: Authenticated,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let v: VerifyConfirm = json_body(body)?;
    confirm_contact(&state, &auth, &v.channel, &v.code).await?;
    Ok(StatusCode::NO_CONTENT)
}
