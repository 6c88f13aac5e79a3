-- See the PostgreSQL migration of the same name (SQLite has row triggers only).
create table task_counts (
    user_id text primary key,
    tasks integer not null
);

insert into task_counts (user_id, tasks) select user_id, count(*) from tasks group by user_id;

create trigger task_counts_insert after insert on tasks
begin
    insert or ignore into task_counts (user_id, tasks) values (new.user_id, 0);
    update task_counts set tasks = tasks + 1 where user_id = new.user_id;
end;

create trigger task_counts_delete after delete on tasks
begin
    update task_counts set tasks = tasks - 1 where user_id = old.user_id;
end;
