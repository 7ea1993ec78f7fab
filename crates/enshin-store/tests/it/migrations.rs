//! Schema migrations: same versions on both backends, idempotent, SQLite in WAL mode.

use std::collections::BTreeSet;
use std::path::Path;

use enshin_store::migrations::MIGRATIONS;
use enshin_store::{Backend, Store};

use crate::test_store;

fn sql_files(dir: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dir);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .map(|name| {
            name.strip_suffix(".sql")
                .unwrap_or_else(|| panic!("{name} in {dir:?} is not a .sql file"))
                .to_owned()
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_migrations_and_all_are_embedded() {
    let sqlite = sql_files("sqlite");
    let postgres = sql_files("postgres");
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres differ"
    );
    let embedded: BTreeSet<String> = MIGRATIONS.iter().map(|m| m.name.to_owned()).collect();
    assert_eq!(
        embedded, sqlite,
        "a migration file is not listed in MIGRATIONS"
    );
    let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "versions must increase: {versions:?}"
    );
}

#[tokio::test]
async fn migrating_twice_applies_each_version_once() {
    let (store, _dir, _db) = test_store().await;
    let again = store.migrate().await.unwrap();
    let versions: Vec<i64> = again.iter().map(|m| m.version).collect();
    assert_eq!(
        versions,
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    store.ping().await.unwrap();
    let row_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clinics")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(row_count, 0);
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("w.db").display()
    ))
    .await
    .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert_eq!(
        store.sqlite_journal_mode().await.unwrap().as_deref(),
        Some("wal")
    );
}

#[tokio::test]
async fn a_second_connection_reads_while_another_writes() {
    // The CLI beside a running server: two pools on one SQLite file (or one PostgreSQL database).
    let (store, dir, db) = test_store().await;
    let url = match &db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
    };
    let other = Store::connect(&url).await.unwrap();
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO clinics (id, name, created_at) VALUES ($1, $2, $3)")
        .bind("c1")
        .bind("clinic")
        .bind(1_i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clinics")
        .fetch_one(other.pool())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clinics")
        .fetch_one(other.pool())
        .await
        .unwrap();
    assert_eq!((before, after), (0, 1));
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    assert!(matches!(
        Store::connect("mysql://localhost/x").await,
        Err(enshin_store::StoreError::UnsupportedUrl)
    ));
}
