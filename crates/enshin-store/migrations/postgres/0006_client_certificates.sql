-- Clinic client certificates issued by the service CA (AUTH-1, NET-2). The database is the
-- source of truth for revocation: every instance rebuilds its CRL from this table.
CREATE TABLE client_certificates (
    serial          TEXT PRIMARY KEY,
    clinic_id       TEXT NOT NULL REFERENCES clinics (id),
    label           TEXT NOT NULL,
    not_before      BIGINT NOT NULL,
    not_after       BIGINT NOT NULL,
    issued_at       BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_reason  TEXT,
    last_used_at    BIGINT
);
CREATE INDEX client_certificates_by_clinic ON client_certificates (clinic_id);
