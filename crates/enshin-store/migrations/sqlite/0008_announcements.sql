-- Service announcements to clinics (AVAIL-5). A change needs 14 days' notice; a security notice
-- may take effect at once (the rule lives in enshin-core; the kind is kept for display).
CREATE TABLE announcements (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('change', 'security')),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    effective_at  BIGINT NOT NULL,
    published_at  BIGINT NOT NULL,
    published_by  TEXT NOT NULL REFERENCES accounts (id)
);
CREATE INDEX announcements_by_time ON announcements (published_at);
