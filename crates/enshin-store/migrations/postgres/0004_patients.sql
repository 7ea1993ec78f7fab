-- A patient's own profile (A-class, DATA-1): every personal field is AES-256-GCM ciphertext
-- sealed with the patient-account key of the keyring, bound to table, column and row (DATA-3).
CREATE TABLE patients (
    account_id        TEXT PRIMARY KEY REFERENCES accounts (id),
    family_name       BYTEA NOT NULL,
    given_name        BYTEA NOT NULL,
    family_name_kana  BYTEA NOT NULL,
    given_name_kana   BYTEA NOT NULL,
    birth_date        BYTEA NOT NULL,
    email             BYTEA,
    phone             BYTEA,
    created_at        BIGINT NOT NULL
);

-- Which version of the terms of use each patient accepted, and when (CONSENT-1). Kept forever.
CREATE TABLE terms_acceptances (
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    terms_version  TEXT NOT NULL,
    accepted_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, terms_version)
);
