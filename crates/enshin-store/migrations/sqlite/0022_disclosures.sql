-- Published revisions of the conformance disclosure (DISC-1, seed §13-②): the exact JSON document,
-- signed by the access-log writer key of whoever published it. Append-only: nothing edits or
-- deletes a revision, so the history a clinic was shown stays as it was.
CREATE TABLE disclosures (
    revision      BIGINT PRIMARY KEY,
    published_at  BIGINT NOT NULL,
    published_by  TEXT NOT NULL,
    conformant    BIGINT NOT NULL,
    document      TEXT NOT NULL,
    signer        TEXT NOT NULL,
    public_key    TEXT NOT NULL,
    signature     TEXT NOT NULL
);
