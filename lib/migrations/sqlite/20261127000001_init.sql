-- Tasks, their tags and the outbox, for SQLite (the embedded default).
-- Mirrors the PostgreSQL migration of the same name; see the comments there.
-- Instants are integer microseconds since the epoch (see store/timestamp.rs);
-- uuids are 16-byte blobs; booleans are 0 or 1.

create table tasks (
    id blob primary key,
    user_id text not null,
    title text not null,
    title_key text not null,
    description text not null,
    search_text text not null,
    priority integer not null check (priority between 0 and 3),
    tags text not null,
    due_at integer,
    remind_before_minutes integer,
    remind_at integer,
    recurrence text,
    time_zone text,
    series_id blob,
    completed integer not null,
    completed_at integer,
    created_at integer not null,
    updated_at integer not null,
    version integer not null
);

create index tasks_user_created on tasks (user_id, created_at, id);
create index tasks_user_updated on tasks (user_id, updated_at, id);
create index tasks_user_due on tasks (user_id, due_at, id);
create index tasks_user_priority on tasks (user_id, priority, id);
create index tasks_user_title on tasks (user_id, title_key, id);
create index tasks_open_reminders on tasks (remind_at) where completed = 0 and remind_at is not null;

create table task_tags (
    task_id blob not null references tasks (id) on delete cascade,
    user_id text not null,
    tag text not null,
    primary key (task_id, tag)
);
create index task_tags_user_tag on task_tags (user_id, tag, task_id);

create table outbox (
    id blob primary key,
    topic text not null,
    partition_key text not null,
    payload text not null,
    created_at integer not null,
    published_at integer,
    attempts integer not null default 0
);
create index outbox_unpublished on outbox (created_at) where published_at is null;
