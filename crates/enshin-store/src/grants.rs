//! Operators' access grants to one clinic's patient data (DATA-4): stored requests, the admins'
//! decisions and break-glass access. Deciding is a compare-and-set on the pending state, so two
//! admins deciding at once cannot both win.

use enshin_core::grant::{Asked, Kind, PENDING_MS, Scope, State, Times};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::Store;

/// A grant as stored, with the operator's login ID for the clinic's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// Grant id.
    pub id: String,
    /// The clinic.
    pub clinic_id: String,
    /// The operator's account.
    pub operator_id: String,
    /// The operator's login ID.
    pub operator_login: String,
    /// Request or break-glass.
    pub kind: Kind,
    /// What it covers.
    pub scope: Scope,
    /// The stated reason.
    pub reason: String,
    /// Asked duration.
    pub duration_ms: i64,
    /// The admin who decided or ended it.
    pub decided_by: Option<String>,
    /// The admin who ended it early.
    pub ended_by: Option<String>,
    /// When an admin acknowledged a break-glass notice.
    pub seen_at: Option<i64>,
    /// The times that decide its state.
    pub times: Times,
}

impl GrantRecord {
    /// The state at `now`.
    pub fn state(&self, now: i64) -> State {
        self.times.state(now)
    }
}

/// How an admin's decision went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Done; the grant as it is now.
    Done(Box<GrantRecord>),
    /// No such grant in this clinic.
    NotFound,
    /// The grant is no longer pending (or active, for ending): its state now.
    NotAllowed(State),
}

const COLUMNS: &str = "g.id, g.clinic_id, g.operator_id, a.login_id, g.kind, g.scope, g.reason, g.duration_ms, \
     g.decided_by, g.ended_by, g.seen_at, g.requested_at, g.refused_at, g.starts_at, g.ends_at";

fn grant_record(row: &AnyRow) -> Result<GrantRecord, sqlx::Error> {
    let kind: String = row.try_get(4)?;
    let scope: String = row.try_get(5)?;
    let corrupt = |what: &str| sqlx::Error::Decode(format!("access_grants.{what}").into());
    Ok(GrantRecord {
        id: row.try_get(0)?,
        clinic_id: row.try_get(1)?,
        operator_id: row.try_get(2)?,
        operator_login: row.try_get(3)?,
        kind: Kind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        scope: Scope::from_stored(&scope).ok_or_else(|| corrupt("scope"))?,
        reason: row.try_get(6)?,
        duration_ms: row.try_get(7)?,
        decided_by: row.try_get(8)?,
        ended_by: row.try_get(9)?,
        seen_at: row.try_get(10)?,
        times: Times {
            requested_at: row.try_get(11)?,
            refused_at: row.try_get(12)?,
            starts_at: row.try_get(13)?,
            ends_at: row.try_get(14)?,
        },
    })
}

impl Store {
    /// Stores an operator's request; a break-glass one is open from `now`.
    pub async fn ask_access(
        &self,
        id: &str,
        clinic_id: &str,
        operator_id: &str,
        asked: &Asked,
        now: i64,
    ) -> Result<GrantRecord, sqlx::Error> {
        let (starts, ends) = match asked.kind {
            Kind::BreakGlass => (Some(now), Some(now + asked.duration_ms)),
            Kind::Request => (None, None),
        };
        sqlx::query(
            "INSERT INTO access_grants (id, clinic_id, operator_id, kind, scope, reason, duration_ms, requested_at, \
             starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(clinic_id)
        .bind(operator_id)
        .bind(asked.kind.as_str())
        .bind(asked.scope.to_stored())
        .bind(&asked.reason)
        .bind(asked.duration_ms)
        .bind(now)
        .bind(starts)
        .bind(ends)
        .execute(self.pool())
        .await?;
        self.grant(id)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound)
    }

