-- Linking a patient's account to a clinic (FUNC-1). A clinic invites one registry record with a
-- printed single-use code (only its SHA-256 is stored); redeeming it links the account to that
-- record. A patient may be linked to several clinics; a clinic sees only its own link.
CREATE TABLE invitations (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    code_digest        TEXT NOT NULL UNIQUE,
    created_by         TEXT NOT NULL REFERENCES accounts (id),
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    used_at            BIGINT,
    used_by            TEXT REFERENCES accounts (id)
);
CREATE INDEX invitations_by_patient ON invitations (clinic_patient_id);

CREATE TABLE patient_links (
    clinic_id           TEXT NOT NULL REFERENCES clinics (id),
    patient_account_id  TEXT NOT NULL REFERENCES accounts (id),
    clinic_patient_id   TEXT NOT NULL REFERENCES clinic_patients (id),
    linked_at           BIGINT NOT NULL,
    via                 TEXT NOT NULL CHECK (via IN ('invitation', 'request')),
    PRIMARY KEY (clinic_id, patient_account_id),
    UNIQUE (clinic_patient_id)
);
CREATE INDEX patient_links_by_account ON patient_links (patient_account_id);
