-- Tasks, their tags and the outbox, for PostgreSQL (production).
-- The SQLite migration of the same name creates the same tables; the SQL the
-- store runs is shared, so column names and meanings must stay in step.

create table tasks (
    id uuid primary key,
    -- The JWT `sub` of the owner. Every query filters on it.
    user_id text not null,
    title text not null,
    -- lower(title), compared byte-wise so PostgreSQL and SQLite sort titles alike.
    title_key text collate "C" not null,
    description text not null,
    -- lower(title || '\n' || description), searched with LIKE.
    search_text text not null,
    -- 0 low, 1 medium, 2 high, 3 urgent: sortable.
    priority smallint not null check (priority between 0 and 3),
    -- The tags as shown (JSON array), so a task reads in one row; task_tags below
    -- is the searchable copy, written in the same transaction.
    tags jsonb not null,
    due_at timestamptz,
    remind_before_minutes bigint,
    -- due_at - remind_before_minutes, for the cron function's index.
    remind_at timestamptz,
    recurrence text,
    time_zone text,
    series_id uuid,
    completed boolean not null,
    completed_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version bigint not null
);

-- One index per sort key, each ending in id like the keyset order.
create index tasks_user_created on tasks (user_id, created_at, id);
create index tasks_user_updated on tasks (user_id, updated_at, id);
create index tasks_user_due on tasks (user_id, due_at, id);
create index tasks_user_priority on tasks (user_id, priority, id);
create index tasks_user_title on tasks (user_id, title_key, id);
-- Open tasks with a reminder, for claiming due reminders.
create index tasks_open_reminders on tasks (remind_at) where not completed and remind_at is not null;

create table task_tags (
    task_id uuid not null references tasks (id) on delete cascade,
    user_id text not null,
    tag text not null,
    primary key (task_id, tag)
);
create index task_tags_user_tag on task_tags (user_id, tag, task_id);

-- Events written with their cause, published after commit (DESIGN.md, "Outbox").
create table outbox (
    -- Also the CloudEvent id, stable across republishes.
    id uuid primary key,
    topic text not null,
    partition_key text not null,
    -- The structured CloudEvent.
    payload jsonb not null,
    created_at timestamptz not null,
    published_at timestamptz,
    attempts integer not null default 0
);
create index outbox_unpublished on outbox (created_at) where published_at is null;
