-- A list's own order (`sort=manual`, `POST /v1/tasks/{id}/move`): each task's
-- position, ascending, ties broken by id. A new task goes last with its
-- creation time in microseconds as its position (lib/src/task.rs,
-- `position_at`), which is what the tasks already here get: their order is
-- the order they were made in. A move writes one row, between its neighbours.
alter table tasks add column position bigint not null default 0;
update tasks set position = (extract(epoch from created_at) * 1000000)::bigint;
create index tasks_list_position on tasks (list_id, position, id);
