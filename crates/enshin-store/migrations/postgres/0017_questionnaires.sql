-- Questionnaires (問診, FUNC-3). A questionnaire's content is the clinic's own (B-class) and is
-- versioned: a change to a version someone has begun to answer makes a new version, and every
-- answer keeps the version it answers. Answers are A-class, sealed with the clinic's key.
CREATE TABLE questionnaires (
    id               TEXT PRIMARY KEY,
    clinic_id        TEXT NOT NULL REFERENCES clinics (id),
    created_by       TEXT NOT NULL REFERENCES accounts (id),
    created_at       BIGINT NOT NULL,
    current_version  BIGINT NOT NULL
);
CREATE INDEX questionnaires_by_clinic ON questionnaires (clinic_id);

CREATE TABLE questionnaire_versions (
    questionnaire_id  TEXT NOT NULL REFERENCES questionnaires (id),
    version           BIGINT NOT NULL,
    definition        TEXT NOT NULL,
    created_by        TEXT NOT NULL REFERENCES accounts (id),
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (questionnaire_id, version)
);

-- The questionnaire a menu asks for when a visit of it is booked.
ALTER TABLE visit_menus ADD COLUMN questionnaire_id TEXT REFERENCES questionnaires (id);

-- A questionnaire asked of a patient (by a member, or by booking a menu that asks for one) and
-- its one response: `version` is fixed when the patient first saves; a draft may change until
-- `submitted_at`, after which nothing changes it.
CREATE TABLE questionnaire_requests (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    questionnaire_id   TEXT NOT NULL REFERENCES questionnaires (id),
    appointment_id     TEXT REFERENCES appointments (id),
    requested_by       TEXT NOT NULL REFERENCES accounts (id),
    requested_at       BIGINT NOT NULL,
    version            BIGINT,
    answers            BYTEA,
    saved_at           BIGINT,
    submitted_at       BIGINT,
    submitted_by       TEXT REFERENCES accounts (id)
);
CREATE INDEX questionnaire_requests_by_patient ON questionnaire_requests (clinic_id, clinic_patient_id);
CREATE INDEX questionnaire_requests_by_visit ON questionnaire_requests (appointment_id);

-- Photos attached to a response, sealed with the clinic's key; checked by their bytes.
CREATE TABLE questionnaire_photos (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES questionnaire_requests (id),
    content_type  TEXT NOT NULL,
    bytes         BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX questionnaire_photos_by_request ON questionnaire_photos (request_id);
