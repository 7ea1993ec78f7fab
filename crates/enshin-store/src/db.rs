//! The database behind sqlx `Any`: SQLite for the embedded default, PostgreSQL in production.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Executor, Row, SqlSafeStr, Transaction};

use crate::migrations::MIGRATIONS;

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL (use sqlite://PATH or postgres://…)")]
    UnsupportedUrl,
    /// The database refused or could not be reached.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A migration failed or the recorded migrations do not match this build.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Migrations are pending and this database role may not change the schema (the service
    /// role in production): the schema owner must run `enshin migrate` first.
    #[error(
        "{pending} database migration(s) pending and this database user may not apply them: run `enshin migrate` with the schema owner's database URL first (deploy/postgresql/README.md)"
    )]
    MigrationNotPermitted {
        /// How many migrations this build has that the database lacks.
        pending: usize,
    },
}

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// Production.
    Postgres,
}

impl Backend {
    /// The engine a database URL names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes fails at
    /// once with "database is locked" when another connection holds the lock, without waiting
    /// the busy timeout, so a write could be refused under ordinary concurrency.
    pub(crate) async fn begin_write(
        self,
        pool: &AnyPool,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self {
            Self::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
            Self::Postgres => pool.begin().await,
        }
    }

    /// Lower-case name, as shown in health output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Applies what `migrations` has and the database lacks. A database already up to date is only
/// read, so a role without schema rights (the service role in production) starts on it; one with
/// pending migrations goes through sqlx's migrator, which also refuses a changed or unknown one.
pub(crate) async fn apply(pool: &AnyPool, migrations: Vec<Migration>) -> Result<(), StoreError> {
    // Unreadable (no table yet, or no right to read it) means unknown: let the migrator decide.
    let recorded: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success = $1")
            .bind(true)
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    let pending = migrations
        .iter()
        .filter(|m| {
            !recorded
                .iter()
                .any(|(v, sum)| *v == m.version && sum.as_slice() == &*m.checksum)
        })
        .count();
    if pending == 0 && recorded.len() == migrations.len() {
        return Ok(());
    }
    match Migrator::with_migrations(migrations).run(pool).await {
        Err(
            sqlx::migrate::MigrateError::Execute(e)
            | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
        ) if e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "42501") =>
        {
            Err(StoreError::MigrationNotPermitted { pending })
        }
        other => Ok(other?),
    }
}

/// One applied schema migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version number (the file's numeric prefix).
    pub version: i64,
    /// Description (the rest of the file name).
    pub description: String,
}

/// A connection pool with the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects; on SQLite every connection uses WAL, full fsync and a busy timeout, so CLI
    /// commands can work beside a running server.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    // synchronous=FULL: a record acknowledged to a clinic survives a power cut.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
                        .await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(16);
        }
        let pool = options.connect(url).await?;
        Ok(Self { pool, backend })
    }

    /// The backend of this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction (see [`Backend::begin_write`]).
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.backend.begin_write(&self.pool).await
    }

    /// The pool, for the repositories of this crate.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Applies pending migrations of this backend and returns every applied migration.
    pub async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let migrations = MIGRATIONS
            .iter()
            .map(|m| {
                let sql = match self.backend {
                    Backend::Sqlite => m.sqlite,
                    Backend::Postgres => m.postgres,
                };
                Migration::new(
                    m.version,
                    m.description.into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        apply(&self.pool, migrations).await?;
        let rows = sqlx::query(
            "SELECT version, description FROM _sqlx_migrations WHERE success = $1 ORDER BY version",
        )
        .bind(true)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AppliedMigration {
                    version: row.try_get(0)?,
                    description: row.try_get(1)?,
                })
            })
            .collect()
    }

    /// Writes a consistent copy of the SQLite database to `path` (`VACUUM INTO`: one read
    /// transaction, so writers go on meanwhile); `None` on PostgreSQL, which pgBackRest backs up.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<Option<()>, StoreError> {
        snapshot(&self.pool, self.backend, path).await
    }

    /// SQLite's own check of every page and index (`PRAGMA integrity_check`): `ok`, or what is
    /// wrong; `None` on PostgreSQL.
    pub async fn integrity_check(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        let lines: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        Ok(Some(lines.join("; ")))
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    /// The SQLite journal mode in force (None on PostgreSQL).
    pub async fn sqlite_journal_mode(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?;
        Ok(Some(row.try_get(0)?))
    }

    /// Closes every connection; on SQLite this also checkpoints the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a statement failed on a unique constraint (a race another writer won).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// `VACUUM INTO` for the SQLite stores (main and access log).
pub(crate) async fn snapshot(
    pool: &AnyPool,
    backend: Backend,
    path: &std::path::Path,
) -> Result<Option<()>, StoreError> {
    if backend != Backend::Sqlite {
        return Ok(None);
    }
    sqlx::query("VACUUM INTO $1")
        .bind(path.display().to_string())
        .execute(pool)
        .await?;
    Ok(Some(()))
}
