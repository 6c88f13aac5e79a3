-- Web Push: each browser a user turned push on in, as its push service knows
-- it (RFC 8030: the endpoint; RFC 8291: the browser's P-256 key and auth
-- secret, base64url). An endpoint belongs to one browser, so to one user at a
-- time: subscribing it again as another user moves it.
create table push_subscriptions (
    id uuid primary key,
    user_id text not null,
    endpoint text not null unique,
    p256dh text not null,
    auth text not null,
    created_at timestamptz not null
);
create index push_subscriptions_user on push_subscriptions (user_id, created_at);

-- The push queue: one row per (event, subscription), sent by cron-tick under a
-- lease with retries, like mail. The payload is the notification (JSON),
-- encrypted for the subscription's keys when sent. Deleting a subscription
-- deletes its rows. status: pending | delivered | failed.
create table push_deliveries (
    id uuid primary key,
    event_id text not null,
    subscription_id uuid not null,
    user_id text not null,
    payload text not null,
    status text not null,
    attempts integer not null,
    next_attempt_at timestamptz not null,
    lease_until timestamptz,
    status_code integer,
    last_error text,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    unique (event_id, subscription_id)
);
create index push_deliveries_owed on push_deliveries (next_attempt_at) where status = 'pending';
create index push_deliveries_final on push_deliveries (updated_at) where status <> 'pending';
create index push_deliveries_subscription on push_deliveries (subscription_id);
