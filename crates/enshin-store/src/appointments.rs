//! Appointments (FUNC-2). A booking or a move takes a per-doctor lock (a PostgreSQL advisory
//! lock; on SQLite the write transaction itself), checks that no appointment holding its slot
//! overlaps, and writes; the partial unique index on (doctor, start) backs this up. So two
//! requests for one slot, on one instance or two, never both succeed.

use enshin_core::appointment::State;
use sqlx::{Any, Row, Transaction};

use crate::Store;
use crate::db::Backend;
use crate::db::is_unique_violation;

/// An appointment to make.
#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    /// New id.
    pub id: &'a str,
    /// The clinic.
    pub clinic_id: &'a str,
    /// The registry record of the patient.
    pub clinic_patient_id: &'a str,
    /// The doctor.
    pub doctor_id: &'a str,
    /// The menu.
    pub menu_id: &'a str,
    /// Start, unix ms.
    pub starts_at: i64,
    /// End, unix ms.
    pub ends_at: i64,
    /// Requested or confirmed.
    pub state: State,
    /// Who booked (the patient's account or a member's).
    pub booked_by: &'a str,
}

/// An appointment as shown to members and to its patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    /// Id.
    pub id: String,
    /// The clinic.
    pub clinic_id: String,
    /// The clinic's name.
    pub clinic_name: String,
    /// The registry record of the patient.
    pub clinic_patient_id: String,
    /// The doctor.
    pub doctor_id: String,
    /// The doctor's display name.
    pub doctor_name: String,
    /// The menu.
    pub menu_id: String,
    /// The menu's name.
    pub menu_name: String,
    /// `online` or `in_person`.
    pub mode: String,
    /// Start, unix ms.
    pub starts_at: i64,
    /// End, unix ms.
    pub ends_at: i64,
    /// Where it stands.
    pub state: State,
    /// Last change, unix ms.
    pub updated_at: i64,
}

/// Why a booking or a move did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// Another appointment holds an overlapping time of this doctor.
    #[error("this time was taken just now")]
    Taken,
    /// The appointment changed state meanwhile (or does not exist).
    #[error("the appointment changed meanwhile")]
    Changed,
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// Which reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// The day before.
    Day,
    /// An hour before.
    Hour,
}

impl Reminder {
    fn column(self) -> &'static str {
        match self {
            Self::Day => "reminded_day_at",
            Self::Hour => "reminded_hour_at",
        }
    }
}

const SELECT: &str = "SELECT a.id, a.clinic_id, c.name, a.clinic_patient_id, a.doctor_id, m.display_name, \
     a.menu_id, v.name, v.mode, a.starts_at, a.ends_at, a.state, a.updated_at \
     FROM appointments a JOIN clinics c ON c.id = a.clinic_id \
     JOIN members m ON m.account_id = a.doctor_id JOIN visit_menus v ON v.id = a.menu_id";

fn appointment_of(r: &sqlx::any::AnyRow) -> Result<Appointment, sqlx::Error> {
    let state: String = r.try_get(11)?;
    Ok(Appointment {
        id: r.try_get(0)?,
        clinic_id: r.try_get(1)?,
        clinic_name: r.try_get(2)?,
        clinic_patient_id: r.try_get(3)?,
        doctor_id: r.try_get(4)?,
        doctor_name: r.try_get(5)?,
        menu_id: r.try_get(6)?,
        menu_name: r.try_get(7)?,
        mode: r.try_get(8)?,
        starts_at: r.try_get(9)?,
        ends_at: r.try_get(10)?,
        state: State::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode("stored state unknown".into()))?,
        updated_at: r.try_get(12)?,
    })
}

/// Takes the doctor's booking lock for the rest of the transaction and tells whether another
/// appointment (not `except`) holding its slot overlaps `starts_at..ends_at`.
async fn overlaps(
    backend: Backend,
    tx: &mut Transaction<'static, Any>,
    doctor_id: &str,
    starts_at: i64,
    ends_at: i64,
    except: &str,
) -> Result<bool, sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('booking:' || $1))")
            .bind(doctor_id)
            .execute(&mut **tx)
            .await?;
    }
    let row = sqlx::query(
        "SELECT COUNT(*) FROM appointments WHERE doctor_id = $1 AND state <> 'cancelled' \
         AND starts_at < $2 AND ends_at > $3 AND id <> $4",
    )
    .bind(doctor_id)
    .bind(ends_at)
    .bind(starts_at)
    .bind(except)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

