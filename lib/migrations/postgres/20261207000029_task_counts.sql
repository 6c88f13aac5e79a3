-- How many tasks each user has made, kept by the database itself on every
-- insert and delete (whatever path writes them), so that the tasks-per-user
-- quota is one row's read rather than a count of the user's tasks.
-- Statement-level triggers: a bulk insert adds its counts in one statement,
-- the users in one order (no deadlock between two such statements).
create table task_counts (
    user_id text primary key,
    tasks bigint not null
);

insert into task_counts (user_id, tasks) select user_id, count(*) from tasks group by user_id;

create function task_counts_add() returns trigger language plpgsql as $$
begin
    insert into task_counts (user_id, tasks)
    select user_id, count(*) from inserted group by user_id order by user_id
    on conflict (user_id) do update set tasks = task_counts.tasks + excluded.tasks;
    return null;
end $$;

create function task_counts_remove() returns trigger language plpgsql as $$
begin
    update task_counts c set tasks = c.tasks - d.n
    from (select user_id, count(*) as n from deleted group by user_id order by user_id) d
    where c.user_id = d.user_id;
    return null;
end $$;

create trigger task_counts_insert after insert on tasks
    referencing new table as inserted for each statement execute function task_counts_add();
create trigger task_counts_delete after delete on tasks
    referencing old table as deleted for each statement execute function task_counts_remove();
