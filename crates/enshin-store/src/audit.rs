//! The access-log store (LOG-1..7), apart from the main data: on SQLite its own file
//! (`audit.db`), on PostgreSQL the schema `audit` with its own migrations table. It appends and
//! reads; it has no statement that updates or deletes an entry (LOG-2), and triggers refuse one.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType};
use sqlx::{AnyPool, Executor, Row, SqlSafeStr};

use crate::{Backend, StoreError};

/// The audit schema's migrations, both dialects.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[(
    1,
    "access_log",
    include_str!("../migrations/audit-sqlite/0001_access_log.sql"),
    include_str!("../migrations/audit-postgres/0001_access_log.sql"),
)];

/// The connection pool of the audit store.
#[derive(Clone, Debug)]
pub struct AuditStore {
    pool: AnyPool,
    backend: Backend,
}

/// One entry to append.
#[derive(Debug, Clone)]
pub struct EntryRow {
    /// Index in the writer's log.
    pub idx: u64,
    /// Canonical bytes (JSON text).
    pub body: String,
    /// Time of the entry, unix ms.
    pub at_ms: i64,
    /// Clinic, for searching.
    pub clinic_id: Option<String>,
    /// Principal, for searching.
    pub principal_id: Option<String>,
    /// Outcome, for searching.
    pub outcome: &'static str,
}

/// Where a page of a search ended: the time, writer and index of its last entry. Its text form
/// `at_ms:writer:idx` is what callers hand back to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Time of the entry, unix ms.
    pub at_ms: i64,
    /// Its writer.
    pub writer: String,
    /// Its index.
    pub idx: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.at_ms, self.writer, self.idx)
    }
}

impl std::str::FromStr for Position {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let mut parts = text.splitn(3, ':');
        let at_ms = parts.next().and_then(|p| p.parse().ok()).ok_or(())?;
        let writer = parts.next().ok_or(())?.to_owned();
        let idx = parts.next().and_then(|p| p.parse().ok()).ok_or(())?;
        Ok(Self { at_ms, writer, idx })
    }
}

/// What an operator searches the log for (LOG-3); `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// From this time, unix ms.
    pub from: i64,
    /// Before this time, unix ms.
    pub to: i64,
    /// Entries of this clinic.
    pub clinic_id: Option<String>,
    /// Entries of this principal.
    pub principal_id: Option<String>,
    /// Entries about this target id.
    pub target_id: Option<String>,
    /// `allowed`, `denied` or `failed`.
    pub outcome: Option<String>,
}

/// A checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// The writer.
    pub writer: String,
    /// Entries covered.
    pub size: u64,
    /// Tree head, hex.
    pub root: String,
    /// Time, unix ms.
    pub at_ms: i64,
    /// Ed25519 signature.
    pub signature: Vec<u8>,
    /// The writer's frontier at this size (to resume).
    pub frontier: String,
}

