-- See the PostgreSQL migration of the same name.
create table processed_events (
    consumer text not null,
    event_id text not null,
    processed_at integer not null,
    primary key (consumer, event_id)
);

create table activity (
    id blob primary key,
    user_id text not null,
    task_id blob not null,
    kind text not null,
    event_id text not null,
    summary text not null,
    occurred_at integer not null
);
create index activity_user on activity (user_id, occurred_at, id);
create index activity_task on activity (task_id, occurred_at, id);
