-- Home monitoring (生活記録, FUNC-4). Readings are the patient's own record, kept with their
-- account and sealed with the patient-account key like their profile (DATA-3); a clinic sees
-- them only through a link to the account (ROLE-2). Kind and time stay in the clear so charts
-- can be cut by range; the value and the note are A-class and sealed, bound to their row.

-- A patient's measuring device. Only the SHA-256 of its token is stored.
CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    name          BLOB NOT NULL,
    token_digest  TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX devices_by_account ON devices (account_id);

-- `source` is the device id, or 'manual' for the patient's own entries; `client_id` is the id
-- the sender gave the reading, so a retried batch or a form sent twice adds nothing.
CREATE TABLE readings (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    kind         TEXT NOT NULL,
    measured_at  BIGINT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    value        BLOB NOT NULL,
    note         BLOB,
    source       TEXT NOT NULL,
    client_id    TEXT,
    UNIQUE (account_id, source, client_id)
);
CREATE INDEX readings_by_kind ON readings (account_id, kind, measured_at);

-- A clinic's alert bounds for one patient and kind (sealed with the clinic's key), and whether
-- the latest reading seen (measured at `state_at`) was out of them: an alert is raised when a
-- reading leaves the bounds, not for every reading outside them.
CREATE TABLE thresholds (
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    kind               TEXT NOT NULL,
    bounds             BLOB NOT NULL,
    set_by             TEXT NOT NULL REFERENCES accounts (id),
    set_at             BIGINT NOT NULL,
    out_of_bounds      BIGINT NOT NULL,
    state_at           BIGINT NOT NULL,
    PRIMARY KEY (clinic_id, clinic_patient_id, kind)
);

-- An alert on the clinic's worklist, with the bounds in force when it was raised; acknowledged
-- once, by a member, with a sealed comment. Never deleted.
CREATE TABLE alerts (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    kind               TEXT NOT NULL,
    reading_id         TEXT NOT NULL REFERENCES readings (id),
    bounds             BLOB NOT NULL,
    raised_at          BIGINT NOT NULL,
    acknowledged_by    TEXT REFERENCES accounts (id),
    acknowledged_at    BIGINT,
    comment            BLOB
);
CREATE INDEX alerts_by_clinic ON alerts (clinic_id, raised_at);

-- The zone a patient's measurement times are typed and shown in (an IANA name, checked by the
-- service). Kept in the clear: it is needed before anything is opened, and says no more than
-- the address's time offset every request already shows.
ALTER TABLE patients ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Tokyo';
