//! A clinic leaving the service (DATA-5): its termination notice, and the deletion of every row
//! it owns in one transaction. The access log is another store and is never touched (LOG-2).

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use crate::Store;

/// A clinic's termination notice and, once done, its deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// The clinic.
    pub clinic_id: String,
    /// Its name when notice was given (kept after deletion, for the certificate).
    pub clinic_name: String,
    /// When notice was recorded, unix ms.
    pub noticed_at: i64,
    /// Who recorded it (an operator's name on the command line).
    pub noticed_by: String,
    /// The termination date (Japan), `YYYY-MM-DD`.
    pub effective_on: String,
    /// When the rows were deleted, unix ms.
    pub deleted_at: Option<i64>,
    /// Rows deleted per kind (set with `deleted_at`).
    pub deleted: BTreeMap<String, u64>,
    /// The signed deletion certificate (JSON).
    pub certificate: Option<String>,
}

const COLUMNS: &str = "SELECT clinic_id, clinic_name, noticed_at, noticed_by, effective_on, deleted_at, certificate, deleted_counts FROM clinic_terminations";

fn termination(row: &sqlx::any::AnyRow) -> Result<Termination, sqlx::Error> {
    Ok(Termination {
        clinic_id: row.try_get(0)?,
        clinic_name: row.try_get(1)?,
        noticed_at: row.try_get(2)?,
        noticed_by: row.try_get(3)?,
        effective_on: row.try_get(4)?,
        deleted_at: row.try_get(5)?,
        certificate: row.try_get(6)?,
        deleted: row
            .try_get::<Option<String>, _>(7)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
    })
}

/// The clinic's rows, children before parents, as (kind, statement with `$1` = the clinic id).
/// Rows of patients' own accounts (their profiles and readings) are the patients' and stay.
const CLINIC_ROWS: &[(&str, &str)] = &[
    (
        "call_connections",
        "DELETE FROM call_connections WHERE appointment_id IN (SELECT id FROM appointments WHERE clinic_id = $1)",
    ),
    (
        "call_credentials",
        "DELETE FROM call_credentials WHERE appointment_id IN (SELECT id FROM appointments WHERE clinic_id = $1)",
    ),
    ("calls", "DELETE FROM calls WHERE clinic_id = $1"),
    (
        "identity_checks",
        "DELETE FROM identity_checks WHERE clinic_id = $1",
    ),
    (
        "plan_agreements",
        "DELETE FROM plan_agreements WHERE plan_id IN (SELECT id FROM care_plans WHERE clinic_id = $1)",
    ),
    (
        "care_plan_versions",
        "DELETE FROM care_plan_versions WHERE plan_id IN (SELECT id FROM care_plans WHERE clinic_id = $1)",
    ),
    ("care_plans", "DELETE FROM care_plans WHERE clinic_id = $1"),
    (
        "visit_note_versions",
        "DELETE FROM visit_note_versions WHERE note_id IN (SELECT id FROM visit_notes WHERE clinic_id = $1)",
    ),
    (
        "visit_notes",
        "DELETE FROM visit_notes WHERE clinic_id = $1",
    ),
    (
        "questionnaire_photos",
        "DELETE FROM questionnaire_photos WHERE request_id IN (SELECT id FROM questionnaire_requests WHERE clinic_id = $1)",
    ),
    (
        "questionnaire_requests",
        "DELETE FROM questionnaire_requests WHERE clinic_id = $1",
    ),
    ("alerts", "DELETE FROM alerts WHERE clinic_id = $1"),
    ("thresholds", "DELETE FROM thresholds WHERE clinic_id = $1"),
    (
        "appointments",
        "DELETE FROM appointments WHERE clinic_id = $1",
    ),
    (
        "visit_menus",
        "DELETE FROM visit_menus WHERE clinic_id = $1",
    ),
    (
        "questionnaire_versions",
        "DELETE FROM questionnaire_versions WHERE questionnaire_id IN (SELECT id FROM questionnaires WHERE clinic_id = $1)",
    ),
    (
        "questionnaires",
        "DELETE FROM questionnaires WHERE clinic_id = $1",
    ),
    (
        "doctor_hours",
        "DELETE FROM doctor_hours WHERE clinic_id = $1",
    ),
    (
        "doctor_exceptions",
        "DELETE FROM doctor_exceptions WHERE clinic_id = $1",
    ),
    (
        "invitations",
        "DELETE FROM invitations WHERE clinic_id = $1",
    ),
    (
        "join_requests",
        "DELETE FROM join_requests WHERE clinic_id = $1",
    ),
    (
        "patient_links",
        "DELETE FROM patient_links WHERE clinic_id = $1",
    ),
    (
        "access_grants",
        "DELETE FROM access_grants WHERE clinic_id = $1",
    ),
    (
        "clinic_patients",
        "DELETE FROM clinic_patients WHERE clinic_id = $1",
    ),
];