    /// One grant.
    pub async fn grant(&self, id: &str) -> Result<Option<GrantRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_grants g JOIN accounts a ON a.id = g.operator_id WHERE g.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(grant_record).transpose()
    }

    /// Every grant of a clinic, newest first.
    pub async fn grants_of_clinic(&self, clinic_id: &str) -> Result<Vec<GrantRecord>, sqlx::Error> {
        self.grants_where("g.clinic_id = $1", clinic_id).await
    }

    /// Every grant an operator asked for, newest first.
    pub async fn grants_of_operator(
        &self,
        operator_id: &str,
    ) -> Result<Vec<GrantRecord>, sqlx::Error> {
        self.grants_where("g.operator_id = $1", operator_id).await
    }

    async fn grants_where(
        &self,
        condition: &'static str,
        value: &str,
    ) -> Result<Vec<GrantRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_grants g JOIN accounts a ON a.id = g.operator_id WHERE {condition} \
             ORDER BY g.requested_at DESC, g.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(grant_record).collect()
    }

    /// An admin approves (access opens now for the asked duration) or refuses a pending request.
    pub async fn decide_access(
        &self,
        id: &str,
        clinic_id: &str,
        admin_id: &str,
        approve: bool,
        now: i64,
    ) -> Result<Decided, sqlx::Error> {
        let sql = if approve {
            "UPDATE access_grants SET starts_at = $1, ends_at = $1 + duration_ms, decided_by = $2 \
             WHERE id = $3 AND clinic_id = $4 AND refused_at IS NULL AND starts_at IS NULL AND requested_at > $5"
        } else {
            "UPDATE access_grants SET refused_at = $1, decided_by = $2 \
             WHERE id = $3 AND clinic_id = $4 AND refused_at IS NULL AND starts_at IS NULL AND requested_at > $5"
        };
        let done = sqlx::query(sql)
            .bind(now)
            .bind(admin_id)
            .bind(id)
            .bind(clinic_id)
            .bind(now - PENDING_MS)
            .execute(self.pool())
            .await?;
        self.decided(id, clinic_id, done.rows_affected() == 1, now)
            .await
    }

    /// An admin ends an open grant (approved or break-glass) before its time.
    pub async fn end_access(
        &self,
        id: &str,
        clinic_id: &str,
        admin_id: &str,
        now: i64,
    ) -> Result<Decided, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE access_grants SET ends_at = $1, ended_by = $2 \
             WHERE id = $3 AND clinic_id = $4 AND refused_at IS NULL AND starts_at <= $1 AND ends_at > $1",
        )
        .bind(now)
        .bind(admin_id)
        .bind(id)
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        self.decided(id, clinic_id, done.rows_affected() == 1, now)
            .await
    }

    async fn decided(
        &self,
        id: &str,
        clinic_id: &str,
        changed: bool,
        now: i64,
    ) -> Result<Decided, sqlx::Error> {
        Ok(match self.grant(id).await? {
            Some(grant) if grant.clinic_id == clinic_id && changed => {
                Decided::Done(Box::new(grant))
            }
            Some(grant) if grant.clinic_id == clinic_id => Decided::NotAllowed(grant.state(now)),
            _ => Decided::NotFound,
        })
    }

    /// Marks the clinic's break-glass notices as seen by an admin.
    pub async fn acknowledge_break_glass(
        &self,
        clinic_id: &str,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE access_grants SET seen_at = $1 WHERE clinic_id = $2 AND kind = 'break_glass' AND seen_at IS NULL",
        )
        .bind(now)
        .bind(clinic_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// The id of an open grant of this operator that reaches the patient, if any.
    pub async fn open_grant(
        &self,
        clinic_id: &str,
        operator_id: &str,
        patient_id: &str,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, scope FROM access_grants WHERE clinic_id = $1 AND operator_id = $2 \
             AND refused_at IS NULL AND starts_at <= $3 AND ends_at > $3 ORDER BY starts_at",
        )
        .bind(clinic_id)
        .bind(operator_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        for row in &rows {
            let scope: String = row.try_get(1)?;
            if Scope::from_stored(&scope).is_some_and(|s| s.covers(patient_id)) {
                return Ok(Some(row.try_get(0)?));
            }
        }
        Ok(None)
    }
}
