//! Schema migrations, embedded in the binary. Both backends have a file of the same name for
//! every version (the parity test checks the directories against this list).

/// One migration in both dialects.
pub struct EmbeddedMigration {
    /// File name without `.sql`, e.g. `0001_clinics`.
    pub name: &'static str,
    /// Numeric prefix of the name.
    pub version: i64,
    /// The rest of the name.
    pub description: &'static str,
    /// SQLite dialect.
    pub sqlite: &'static str,
    /// PostgreSQL dialect.
    pub postgres: &'static str,
}

macro_rules! embed {
    ($(($version:literal, $description:literal)),* $(,)?) => {
        &[$(EmbeddedMigration {
            name: concat!(stringify!($version), "_", $description),
            version: $version,
            description: $description,
            sqlite: include_str!(concat!("../migrations/sqlite/", stringify!($version), "_", $description, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", stringify!($version), "_", $description, ".sql")),
        }),*]
    };
}

/// Every migration, in order.
#[allow(
    clippy::zero_prefixed_literal,
    reason = "the literal is the file name's zero-padded prefix, decimal on purpose"
)]
pub const MIGRATIONS: &[EmbeddedMigration] = embed![
    (0001, "clinics"),
    (0002, "people"),
    (0003, "sessions"),
    (0004, "patients"),
    (0005, "registration_throttle"),
    (0006, "client_certificates"),
    (0007, "operators"),
    (0008, "announcements"),
    (0009, "suspensions"),
    (0010, "operator_access"),
    (0011, "outgoing_messages"),
    (0012, "password_resets"),
    (0013, "patient_links"),
    (0014, "join_requests"),
    (0015, "booking"),
    (0016, "monitoring"),
    (0017, "questionnaires"),
    (0018, "reading_withdrawal"),
    (0019, "calls"),
    (0020, "records"),
    (0021, "clinic_exit"),
    (0022, "disclosures"),
];
