-- See the PostgreSQL migration of the same name. Times are microseconds here
-- already.
alter table tasks add column position integer not null default 0;
update tasks set position = created_at;
create index tasks_list_position on tasks (list_id, position, id);
