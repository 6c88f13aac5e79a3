-- See the PostgreSQL migration of the same name. SQLite reads the tasks of the
-- lists in one scan (it has no lateral join), so these serve one list's views.
drop index tasks_user_created;
drop index tasks_user_updated;
drop index tasks_user_due;
drop index tasks_user_priority;
drop index tasks_user_title;

create index tasks_list_updated on tasks (list_id, updated_at, id);
create index tasks_list_due on tasks (list_id, due_at, id);
create index tasks_list_priority on tasks (list_id, priority, id);
create index tasks_list_title on tasks (list_id, title_key, id);
create index tasks_list_open_due on tasks (list_id, due_at, id) where completed = 0;
create index tasks_list_open_created on tasks (list_id, created_at, id) where completed = 0;

-- SQLite cannot add a NOT NULL column without a default: the empty blob is
-- never a list id, and every row gets its real one here.
alter table task_tags add column list_id blob not null default x'';
update task_tags set list_id = (select t.list_id from tasks t where t.id = task_tags.task_id);
drop index task_tags_user_tag;
create index task_tags_list_tag on task_tags (list_id, tag, task_id);

-- Substring search by trigrams (FTS5, built into the bundled SQLite): a
-- phrase query finds the rows holding a string of three characters or more,
-- and `like` on the task decides, as on PostgreSQL. The index keeps only
-- trigrams and reads text from `tasks` by rowid. VACUUM renumbers the rowids of
-- a table without an integer key: after one, rebuild the index with
-- insert into tasks_search (tasks_search) values ('rebuild').
create virtual table tasks_search using fts5(
    search_text, content = 'tasks', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 1'
);
insert into tasks_search (tasks_search) values ('rebuild');
create trigger tasks_search_insert after insert on tasks begin
    insert into tasks_search (rowid, search_text) values (new.rowid, new.search_text);
end;
create trigger tasks_search_delete after delete on tasks begin
    insert into tasks_search (tasks_search, rowid, search_text) values ('delete', old.rowid, old.search_text);
end;
create trigger tasks_search_update after update of search_text on tasks begin
    insert into tasks_search (tasks_search, rowid, search_text) values ('delete', old.rowid, old.search_text);
    insert into tasks_search (rowid, search_text) values (new.rowid, new.search_text);
end;
