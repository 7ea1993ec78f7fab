-- The access log (LOG-1..7), in its own database file (audit.db), apart from the main data.
-- Nothing in the product updates or deletes a row here (LOG-2); the triggers refuse it anyway.
CREATE TABLE writers (
    id          TEXT PRIMARY KEY,
    public_key  BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
-- body: the canonical JSON the Merkle leaf is hashed from. The other columns repeat some of its
-- fields for searching; verify reads only body.
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
-- frontier: the writer's subtree roots at this size, to resume without rereading the log.
CREATE TABLE checkpoints (
    writer     TEXT NOT NULL REFERENCES writers (id),
    size       BIGINT NOT NULL,
    root       TEXT NOT NULL,
    at_ms      BIGINT NOT NULL,
    signature  BLOB NOT NULL,
    frontier   TEXT NOT NULL,
    PRIMARY KEY (writer, size, at_ms)
);
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER writers_append_only_update BEFORE UPDATE ON writers
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
CREATE TRIGGER writers_append_only_delete BEFORE DELETE ON writers
BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
