-- Rollup keys as text compared byte by byte. A group key (its property names) and an event's
-- values for it were text[]: every comparison in the primary key's index deconstructed two arrays,
-- and an upsert makes dozens per row. They are now the JSON text of the same arrays
-- (`["team","user_id"]`, `["red","u1"]`; `[]` for a metric's total), COLLATE "C": one memcmp per
-- comparison. The JSON text is what JavaScript's JSON.stringify gives for an array of strings, so
-- the ingest writes the key the existing rows hold. Same rows, same order of key columns.
--
-- The tables are rewritten under an exclusive lock: ingest and usage reads wait until it is done.

-- A value escaped in JSON grows (a quote or backslash to 2 bytes, a control character to 6). Rows
-- stored under the earlier limit (2,000 bytes unescaped) that would no longer fit in an index
-- entry stop the upgrade here, with their count, rather than midway with PostgreSQL's own error.
DO $$
DECLARE
  too_long bigint;
BEGIN
  SELECT count(*) INTO too_long FROM (
    SELECT octet_length(to_json(group_key)::text) + octet_length(to_json(group_values)::text) AS bytes FROM usage_rollups
    UNION ALL
    SELECT octet_length(to_json(group_key)::text) + octet_length(to_json(group_values)::text) + octet_length(value) FROM usage_distinct_values
  ) k WHERE bytes > 2600;
  IF too_long > 0 THEN
    RAISE EXCEPTION 'migration 0021: % rollup rows have group values longer than 2,600 bytes once escaped as JSON, too long to index; delete or shorten them (usage_rollups, usage_distinct_values) and start again', too_long;
  END IF;
END $$;

ALTER TABLE usage_rollups
  ALTER COLUMN group_key TYPE text COLLATE "C" USING to_json(group_key)::text,
  ALTER COLUMN group_values TYPE text COLLATE "C" USING to_json(group_values)::text,
  -- A process of an earlier version still running would write `{}` and `{u1}` (text[] casts to
  -- text silently), usage no reader would find: its statements fail instead.
  ADD CONSTRAINT usage_rollups_keys_json CHECK (left(group_key, 1) = '[' AND left(group_values, 1) = '[');

ALTER TABLE usage_distinct_values
  ALTER COLUMN group_key TYPE text COLLATE "C" USING to_json(group_key)::text,
  ALTER COLUMN group_values TYPE text COLLATE "C" USING to_json(group_values)::text,
  ADD CONSTRAINT usage_distinct_values_keys_json CHECK (left(group_key, 1) = '[' AND left(group_values, 1) = '[');

-- A column's type change drops its statistics.
ANALYZE usage_rollups, usage_distinct_values;
