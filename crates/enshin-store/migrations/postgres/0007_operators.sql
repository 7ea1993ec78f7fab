-- Operator accounts (AUTH-9): a TOTP secret, sealed with the keyring's operator-accounts key, and
-- the last TOTP step used; a step is taken by an atomic compare-and-set, so a code works once.
CREATE TABLE operators (
    account_id      TEXT PRIMARY KEY REFERENCES accounts (id),
    display_name    TEXT NOT NULL,
    totp_secret     BYTEA NOT NULL,
    totp_last_step  BIGINT NOT NULL
);
