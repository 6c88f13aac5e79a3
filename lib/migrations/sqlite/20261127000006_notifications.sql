-- See the PostgreSQL migration of the same name.
create table notifications (
    id blob primary key,
    user_id text not null,
    task_id blob not null,
    event_id text not null,
    title text not null,
    due_at integer,
    reminder_at integer,
    created_at integer not null,
    read_at integer
);
create index notifications_user on notifications (user_id, created_at, id);
