//! The HTTP side of enshin: configuration, data directory, TLS listeners and routes.

pub mod access;
pub mod announcements;
pub mod app;
pub mod audit;
pub mod audit_verify;
pub mod booking;
pub mod certificates;
pub mod certs;
pub mod clock;
pub mod config;
pub mod console;
pub mod datadir;
pub mod demo;
pub mod emergency;
pub mod error;
pub mod grants;
pub mod health;
pub mod incident;
pub mod links;
pub mod listener;
pub mod members;
pub mod messages;
pub mod middleware;
pub mod operators;
pub mod outbox;
pub mod patients;
pub mod people;
pub mod registry;
pub mod reset;
pub mod routes;
pub mod schedule;
pub mod session;
pub mod tls;
pub mod web;

pub use app::{Addrs, LaunchError, Running, StartReport, launch};
pub use config::{Config, ConfigError, Layers};
