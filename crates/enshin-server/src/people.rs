//! Creating clinics and members: the rules of enshin-core applied, then one store call.
//! Shared by the operator CLI now and the consoles later.

use enshin_core::password::{self, CommonPasswords, HashError, HashParams, PasswordRule};
use enshin_core::people::{LoginId, LoginIdError, NameError, Role, display_name};
use enshin_store::Store;
use enshin_store::keyring::{Keyring, KeyringError};
use enshin_store::people::{NewMember, PeopleError};

use crate::clock::now_ms;

/// Longest clinic name, in characters.
pub const CLINIC_NAME_MAX: usize = 200;
/// Longest member display name, in characters.
pub const MEMBER_NAME_MAX: usize = 100;

/// Why a clinic or member could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum PeopleOpError {
    /// The clinic or member name is not acceptable.
    #[error("name")]
    Name(#[from] NameError),
    /// The login ID is not acceptable.
    #[error("login ID")]
    LoginId(#[from] LoginIdError),
    /// The password breaks a rule (AUTH-3).
    #[error("password rejected ({code})", code = .0.code())]
    Password(#[from] PasswordRule),
    /// The store refused.
    #[error(transparent)]
    People(#[from] PeopleError),
    /// The clinic's data key could not be made.
    #[error("keyring")]
    Keyring(#[from] KeyringError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}

/// A created clinic.
#[derive(Debug, Clone)]
pub struct CreatedClinic {
    /// Its id.
    pub id: String,
    /// Its name as stored.
    pub name: String,
}

/// Creates a clinic: first its data key (DATA-3), then its row, so no clinic ever lacks a key.
pub async fn add_clinic(
    store: &Store,
    keyring: &Keyring,
    name: &str,
) -> Result<CreatedClinic, PeopleOpError> {
    let name = display_name(name, CLINIC_NAME_MAX)?;
    let id = uuid::Uuid::now_v7().to_string();
    keyring.create(&id)?;
    store.create_clinic(&id, &name, now_ms()).await?;
    Ok(CreatedClinic { id, name })
}

/// A member to add, as typed by an operator or a clinic admin.
#[derive(Debug)]
pub struct MemberRequest<'a> {
    /// The clinic's id.
    pub clinic_id: &'a str,
    /// The role.
    pub role: Role,
    /// The login ID as typed.
    pub login_id: &'a str,
    /// The display name as typed.
    pub name: &'a str,
    /// The initial password as typed (checked against AUTH-3, then hashed).
    pub password: &'a str,
}

/// A created member.
#[derive(Debug, Clone)]
pub struct CreatedMember {
    /// The account id.
    pub id: String,
    /// The canonical login ID.
    pub login_id: LoginId,
}

/// Checks and creates a member; the password is hashed with Argon2id off the async threads.
pub async fn add_member(
    store: &Store,
    common: &CommonPasswords,
    request: &MemberRequest<'_>,
) -> Result<CreatedMember, PeopleOpError> {
    let login_id = LoginId::parse(request.login_id)?;
    let name = display_name(request.name, MEMBER_NAME_MAX)?;
    password::check(request.password, login_id.as_str(), common)?;
    let typed = zeroize::Zeroizing::new(request.password.to_owned());
    let hash = tokio::task::spawn_blocking(move || password::hash(&typed, HashParams::OWASP))
        .await
        .map_err(|_| HashError::Hashing)??;
    let id = uuid::Uuid::now_v7().to_string();
    let member = NewMember {
        account_id: &id,
        clinic_id: request.clinic_id,
        login_id: &login_id,
        role: request.role,
        display_name: &name,
        password_hash: &hash,
    };
    store.create_member(&member, now_ms()).await?;
    Ok(CreatedMember { id, login_id })
}

/// Disables a member (AUTH-7); false when already disabled.
pub async fn disable_member(store: &Store, login_id: &str) -> Result<bool, PeopleOpError> {
    Ok(store
        .disable_member(&LoginId::parse(login_id)?, now_ms())
        .await?)
}

/// An e-mail address as typed, checked; a 422 naming the `email` field otherwise.
pub fn checked_email(typed: &str) -> Result<String, crate::error::ApiError> {
    enshin_core::patient::email(typed).map_err(|e| {
        crate::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!("email: {e}"),
        )
        .with_field("email")
        .with_problem(e.problem.code())
    })
}
