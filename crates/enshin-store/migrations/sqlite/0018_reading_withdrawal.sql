-- A reading the patient marks as a mistake (a typing slip, a cuff put on wrong) is withdrawn,
-- never deleted: it leaves charts, lists and exports, and stays in the table with the time.
ALTER TABLE readings ADD COLUMN withdrawn_at BIGINT;
