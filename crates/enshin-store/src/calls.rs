//! Video consultation (FUNC-5): join credentials, the call record of an appointment (start, end,
//! who was connected), a clinic's contact number, and the parking place of signalling messages
//! too large for one PostgreSQL notification. No media is ever stored.

use enshin_core::call::{Role, StoredCredential};
use sqlx::Row;

use crate::Store;

/// How long a parked signalling message is kept for the instance that delivers it.
const SIGNAL_KEEP_MS: i64 = 5 * 60_000;
/// How long used or expired credentials are kept (for the investigation of a refusal).
const CREDENTIAL_KEEP_MS: i64 = 24 * 3_600_000;

/// One connection to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The person.
    pub account_id: String,
    /// Their side.
    pub role: Role,
    /// When they connected, unix ms.
    pub joined_at: i64,
    /// When they left; `None` while connected.
    pub left_at: Option<i64>,
    /// `left`, `replaced`, `ended` or `lost`.
    pub left_reason: Option<String>,
}

/// The call of an appointment, for the visit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The first admission of the patient: the call's start.
    pub started_at: Option<i64>,
    /// When the doctor ended it, or the room last emptied.
    pub ended_at: Option<i64>,
    /// Whether the patient may go straight back in after a reconnect.
    pub admitted: bool,
    /// Every connection, oldest first.
    pub connections: Vec<Connection>,
}

fn role_of(text: &str) -> Result<Role, sqlx::Error> {
    Role::parse(text).ok_or_else(|| sqlx::Error::Decode("stored call role unknown".into()))
}

impl Store {
    /// Stores a new join credential (its digest) and forgets day-old ones.
    pub async fn add_call_credential(
        &self,
        digest: &str,
        stored: &StoredCredential,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM call_credentials WHERE expires_at < $1")
            .bind(now - CREDENTIAL_KEEP_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO call_credentials (digest, appointment_id, account_id, role, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(digest)
        .bind(&stored.appointment_id)
        .bind(&stored.account_id)
        .bind(stored.role.as_str())
        .bind(now)
        .bind(stored.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The credential with this digest.
    pub async fn call_credential(
        &self,
        digest: &str,
    ) -> Result<Option<StoredCredential>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT appointment_id, account_id, role, expires_at, used_at FROM call_credentials WHERE digest = $1",
        )
        .bind(digest)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(StoredCredential {
                appointment_id: r.try_get(0)?,
                account_id: r.try_get(1)?,
                role: role_of(&r.try_get::<String, _>(2)?)?,
                expires_at: r.try_get(3)?,
                used_at: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Marks a credential used; false if it was used meanwhile (two sockets raced with it).
    pub async fn use_call_credential(&self, digest: &str, now: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE call_credentials SET used_at = $1 WHERE digest = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(digest)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a connection to a room (creating the call's row on the first) and reopens a call
    /// that had emptied.
    pub async fn open_call_connection(
        &self,
        id: &str,
        appointment_id: &str,
        clinic_id: &str,
        account_id: &str,
        role: Role,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO calls (appointment_id, clinic_id) VALUES ($1, $2) \
             ON CONFLICT (appointment_id) DO UPDATE SET ended_at = NULL, ended_by = NULL",
        )
        .bind(appointment_id)
        .bind(clinic_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO call_connections (id, appointment_id, account_id, role, joined_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(appointment_id)
        .bind(account_id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Records the end of a connection; the call ends when nobody is left in the room.
    pub async fn close_call_connection(
        &self,
        id: &str,
        appointment_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE call_connections SET left_at = $1, left_reason = $2 WHERE id = $3 AND left_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE calls SET ended_at = $1 WHERE appointment_id = $2 AND ended_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM call_connections WHERE appointment_id = $2 AND left_at IS NULL)",
        )
        .bind(now)
        .bind(appointment_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The doctor admits the patient: the call starts (the first time), and a confirmed
    /// appointment moves to "in consultation".
    pub async fn admit_to_call(
        &self,
        appointment_id: &str,
        doctor_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE calls SET admitted = 1, started_at = COALESCE(started_at, $1), \
             admitted_by = COALESCE(admitted_by, $2) WHERE appointment_id = $3",
        )
        .bind(now)
        .bind(doctor_id)
        .bind(appointment_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE appointments SET state = 'in_consultation', updated_at = $1, updated_by = $2 \
             WHERE id = $3 AND state = 'confirmed'",
        )
        .bind(now)
        .bind(doctor_id)
        .bind(appointment_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The doctor ends the call: whoever comes back waits to be admitted again.
    pub async fn end_call(
        &self,
        appointment_id: &str,
        doctor_id: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE calls SET admitted = 0, ended_at = $1, ended_by = $2 WHERE appointment_id = $3",
        )
        .bind(now)
        .bind(doctor_id)
        .bind(appointment_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The call of an appointment, if its room was ever opened.
    pub async fn call_record(
        &self,
        appointment_id: &str,
    ) -> Result<Option<CallRecord>, sqlx::Error> {
        let Some(row) = sqlx::query(
            "SELECT started_at, ended_at, admitted FROM calls WHERE appointment_id = $1",
        )
        .bind(appointment_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let connections = sqlx::query(
            "SELECT account_id, role, joined_at, left_at, left_reason FROM call_connections \
             WHERE appointment_id = $1 ORDER BY joined_at, id",
        )
        .bind(appointment_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Connection {
                account_id: r.try_get(0)?,
                role: role_of(&r.try_get::<String, _>(1)?)?,
                joined_at: r.try_get(2)?,
                left_at: r.try_get(3)?,
                left_reason: r.try_get(4)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some(CallRecord {
            started_at: row.try_get(0)?,
            ended_at: row.try_get(1)?,
            admitted: row.try_get::<i64, _>(2)? != 0,
            connections,
        }))
    }

    /// The clinic's contact telephone number (empty when not set).
    pub async fn clinic_phone(&self, clinic_id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT contact_phone FROM clinics WHERE id = $1")
            .bind(clinic_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    /// Sets the clinic's contact telephone number.
    pub async fn set_clinic_phone(&self, clinic_id: &str, phone: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE clinics SET contact_phone = $1 WHERE id = $2")
            .bind(phone)
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Parks a signalling message for another instance and forgets stale ones.
    pub async fn park_signal(&self, id: &str, body: &str, now: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM call_signals WHERE created_at < $1")
            .bind(now - SIGNAL_KEEP_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO call_signals (id, body, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// A parked signalling message.
    pub async fn parked_signal(&self, id: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("SELECT body FROM call_signals WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| r.try_get(0)).transpose()
    }
}
