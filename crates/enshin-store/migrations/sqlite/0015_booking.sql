-- Booking (FUNC-2). Each clinic keeps its time zone (slots are cut on its wall clock), whether
-- patients book directly or send requests that staff confirm, and how long before the start a
-- patient may still cancel or move a visit. Menus are never deleted (appointments point at them),
-- only withdrawn.
ALTER TABLE clinics ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Tokyo';
ALTER TABLE clinics ADD COLUMN self_booking BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clinics ADD COLUMN cancel_deadline_minutes BIGINT NOT NULL DEFAULT 1440;

CREATE TABLE visit_menus (
    id          TEXT PRIMARY KEY,
    clinic_id   TEXT NOT NULL REFERENCES clinics (id),
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('online', 'in_person')),
    visit       TEXT NOT NULL CHECK (visit IN ('first', 'repeat')),
    minutes     BIGINT NOT NULL,
    fee_yen     BIGINT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL
);
CREATE INDEX visit_menus_by_clinic ON visit_menus (clinic_id);

-- A doctor's regular week (weekday 1 = Monday … 7 = Sunday; minutes after local midnight) and
-- the days that differ: a row without hours closes the day, rows with hours replace the week.
CREATE TABLE doctor_hours (
    clinic_id   TEXT NOT NULL REFERENCES clinics (id),
    doctor_id   TEXT NOT NULL REFERENCES accounts (id),
    weekday     BIGINT NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_min   BIGINT NOT NULL,
    end_min     BIGINT NOT NULL
);
CREATE INDEX doctor_hours_by_doctor ON doctor_hours (doctor_id);

CREATE TABLE doctor_exceptions (
    clinic_id   TEXT NOT NULL REFERENCES clinics (id),
    doctor_id   TEXT NOT NULL REFERENCES accounts (id),
    day         TEXT NOT NULL,
    start_min   BIGINT,
    end_min     BIGINT
);
CREATE INDEX doctor_exceptions_by_doctor ON doctor_exceptions (doctor_id, day);

-- Appointments: one doctor, one registry record, one menu, an instant range. The partial unique
-- index is the last line against double booking (the booking transaction also checks overlaps
-- under a per-doctor lock); a cancelled appointment frees its slot.
CREATE TABLE appointments (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    clinic_patient_id  TEXT NOT NULL REFERENCES clinic_patients (id),
    doctor_id          TEXT NOT NULL REFERENCES accounts (id),
    menu_id            TEXT NOT NULL REFERENCES visit_menus (id),
    starts_at          BIGINT NOT NULL,
    ends_at            BIGINT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('requested', 'confirmed', 'in_consultation', 'completed', 'cancelled', 'no_show')),
    booked_by          TEXT NOT NULL REFERENCES accounts (id),
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    updated_by         TEXT NOT NULL REFERENCES accounts (id),
    reminded_day_at    BIGINT,
    reminded_hour_at   BIGINT
);
CREATE UNIQUE INDEX appointments_one_per_start ON appointments (doctor_id, starts_at) WHERE state <> 'cancelled';
CREATE INDEX appointments_by_clinic ON appointments (clinic_id, starts_at);
CREATE INDEX appointments_by_patient ON appointments (clinic_patient_id, starts_at);
CREATE INDEX appointments_by_start ON appointments (state, starts_at);

-- The rest of the registry (FUNC-1): sex, clinic card number (診察券番号) and contact, sealed like
-- the other fields (rows made before have none). card_index is an HMAC of the card number under a
-- key derived from the clinic's data key, so a card number is found, and kept unique in its
-- clinic, without the database seeing it.
ALTER TABLE clinic_patients ADD COLUMN sex BLOB;
ALTER TABLE clinic_patients ADD COLUMN card_number BLOB;
ALTER TABLE clinic_patients ADD COLUMN contact BLOB;
ALTER TABLE clinic_patients ADD COLUMN card_index TEXT;
CREATE UNIQUE INDEX clinic_patients_by_card ON clinic_patients (clinic_id, card_index);
