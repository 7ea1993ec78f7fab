-- Patient registrations are counted per source address in the same table as failed log-ins
-- (for them `failures` counts registrations that reached hashing).
ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_scope_check;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_scope_check
    CHECK (scope IN ('account', 'address', 'registration'));
