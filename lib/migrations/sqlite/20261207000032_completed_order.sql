-- See the PostgreSQL migration of the same name. SQLite reads the index
-- backwards for the newest first.
create index tasks_list_completed on tasks (list_id, completed_at, id);
