-- How many tasks each user has made, kept by the database itself on every
-- insert and delete (whatever path writes them), so that the tasks-per-user
-- quota reads a few rows rather than counting the user's tasks.
--
-- A user's count is spread over up to 16 rows (by the writing session), so
-- that one user's concurrent inserts do not queue on one row's lock until
-- they commit; the count is their sum. Statement-level triggers: a bulk
-- insert adds its counts in one statement, its rows in one order.
create table task_counts (
    user_id text not null,
    shard smallint not null,
    tasks bigint not null,
    primary key (user_id, shard)
);

insert into task_counts (user_id, shard, tasks) select user_id, 0, count(*) from tasks group by user_id;

create function task_counts_add() returns trigger language plpgsql as $$
begin
    insert into task_counts (user_id, shard, tasks)
    select user_id, pg_backend_pid() % 16, count(*) from inserted group by user_id order by user_id
    on conflict (user_id, shard) do update set tasks = task_counts.tasks + excluded.tasks;
    return null;
end $$;

create function task_counts_remove() returns trigger language plpgsql as $$
begin
    insert into task_counts (user_id, shard, tasks)
    select user_id, pg_backend_pid() % 16, -count(*) from deleted group by user_id order by user_id
    on conflict (user_id, shard) do update set tasks = task_counts.tasks + excluded.tasks;
    return null;
end $$;

create trigger task_counts_insert after insert on tasks
    referencing new table as inserted for each statement execute function task_counts_add();
create trigger task_counts_delete after delete on tasks
    referencing old table as deleted for each statement execute function task_counts_remove();
