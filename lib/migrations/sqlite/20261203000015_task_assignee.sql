-- See the PostgreSQL migration of the same name.
alter table tasks add column assignee_id text;
create index tasks_assignee on tasks (assignee_id, created_at, id) where assignee_id is not null;
