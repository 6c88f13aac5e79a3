-- Views and search whose first page costs the same at a thousand tasks and at
-- a million (issue #29). The task list reads each of a user's lists by an index
-- that starts with the list and is in the order asked (lib/src/store/list.rs);
-- the indexes by user they replace served the task lists of before lists.

drop index tasks_user_created, tasks_user_updated, tasks_user_due, tasks_user_priority, tasks_user_title;

-- One per sort key, each ending in id like the keyset order; tasks_list
-- (list_id, created_at, id) serves the default order already. Due times sort
-- with tasks that have none last in either direction, hence two for due.
create index tasks_list_updated on tasks (list_id, updated_at, id);
create index tasks_list_due on tasks (list_id, due_at, id);
create index tasks_list_due_desc on tasks (list_id, due_at desc nulls last, id desc);
create index tasks_list_priority on tasks (list_id, priority, id);
create index tasks_list_title on tasks (list_id, title_key, id);
-- The app's views are of open tasks, and an account piles up done ones: these
-- keep the open views from stepping over them.
create index tasks_list_open_due on tasks (list_id, due_at, id) where not completed;
create index tasks_list_open_created on tasks (list_id, created_at, id) where not completed;

-- Tags are found within a list: a rare tag reads its few tasks, not the list.
alter table task_tags add column list_id uuid;
update task_tags g set list_id = t.list_id from tasks t where t.id = g.task_id;
alter table task_tags alter column list_id set not null;
drop index task_tags_user_tag;
create index task_tags_list_tag on task_tags (list_id, tag, task_id);

-- Substring search (`q`) by trigrams: `like '%…%'` of three characters or
-- more reads the matching rows from this index instead of every row. pg_trgm
-- ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the
-- database's owner may create it, as the managed offerings allow (see the
-- operations chapter of the book).
create extension if not exists pg_trgm;
create index tasks_search on tasks using gin (search_text gin_trgm_ops);
