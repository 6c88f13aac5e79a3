-- See the PostgreSQL migration of the same name.
alter table tasks add column parent_id blob references tasks (id) on delete restrict;
create index tasks_parent on tasks (parent_id, created_at, id) where parent_id is not null;
