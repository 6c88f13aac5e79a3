-- What the event functions keep.

-- One row per (consumer, event) handled, written in the same transaction as the
-- consumer's effects: a redelivered event finds its row and changes nothing.
-- event_id is text: events from other producers need not use UUIDs.
create table processed_events (
    consumer text not null,
    event_id text not null,
    processed_at timestamptz not null,
    primary key (consumer, event_id)
);

-- The activity history of tasks, per user.
create table activity (
    id uuid primary key,
    user_id text not null,
    task_id uuid not null,
    -- The event that caused the entry, e.g. task.created.
    kind text not null,
    event_id text not null,
    -- A short human summary, e.g. the task title at the time.
    summary text not null,
    occurred_at timestamptz not null
);
create index activity_user on activity (user_id, occurred_at, id);
create index activity_task on activity (task_id, occurred_at, id);
