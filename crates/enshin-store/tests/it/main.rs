//! Integration tests of enshin-store, run on SQLite and, with ENSHIN_TEST_DATABASE_URL, PostgreSQL.

mod grants;
mod keyring;
mod migrations;
mod people;

use enshin_store::Store;
use enshin_testkit::TestDatabase;

/// A migrated store on a throw-away database; keep the guard alive as long as the store.
pub async fn test_store() -> (Store, tempfile::TempDir, Option<TestDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create().await;
    let url = match &db {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
    };
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir, db)
}