/// The member accounts' own rows, deleted before the accounts.
const MEMBER_ROWS: &[(&str, &str)] = &[
    ("sessions", "DELETE FROM sessions WHERE account_id = $1"),
    (
        "one_time_codes",
        "DELETE FROM one_time_codes WHERE account_id = $1",
    ),
    (
        "reset_links",
        "DELETE FROM reset_links WHERE account_id = $1",
    ),
    (
        "terms_acceptances",
        "DELETE FROM terms_acceptances WHERE account_id = $1",
    ),
    ("members", "DELETE FROM members WHERE account_id = $1"),
    ("accounts", "DELETE FROM accounts WHERE id = $1"),
];

async fn delete(
    tx: &mut Transaction<'static, Any>,
    counts: &mut BTreeMap<String, u64>,
    kind: &str,
    sql: &'static str,
    id: &str,
) -> Result<(), sqlx::Error> {
    let done = sqlx::query(sql).bind(id).execute(&mut **tx).await?;
    *counts.entry(kind.to_owned()).or_default() += done.rows_affected();
    Ok(())
}

impl Store {
    /// Records (or moves) a clinic's termination date; `None` when there is no such clinic or it
    /// is already deleted.
    pub async fn give_termination_notice(
        &self,
        clinic_id: &str,
        effective_on: &str,
        by: &str,
        now: i64,
    ) -> Result<Option<Termination>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM clinics WHERE id = $1")
            .bind(clinic_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(name) = name else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO clinic_terminations (clinic_id, clinic_name, noticed_at, noticed_by, effective_on) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (clinic_id) DO UPDATE \
             SET noticed_at = $3, noticed_by = $4, effective_on = $5 WHERE clinic_terminations.deleted_at IS NULL",
        )
        .bind(clinic_id)
        .bind(&name)
        .bind(now)
        .bind(by)
        .bind(effective_on)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.termination(clinic_id).await
    }

    /// Withdraws a termination notice the clinic took back, before the deletion began; false if
    /// there is none to withdraw (none given, or the clinic is being or was deleted).
    pub async fn withdraw_termination_notice(&self, clinic_id: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM clinic_terminations WHERE clinic_id = $1 AND deleted_at IS NULL AND erasing = 0",
        )
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A clinic's termination, if notice was given.
    pub async fn termination(&self, clinic_id: &str) -> Result<Option<Termination>, sqlx::Error> {
        let sql = format!("{COLUMNS} WHERE clinic_id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(clinic_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(termination)
            .transpose()
    }

    /// Every termination, by date.
    pub async fn terminations(&self) -> Result<Vec<Termination>, sqlx::Error> {
        let sql = format!("{COLUMNS} ORDER BY effective_on, clinic_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(termination)
            .collect()
    }

    /// Deletes every row of a clinic with a termination notice, in one transaction: its records
    /// (the append-only triggers let them go only inside it), registry, schedule, visits,
    /// questionnaires, links, its members' accounts and sessions, and the clinic itself; its
    /// certificates' serials stay on the CRL. Returns the rows deleted per kind, or `None` when
    /// the clinic has no open termination.
    pub async fn erase_clinic(
        &self,
        clinic_id: &str,
        now: i64,
    ) -> Result<Option<BTreeMap<String, u64>>, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        let opened = sqlx::query(
            "UPDATE clinic_terminations SET erasing = 1 WHERE clinic_id = $1 AND deleted_at IS NULL",
        )
        .bind(clinic_id)
        .execute(&mut *tx)
        .await?;
        if opened.rows_affected() == 0 {
            return Ok(None);
        }
        let mut counts = BTreeMap::new();
        for (kind, sql) in CLINIC_ROWS {
            delete(&mut tx, &mut counts, kind, sql, clinic_id).await?;
        }
        let members: Vec<String> =
            sqlx::query_scalar("SELECT account_id FROM members WHERE clinic_id = $1")
                .bind(clinic_id)
                .fetch_all(&mut *tx)
                .await?;
        for account in &members {
            for (kind, sql) in MEMBER_ROWS {
                delete(&mut tx, &mut counts, kind, sql, account).await?;
            }
        }
        let retired = sqlx::query(
            "INSERT INTO retired_certificates (serial, revoked_at, not_after) \
             SELECT serial, COALESCE(revoked_at, $2), not_after FROM client_certificates WHERE clinic_id = $1",
        )
        .bind(clinic_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        counts.insert("client_certificates".into(), retired.rows_affected());
        sqlx::query("DELETE FROM client_certificates WHERE clinic_id = $1")
            .bind(clinic_id)
            .execute(&mut *tx)
            .await?;
        delete(
            &mut tx,
            &mut counts,
            "suspensions",
            "DELETE FROM suspensions WHERE scope = $1",
            clinic_id,
        )
        .await?;
        delete(
            &mut tx,
            &mut counts,
            "clinics",
            "DELETE FROM clinics WHERE id = $1",
            clinic_id,
        )
        .await?;
        sqlx::query(
            "UPDATE clinic_terminations SET erasing = 0, deleted_at = $2, deleted_counts = $3 WHERE clinic_id = $1",
        )
        .bind(clinic_id)
        .bind(now)
        .bind(serde_json::to_string(&counts).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(counts))
    }

    /// Keeps the signed deletion certificate with the termination.
    pub async fn store_deletion_certificate(
        &self,
        clinic_id: &str,
        certificate: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE clinic_terminations SET certificate = $1 WHERE clinic_id = $2")
            .bind(certificate)
            .bind(clinic_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
