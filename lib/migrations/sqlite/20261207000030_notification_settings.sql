-- See the PostgreSQL migration of the same name (instants as integer microseconds).
create table user_settings (
    user_id text primary key,
    time_zone text not null,
    email text,
    -- When the address was confirmed; null while the confirmation is awaited.
    email_verified_at integer,
    reminders_in_app integer not null,
    reminders_email integer not null,
    reminders_push integer not null,
    reminders_webhooks integer not null,
    -- 'HH:MM', both or neither.
    quiet_start text,
    quiet_end text,
    updated_at integer not null
);

-- The mail queue: one row per (event, recipient), rendered when queued, sent
-- by cron-tick under a lease with retries, like webhook deliveries.
-- status: pending (owed) | delivered (sent, or kept on the local host without
-- SMTP_URL) | failed (refused with a 5xx, or given up on).
create table mail_deliveries (
    id uuid primary key,
    -- The event the mail tells of (a task.due id), or `confirm:<link id>`.
    event_id text not null,
    user_id text not null,
    address text not null,
    -- The rendered message (JSON: subject, text, html, unsubscribe URL).
    message text not null,
    status text not null,
    attempts integer not null,
    next_attempt_at integer not null,
    lease_until integer,
    last_error text,
    created_at integer not null,
    updated_at integer not null,
    unique (event_id, user_id)
);
create index mail_deliveries_owed on mail_deliveries (next_attempt_at) where status = 'pending';
create index mail_deliveries_final on mail_deliveries (updated_at) where status <> 'pending';
create index mail_deliveries_recent on mail_deliveries (created_at);

-- Links in mails that act without a sign-in, each for one purpose: confirm an
-- address, unsubscribe, snooze a reminder. Found by the SHA-256 of their token.
create table mail_links (
    token_hash text primary key,
    purpose text not null,
    user_id text not null,
    -- The address a confirmation is for.
    address text,
    -- The task a snooze link is for.
    task_id blob,
    expires_at integer not null,
    used_at integer,
    created_at integer not null
);
create index mail_links_expiry on mail_links (expires_at);
