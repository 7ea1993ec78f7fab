-- Linking the other way (FUNC-1 (b)): a patient asks to join a clinic by its public code, and a
-- member of the clinic approves (linking an existing registry record or a new one made from the
-- patient's own profile) or refuses. A clinic's code is made when first shown.
ALTER TABLE clinics ADD COLUMN public_code TEXT;
CREATE UNIQUE INDEX clinics_by_public_code ON clinics (public_code);

CREATE TABLE join_requests (
    id                  TEXT PRIMARY KEY,
    clinic_id           TEXT NOT NULL REFERENCES clinics (id),
    patient_account_id  TEXT NOT NULL REFERENCES accounts (id),
    created_at          BIGINT NOT NULL,
    decided_at          BIGINT,
    decided_by          TEXT REFERENCES accounts (id),
    outcome             TEXT CHECK (outcome IN ('approved', 'refused')),
    clinic_patient_id   TEXT REFERENCES clinic_patients (id)
);
CREATE INDEX join_requests_by_clinic ON join_requests (clinic_id, decided_at);
CREATE INDEX join_requests_by_patient ON join_requests (patient_account_id);
