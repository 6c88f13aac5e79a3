-- Membership changes of a list have activity entries too (issue #15): they
-- name no task.
alter table activity alter column task_id drop not null;
