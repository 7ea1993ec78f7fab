//! Home monitoring (FUNC-4): patients' devices, their readings, the clinics' alert thresholds
//! and the alerts they raise. Readings are sealed with the patient-account key, thresholds,
//! alerts' bounds and comments with the clinic's key. Adding readings, checking them against
//! every linked clinic's thresholds and raising alerts is one transaction, and the thresholds
//! are locked meanwhile, so two batches at once never raise the same alert twice.

use enshin_core::crypto::envelope::{DataKey, FieldContext};
use enshin_core::vitals::{Bounds, Kind};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::Store;
use crate::db::Backend;
use crate::keyring::{Keyring, KeyringError, PATIENT_KEY};

/// The `source` of readings the patient typed.
pub const MANUAL: &str = "manual";
/// Rows per INSERT statement (9 parameters each). sqlx looks parameters up by name for every
/// bound value, which grows with the square of their number, so a few statements of 25 rows beat
/// one of 100 (measured with `enshin-bench ingest`).
const ROWS_PER_INSERT: usize = 25;

/// Why a monitoring operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    /// No such device, threshold or alert (or another person's or clinic's).
    #[error("not found")]
    NotFound,
    /// The alert was acknowledged already.
    #[error("this alert was acknowledged already")]
    AlreadyAcknowledged,
    /// A key is missing or destroyed, or a value does not open.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// A reading to add, already checked against its kind's range.
#[derive(Debug, Clone)]
pub struct NewReading {
    /// New id.
    pub id: String,
    /// The kind.
    pub kind: Kind,
    /// The value in the kind's smallest step.
    pub scaled: i64,
    /// When it was measured, unix ms.
    pub measured_at: i64,
    /// The patient's note.
    pub note: Option<String>,
    /// The sender's id for it (idempotency).
    pub client_id: Option<String>,
}

/// Readings of one patient from one source, sent together.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The patient's account.
    pub account_id: String,
    /// The device id, or [`MANUAL`].
    pub source: String,
    /// The readings, checked.
    pub readings: Vec<NewReading>,
    /// When they arrived, unix ms.
    pub now: i64,
}

/// What adding a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Readings added.
    pub added: usize,
    /// Readings already there (same sender id), left as they were.
    pub duplicates: usize,
    /// Alerts raised, as (clinic, alert id).
    pub alerts: Vec<(String, String)>,
}

/// A stored reading, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReading {
    /// Id.
    pub id: String,
    /// The kind.
    pub kind: Kind,
    /// The value in the kind's smallest step.
    pub scaled: i64,
    /// When it was measured, unix ms.
    pub measured_at: i64,
    /// When it reached the service, unix ms.
    pub recorded_at: i64,
    /// The note (only when asked for).
    pub note: Option<String>,
    /// The device id, or [`MANUAL`].
    pub source: String,
}

/// Which readings to read.
#[derive(Debug, Clone, Copy)]
pub struct ReadingQuery {
    /// One kind, or all.
    pub kind: Option<Kind>,
    /// Measured at or after, unix ms.
    pub from: i64,
    /// Measured before, unix ms.
    pub until: i64,
    /// At most this many.
    pub limit: i64,
    /// Open the notes too (lists and exports; charts need none).
    pub notes: bool,
    /// Newest first (lists) or oldest first (charts).
    pub newest_first: bool,
}

/// A patient's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Id.
    pub id: String,
    /// The patient's name for it.
    pub name: String,
    /// Registered, unix ms.
    pub created_at: i64,
    /// Last batch, unix ms.
    pub last_used_at: Option<i64>,
    /// Revoked, unix ms.
    pub revoked_at: Option<i64>,
}

/// A clinic's threshold for one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    /// The bounds.
    pub bounds: Bounds,
    /// Who set it.
    pub set_by: String,
    /// When, unix ms.
    pub set_at: i64,
}

