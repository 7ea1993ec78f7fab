//! Clinics, accounts and members.

use enshin_core::people::{AccountKind, LoginId, Role};
use sqlx::Row;

use crate::Store;

/// A clinic's row counts (backup drill).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicRows {
    /// The clinic.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Registry records.
    pub patients: i64,
    /// Appointments.
    pub appointments: i64,
    /// Visit notes.
    pub notes: i64,
}

/// Why a change to people could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    /// The login ID belongs to another account of the same kind (now or in the past).
    #[error("the login ID {0} is already taken")]
    LoginIdTaken(String),
    /// The clinic does not exist.
    #[error("there is no clinic with id {0}")]
    NoSuchClinic(String),
    /// No member has this login ID.
    #[error("there is no clinic member with login ID {0}")]
    NoSuchMember(String),
    /// No operator has this login ID.
    #[error("there is no operator with login ID {0}")]
    NoSuchOperator(String),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// A clinic as operators list it (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicSummary {
    /// Clinic id.
    pub id: String,
    /// Clinic name.
    pub name: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Members that are not disabled.
    pub active_members: i64,
}

/// A member as their clinic's admin sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// Account id.
    pub id: String,
    /// Login ID.
    pub login_id: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Expiry of an emergency account (AVAIL-4); `None` for a normal one.
    pub emergency_until: Option<i64>,
}

/// A member to create.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    /// New account id (uuid v7).
    pub account_id: &'a str,
    /// The clinic.
    pub clinic_id: &'a str,
    /// Canonical login ID.
    pub login_id: &'a LoginId,
    /// Role in the clinic.
    pub role: Role,
    /// Name shown to colleagues and patients.
    pub display_name: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
}

/// An account row to insert.
pub(crate) struct NewAccount<'a> {
    pub(crate) id: &'a str,
    pub(crate) kind: AccountKind,
    pub(crate) login_id: &'a LoginId,
    pub(crate) password_hash: &'a str,
}

