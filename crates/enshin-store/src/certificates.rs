//! Clinic client certificates: issued, listed, used, revoked (AUTH-1, NET-2). Revocation ends the
//! sessions bound to the certificate in the same transaction, and every instance rebuilds its CRL
//! from [`Store::revoked_certificates`].

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;

/// A certificate to record at issue.
#[derive(Debug, Clone)]
pub struct NewCertificate<'a> {
    /// Serial number, lower-case hex.
    pub serial: &'a str,
    /// The clinic it belongs to.
    pub clinic_id: &'a str,
    /// Which PC or purpose it is for, as the operator named it.
    pub label: &'a str,
    /// Start of validity, unix ms.
    pub not_before: i64,
    /// End of validity, unix ms.
    pub not_after: i64,
}

/// A certificate as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Serial number, lower-case hex.
    pub serial: String,
    /// The clinic.
    pub clinic_id: String,
    /// Which PC or purpose.
    pub label: String,
    /// Start of validity, unix ms.
    pub not_before: i64,
    /// End of validity, unix ms.
    pub not_after: i64,
    /// Issue time, unix ms.
    pub issued_at: i64,
    /// Revocation time, unix ms.
    pub revoked_at: Option<i64>,
    /// Why it was revoked.
    pub revoked_reason: Option<String>,
    /// Last log-in or request with it, unix ms (written at most once a minute).
    pub last_used_at: Option<i64>,
}

/// Why a revocation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// No certificate has this serial.
    #[error("there is no client certificate with serial {0}")]
    NoSuchCertificate(String),
    /// It was revoked before.
    #[error("the certificate {0} is already revoked")]
    AlreadyRevoked(String),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// `SELECT` of every column, then the rest of the statement (a literal: sqlx takes only
/// static SQL).
macro_rules! select_certificates {
    ($rest:literal) => {
        concat!(
            "SELECT serial, clinic_id, label, not_before, not_after, issued_at, revoked_at, \
             revoked_reason, last_used_at FROM client_certificates ",
            $rest
        )
    };
}

fn record(row: &AnyRow) -> Result<CertificateRecord, sqlx::Error> {
    Ok(CertificateRecord {
        serial: row.try_get(0)?,
        clinic_id: row.try_get(1)?,
        label: row.try_get(2)?,
        not_before: row.try_get(3)?,
        not_after: row.try_get(4)?,
        issued_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
        revoked_reason: row.try_get(7)?,
        last_used_at: row.try_get(8)?,
    })
}

/// Last use is written at most this often per certificate.
const TOUCH_EVERY_MS: i64 = 60_000;

impl Store {
    /// Each clinic's latest expiry among its certificates neither revoked nor expired at `now`.
    pub async fn certificate_expiries(&self, now: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT clinic_id, MAX(not_after) FROM client_certificates \
             WHERE revoked_at IS NULL AND not_after > $1 GROUP BY clinic_id ORDER BY clinic_id",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Records an issued certificate.
    pub async fn record_certificate(
        &self,
        cert: &NewCertificate<'_>,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO client_certificates (serial, clinic_id, label, not_before, not_after, issued_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(cert.serial)
        .bind(cert.clinic_id)
        .bind(cert.label)
        .bind(cert.not_before)
        .bind(cert.not_after)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One certificate by serial.
    pub async fn certificate(
        &self,
        serial: &str,
    ) -> Result<Option<CertificateRecord>, sqlx::Error> {
        sqlx::query(select_certificates!("WHERE serial = $1"))
            .bind(serial)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(record)
            .transpose()
    }

    /// The certificates of one clinic, or of all clinics, soonest expiry first.
    pub async fn list_certificates(
        &self,
        clinic_id: Option<&str>,
    ) -> Result<Vec<CertificateRecord>, sqlx::Error> {
        let rows = match clinic_id {
            Some(clinic) => {
                sqlx::query(select_certificates!(
                    "WHERE clinic_id = $1 ORDER BY not_after, serial"
                ))
                .bind(clinic)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(select_certificates!("ORDER BY not_after, serial"))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.iter().map(record).collect()
    }

    /// Every revoked certificate (for the CRL): serial and revocation time, with those of
    /// deleted clinics.
    pub async fn revoked_certificates(&self) -> Result<Vec<(String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT serial, revoked_at FROM client_certificates WHERE revoked_at IS NOT NULL \
             UNION ALL SELECT serial, revoked_at FROM retired_certificates ORDER BY 2, 1",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// Revokes a certificate and ends every session that logged in with it, in one transaction.
    /// Returns the number of sessions ended.
    pub async fn revoke_certificate(
        &self,
        serial: &str,
        reason: &str,
        now: i64,
    ) -> Result<u64, RevokeError> {
        let mut tx = self.begin_write().await?;
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM client_certificates WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&mut *tx)
                .await?;
        match revoked {
            None => return Err(RevokeError::NoSuchCertificate(serial.to_owned())),
            Some(Some(_)) => return Err(RevokeError::AlreadyRevoked(serial.to_owned())),
            Some(None) => {}
        }
        sqlx::query(
            "UPDATE client_certificates SET revoked_at = $1, revoked_reason = $2 WHERE serial = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(reason)
        .bind(serial)
        .execute(&mut *tx)
        .await?;
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_reason = 'certificate_revoked' \
             WHERE client_cert_serial = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(serial)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ended.rows_affected())
    }

    /// Notes that the certificate was used now (at most once a minute).
    pub async fn touch_certificate(&self, serial: &str, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE client_certificates SET last_used_at = $1 \
             WHERE serial = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(serial)
        .bind(now - TOUCH_EVERY_MS)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
