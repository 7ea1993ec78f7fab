//! Domain types and rules of enshin: no I/O, no HTTP, no SQL.

pub mod announcement;
pub mod appointment;
pub mod audit;
pub mod authz;
pub mod booking;
pub mod call;
pub mod code;
pub mod crypto;
pub mod emergency;
pub mod encoding;
pub mod exit;
pub mod grant;
pub mod invitation;
pub mod letters;
pub mod password;
pub mod patient;
pub mod people;
pub mod pki;
pub mod plan;
pub mod questionnaire;
pub mod record;
pub mod roster;
pub mod schedule;
pub mod session;
pub mod totp;
pub mod vitals;
