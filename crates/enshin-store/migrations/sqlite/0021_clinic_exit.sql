-- A clinic leaving the service (DATA-5): its notice and termination date, and the record that its
-- rows were deleted, kept with the signed certificate. No foreign key: the row outlives the clinic.
-- `erasing` is 1 only inside the transaction that deletes the clinic: the record triggers let a
-- version, identity check or agreement be deleted only then, and only of that clinic.
CREATE TABLE clinic_terminations (
    clinic_id     TEXT PRIMARY KEY,
    clinic_name   TEXT NOT NULL,
    noticed_at    BIGINT NOT NULL,
    noticed_by    TEXT NOT NULL,
    effective_on  TEXT NOT NULL,
    erasing       BIGINT NOT NULL DEFAULT 0,
    deleted_at    BIGINT,
    deleted_counts TEXT,
    certificate   TEXT
);

-- Certificates of deleted clinics: their rows go, their serials stay on every CRL.
CREATE TABLE retired_certificates (
    serial      TEXT PRIMARY KEY,
    revoked_at  BIGINT NOT NULL,
    not_after   BIGINT NOT NULL
);

-- The delete triggers of 0020, now with the one exception.
DROP TRIGGER visit_note_versions_append_only_delete;
CREATE TRIGGER visit_note_versions_append_only_delete BEFORE DELETE ON visit_note_versions
WHEN NOT EXISTS (SELECT 1 FROM visit_notes n JOIN clinic_terminations t ON t.clinic_id = n.clinic_id
                 WHERE n.id = OLD.note_id AND t.erasing = 1)
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
DROP TRIGGER care_plan_versions_append_only_delete;
CREATE TRIGGER care_plan_versions_append_only_delete BEFORE DELETE ON care_plan_versions
WHEN NOT EXISTS (SELECT 1 FROM care_plans p JOIN clinic_terminations t ON t.clinic_id = p.clinic_id
                 WHERE p.id = OLD.plan_id AND t.erasing = 1)
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
DROP TRIGGER plan_agreements_append_only_delete;
CREATE TRIGGER plan_agreements_append_only_delete BEFORE DELETE ON plan_agreements
WHEN NOT EXISTS (SELECT 1 FROM care_plans p JOIN clinic_terminations t ON t.clinic_id = p.clinic_id
                 WHERE p.id = OLD.plan_id AND t.erasing = 1)
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
DROP TRIGGER identity_checks_append_only_delete;
CREATE TRIGGER identity_checks_append_only_delete BEFORE DELETE ON identity_checks
WHEN NOT EXISTS (SELECT 1 FROM clinic_terminations t WHERE t.clinic_id = OLD.clinic_id AND t.erasing = 1)
BEGIN SELECT RAISE(ABORT, 'clinical record versions are never changed or deleted'); END;
