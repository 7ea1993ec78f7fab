-- Server-side sessions (SESS-1..3). Only the SHA-256 of a token is stored. A session of a clinic
-- member remembers the client certificate it logged in with (AUTH-1).
CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    token_digest        TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts (id),
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    ended_at            BIGINT,
    ended_reason        TEXT,
    client_cert_serial  TEXT
);
CREATE INDEX sessions_by_account ON sessions (account_id);

-- Failed log-ins per login ID and per source address (AUTH-10), shared by every instance.
CREATE TABLE login_throttle (
    scope         TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    subject       TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