/// An alert on a clinic's worklist, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Id.
    pub id: String,
    /// The patient's registry record.
    pub clinic_patient_id: String,
    /// The reading that raised it.
    pub reading_id: String,
    /// Its kind.
    pub kind: Kind,
    /// Its value.
    pub scaled: i64,
    /// When it was measured, unix ms.
    pub measured_at: i64,
    /// The bounds it left.
    pub bounds: Bounds,
    /// When the alert was raised, unix ms.
    pub raised_at: i64,
    /// Who acknowledged it, and when.
    pub acknowledged: Option<(String, i64)>,
    /// Their comment.
    pub comment: Option<String>,
}

fn field<'a>(owner: &'a str, table: &'a str, column: &'a str, row: &'a str) -> FieldContext<'a> {
    FieldContext {
        clinic_id: owner,
        table,
        column,
        row_id: row,
    }
}

fn open_text(
    key: &DataKey,
    ctx: &FieldContext<'_>,
    sealed: &[u8],
) -> Result<String, MonitoringError> {
    let plain = key.open(ctx, sealed).map_err(KeyringError::from)?;
    String::from_utf8(plain).map_err(|_| MonitoringError::Database(sqlx::Error::RowNotFound))
}

fn seal(key: &DataKey, ctx: &FieldContext<'_>, text: &str) -> Result<Vec<u8>, MonitoringError> {
    Ok(key.seal(ctx, text.as_bytes()).map_err(KeyringError::from)?)
}

fn stored_kind(name: &str) -> Result<Kind, MonitoringError> {
    Kind::parse(name).ok_or(MonitoringError::Database(sqlx::Error::RowNotFound))
}

/// Bounds as sealed text: `above;below`, either side empty when absent.
fn bounds_text(b: &Bounds) -> String {
    let side = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    format!("{};{}", side(b.above), side(b.below))
}

fn bounds_of(kind: Kind, text: &str) -> Result<Bounds, MonitoringError> {
    let bad = || MonitoringError::Database(sqlx::Error::RowNotFound);
    let (above, below) = text.split_once(';').ok_or_else(bad)?;
    let side = |s: &str| {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(|_| bad())
        }
    };
    Ok(Bounds {
        kind,
        above: side(above)?,
        below: side(below)?,
    })
}

fn open_bounds(
    key: &DataKey,
    clinic_id: &str,
    table: &str,
    row: &str,
    kind: Kind,
    sealed: &[u8],
) -> Result<Bounds, MonitoringError> {
    let text = open_text(key, &field(clinic_id, table, "bounds", row), sealed)?;
    bounds_of(kind, &text)
}

fn open_value(key: &DataKey, id: &str, sealed: &[u8]) -> Result<i64, MonitoringError> {
    open_text(key, &field(PATIENT_KEY, "readings", "value", id), sealed)?
        .parse()
        .map_err(|_| MonitoringError::Database(sqlx::Error::RowNotFound))
}

/// The row id of a threshold, for its sealed bounds.
fn threshold_row(clinic_patient_id: &str, kind: Kind) -> String {
    format!("{clinic_patient_id}/{}", kind.spec().name)
}

async fn insert_readings(
    tx: &mut Transaction<'static, Any>,
    key: &DataKey,
    account_id: &str,
    source: &str,
    readings: &[NewReading],
    now: i64,
) -> Result<Vec<String>, MonitoringError> {
    let mut added = Vec::with_capacity(readings.len());
    for chunk in readings.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO readings (id, account_id, kind, measured_at, recorded_at, value, note, source, client_id) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        sql.push_str(" ON CONFLICT (account_id, source, client_id) DO NOTHING RETURNING id");
        let mut sealed = Vec::with_capacity(chunk.len());
        for r in chunk {
            let value = seal(
                key,
                &field(PATIENT_KEY, "readings", "value", &r.id),
                &r.scaled.to_string(),
            )?;
            let note = r
                .note
                .as_deref()
                .map(|n| seal(key, &field(PATIENT_KEY, "readings", "note", &r.id), n))
                .transpose()?;
            sealed.push((value, note));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (r, (value, note)) in chunk.iter().zip(sealed) {
            query = query
                .bind(r.id.clone())
                .bind(account_id.to_owned())
                .bind(r.kind.spec().name)
                .bind(r.measured_at)
                .bind(now)
                .bind(value)
                .bind(note)
                .bind(source.to_owned())
                .bind(r.client_id.clone());
        }
        for row in query.fetch_all(&mut **tx).await? {
            added.push(row.try_get::<String, _>(0)?);
        }
    }
    Ok(added)
}

