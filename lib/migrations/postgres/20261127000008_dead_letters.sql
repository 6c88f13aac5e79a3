-- Events the in-process bus (the embedded default) gave up on: dropped by their
-- subscriber, or still failing after its retries. In production Dapr sends these
-- to <topic>-dlq instead.
create table dead_letters (
    id uuid primary key,
    event_id uuid not null,
    topic text not null,
    subscriber text not null,
    reason text not null,
    payload jsonb not null,
    created_at timestamptz not null
);
create index dead_letters_created on dead_letters (created_at, id);
