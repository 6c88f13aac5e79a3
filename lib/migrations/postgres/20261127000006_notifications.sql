-- In-app notifications: what task-due delivers for each reminder.
create table notifications (
    id uuid primary key,
    user_id text not null,
    task_id uuid not null,
    -- The task.due event that caused it.
    event_id text not null,
    title text not null,
    due_at timestamptz,
    reminder_at timestamptz,
    created_at timestamptz not null,
    read_at timestamptz
);
create index notifications_user on notifications (user_id, created_at, id);
