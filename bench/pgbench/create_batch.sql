-- create.sql a hundred times over in one transaction: 100 task rows and 100
-- outbox rows per commit, each row as create.sql writes it (fresh ids, the
-- same columns and payload). The limit a batched writer is measured against:
-- rows per second, where create.sql measures transactions. Run with
-- -M prepared, as create.sql.
BEGIN;
INSERT INTO tasks (id, user_id, title, title_key, description, search_text, priority, tags, due_at,
    remind_before_minutes, remind_at, recurrence, time_zone, series_id, completed, completed_at,
    created_at, updated_at, version, series_start, list_id)
SELECT gen_random_uuid(), 'bench-user', 'Benchmark task', 'benchmark task', '', 'benchmark task' || chr(10),
    2, '[]', NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, now(), now(), 1, NULL,
    (SELECT id FROM lists WHERE owner_id = 'bench-user' AND inbox)
FROM generate_series(1, 100);
INSERT INTO outbox (id, topic, partition_key, payload, created_at, lease_until)
SELECT gen_random_uuid(), 'task-created', gen_random_uuid()::text,
    replace('{"specversion"|"1.0","id"|"01a21ca5-1e9e-73ab-a71c-c80b528af339","type"|"task.created","source"|"api","subject"|"01a21ca5-1e9e-73ab-a71c-c80a20ee9ced","time"|"2026-11-27T10|55|13.054265Z","datacontenttype"|"application/json","dataschema"|"urn|todo|events|task|v1","data"|{"version"|1,"user_id"|"bench-user","task"|{"id"|"01a21ca5-1e9e-73ab-a71c-c80a20ee9ced","title"|"Benchmark task","description"|"","priority"|"high","tags"|[],"due_at"|null,"remind_before_minutes"|null,"remind_at"|null,"recurrence"|null,"time_zone"|null,"series_id"|null,"series_start"|null,"completed"|false,"completed_at"|null,"created_at"|"2026-11-27T10|55|13.054265Z","updated_at"|"2026-11-27T10|55|13.054265Z","version"|1}}}', '|', ':')::jsonb,
    now(), NULL
FROM generate_series(1, 100);
COMMIT;
