-- Accounts of every kind of principal (AUTH-8): never deleted, only disabled, so an ID is never
-- reused. login_id is canonical (NFKC, lower case) and unique within its kind.
CREATE TABLE accounts (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('member', 'patient', 'operator')),
    login_id       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT,
    UNIQUE (kind, login_id)
);

-- Clinic members: one clinic and one role each (§3-②(e)). display_name is B-class (staff data).
CREATE TABLE members (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id),
    clinic_id     TEXT NOT NULL REFERENCES clinics (id),
    role          TEXT NOT NULL CHECK (role IN ('admin', 'doctor', 'staff')),
    display_name  TEXT NOT NULL
);
CREATE INDEX members_by_clinic ON members (clinic_id);
