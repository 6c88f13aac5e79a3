-- Subtasks (issue #15): a task may name a parent task in the same list. The
-- API keeps the tree shallow and acyclic and deletes children before their
-- parent, so the reference never dangles; `restrict` makes a parent deleted
-- any other way an error rather than orphaned subtasks.
alter table tasks add column parent_id uuid references tasks (id) on delete restrict;
create index tasks_parent on tasks (parent_id, created_at, id) where parent_id is not null;
