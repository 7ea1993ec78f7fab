//! Persistence of enshin: the database (SQLite or PostgreSQL through sqlx `Any`), migrations,
//! durable private files and the keyring of per-clinic data keys.

pub mod announcements;
pub mod appointments;
pub mod audit;
pub mod bus;
pub mod calls;
pub mod certificates;
pub mod codes;
pub mod db;
pub mod disclosures;
pub mod emergency;
pub mod exit;
pub mod files;
pub mod grants;
pub mod keyring;
pub mod links;
pub mod messages;
pub mod migrations;
pub mod monitoring;
pub mod operators;
pub mod patients;
pub mod people;
pub mod questionnaires;
pub mod records;
pub mod registry;
pub mod schedule;
pub mod sessions;
pub mod suspensions;

pub use db::{AppliedMigration, Backend, Store, StoreError};
