-- Rollup keys as text compared byte by byte. A group key (its property names) and an event's
-- values for it were text[]: every comparison in the primary key's index deconstructed two arrays,
-- and an upsert makes dozens per row. They are now the JSON text of the same arrays
-- (`["team","user_id"]`, `["red","u1"]`; `[]` for a metric's total), COLLATE "C": one memcmp per
-- comparison. The JSON text is what JavaScript's JSON.stringify gives for an array of strings, so
-- the ingest writes the key the existing rows hold. Same rows, same order of key columns.
ALTER TABLE usage_rollups
  ALTER COLUMN group_key TYPE text COLLATE "C" USING to_json(group_key)::text,
  ALTER COLUMN group_values TYPE text COLLATE "C" USING to_json(group_values)::text;

ALTER TABLE usage_distinct_values
  ALTER COLUMN group_key TYPE text COLLATE "C" USING to_json(group_key)::text,
  ALTER COLUMN group_values TYPE text COLLATE "C" USING to_json(group_values)::text;
