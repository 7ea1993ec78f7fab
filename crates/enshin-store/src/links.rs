//! Invitations and the links between patient accounts and clinics (FUNC-1). Redeeming is one
//! transaction with a compare-and-set on the invitation, so a code links exactly one account.

use sqlx::Row;

use crate::Store;

/// A new invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    /// Invitation id.
    pub id: &'a str,
    /// The clinic.
    pub clinic_id: &'a str,
    /// The registry record it links to.
    pub clinic_patient_id: &'a str,
    /// SHA-256 of the canonical code.
    pub code_digest: &'a str,
    /// The member who printed it.
    pub created_by: &'a str,
    /// Until when it works.
    pub expires_at: i64,
}

/// A clinic a patient is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The clinic.
    pub clinic_id: String,
    /// Its name.
    pub clinic_name: String,
    /// Linked, unix ms.
    pub linked_at: i64,
}

/// How redeeming a code went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// Linked to this clinic.
    Linked(Link),
    /// No usable invitation with this code (unknown, used or expired: one answer for all).
    Invalid,
    /// The account is linked to the clinic already, or the record to another account.
    AlreadyLinked,
}

impl Store {
    /// Whether the registry record exists in this clinic.
    pub async fn clinic_patient_exists(
        &self,
        clinic_id: &str,
        id: &str,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM clinic_patients WHERE id = $1 AND clinic_id = $2")
                .bind(id)
                .bind(clinic_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(found.is_some())
    }

    /// Stores an invitation; earlier unused invitations of the same record stop working.
    pub async fn create_invitation(
        &self,
        inv: &NewInvitation<'_>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE invitations SET expires_at = $1 WHERE clinic_patient_id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(inv.clinic_patient_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO invitations (id, clinic_id, clinic_patient_id, code_digest, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(inv.id)
        .bind(inv.clinic_id)
        .bind(inv.clinic_patient_id)
        .bind(inv.code_digest)
        .bind(inv.created_by)
        .bind(now)
        .bind(inv.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Redeems a code for a patient account.
    pub async fn redeem_invitation(
        &self,
        code_digest: &str,
        account_id: &str,
        now: i64,
    ) -> Result<Redeemed, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT i.id, i.clinic_id, i.clinic_patient_id, c.name FROM invitations i JOIN clinics c ON c.id = i.clinic_id \
             WHERE i.code_digest = $1 AND i.used_at IS NULL AND i.expires_at > $2",
        )
        .bind(code_digest)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Redeemed::Invalid);
        };
        let (id, clinic_id, record, clinic_name): (String, String, String, String) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        );
        let taken: Option<String> = sqlx::query_scalar(
            "SELECT clinic_id FROM patient_links WHERE (clinic_id = $1 AND patient_account_id = $2) OR clinic_patient_id = $3",
        )
        .bind(&clinic_id)
        .bind(account_id)
        .bind(&record)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Ok(Redeemed::AlreadyLinked);
        }
        let won = sqlx::query(
            "UPDATE invitations SET used_at = $1, used_by = $2 WHERE id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            return Ok(Redeemed::Invalid);
        }
        sqlx::query(
            "INSERT INTO patient_links (clinic_id, patient_account_id, clinic_patient_id, linked_at, via) \
             VALUES ($1, $2, $3, $4, 'invitation')",
        )
        .bind(&clinic_id)
        .bind(account_id)
        .bind(&record)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Redeemed::Linked(Link {
            clinic_id,
            clinic_name,
            linked_at: now,
        }))
    }

    /// The clinics a patient account is linked to, oldest link first.
    pub async fn links_of(&self, account_id: &str) -> Result<Vec<Link>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT l.clinic_id, c.name, l.linked_at FROM patient_links l JOIN clinics c ON c.id = l.clinic_id \
             WHERE l.patient_account_id = $1 ORDER BY l.linked_at, l.clinic_id",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Link {
                    clinic_id: r.try_get(0)?,
                    clinic_name: r.try_get(1)?,
                    linked_at: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// The patient account linked to a registry record of this clinic, if any.
    pub async fn linked_account(
        &self,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT patient_account_id FROM patient_links WHERE clinic_id = $1 AND clinic_patient_id = $2",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_optional(self.pool())
        .await
    }

    /// The clinic's public code, made (as `fresh`) if it has none yet.
    pub async fn public_code(
        &self,
        clinic_id: &str,
        fresh: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("UPDATE clinics SET public_code = $1 WHERE id = $2 AND public_code IS NULL")
            .bind(fresh)
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
        Ok(
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT public_code FROM clinics WHERE id = $1",
            )
            .bind(clinic_id)
            .fetch_optional(self.pool())
            .await?
            .flatten(),
        )
    }

    /// The clinic (id, name) with this public code.
    pub async fn clinic_by_code(
        &self,
        code: &str,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT id, name FROM clinics WHERE public_code = $1")
            .bind(code)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Files a patient's request to join a clinic; false if one is open or they are linked.
    pub async fn ask_to_join(
        &self,
        id: &str,
        clinic_id: &str,
        account_id: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let open: Option<String> = sqlx::query_scalar(
            "SELECT clinic_id FROM patient_links WHERE clinic_id = $1 AND patient_account_id = $2 \
             UNION SELECT clinic_id FROM join_requests WHERE clinic_id = $1 AND patient_account_id = $2 AND decided_at IS NULL",
        )
        .bind(clinic_id)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO join_requests (id, clinic_id, patient_account_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A clinic's open join requests, oldest first: (request id, patient account).
    pub async fn open_join_requests(
        &self,
        clinic_id: &str,
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, patient_account_id, created_at FROM join_requests WHERE clinic_id = $1 AND decided_at IS NULL \
             ORDER BY created_at, id",
        )
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// The patient account of an open request of this clinic.
    pub async fn open_join_request(
        &self,
        clinic_id: &str,
        id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT patient_account_id FROM join_requests WHERE id = $1 AND clinic_id = $2 AND decided_at IS NULL",
        )
        .bind(id)
        .bind(clinic_id)
        .fetch_optional(self.pool())
        .await
    }

    /// Decides an open request: approving links the account to `record` (a registry record of
    /// the clinic without a link). False if the request was decided meanwhile or the record is
    /// linked already.
    pub async fn decide_join(
        &self,
        clinic_id: &str,
        id: &str,
        member: &str,
        record: Option<&str>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let won = sqlx::query(
            "UPDATE join_requests SET decided_at = $1, decided_by = $2, outcome = $3, clinic_patient_id = $4 \
             WHERE id = $5 AND clinic_id = $6 AND decided_at IS NULL",
        )
        .bind(now)
        .bind(member)
        .bind(if record.is_some() { "approved" } else { "refused" })
        .bind(record)
        .bind(id)
        .bind(clinic_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            return Ok(false);
        }
        if let Some(record) = record {
            let inserted = sqlx::query(
                "INSERT INTO patient_links (clinic_id, patient_account_id, clinic_patient_id, linked_at, via) \
                 SELECT $1, patient_account_id, $2, $3, 'request' FROM join_requests WHERE id = $4",
            )
            .bind(clinic_id)
            .bind(record)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => return Ok(false),
                other => {
                    other?;
                }
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A patient's join requests: (clinic name, state), newest first.
    pub async fn join_requests_of(
        &self,
        account_id: &str,
    ) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT c.name, COALESCE(r.outcome, 'pending'), r.created_at FROM join_requests r \
             JOIN clinics c ON c.id = r.clinic_id WHERE r.patient_account_id = $1 ORDER BY r.created_at DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }
}
