-- See the PostgreSQL migration of the same name. SQLite has one writer at a
-- time and row triggers only: one row per user (shard 0).
create table task_counts (
    user_id text not null,
    shard integer not null,
    tasks integer not null,
    primary key (user_id, shard)
);

insert into task_counts (user_id, shard, tasks) select user_id, 0, count(*) from tasks group by user_id;

create trigger task_counts_insert after insert on tasks
begin
    insert or ignore into task_counts (user_id, shard, tasks) values (new.user_id, 0, 0);
    update task_counts set tasks = tasks + 1 where user_id = new.user_id and shard = 0;
end;

create trigger task_counts_delete after delete on tasks
begin
    update task_counts set tasks = tasks - 1 where user_id = old.user_id and shard = 0;
end;