/// Rows per INSERT statement on SQLite: 7 parameters each, well under its limit of 32,766.
const SQLITE_ROWS_PER_INSERT: usize = 500;

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl AuditStore {
    /// Connects: `sqlite_url` for the embedded default (its own file), or the main PostgreSQL
    /// URL, where the schema `audit` is created if needed and made the search path.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // FULL: an entry acknowledged before the response survives a power cut.
                            conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                let setup = AnyPoolOptions::new()
                    .max_connections(1)
                    .connect(url)
                    .await?;
                // Created only when missing: in production the schema owner made it and the
                // service role may not create schemas (deploy/postgresql/roles.sql).
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'audit')",
                )
                .fetch_one(&setup)
                .await?;
                if !exists {
                    setup.execute("CREATE SCHEMA audit").await?;
                }
                setup.close().await;
                options
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET search_path TO audit").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
        };
        Ok(Self { pool, backend })
    }

    /// The pool (tests use it to play the attacker with full database access).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the audit schema's migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sqlite, postgres)| {
                let sql = match self.backend {
                    Backend::Sqlite => *sqlite,
                    Backend::Postgres => *postgres,
                };
                Migration::new(
                    *version,
                    (*description).into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        crate::db::apply(&self.pool, migrations).await
    }

    /// Checks that the store answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// Registers a writer's public key; a writer id already registered must keep its key.
    /// Returns false when the id is registered with another key.
    pub async fn register_writer(
        &self,
        id: &str,
        public_key: &[u8],
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query(
            "INSERT INTO writers (id, public_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(public_key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self.writer_key(id).await?.as_deref() == Some(public_key))
    }

    /// A writer's public key.
    pub async fn writer_key(&self, id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
        sqlx::query_scalar("SELECT public_key FROM writers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Every writer with its public key, oldest first.
    pub async fn writers(&self) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, public_key FROM writers ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Appends a batch in one transaction: one commit, one fsync, for the whole batch.
    pub async fn append(&self, writer: &str, rows: &[EntryRow]) -> Result<(), sqlx::Error> {
        // PostgreSQL gets one row per statement: sqlx sets no TCP_NODELAY, so a statement larger
        // than one TCP segment waits for a delayed ACK (Nagle), about 40 ms per statement
        // (measured: `enshin-bench read` fell from 6,400 to 724 req/s at 64 in flight). A
        // one-row statement fits in a segment and reuses one prepared statement.
        let per_statement = match self.backend {
            Backend::Sqlite => SQLITE_ROWS_PER_INSERT,
            Backend::Postgres => 1,
        };
        let mut tx = self.backend.begin_write(&self.pool).await?;
        for chunk in rows.chunks(per_statement) {
            let mut sql = String::from(
                "INSERT INTO entries (writer, idx, body, at_ms, clinic_id, principal_id, outcome) VALUES ",
            );
            for i in 0..chunk.len() {
                let p = i * 7;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                ));
            }
            // Only placeholders are formatted into the statement; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for row in chunk {
                query = query
                    .bind(writer)
                    .bind(to_i64(row.idx))
                    .bind(&row.body)
                    .bind(row.at_ms)
                    .bind(&row.clinic_id)
                    .bind(&row.principal_id)
                    .bind(row.outcome);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Stores a checkpoint.
    pub async fn add_checkpoint(&self, cp: &StoredCheckpoint) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO checkpoints (writer, size, root, at_ms, signature, frontier) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&cp.writer)
        .bind(to_i64(cp.size))
        .bind(&cp.root)
        .bind(cp.at_ms)
        .bind(&cp.signature)
        .bind(&cp.frontier)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A writer's checkpoints, by size then time.
    pub async fn checkpoints(&self, writer: &str) -> Result<Vec<StoredCheckpoint>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT writer, size, root, at_ms, signature, frontier FROM checkpoints WHERE writer = $1 ORDER BY size, at_ms",
        )
        .bind(writer)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredCheckpoint {
                    writer: r.try_get(0)?,
                    size: to_u64(r.try_get(1)?),
                    root: r.try_get(2)?,
                    at_ms: r.try_get(3)?,
                    signature: r.try_get(4)?,
                    frontier: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Up to `limit` entries of a writer from index `from` on, in index order: (index, body).
    pub async fn entries_page(
        &self,
        writer: &str,
        from: u64,
        limit: u32,
    ) -> Result<Vec<(u64, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT idx, body FROM entries WHERE writer = $1 AND idx >= $2 ORDER BY idx LIMIT $3",
        )
        .bind(writer)
        .bind(to_i64(from))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((to_u64(r.try_get(0)?), r.try_get(1)?)))
            .collect()
    }

    /// A page of entries matching `filter`, in time order, after `after` (where the previous
    /// page ended): each entry's position and body.
    pub async fn search(
        &self,
        filter: &AuditFilter,
        after: Option<&Position>,
        limit: u32,
    ) -> Result<Vec<(Position, String)>, sqlx::Error> {
        let (after_at, after_writer, after_idx) =
            after.map_or((i64::MIN, "", 0), |p| (p.at_ms, p.writer.as_str(), p.idx));
        // Target ids are matched inside the canonical JSON, where an id (letters, digits, `-`, `.`)
        // stands as written; LIKE's wildcards in it are escaped, anything else cannot match. A
        // record a list showed is in `subjects`, the entry's last field, so a match after its
        // start is a match inside it.
        let escaped = filter.target_id.as_ref().map(|t| {
            t.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        });
        let target = escaped.as_ref().map(|e| format!("%\"target_id\":\"{e}\"%"));
        let subject = escaped
            .as_ref()
            .map(|e| format!("%\"subjects\":[%\"{e}\"%"));
        let rows = sqlx::query(
            "SELECT at_ms, writer, idx, body FROM entries \
             WHERE at_ms >= $1 AND at_ms < $2 \
               AND ($3 IS NULL OR clinic_id = $3) \
               AND ($4 IS NULL OR principal_id = $4) \
               AND ($5 IS NULL OR outcome = $5) \
               AND ($6 IS NULL OR body LIKE $6 ESCAPE '\\' OR body LIKE $11 ESCAPE '\\') \
               AND (at_ms > $7 OR (at_ms = $7 AND (writer > $8 OR (writer = $8 AND idx > $9)))) \
             ORDER BY at_ms, writer, idx LIMIT $10",
        )
        .bind(filter.from)
        .bind(filter.to)
        .bind(&filter.clinic_id)
        .bind(&filter.principal_id)
        .bind(&filter.outcome)
        .bind(target)
        .bind(after_at)
        .bind(after_writer)
        .bind(to_i64(after_idx))
        .bind(i64::from(limit))
        .bind(subject)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let position = Position {
                    at_ms: r.try_get(0)?,
                    writer: r.try_get(1)?,
                    idx: to_u64(r.try_get(2)?),
                };
                Ok((position, r.try_get(3)?))
            })
            .collect()
    }

    /// Bodies of every writer's entries with `from <= at_ms < to`, in time order.
    pub async fn entries_between(&self, from: i64, to: i64) -> Result<Vec<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT body FROM entries WHERE at_ms >= $1 AND at_ms < $2 ORDER BY at_ms, writer, idx",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
    }

    /// Number of entries of a writer.
    pub async fn count(&self, writer: &str) -> Result<u64, sqlx::Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM entries WHERE writer = $1")
            .bind(writer)
            .fetch_one(&self.pool)
            .await?;
        Ok(to_u64(n))
    }

    /// Writes a consistent copy of the SQLite access log to `path`; `None` on PostgreSQL.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<Option<()>, StoreError> {
        crate::db::snapshot(&self.pool, self.backend, path).await
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn a_position_survives_its_text_form() {
        let p = Position {
            at_ms: 1_795_790_000_123,
            writer: "ab12".into(),
            idx: 7,
        };
        assert_eq!(p.to_string(), "1795790000123:ab12:7");
        assert_eq!(p.to_string().parse::<Position>(), Ok(p));
        assert!("nonsense".parse::<Position>().is_err());
        assert!("1:w:x".parse::<Position>().is_err());
    }
}
