//! Log-in lookups, the failed-log-in counters and sessions.

use enshin_core::people::{AccountKind, LoginId};
use enshin_core::session::ThrottleScope;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;

/// Counters older than this start again from one failure.
const THROTTLE_MEMORY_MS: i64 = 24 * 3_600_000;

/// What log-in needs to know of an account.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    /// Account id.
    pub account_id: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// The member's clinic.
    pub clinic_id: Option<String>,
    /// Expiry of an emergency account; `None` for a normal one.
    pub emergency_until: Option<i64>,
    /// End of the member's clinic's emergency, if one is in force.
    pub clinic_emergency_until: Option<i64>,
}

/// A new session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Session id (uuid v7), a handle that is not a credential.
    pub id: &'a str,
    /// SHA-256 of the token.
    pub token_digest: &'a str,
    /// The account.
    pub account_id: &'a str,
    /// The client certificate serial it logged in with (clinic members).
    pub client_cert_serial: Option<&'a str>,
}

/// A session as its owner sees it in "my sessions".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    /// Session id.
    pub id: String,
    /// Created, unix ms.
    pub created_at: i64,
    /// Last request, unix ms.
    pub last_seen_at: i64,
}

/// A stored session with its principal.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Session id.
    pub id: String,
    /// Account id.
    pub account_id: String,
    /// `member`, `patient` or `operator`.
    pub kind: String,
    /// Role of a member.
    pub role: Option<String>,
    /// Clinic of a member.
    pub clinic_id: Option<String>,
    /// Created, unix ms.
    pub created_at: i64,
    /// Last request, unix ms.
    pub last_seen_at: i64,
    /// Ended explicitly, unix ms.
    pub ended_at: Option<i64>,
    /// Certificate serial of the log-in.
    pub client_cert_serial: Option<String>,
    /// When the account was disabled.
    pub disabled_at: Option<i64>,
    /// Expiry of an emergency account; `None` for a normal one.
    pub emergency_until: Option<i64>,
    /// End of the member's clinic's emergency, if one is in force.
    pub clinic_emergency_until: Option<i64>,
}

fn session_record(row: &AnyRow) -> Result<SessionRecord, sqlx::Error> {
    Ok(SessionRecord {
        id: row.try_get(0)?,
        account_id: row.try_get(1)?,
        kind: row.try_get(2)?,
        role: row.try_get(3)?,
        clinic_id: row.try_get(4)?,
        created_at: row.try_get(5)?,
        last_seen_at: row.try_get(6)?,
        ended_at: row.try_get(7)?,
        client_cert_serial: row.try_get(8)?,
        disabled_at: row.try_get(9)?,
        emergency_until: row.try_get(10)?,
        clinic_emergency_until: row.try_get(11)?,
    })
}

