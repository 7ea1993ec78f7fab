-- Video consultation (FUNC-5). Media never passes through enshin and nothing of it is stored:
-- these tables hold who may join, who was connected and when, for the visit record.

-- The clinic's contact number, shown to patients during a call (and wherever they need to call).
ALTER TABLE clinics ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';

-- One row per appointment whose room has been opened. `admitted` says whether the patient may
-- go straight in when they reconnect; `started_at` is the first admission (the call's start),
-- `ended_at` when the doctor ended the call or the room last emptied.
CREATE TABLE calls (
    appointment_id  TEXT PRIMARY KEY REFERENCES appointments (id),
    clinic_id       TEXT NOT NULL REFERENCES clinics (id),
    admitted        BIGINT NOT NULL DEFAULT 0,
    started_at      BIGINT,
    admitted_by     TEXT REFERENCES accounts (id),
    ended_at        BIGINT,
    ended_by        TEXT REFERENCES accounts (id)
);

-- Join credentials: short-lived, single-use, bound to one person and one appointment. Only the
-- SHA-256 of a credential is kept.
CREATE TABLE call_credentials (
    digest          TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    role            TEXT NOT NULL CHECK (role IN ('doctor', 'patient')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX call_credentials_by_expiry ON call_credentials (expires_at);

-- Every connection to a room: who was connected, from when to when, and how it ended
-- ('left', 'replaced' by the same person's other device, 'ended' by the doctor, 'lost').
CREATE TABLE call_connections (
    id              TEXT PRIMARY KEY,
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    role            TEXT NOT NULL CHECK (role IN ('doctor', 'patient')),
    joined_at       BIGINT NOT NULL,
    left_at         BIGINT,
    left_reason     TEXT
);
CREATE INDEX call_connections_by_appointment ON call_connections (appointment_id, joined_at);

-- Signalling messages too large for one PostgreSQL notification (8000 bytes) wait here for the
-- instance that serves the other side; they are deleted within minutes.
CREATE TABLE call_signals (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
