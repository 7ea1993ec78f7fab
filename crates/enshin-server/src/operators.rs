//! Operator accounts (AUTH-9): created on the command line with a password and a TOTP secret
//! (sealed with the keyring's own key for operators), checked at log-in, a code used once.

use enshin_core::crypto::envelope::FieldContext;
use enshin_core::password::{self, HashError, HashParams};
use enshin_core::people::{AccountKind, LoginId, display_name};
use enshin_core::totp::{generate_secret, matching_step, otpauth_uri};
use enshin_store::operators::NewOperator;

use crate::clock::now_ms;
use crate::people::{MEMBER_NAME_MAX, PeopleOpError};
use crate::routes::AppState;

/// Keyring entry whose data key seals operators' TOTP secrets (they belong to no clinic).
pub const OPERATOR_KEY: &str = "operator-accounts";

fn secret_context(account_id: &str) -> FieldContext<'_> {
    FieldContext {
        clinic_id: OPERATOR_KEY,
        table: "operators",
        column: "totp_secret",
        row_id: account_id,
    }
}

/// A created operator, with what the authenticator app needs (shown once).
pub struct CreatedOperator {
    /// Account id.
    pub id: String,
    /// Canonical login ID.
    pub login_id: LoginId,
    /// `otpauth://` URI holding the secret.
    pub otpauth_uri: zeroize::Zeroizing<String>,
}

/// Creates an operator: password checked (AUTH-3) and hashed, TOTP secret generated and sealed.
pub async fn add_operator(
    state_store: &enshin_store::Store,
    keyring: &enshin_store::keyring::Keyring,
    common: &enshin_core::password::CommonPasswords,
    login_id: &str,
    name: &str,
    typed_password: &str,
) -> Result<CreatedOperator, PeopleOpError> {
    let login_id = LoginId::parse(login_id)?;
    let name = display_name(name, MEMBER_NAME_MAX)?;
    password::check(typed_password, login_id.as_str(), common)?;
    let typed = zeroize::Zeroizing::new(typed_password.to_owned());
    let hash = tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
        .await
        .map_err(|_| HashError::Hashing)??;
    match keyring.create(OPERATOR_KEY) {
        Ok(()) | Err(enshin_store::keyring::KeyringError::Exists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let secret = zeroize::Zeroizing::new(generate_secret().map_err(|_| HashError::Hashing)?);
    let id = uuid::Uuid::now_v7().to_string();
    let sealed = keyring.seal(&secret_context(&id), &secret)?;
    let operator = NewOperator {
        account_id: &id,
        login_id: &login_id,
        password_hash: &hash,
        display_name: &name,
        totp_secret: &sealed,
    };
    state_store.create_operator(&operator, now_ms()).await?;
    let otpauth_uri = zeroize::Zeroizing::new(otpauth_uri("enshin", login_id.as_str(), &secret));
    Ok(CreatedOperator {
        id,
        login_id,
        otpauth_uri,
    })
}

/// Disables an operator at once (their sessions end); `false` if already disabled.
pub async fn disable_operator(
    store: &enshin_store::Store,
    login_id: &str,
) -> Result<bool, PeopleOpError> {
    let login_id = LoginId::parse(login_id)?;
    store
        .disable_account(AccountKind::Operator, &login_id, now_ms())
        .await?
        .ok_or_else(|| {
            PeopleOpError::People(enshin_store::people::PeopleError::NoSuchOperator(
                login_id.to_string(),
            ))
        })
}

/// Whether `typed` is the operator's current TOTP code, not used before; the step is taken
/// atomically, so a replayed code, even a concurrent one, fails.
pub async fn totp_accepted(
    state: &AppState,
    account_id: &str,
    typed: Option<&str>,
) -> Result<bool, crate::error::ApiError> {
    let Some(typed) = typed else {
        return Ok(false);
    };
    let Some((sealed, last)) = state.store.operator_totp(account_id).await? else {
        return Ok(false);
    };
    let secret = zeroize::Zeroizing::new(
        state
            .keyring
            .open_field(&secret_context(account_id), &sealed)
            .map_err(|e| crate::error::ApiError::unavailable(&e))?,
    );
    let now_secs = u64::try_from(now_ms() / 1000).unwrap_or(0);
    let last = u64::try_from(last).ok();
    match matching_step(&secret, typed, now_secs, last) {
        Some(step) => Ok(state
            .store
            .take_totp_step(account_id, i64::try_from(step).unwrap_or(i64::MAX))
            .await?),
        None => Ok(false),
    }
}
