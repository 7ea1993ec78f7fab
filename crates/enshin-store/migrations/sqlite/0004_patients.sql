-- A patient's own profile (A-class, DATA-1): every personal field is AES-256-GCM ciphertext
-- sealed with the patient-account key of the keyring, bound to table, column and row (DATA-3).
CREATE TABLE patients (
    account_id        TEXT PRIMARY KEY REFERENCES accounts (id),
    family_name       BLOB NOT NULL,
    given_name        BLOB NOT NULL,
    family_name_kana  BLOB NOT NULL,
    given_name_kana   BLOB NOT NULL,
    birth_date        BLOB NOT NULL,
    email             BLOB,
    phone             BLOB,
    created_at        BIGINT NOT NULL
);

-- Which version of the terms of use each patient accepted, and when (CONSENT-1). Kept forever.
CREATE TABLE terms_acceptances (
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    terms_version  TEXT NOT NULL,
    accepted_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, terms_version)
);
