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

-- The UPDATE OR DELETE triggers of 0020 split: updates are always refused, deletes except then.
CREATE FUNCTION refuse_record_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner_clinic TEXT;
BEGIN
    IF TG_TABLE_NAME = 'visit_note_versions' THEN
        SELECT clinic_id INTO owner_clinic FROM visit_notes WHERE id = OLD.note_id;
    ELSIF TG_TABLE_NAME IN ('care_plan_versions', 'plan_agreements') THEN
        SELECT clinic_id INTO owner_clinic FROM care_plans WHERE id = OLD.plan_id;
    ELSE
        owner_clinic := OLD.clinic_id;
    END IF;
    IF EXISTS (SELECT 1 FROM clinic_terminations WHERE clinic_id = owner_clinic AND erasing = 1) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'clinical record versions are never changed or deleted';
END;
$$;
DROP TRIGGER visit_note_versions_append_only ON visit_note_versions;
CREATE TRIGGER visit_note_versions_append_only BEFORE UPDATE ON visit_note_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_record_change();
CREATE TRIGGER visit_note_versions_append_only_delete BEFORE DELETE ON visit_note_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();
DROP TRIGGER care_plan_versions_append_only ON care_plan_versions;
CREATE TRIGGER care_plan_versions_append_only BEFORE UPDATE ON care_plan_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_record_change();
CREATE TRIGGER care_plan_versions_append_only_delete BEFORE DELETE ON care_plan_versions
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();
DROP TRIGGER plan_agreements_append_only ON plan_agreements;
CREATE TRIGGER plan_agreements_append_only BEFORE UPDATE ON plan_agreements
    FOR EACH ROW EXECUTE FUNCTION refuse_record_change();
CREATE TRIGGER plan_agreements_append_only_delete BEFORE DELETE ON plan_agreements
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();
DROP TRIGGER identity_checks_append_only ON identity_checks;
CREATE TRIGGER identity_checks_append_only BEFORE UPDATE ON identity_checks
    FOR EACH ROW EXECUTE FUNCTION refuse_record_change();
CREATE TRIGGER identity_checks_append_only_delete BEFORE DELETE ON identity_checks
    FOR EACH ROW EXECUTE FUNCTION refuse_record_delete();