impl Store {
    /// The account a log-in names, if any.
    pub async fn find_login(
        &self,
        kind: AccountKind,
        login_id: &LoginId,
    ) -> Result<Option<LoginRecord>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT a.id, a.password_hash, a.disabled_at, m.clinic_id, m.emergency_until, c.emergency_until \
             FROM accounts a LEFT JOIN members m ON m.account_id = a.id LEFT JOIN clinics c ON c.id = m.clinic_id \
             WHERE a.kind = $1 AND a.login_id = $2",
        )
        .bind(kind.as_str())
        .bind(login_id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(LoginRecord {
                account_id: row.try_get(0)?,
                password_hash: row.try_get(1)?,
                disabled: row.try_get::<Option<i64>, _>(2)?.is_some(),
                clinic_id: row.try_get(3)?,
                emergency_until: row.try_get(4)?,
                clinic_emergency_until: row.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Replaces a password hash (rehash with current parameters, AUTH-5).
    pub async fn set_password_hash(&self, account_id: &str, hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Until when a subject is locked out (unix ms), if it is at `now`.
    pub async fn locked_until(
        &self,
        scope: ThrottleScope,
        subject: &str,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT locked_until FROM login_throttle WHERE scope = $1 AND subject = $2",
        )
        .bind(scope.as_str())
        .bind(subject)
        .fetch_optional(self.pool())
        .await?;
        Ok(until.filter(|until| *until > now))
    }

    /// Counts one more failure and applies the lock-out the count calls for; returns the count.
    pub async fn record_failure(
        &self,
        scope: ThrottleScope,
        subject: &str,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_throttle (scope, subject, failures, locked_until, updated_at) VALUES ($1, $2, 1, 0, $3) \
             ON CONFLICT (scope, subject) DO UPDATE SET \
               failures = CASE WHEN login_throttle.updated_at < $4 THEN 1 ELSE login_throttle.failures + 1 END, \
               updated_at = $3 \
             RETURNING failures",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(now)
        .bind(now - THROTTLE_MEMORY_MS)
        .fetch_one(self.pool())
        .await?;
        if let Some(lock_ms) = scope.lockout_ms(failures) {
            sqlx::query(
                "UPDATE login_throttle SET locked_until = $1 WHERE scope = $2 AND subject = $3",
            )
            .bind(now + lock_ms)
            .bind(scope.as_str())
            .bind(subject)
            .execute(self.pool())
            .await?;
        }
        Ok(failures)
    }

    /// Forgets the failures of a subject (after a successful log-in).
    pub async fn clear_failures(
        &self,
        scope: ThrottleScope,
        subject: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_throttle WHERE scope = $1 AND subject = $2")
            .bind(scope.as_str())
            .bind(subject)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores a new session.
    pub async fn create_session(
        &self,
        session: &NewSession<'_>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (id, token_digest, account_id, created_at, last_seen_at, client_cert_serial) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(session.id)
        .bind(session.token_digest)
        .bind(session.account_id)
        .bind(now)
        .bind(session.client_cert_serial)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The session with this token digest, with its principal.
    pub async fn find_session(
        &self,
        token_digest: &str,
    ) -> Result<Option<SessionRecord>, sqlx::Error> {
        self.session_where("s.token_digest", token_digest).await
    }

    /// The session with this id, with its principal (to recheck a long-lived connection).
    pub async fn session_by_id(&self, id: &str) -> Result<Option<SessionRecord>, sqlx::Error> {
        self.session_where("s.id", id).await
    }

    async fn session_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<SessionRecord>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT s.id, s.account_id, a.kind, m.role, m.clinic_id, s.created_at, s.last_seen_at, s.ended_at, \
                    s.client_cert_serial, a.disabled_at, m.emergency_until, c.emergency_until \
             FROM sessions s JOIN accounts a ON a.id = s.account_id LEFT JOIN members m ON m.account_id = a.id \
             LEFT JOIN clinics c ON c.id = m.clinic_id \
             WHERE {column} = $1"
        )))
        .bind(value)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(session_record).transpose()
    }

    /// Sessions not ended and used since `since`, counted by kind of account.
    pub async fn open_session_counts(&self, since: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT a.kind, COUNT(*) FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.ended_at IS NULL AND s.last_seen_at >= $1 GROUP BY a.kind ORDER BY a.kind",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Records activity on a session.
    pub async fn touch_session(&self, id: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Ends one session.
    pub async fn end_session(&self, id: &str, now: i64, reason: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sessions SET ended_at = $1, ended_reason = $2 WHERE id = $3 AND ended_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The sessions of an account that were not ended explicitly, newest first.
    pub async fn open_sessions(
        &self,
        account_id: &str,
    ) -> Result<Vec<SessionSummary>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, created_at, last_seen_at FROM sessions WHERE account_id = $1 AND ended_at IS NULL \
             ORDER BY created_at DESC, id DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionSummary {
                    id: row.try_get(0)?,
                    created_at: row.try_get(1)?,
                    last_seen_at: row.try_get(2)?,
                })
            })
            .collect()
    }

    /// The account a session belongs to.
    pub async fn session_owner(&self, session_id: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT account_id FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
    }

    /// Whether an account with this id exists.
    pub async fn account_exists(&self, id: &str) -> Result<bool, sqlx::Error> {
        let found: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Ends every open session of an account (forced log-off, SESS-2); returns how many.
    pub async fn end_sessions_of(
        &self,
        account_id: &str,
        now: i64,
        reason: &str,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("UPDATE sessions SET ended_at = $1, ended_reason = $2 WHERE account_id = $3 AND ended_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