impl Store {
    /// Adds batches of readings (each of one patient and one source) in one transaction,
    /// skipping readings their source sent before, and raises the alerts of every clinic each
    /// patient is linked to; one result per batch, in order.
    pub async fn add_reading_batches(
        &self,
        keyring: &Keyring,
        batches: &[Batch],
    ) -> Result<Vec<Ingested>, MonitoringError> {
        let key = keyring.data_key(PATIENT_KEY)?;
        let mut tx = self.begin_write().await?;
        let mut results = Vec::with_capacity(batches.len());
        for b in batches {
            let added =
                insert_readings(&mut tx, &key, &b.account_id, &b.source, &b.readings, b.now)
                    .await?;
            if b.source != MANUAL {
                sqlx::query("UPDATE devices SET last_used_at = $1 WHERE id = $2")
                    .bind(b.now)
                    .bind(&b.source)
                    .execute(&mut *tx)
                    .await?;
            }
            let fresh: std::collections::HashSet<&str> = added.iter().map(String::as_str).collect();
            let mut new: Vec<&NewReading> = b
                .readings
                .iter()
                .filter(|r| fresh.contains(r.id.as_str()))
                .collect();
            new.sort_by(|x, y| (x.measured_at, &x.id).cmp(&(y.measured_at, &y.id)));
            let alerts = if new.is_empty() {
                Vec::new()
            } else {
                self.raise_alerts(&mut tx, keyring, &b.account_id, &new, b.now)
                    .await?
            };
            results.push(Ingested {
                added: added.len(),
                duplicates: b.readings.len() - added.len(),
                alerts,
            });
        }
        tx.commit().await?;
        Ok(results)
    }

