-- One-time codes sent to patients (AUTH-6): password resets and contact checks. The code is
-- sealed with the patient-account key, bound to its row; five wrong tries or ten minutes end it.
CREATE TABLE one_time_codes (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('reset', 'verify_email', 'verify_phone')),
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    code_sealed  BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    used_at      BIGINT
);
CREATE INDEX one_time_codes_by_account ON one_time_codes (account_id, purpose, created_at);

-- A patient's e-mail address and phone number are used for resets only once proven.
ALTER TABLE patients ADD COLUMN email_verified_at BIGINT;
ALTER TABLE patients ADD COLUMN phone_verified_at BIGINT;

-- Clinic admins' own e-mail address (B-class staff data) for their password-reset link, and
-- the links: only the SHA-256 of the 256-bit token is stored; 30 minutes, used once.
ALTER TABLE members ADD COLUMN email TEXT;
CREATE TABLE reset_links (
    token_digest  TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
