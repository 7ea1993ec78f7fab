//! End-to-end tests of the enshin binary and its listeners.

mod audit;
mod backups;
mod booking;
mod calls;
mod certs;
mod cli;
mod demo;
mod instances;
mod links;
mod listeners;
mod matrix;
mod messages;
mod metrics;
mod monitoring;
mod operator_access;
mod operator_cli;
mod operators;
mod pages;
mod pages_matrix;
mod patients;
mod questionnaires;
mod raw_tls;
mod records;
mod registry;
mod resets;
mod sessions;
