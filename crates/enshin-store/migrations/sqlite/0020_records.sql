-- Clinical records (FUNC-6, FUNC-7, ROLE-3): visit notes, identity checks, the online
-- consultation plan and the patient's agreements. Drafts change until they are finalised or
-- offered; versions never change: the triggers refuse an UPDATE or DELETE, and each version
-- holds the hash of its content and of the version before (`enshin records verify`). Contents,
-- drafts and reasons are A-class, sealed with the clinic's key.

-- Whether an online appointment's call waits for the patient's agreement to a current plan.
ALTER TABLE clinics ADD COLUMN plan_required_for_calls BIGINT NOT NULL DEFAULT 1;

-- A visit's note. `doctor_id` is whose note it is: the doctor who drafted it, or the doctor a
-- staff member drafted it for (`state` 'awaiting_approval'). `current_version` counts versions.
CREATE TABLE visit_notes (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    appointment_id     TEXT NOT NULL REFERENCES appointments (id),
    mode               TEXT NOT NULL CHECK (mode IN ('online', 'in_person')),
    doctor_id          TEXT NOT NULL REFERENCES accounts (id),
    state              TEXT NOT NULL CHECK (state IN ('draft', 'awaiting_approval', 'final', 'entered_in_error')),
    draft              BLOB,
    drafted_by         TEXT REFERENCES accounts (id),
    drafted_at         BIGINT,
    created_at         BIGINT NOT NULL,
    current_version    BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX visit_notes_one_per_visit ON visit_notes (appointment_id) WHERE state <> 'entered_in_error';
CREATE INDEX visit_notes_by_patient ON visit_notes (clinic_id, clinic_patient_id);

CREATE TABLE visit_note_versions (
    note_id       TEXT NOT NULL REFERENCES visit_notes (id),
    version       BIGINT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('original', 'amendment', 'entered_in_error')),
    content       BLOB NOT NULL,
    signed_by     TEXT NOT NULL REFERENCES accounts (id),
    entered_by    TEXT REFERENCES accounts (id),
    created_at    BIGINT NOT NULL,
    content_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (note_id, version)
);

-- The identity checks of online visits, as made (the latest counts; none is changed).
CREATE TABLE identity_checks (
    id              TEXT PRIMARY KEY,
    clinic_id       TEXT NOT NULL REFERENCES clinics (id),
    appointment_id  TEXT NOT NULL REFERENCES appointments (id),
    method          TEXT NOT NULL CHECK (method IN ('known_patient', 'photo_id', 'two_ids', 'id_and_questions')),
    checked_by      TEXT NOT NULL REFERENCES accounts (id),
    checked_at      BIGINT NOT NULL
);
CREATE INDEX identity_checks_by_visit ON identity_checks (appointment_id, checked_at);

-- A patient's plan at a clinic; its draft changes until offered as the next version.
CREATE TABLE care_plans (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    created_at         BIGINT NOT NULL,
    draft              BLOB,
    drafted_by         TEXT REFERENCES accounts (id),
    drafted_at         BIGINT,
    current_version    BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX care_plans_one_per_patient ON care_plans (clinic_id, clinic_patient_id);

CREATE TABLE care_plan_versions (
    plan_id       TEXT NOT NULL REFERENCES care_plans (id),
    version       BIGINT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind = 'plan'),
    content       BLOB NOT NULL,
    signed_by     TEXT NOT NULL REFERENCES accounts (id),
    entered_by    TEXT REFERENCES accounts (id),
    created_at    BIGINT NOT NULL,
    content_hash  TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- Agreements to one exact plan version (its hash is kept with it): by the patient in the app,
-- or verbal, attested by a doctor.
CREATE TABLE plan_agreements (
    id            TEXT PRIMARY KEY,
    plan_id       TEXT NOT NULL REFERENCES care_plans (id),
    version       BIGINT NOT NULL,
    version_hash  TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('patient', 'verbal')),
    account_id    TEXT REFERENCES accounts (id),
    attested_by   TEXT REFERENCES accounts (id),
    agreed_at     BIGINT NOT NULL,
    FOREIGN KEY (plan_id, version) REFERENCES care_plan_versions (plan_id, version)
);
CREATE INDEX plan_agreements_by_plan ON plan_agreements (plan_id, version);

CREATE TRIGGER visit_note_versions_append_only_update BEFORE UPDATE ON visit_note_versions
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER visit_note_versions_append_only_delete BEFORE DELETE ON visit_note_versions
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER care_plan_versions_append_only_update BEFORE UPDATE ON care_plan_versions
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER care_plan_versions_append_only_delete BEFORE DELETE ON care_plan_versions
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER plan_agreements_append_only_update BEFORE UPDATE ON plan_agreements
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER plan_agreements_append_only_delete BEFORE DELETE ON plan_agreements
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER identity_checks_append_only_update BEFORE UPDATE ON identity_checks
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
CREATE TRIGGER identity_checks_append_only_delete BEFORE DELETE ON identity_checks
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
