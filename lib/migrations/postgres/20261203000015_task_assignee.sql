-- Tasks may be assigned to a member of their list (issue #15); the API keeps
-- it a member, and unassigns the tasks of a member who leaves the list.
alter table tasks add column assignee_id text;
create index tasks_assignee on tasks (assignee_id, created_at, id) where assignee_id is not null;