/// Inserts an account inside `tx`; a login ID used before by the same kind (even by a disabled
/// account) is [`PeopleError::LoginIdTaken`] (AUTH-8).
pub(crate) async fn insert_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account: &NewAccount<'_>,
    now_ms: i64,
) -> Result<(), PeopleError> {
    let inserted = sqlx::query("INSERT INTO accounts (id, kind, login_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(account.id)
        .bind(account.kind.as_str())
        .bind(account.login_id.as_str())
        .bind(account.password_hash)
        .bind(now_ms)
        .execute(&mut **tx)
        .await;
    match inserted {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(PeopleError::LoginIdTaken(account.login_id.to_string()))
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// Inserts a member's account and membership; `emergency_until` makes it an emergency account.
pub(crate) async fn insert_member(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    member: &NewMember<'_>,
    emergency_until: Option<i64>,
    now_ms: i64,
) -> Result<(), PeopleError> {
    let account = NewAccount {
        id: member.account_id,
        kind: AccountKind::Member,
        login_id: member.login_id,
        password_hash: member.password_hash,
    };
    insert_account(tx, &account, now_ms).await?;
    sqlx::query("INSERT INTO members (account_id, clinic_id, role, display_name, emergency_until) VALUES ($1, $2, $3, $4, $5)")
        .bind(member.account_id)
        .bind(member.clinic_id)
        .bind(member.role.as_str())
        .bind(member.display_name)
        .bind(emergency_until)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Creates a clinic.
    pub async fn create_clinic(
        &self,
        id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<(), PeopleError> {
        sqlx::query("INSERT INTO clinics (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Whether a clinic with this id exists.
    pub async fn clinic_exists(&self, id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM clinics WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(found.is_some())
    }

    /// A clinic's name, `None` for an unknown clinic.
    pub async fn clinic_name(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT name FROM clinics WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await
    }

    /// Every clinic with its number of registry records, appointments and visit notes, for the
    /// backup drill's report (counts only, no personal data).
    pub async fn clinic_row_counts(&self) -> Result<Vec<ClinicRows>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, \
                    (SELECT COUNT(*) FROM clinic_patients p WHERE p.clinic_id = c.id), \
                    (SELECT COUNT(*) FROM appointments a WHERE a.clinic_id = c.id), \
                    (SELECT COUNT(*) FROM visit_notes n WHERE n.clinic_id = c.id) \
             FROM clinics c ORDER BY c.created_at, c.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClinicRows {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    patients: row.try_get(2)?,
                    appointments: row.try_get(3)?,
                    notes: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Every clinic with its number of active members, oldest first.
    pub async fn list_clinics(&self) -> Result<Vec<ClinicSummary>, PeopleError> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.created_at, \
                    (SELECT COUNT(*) FROM members m JOIN accounts a ON a.id = m.account_id \
                     WHERE m.clinic_id = c.id AND a.disabled_at IS NULL) \
             FROM clinics c ORDER BY c.created_at, c.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClinicSummary {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    created_at: row.try_get(2)?,
                    active_members: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Creates a member's account and membership in one transaction.
    pub async fn create_member(
        &self,
        member: &NewMember<'_>,
        now_ms: i64,
    ) -> Result<(), PeopleError> {
        let mut tx = self.begin_write().await?;
        let clinic = sqlx::query("SELECT id FROM clinics WHERE id = $1")
            .bind(member.clinic_id)
            .fetch_optional(&mut *tx)
            .await?;
        if clinic.is_none() {
            return Err(PeopleError::NoSuchClinic(member.clinic_id.to_owned()));
        }
        insert_member(&mut tx, member, None, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables a member's account and ends its sessions (AUTH-7); false when already disabled.
    pub async fn disable_member(
        &self,
        login_id: &LoginId,
        now_ms: i64,
    ) -> Result<bool, PeopleError> {
        self.disable_account(AccountKind::Member, login_id, now_ms)
            .await?
            .ok_or_else(|| PeopleError::NoSuchMember(login_id.to_string()))
    }

    /// Disables an account of `kind` and ends its sessions in the same transaction (AUTH-7);
    /// `None` when there is no such account, `Some(false)` when it was disabled already.
    pub async fn disable_account(
        &self,
        kind: AccountKind,
        login_id: &LoginId,
        now_ms: i64,
    ) -> Result<Option<bool>, PeopleError> {
        let mut tx = self.begin_write().await?;
        let Some(row) =
            sqlx::query("SELECT disabled_at FROM accounts WHERE kind = $1 AND login_id = $2")
                .bind(kind.as_str())
                .bind(login_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(None);
        };
        if row.try_get::<Option<i64>, _>(0)?.is_some() {
            return Ok(Some(false));
        }
        sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE kind = $2 AND login_id = $3")
            .bind(now_ms)
            .bind(kind.as_str())
            .bind(login_id.as_str())
            .execute(&mut *tx)
            .await?;
        // AUTH-7: disabling ends every session of the account in the same transaction.
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_reason = 'account_disabled' WHERE ended_at IS NULL \
             AND account_id = (SELECT id FROM accounts WHERE kind = $2 AND login_id = $3)",
        )
        .bind(now_ms)
        .bind(kind.as_str())
        .bind(login_id.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(true))
    }

    /// The members of a clinic, by login ID.
    pub async fn list_members(&self, clinic_id: &str) -> Result<Vec<MemberSummary>, PeopleError> {
        let rows = sqlx::query(
            "SELECT a.id, a.login_id, m.display_name, m.role, a.disabled_at, m.emergency_until FROM members m \
             JOIN accounts a ON a.id = m.account_id WHERE m.clinic_id = $1 ORDER BY a.login_id",
        )
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MemberSummary {
                    id: row.try_get(0)?,
                    login_id: row.try_get(1)?,
                    display_name: row.try_get(2)?,
                    role: row.try_get(3)?,
                    disabled: row.try_get::<Option<i64>, _>(4)?.is_some(),
                    emergency_until: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// The clinic and login ID of a member account, if it is one.
    pub async fn member_clinic(
        &self,
        account_id: &str,
    ) -> Result<Option<(String, String)>, PeopleError> {
        let row = sqlx::query("SELECT m.clinic_id, a.login_id FROM members m JOIN accounts a ON a.id = m.account_id WHERE a.id = $1")
            .bind(account_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .transpose()?)
    }

    /// Sets the role of a member.
    pub async fn set_member_role(&self, account_id: &str, role: Role) -> Result<(), PeopleError> {
        sqlx::query("UPDATE members SET role = $1 WHERE account_id = $2")
            .bind(role.as_str())
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
