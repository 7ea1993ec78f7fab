-- Clinics are the tenants; every clinical table references one (ROLE-2).
-- Portable subset (DESIGN.md): ids TEXT (uuid v7), times BIGINT unix ms UTC, flags BIGINT 0/1.
CREATE TABLE clinics (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
