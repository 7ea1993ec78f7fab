-- The clinic's patient registry (A-class, DATA-1): every personal field is AES-256-GCM
-- ciphertext sealed with the clinic's data key, bound to table, column and row (DATA-3). The
-- booking issue adds sex, card number, contact and search.
CREATE TABLE clinic_patients (
    id                TEXT PRIMARY KEY,
    clinic_id         TEXT NOT NULL REFERENCES clinics (id),
    family_name       BLOB NOT NULL,
    given_name        BLOB NOT NULL,
    family_name_kana  BLOB NOT NULL,
    given_name_kana   BLOB NOT NULL,
    birth_date        BLOB NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX clinic_patients_by_clinic ON clinic_patients (clinic_id);

-- Operators' access to one clinic's patient data (DATA-4): asked, then approved or refused by an
-- admin of the clinic, or taken at once (break_glass). Rows are never deleted: they are the
-- clinic's record of who looked and why. The reason is B-class (the form says not to name a
-- patient); scope is 'clinic' or 'patient:<id>'.
CREATE TABLE access_grants (
    id            TEXT PRIMARY KEY,
    clinic_id     TEXT NOT NULL REFERENCES clinics (id),
    operator_id   TEXT NOT NULL REFERENCES accounts (id),
    kind          TEXT NOT NULL CHECK (kind IN ('request', 'break_glass')),
    scope         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT REFERENCES accounts (id),
    refused_at    BIGINT,
    starts_at     BIGINT,
    ends_at       BIGINT,
    ended_by      TEXT REFERENCES accounts (id),
    seen_at       BIGINT
);
CREATE INDEX access_grants_by_clinic ON access_grants (clinic_id, requested_at);
CREATE INDEX access_grants_by_operator ON access_grants (operator_id, requested_at);

-- Incident mode (AVAIL-4): where the clinic administrator is reached (notices of operator access,
-- emergency credentials; B-class), and until when the clinic is in an emergency. Emergency
-- accounts are members with an expiry; normal members (no expiry) are held meanwhile.
ALTER TABLE clinics ADD COLUMN admin_email TEXT;
ALTER TABLE clinics ADD COLUMN emergency_until BIGINT;
ALTER TABLE members ADD COLUMN emergency_until BIGINT;