    async fn raise_alerts(
        &self,
        tx: &mut Transaction<'static, Any>,
        keyring: &Keyring,
        account_id: &str,
        new: &[&NewReading],
        now: i64,
    ) -> Result<Vec<(String, String)>, MonitoringError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE OF t",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT t.clinic_id, t.clinic_patient_id, t.kind, t.bounds, t.out_of_bounds, t.state_at \
             FROM thresholds t JOIN patient_links l \
             ON l.clinic_id = t.clinic_id AND l.clinic_patient_id = t.clinic_patient_id \
             WHERE l.patient_account_id = $1 ORDER BY t.clinic_id, t.kind{lock}"
        )))
        .bind(account_id)
        .fetch_all(&mut **tx)
        .await?;
        let mut raised = Vec::new();
        for row in rows {
            let clinic_id: String = row.try_get(0)?;
            let patient_id: String = row.try_get(1)?;
            let kind = stored_kind(&row.try_get::<String, _>(2)?)?;
            let sealed: Vec<u8> = row.try_get(3)?;
            let was_out = row.try_get::<i64, _>(4)? != 0;
            let state_at: i64 = row.try_get(5)?;
            let of_kind: Vec<&&NewReading> = new
                .iter()
                .filter(|r| r.kind == kind && r.measured_at > state_at)
                .collect();
            let Some(last) = of_kind.last() else {
                continue;
            };
            let clinic_key = keyring.data_key(&clinic_id)?;
            let row_id = threshold_row(&patient_id, kind);
            let bounds = open_bounds(
                &clinic_key,
                &clinic_id,
                "thresholds",
                &row_id,
                kind,
                &sealed,
            )?;
            let values: Vec<i64> = of_kind.iter().map(|r| r.scaled).collect();
            let (crossings, out) = bounds.crossings(was_out, &values);
            for i in crossings {
                let id = uuid::Uuid::now_v7().to_string();
                let snapshot = seal(
                    &clinic_key,
                    &field(&clinic_id, "alerts", "bounds", &id),
                    &bounds_text(&bounds),
                )?;
                sqlx::query(
                    "INSERT INTO alerts (id, clinic_id, clinic_patient_id, kind, reading_id, bounds, raised_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&id)
                .bind(&clinic_id)
                .bind(&patient_id)
                .bind(kind.spec().name)
                .bind(&of_kind[i].id)
                .bind(snapshot)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                raised.push((clinic_id.clone(), id));
            }
            sqlx::query(
                "UPDATE thresholds SET out_of_bounds = $1, state_at = $2 \
                 WHERE clinic_id = $3 AND clinic_patient_id = $4 AND kind = $5",
            )
            .bind(i64::from(out))
            .bind(last.measured_at)
            .bind(&clinic_id)
            .bind(&patient_id)
            .bind(kind.spec().name)
            .execute(&mut **tx)
            .await?;
        }
        Ok(raised)
    }

    /// A patient's readings, opened.
    pub async fn readings(
        &self,
        keyring: &Keyring,
        account_id: &str,
        q: ReadingQuery,
    ) -> Result<Vec<StoredReading>, MonitoringError> {
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let kind_filter = if q.kind.is_some() {
            "AND kind = $5"
        } else {
            ""
        };
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, kind, value, measured_at, recorded_at, note, source FROM readings \
             WHERE account_id = $1 AND measured_at >= $2 AND measured_at < $3 AND withdrawn_at IS NULL {kind_filter} \
             ORDER BY measured_at {order}, id {order} LIMIT $4"
        )))
        .bind(account_id)
        .bind(q.from)
        .bind(q.until)
        .bind(q.limit);
        let query = match q.kind {
            Some(k) => query.bind(k.spec().name),
            None => query,
        };
        let rows = query.fetch_all(self.pool()).await?;
        let key = keyring.data_key(PATIENT_KEY)?;
        rows.iter()
            .map(|row| open_reading(&key, row, q.notes))
            .collect()
    }

    /// A patient's readings measured in `from..until` for a chart, oldest first: kind, time and
    /// value only (the lightest read of many rows).
    pub async fn series(
        &self,
        keyring: &Keyring,
        account_id: &str,
        from: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<(Kind, i64, i64)>, MonitoringError> {
        let rows = sqlx::query(
            "SELECT id, kind, measured_at, value FROM readings \
             WHERE account_id = $1 AND measured_at >= $2 AND measured_at < $3 AND withdrawn_at IS NULL \
             ORDER BY measured_at, id LIMIT $4",
        )
        .bind(account_id)
        .bind(from)
        .bind(until)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let key = keyring.data_key(PATIENT_KEY)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get(0)?;
                let value: Vec<u8> = row.try_get(3)?;
                Ok((
                    stored_kind(&row.try_get::<String, _>(1)?)?,
                    row.try_get(2)?,
                    open_value(&key, &id, &value)?,
                ))
            })
            .collect()
    }

    /// Withdraws one of the patient's own readings (kept, marked, left out of everything shown).
    pub async fn withdraw_reading(
        &self,
        account_id: &str,
        id: &str,
        now: i64,
    ) -> Result<(), MonitoringError> {
        let done = sqlx::query(
            "UPDATE readings SET withdrawn_at = $1 WHERE id = $2 AND account_id = $3 AND withdrawn_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(account_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(MonitoringError::NotFound);
        }
        Ok(())
    }

    /// Registers a device of a patient; only the digest of its token is kept.
    pub async fn add_device(
        &self,
        keyring: &Keyring,
        id: &str,
        account_id: &str,
        name: &str,
        token_digest: &str,
        now: i64,
    ) -> Result<(), MonitoringError> {
        let key = keyring.data_key(PATIENT_KEY)?;
        let sealed = seal(&key, &field(PATIENT_KEY, "devices", "name", id), name)?;
        sqlx::query(
            "INSERT INTO devices (id, account_id, name, token_digest, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(account_id)
        .bind(sealed)
        .bind(token_digest)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A patient's devices, newest first.
    pub async fn devices(
        &self,
        keyring: &Keyring,
        account_id: &str,
    ) -> Result<Vec<Device>, MonitoringError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at, revoked_at FROM devices \
             WHERE account_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(account_id)
        .fetch_all(self.pool())
        .await?;
        let key = keyring.data_key(PATIENT_KEY)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get(0)?;
                let sealed: Vec<u8> = row.try_get(1)?;
                Ok(Device {
                    name: open_text(&key, &field(PATIENT_KEY, "devices", "name", &id), &sealed)?,
                    id,
                    created_at: row.try_get(2)?,
                    last_used_at: row.try_get(3)?,
                    revoked_at: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Revokes a patient's own device; its token stops working at once.
    pub async fn revoke_device(
        &self,
        account_id: &str,
        id: &str,
        now: i64,
    ) -> Result<(), MonitoringError> {
        let done = sqlx::query(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3",
        )
        .bind(now)
        .bind(id)
        .bind(account_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(MonitoringError::NotFound);
        }
        Ok(())
    }

    /// The live device of a token digest and its patient's account: not revoked, account not
    /// disabled.
    pub async fn device_by_token(
        &self,
        token_digest: &str,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT d.id, d.account_id FROM devices d JOIN accounts a ON a.id = d.account_id \
             WHERE d.token_digest = $1 AND d.revoked_at IS NULL AND a.disabled_at IS NULL",
        )
        .bind(token_digest)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Sets (or replaces) a clinic's threshold for a patient and kind. Readings that arrive from
    /// now on are compared afresh, whenever they were measured, so a patient already out of the
    /// new bounds raises an alert with the next reading; readings stored before raise none.
    pub async fn set_threshold(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        clinic_patient_id: &str,
        bounds: &Bounds,
        by: &str,
        now: i64,
    ) -> Result<(), MonitoringError> {
        let key = keyring.data_key(clinic_id)?;
        let row_id = threshold_row(clinic_patient_id, bounds.kind);
        let sealed = seal(
            &key,
            &field(clinic_id, "thresholds", "bounds", &row_id),
            &bounds_text(bounds),
        )?;
        sqlx::query(
            "INSERT INTO thresholds (clinic_id, clinic_patient_id, kind, bounds, set_by, set_at, out_of_bounds, state_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0) \
             ON CONFLICT (clinic_id, clinic_patient_id, kind) DO UPDATE SET bounds = excluded.bounds, \
             set_by = excluded.set_by, set_at = excluded.set_at, out_of_bounds = 0, state_at = 0",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .bind(bounds.kind.spec().name)
        .bind(sealed)
        .bind(by)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes a clinic's threshold for a patient and kind; its alerts stay.
    pub async fn remove_threshold(
        &self,
        clinic_id: &str,
        clinic_patient_id: &str,
        kind: Kind,
    ) -> Result<(), MonitoringError> {
        let done = sqlx::query(
            "DELETE FROM thresholds WHERE clinic_id = $1 AND clinic_patient_id = $2 AND kind = $3",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .bind(kind.spec().name)
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(MonitoringError::NotFound);
        }
        Ok(())
    }

    /// A clinic's thresholds for a patient, in the order of the kinds.
    pub async fn thresholds(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        clinic_patient_id: &str,
    ) -> Result<Vec<Threshold>, MonitoringError> {
        let rows = sqlx::query(
            "SELECT kind, bounds, set_by, set_at FROM thresholds WHERE clinic_id = $1 AND clinic_patient_id = $2",
        )
        .bind(clinic_id)
        .bind(clinic_patient_id)
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = keyring.data_key(clinic_id)?;
        let mut list = rows
            .iter()
            .map(|row| {
                let kind = stored_kind(&row.try_get::<String, _>(0)?)?;
                let sealed: Vec<u8> = row.try_get(1)?;
                let row_id = threshold_row(clinic_patient_id, kind);
                Ok(Threshold {
                    bounds: open_bounds(&key, clinic_id, "thresholds", &row_id, kind, &sealed)?,
                    set_by: row.try_get(2)?,
                    set_at: row.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, MonitoringError>>()?;
        list.sort_by_key(|t| t.bounds.kind);
        Ok(list)
    }

    /// A clinic's alerts, newest first: the open ones, or all (acknowledged too).
    pub async fn alerts(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<Alert>, MonitoringError> {
        let open = if open_only {
            "AND a.acknowledged_at IS NULL"
        } else {
            ""
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.clinic_patient_id, a.reading_id, a.kind, r.value, r.measured_at, a.bounds, \
             a.raised_at, a.acknowledged_by, a.acknowledged_at, a.comment \
             FROM alerts a JOIN readings r ON r.id = a.reading_id \
             WHERE a.clinic_id = $1 {open} ORDER BY a.raised_at DESC, a.id DESC LIMIT $2"
        )))
        .bind(clinic_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let patient_key = keyring.data_key(PATIENT_KEY)?;
        let clinic_key = keyring.data_key(clinic_id)?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get(0)?;
                let reading_id: String = row.try_get(2)?;
                let kind = stored_kind(&row.try_get::<String, _>(3)?)?;
                let value: Vec<u8> = row.try_get(4)?;
                let bounds: Vec<u8> = row.try_get(6)?;
                let by: Option<String> = row.try_get(8)?;
                let at: Option<i64> = row.try_get(9)?;
                let comment: Option<Vec<u8>> = row.try_get(10)?;
                Ok(Alert {
                    scaled: open_value(&patient_key, &reading_id, &value)?,
                    bounds: open_bounds(&clinic_key, clinic_id, "alerts", &id, kind, &bounds)?,
                    comment: comment
                        .map(|c| {
                            open_text(&clinic_key, &field(clinic_id, "alerts", "comment", &id), &c)
                        })
                        .transpose()?,
                    clinic_patient_id: row.try_get(1)?,
                    kind,
                    measured_at: row.try_get(5)?,
                    raised_at: row.try_get(7)?,
                    acknowledged: by.zip(at),
                    id,
                    reading_id,
                })
            })
            .collect()
    }

    /// Acknowledges an open alert of the clinic with a comment; once only.
    pub async fn acknowledge_alert(
        &self,
        keyring: &Keyring,
        clinic_id: &str,
        id: &str,
        by: &str,
        comment: &str,
        now: i64,
    ) -> Result<(), MonitoringError> {
        let key = keyring.data_key(clinic_id)?;
        let sealed = seal(&key, &field(clinic_id, "alerts", "comment", id), comment)?;
        let done = sqlx::query(
            "UPDATE alerts SET acknowledged_by = $1, acknowledged_at = $2, comment = $3 \
             WHERE id = $4 AND clinic_id = $5 AND acknowledged_at IS NULL",
        )
        .bind(by)
        .bind(now)
        .bind(sealed)
        .bind(id)
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM alerts WHERE id = $1 AND clinic_id = $2")
                .bind(id)
                .bind(clinic_id)
                .fetch_optional(self.pool())
                .await?;
        Err(match exists {
            Some(_) => MonitoringError::AlreadyAcknowledged,
            None => MonitoringError::NotFound,
        })
    }
}

impl Store {
    /// The zone a patient's measurement times are shown in.
    pub async fn patient_time_zone(&self, account_id: &str) -> Result<String, sqlx::Error> {
        let zone: Option<String> =
            sqlx::query_scalar("SELECT time_zone FROM patients WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(zone.unwrap_or_else(|| "Asia/Tokyo".to_owned()))
    }

    /// Sets the zone of a patient's measurement times (a valid IANA name).
    pub async fn set_patient_time_zone(
        &self,
        account_id: &str,
        zone: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE patients SET time_zone = $1 WHERE account_id = $2")
            .bind(zone)
            .bind(account_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

fn open_reading(
    key: &DataKey,
    row: &AnyRow,
    notes: bool,
) -> Result<StoredReading, MonitoringError> {
    let id: String = row.try_get(0)?;
    let value: Vec<u8> = row.try_get(2)?;
    let note: Option<Vec<u8>> = if notes { row.try_get(5)? } else { None };
    Ok(StoredReading {
        scaled: open_value(key, &id, &value)?,
        note: note
            .map(|n| open_text(key, &field(PATIENT_KEY, "readings", "note", &id), &n))
            .transpose()?,
        kind: stored_kind(&row.try_get::<String, _>(1)?)?,
        measured_at: row.try_get(3)?,
        recorded_at: row.try_get(4)?,
        source: row.try_get(6)?,
        id,
    })
}
