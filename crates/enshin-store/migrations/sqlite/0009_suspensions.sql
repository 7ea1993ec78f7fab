-- Incident mode (AVAIL-4): the whole service ('service') or one clinic (its id) suspended, with
-- the message users see. Lifting a suspension deletes its row; the access log keeps the history.
CREATE TABLE suspensions (
    scope       TEXT PRIMARY KEY,
    message     TEXT NOT NULL,
    since       BIGINT NOT NULL,
    by_account  TEXT NOT NULL REFERENCES accounts (id)
);