impl Store {
    /// Books an appointment unless its doctor is busy at that time.
    pub async fn book_appointment(
        &self,
        a: &NewAppointment<'_>,
        now: i64,
    ) -> Result<(), BookError> {
        let mut tx = self.begin_write().await?;
        if overlaps(
            self.backend(),
            &mut tx,
            a.doctor_id,
            a.starts_at,
            a.ends_at,
            "",
        )
        .await?
        {
            return Err(BookError::Taken);
        }
        let inserted = sqlx::query(
            "INSERT INTO appointments (id, clinic_id, clinic_patient_id, doctor_id, menu_id, starts_at, ends_at, \
             state, booked_by, created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $9)",
        )
        .bind(a.id)
        .bind(a.clinic_id)
        .bind(a.clinic_patient_id)
        .bind(a.doctor_id)
        .bind(a.menu_id)
        .bind(a.starts_at)
        .bind(a.ends_at)
        .bind(a.state.as_str())
        .bind(a.booked_by)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(BookError::Taken),
            other => other?,
        };
        // A menu that asks for a questionnaire asks the patient at booking (FUNC-3).
        sqlx::query(
            "INSERT INTO questionnaire_requests (id, clinic_id, clinic_patient_id, questionnaire_id, appointment_id, \
             requested_by, requested_at) SELECT $1, clinic_id, $2, questionnaire_id, $3, $4, $5 FROM visit_menus \
             WHERE id = $6 AND clinic_id = $7 AND questionnaire_id IS NOT NULL",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(a.clinic_patient_id)
        .bind(a.id)
        .bind(a.booked_by)
        .bind(now)
        .bind(a.menu_id)
        .bind(a.clinic_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves an appointment that is still in state `state` to a new time, unless its doctor is
    /// busy then; the reminders are sent again for the new time.
    pub async fn reschedule_appointment(
        &self,
        a: &Appointment,
        starts_at: i64,
        ends_at: i64,
        by: &str,
        now: i64,
    ) -> Result<(), BookError> {
        let mut tx = self.begin_write().await?;
        if overlaps(
            self.backend(),
            &mut tx,
            &a.doctor_id,
            starts_at,
            ends_at,
            &a.id,
        )
        .await?
        {
            return Err(BookError::Taken);
        }
        let updated = sqlx::query(
            "UPDATE appointments SET starts_at = $1, ends_at = $2, updated_at = $3, updated_by = $4, \
             reminded_day_at = NULL, reminded_hour_at = NULL WHERE id = $5 AND clinic_id = $6 AND state = $7 AND updated_at = $8",
        )
        .bind(starts_at)
        .bind(ends_at)
        .bind(now)
        .bind(by)
        .bind(&a.id)
        .bind(&a.clinic_id)
        .bind(a.state.as_str())
        .bind(a.updated_at)
        .execute(&mut *tx)
        .await;
        let updated = match updated {
            Err(e) if is_unique_violation(&e) => return Err(BookError::Taken),
            other => other?,
        };
        if updated.rows_affected() != 1 {
            return Err(BookError::Changed);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves an appointment from `from` to `to` (checked by the caller), if it is still `from`.
    pub async fn move_appointment(
        &self,
        clinic_id: &str,
        id: &str,
        from: State,
        to: State,
        by: &str,
        now: i64,
    ) -> Result<(), BookError> {
        let updated = sqlx::query(
            "UPDATE appointments SET state = $1, updated_at = $2, updated_by = $3 \
             WHERE id = $4 AND clinic_id = $5 AND state = $6",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(by)
        .bind(id)
        .bind(clinic_id)
        .bind(from.as_str())
        .execute(self.pool())
        .await;
        let updated = match updated {
            // A cancelled appointment cannot come back over a slot booked since.
            Err(e) if is_unique_violation(&e) => return Err(BookError::Taken),
            other => other?,
        };
        if updated.rows_affected() == 1 {
            Ok(())
        } else {
            Err(BookError::Changed)
        }
    }

    /// One appointment of the clinic.
    pub async fn appointment(
        &self,
        clinic_id: &str,
        id: &str,
    ) -> Result<Option<Appointment>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE a.clinic_id = $1 AND a.id = $2"
        )))
        .bind(clinic_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(appointment_of).transpose()
    }

    /// The clinic's appointments starting in `from..to`, of one doctor or all, by start.
    pub async fn clinic_appointments(
        &self,
        clinic_id: &str,
        from: i64,
        to: i64,
        doctor_id: Option<&str>,
    ) -> Result<Vec<Appointment>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE a.clinic_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 \
             AND ($4 = '' OR a.doctor_id = $4) ORDER BY a.starts_at, m.display_name, a.id"
        )))
        .bind(clinic_id)
        .bind(from)
        .bind(to)
        .bind(doctor_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(appointment_of).collect()
    }

    /// A patient account's appointments at every clinic it is linked to, by start.
    pub async fn account_appointments(
        &self,
        account_id: &str,
    ) -> Result<Vec<Appointment>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} JOIN patient_links l ON l.clinic_patient_id = a.clinic_patient_id \
             WHERE l.patient_account_id = $1 ORDER BY a.starts_at, a.id"
        )))
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(appointment_of).collect()
    }

    /// One appointment of a patient account, at any clinic it is linked to.
    pub async fn account_appointment(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<Appointment>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} JOIN patient_links l ON l.clinic_patient_id = a.clinic_patient_id \
             WHERE l.patient_account_id = $1 AND a.id = $2"
        )))
        .bind(account_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(appointment_of).transpose()
    }

    /// The ranges (start, end) in `from..to` when the doctor's slots are held, but by `except`.
    pub async fn busy_ranges(
        &self,
        doctor_id: &str,
        from: i64,
        to: i64,
        except: &str,
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT starts_at, ends_at FROM appointments WHERE doctor_id = $1 AND state <> 'cancelled' \
             AND starts_at < $2 AND ends_at > $3 AND id <> $4",
        )
        .bind(doctor_id)
        .bind(to)
        .bind(from)
        .bind(except)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Visits of a registry record that wait (requested or confirmed) and start after `now`.
    pub async fn waiting_visits(
        &self,
        clinic_patient_id: &str,
        now: i64,
    ) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM appointments WHERE clinic_patient_id = $1 \
             AND state IN ('requested', 'confirmed') AND starts_at > $2",
        )
        .bind(clinic_patient_id)
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        row.try_get(0)
    }

    /// The registry record the patient account is linked to in a clinic.
    pub async fn linked_record(
        &self,
        clinic_id: &str,
        account_id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT clinic_patient_id FROM patient_links WHERE clinic_id = $1 AND patient_account_id = $2",
        )
        .bind(clinic_id)
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    /// Claims the reminders of kind `kind` due now: confirmed appointments of linked patients
    /// starting after `now + after` and by `now + until` (ms) that have not had it. Each is marked sent in the same step
    /// (compare-and-set), so two instances never send one twice. Returns (appointment, account).
    pub async fn claim_reminders(
        &self,
        kind: Reminder,
        (after, until): (i64, i64),
        now: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        let column = kind.column();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, l.patient_account_id FROM appointments a \
             JOIN patient_links l ON l.clinic_patient_id = a.clinic_patient_id \
             WHERE a.state = 'confirmed' AND a.{column} IS NULL AND a.starts_at > $1 AND a.starts_at <= $2 \
             ORDER BY a.starts_at LIMIT $3"
        )))
        .bind(now + after)
        .bind(now + until)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut claimed = Vec::new();
        for r in &rows {
            let id: String = r.try_get(0)?;
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE appointments SET {column} = $1 WHERE id = $2 AND {column} IS NULL"
            )))
            .bind(now)
            .bind(&id)
            .execute(self.pool())
            .await?;
            if done.rows_affected() == 1 {
                claimed.push((id, r.try_get(1)?));
            }
        }
        Ok(claimed)
    }
}
