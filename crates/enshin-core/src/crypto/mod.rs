//! Cryptographic helpers used across the service.

pub mod envelope;
pub mod stream;
