-- The access log (LOG-1..7), in the schema "audit", apart from the main data. Nothing in the
-- product updates or deletes a row here (LOG-2); the triggers refuse it for every role, and the
-- service role should hold only INSERT and SELECT on these tables (docs/operations.md).
CREATE TABLE writers (
    id          TEXT PRIMARY KEY,
    public_key  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE entries (
    writer        TEXT NOT NULL REFERENCES writers (id),
    idx           BIGINT NOT NULL,
    body          TEXT NOT NULL,
    at_ms         BIGINT NOT NULL,
    clinic_id     TEXT,
    principal_id  TEXT,
    outcome       TEXT NOT NULL,
    PRIMARY KEY (writer, idx)
);
CREATE INDEX entries_by_time ON entries (at_ms);
CREATE INDEX entries_by_clinic ON entries (clinic_id, at_ms);
CREATE TABLE checkpoints (
    writer     TEXT NOT NULL REFERENCES writers (id),
    size       BIGINT NOT NULL,
    root       TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    signature  BYTEA NOT NULL,
    frontier   TEXT NOT NULL,
    PRIMARY KEY (writer, size, at_ms)
);
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only';
END;
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER writers_append_only BEFORE UPDATE OR DELETE ON writers
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER writers_no_truncate BEFORE TRUNCATE ON writers
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
