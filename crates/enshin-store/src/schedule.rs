//! A clinic's booking settings, visit menus and doctors' hours (FUNC-2). All B-class: nothing
//! here is about a patient.

use enshin_core::booking::Settings;
use enshin_core::schedule::{Exception, Hours, Menu, Mode, Visit, Weekly};
use jiff::civil::{Date, Time, Weekday};
use sqlx::Row;

use crate::Store;

/// A stored visit menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMenu {
    /// Menu id.
    pub id: String,
    /// The menu.
    pub menu: Menu,
    /// Offered to patients (withdrawn menus stay for the appointments that used them).
    pub active: bool,
}

/// A doctor of a clinic, as patients see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doctor {
    /// Account id.
    pub id: String,
    /// Display name.
    pub name: String,
}

fn minutes_of(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

fn time_of(minutes: i64) -> Result<Time, sqlx::Error> {
    let bad = || sqlx::Error::Decode("stored minutes out of range".into());
    let hour = i8::try_from(minutes / 60).map_err(|_| bad())?;
    let minute = i8::try_from(minutes % 60).map_err(|_| bad())?;
    Time::new(hour, minute, 0, 0).map_err(|_| bad())
}

fn hours_of(start: i64, end: i64) -> Result<Hours, sqlx::Error> {
    Hours::new(time_of(start)?, time_of(end)?)
        .map_err(|_| sqlx::Error::Decode("stored hours end before they start".into()))
}

fn weekday_of(n: i64) -> Result<Weekday, sqlx::Error> {
    i8::try_from(n)
        .ok()
        .and_then(|n| Weekday::from_monday_one_offset(n).ok())
        .ok_or_else(|| sqlx::Error::Decode("stored weekday out of range".into()))
}

fn menu_of(row: &sqlx::any::AnyRow) -> Result<StoredMenu, sqlx::Error> {
    let mode: String = row.try_get(2)?;
    let visit: String = row.try_get(3)?;
    let bad = |what: &str| sqlx::Error::Decode(format!("stored menu {what} unknown").into());
    Ok(StoredMenu {
        id: row.try_get(0)?,
        menu: Menu {
            name: row.try_get(1)?,
            mode: Mode::parse(&mode).ok_or_else(|| bad("mode"))?,
            visit: Visit::parse(&visit).ok_or_else(|| bad("visit"))?,
            minutes: row.try_get(4)?,
            fee_yen: row.try_get(5)?,
        },
        active: row.try_get::<i64, _>(6)? != 0,
    })
}

const MENU_COLUMNS: &str = "id, name, mode, visit, minutes, fee_yen, active";

impl Store {
    /// The clinic's booking settings, `None` for an unknown clinic.
    pub async fn booking_settings(&self, clinic_id: &str) -> Result<Option<Settings>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT time_zone, self_booking, cancel_deadline_minutes FROM clinics WHERE id = $1",
        )
        .bind(clinic_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(Settings {
                time_zone: row.try_get(0)?,
                self_booking: row.try_get::<i64, _>(1)? != 0,
                cancel_deadline_minutes: row.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Replaces the clinic's booking settings.
    pub async fn set_booking_settings(
        &self,
        clinic_id: &str,
        s: &Settings,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE clinics SET time_zone = $1, self_booking = $2, cancel_deadline_minutes = $3 WHERE id = $4",
        )
        .bind(&s.time_zone)
        .bind(i64::from(s.self_booking))
        .bind(s.cancel_deadline_minutes)
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Adds a visit menu to a clinic.
    pub async fn add_menu(
        &self,
        id: &str,
        clinic_id: &str,
        m: &Menu,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO visit_menus (id, clinic_id, name, mode, visit, minutes, fee_yen, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(&m.name)
        .bind(m.mode.as_str())
        .bind(m.visit.as_str())
        .bind(m.minutes)
        .bind(m.fee_yen)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The clinic's menus, the offered ones first, then by name.
    pub async fn menus(&self, clinic_id: &str) -> Result<Vec<StoredMenu>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MENU_COLUMNS} FROM visit_menus WHERE clinic_id = $1 ORDER BY active DESC, name, id"
        )))
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(menu_of).collect()
    }

    /// One menu of the clinic.
    pub async fn menu(&self, clinic_id: &str, id: &str) -> Result<Option<StoredMenu>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MENU_COLUMNS} FROM visit_menus WHERE clinic_id = $1 AND id = $2"
        )))
        .bind(clinic_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(menu_of).transpose()
    }

    /// Offers or withdraws a menu; false when the clinic has no such menu.
    pub async fn set_menu_active(
        &self,
        clinic_id: &str,
        id: &str,
        active: bool,
    ) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE visit_menus SET active = $1 WHERE clinic_id = $2 AND id = $3")
                .bind(i64::from(active))
                .bind(clinic_id)
                .bind(id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The clinic's doctors whose accounts are enabled, by name.
    pub async fn doctors(&self, clinic_id: &str) -> Result<Vec<Doctor>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.account_id, m.display_name FROM members m JOIN accounts a ON a.id = m.account_id \
             WHERE m.clinic_id = $1 AND m.role = 'doctor' AND a.disabled_at IS NULL \
             ORDER BY m.display_name, m.account_id",
        )
        .bind(clinic_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Doctor {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                })
            })
            .collect()
    }

    /// Replaces a doctor's regular week.
    pub async fn set_weekly_hours(
        &self,
        clinic_id: &str,
        doctor_id: &str,
        week: &[Weekly],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM doctor_hours WHERE clinic_id = $1 AND doctor_id = $2")
            .bind(clinic_id)
            .bind(doctor_id)
            .execute(&mut *tx)
            .await?;
        for w in week {
            sqlx::query(
                "INSERT INTO doctor_hours (clinic_id, doctor_id, weekday, start_min, end_min) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(clinic_id)
            .bind(doctor_id)
            .bind(i64::from(w.weekday.to_monday_one_offset()))
            .bind(minutes_of(w.hours.start))
            .bind(minutes_of(w.hours.end))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// A doctor's regular week.
    pub async fn weekly_hours(
        &self,
        clinic_id: &str,
        doctor_id: &str,
    ) -> Result<Vec<Weekly>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT weekday, start_min, end_min FROM doctor_hours WHERE clinic_id = $1 AND doctor_id = $2 \
             ORDER BY weekday, start_min",
        )
        .bind(clinic_id)
        .bind(doctor_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Weekly {
                    weekday: weekday_of(r.try_get(0)?)?,
                    hours: hours_of(r.try_get(1)?, r.try_get(2)?)?,
                })
            })
            .collect()
    }

    /// Sets a doctor's day that differs from the week (no hours: closed), replacing an earlier
    /// one of that day.
    pub async fn set_exception(
        &self,
        clinic_id: &str,
        doctor_id: &str,
        e: &Exception,
    ) -> Result<(), sqlx::Error> {
        let day = e.date.to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM doctor_exceptions WHERE clinic_id = $1 AND doctor_id = $2 AND day = $3",
        )
        .bind(clinic_id)
        .bind(doctor_id)
        .bind(&day)
        .execute(&mut *tx)
        .await?;
        let blocks: Vec<Option<&Hours>> = if e.hours.is_empty() {
            vec![None]
        } else {
            e.hours.iter().map(Some).collect()
        };
        for h in blocks {
            sqlx::query(
                "INSERT INTO doctor_exceptions (clinic_id, doctor_id, day, start_min, end_min) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(clinic_id)
            .bind(doctor_id)
            .bind(&day)
            .bind(h.map(|h| minutes_of(h.start)))
            .bind(h.map(|h| minutes_of(h.end)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Removes a doctor's exception of one day (the week applies again); false if there was none.
    pub async fn clear_exception(
        &self,
        clinic_id: &str,
        doctor_id: &str,
        day: Date,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "DELETE FROM doctor_exceptions WHERE clinic_id = $1 AND doctor_id = $2 AND day = $3",
        )
        .bind(clinic_id)
        .bind(doctor_id)
        .bind(day.to_string())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A doctor's exceptions from `from` to `to` (both included).
    pub async fn exceptions(
        &self,
        clinic_id: &str,
        doctor_id: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<Exception>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT day, start_min, end_min FROM doctor_exceptions \
             WHERE clinic_id = $1 AND doctor_id = $2 AND day >= $3 AND day <= $4 ORDER BY day, start_min",
        )
        .bind(clinic_id)
        .bind(doctor_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<Exception> = Vec::new();
        for r in &rows {
            let day: String = r.try_get(0)?;
            let date: Date = day
                .parse()
                .map_err(|_| sqlx::Error::Decode("stored day is not a date".into()))?;
            let block = match (
                r.try_get::<Option<i64>, _>(1)?,
                r.try_get::<Option<i64>, _>(2)?,
            ) {
                (Some(start), Some(end)) => Some(hours_of(start, end)?),
                _ => None,
            };
            match out.last_mut() {
                Some(last) if last.date == date => last.hours.extend(block),
                _ => out.push(Exception {
                    date,
                    hours: block.into_iter().collect(),
                }),
            }
        }
        Ok(out)
    }
}
