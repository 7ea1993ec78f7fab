//! Incident mode's emergency accounts (AVAIL-4, §8-②(b)): the clinic's emergency period, its
//! temporary accounts, and the clinic administrator's contact address they are sent to.

use sqlx::Row;

use crate::Store;
use crate::people::{NewMember, PeopleError, insert_member};

/// What incident mode needs to know of a clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicContact {
    /// Clinic name.
    pub name: String,
    /// The administrator's e-mail address, if registered.
    pub admin_email: Option<String>,
    /// End of an emergency in force (or past: compare with the time).
    pub emergency_until: Option<i64>,
}

/// Why an emergency did not start.
#[derive(Debug, thiserror::Error)]
pub enum EmergencyStoreError {
    /// No such clinic.
    #[error("no such clinic")]
    NoClinic,
    /// The clinic is in an emergency already.
    #[error("the clinic is in an emergency already")]
    Active,
    /// Creating an account failed.
    #[error(transparent)]
    People(#[from] PeopleError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl Store {
    /// The clinic's name, admin contact and emergency end.
    pub async fn clinic_contact(
        &self,
        clinic_id: &str,
    ) -> Result<Option<ClinicContact>, sqlx::Error> {
        let row =
            sqlx::query("SELECT name, admin_email, emergency_until FROM clinics WHERE id = $1")
                .bind(clinic_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(|r| {
            Ok(ClinicContact {
                name: r.try_get(0)?,
                admin_email: r.try_get(1)?,
                emergency_until: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Sets the clinic administrator's contact address; false when there is no such clinic.
    pub async fn set_admin_email(&self, clinic_id: &str, email: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE clinics SET admin_email = $1 WHERE id = $2")
            .bind(email)
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Starts an emergency until `until`: creates the emergency accounts and ends every session
    /// of the clinic's normal members, in one transaction.
    pub async fn start_emergency(
        &self,
        clinic_id: &str,
        accounts: &[NewMember<'_>],
        until: i64,
        now: i64,
    ) -> Result<(), EmergencyStoreError> {
        let mut tx = self.begin_write().await?;
        let current: Option<Option<i64>> =
            sqlx::query_scalar("SELECT emergency_until FROM clinics WHERE id = $1")
                .bind(clinic_id)
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            None => return Err(EmergencyStoreError::NoClinic),
            Some(Some(end)) if end > now => return Err(EmergencyStoreError::Active),
            Some(_) => {}
        }
        sqlx::query("UPDATE clinics SET emergency_until = $1 WHERE id = $2")
            .bind(until)
            .bind(clinic_id)
            .execute(&mut *tx)
            .await?;
        for account in accounts {
            insert_member(&mut tx, account, Some(until), now).await?;
        }
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_reason = 'emergency' WHERE ended_at IS NULL AND account_id IN \
             (SELECT account_id FROM members WHERE clinic_id = $2 AND emergency_until IS NULL)",
        )
        .bind(now)
        .bind(clinic_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a clinic's emergency now: normal members may log in again, the emergency accounts
    /// are disabled and their sessions end. False when none was in force.
    pub async fn end_emergency(&self, clinic_id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query(
            "UPDATE clinics SET emergency_until = $1 WHERE id = $2 AND emergency_until > $1",
        )
        .bind(now)
        .bind(clinic_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if ended {
            sqlx::query(
                "UPDATE members SET emergency_until = $1 WHERE clinic_id = $2 AND emergency_until > $1",
            )
            .bind(now)
            .bind(clinic_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE accounts SET disabled_at = $1 WHERE disabled_at IS NULL AND id IN \
                 (SELECT account_id FROM members WHERE clinic_id = $2 AND emergency_until IS NOT NULL)",
            )
            .bind(now)
            .bind(clinic_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE sessions SET ended_at = $1, ended_reason = 'emergency_ended' WHERE ended_at IS NULL AND account_id IN \
                 (SELECT account_id FROM members WHERE clinic_id = $2 AND emergency_until IS NOT NULL)",
            )
            .bind(now)
            .bind(clinic_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ended)
    }
}
