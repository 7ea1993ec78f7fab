-- Patient registrations are counted per source address in the same table as failed log-ins
-- (for them `failures` counts registrations that reached hashing). SQLite cannot change a CHECK
-- constraint, so the table is rebuilt with the wider list.
CREATE TABLE login_throttle_new (
    scope         TEXT NOT NULL CHECK (scope IN ('account', 'address', 'registration')),
    subject       TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    locked_until  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (scope, subject)
);
INSERT INTO login_throttle_new (scope, subject, failures, locked_until, updated_at)
    SELECT scope, subject, failures, locked_until, updated_at FROM login_throttle;
DROP TABLE login_throttle;
ALTER TABLE login_throttle_new RENAME TO login_throttle;
