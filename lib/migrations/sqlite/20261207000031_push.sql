-- See the PostgreSQL migration of the same name (instants as integer microseconds).
create table push_subscriptions (
    id uuid primary key,
    user_id text not null,
    endpoint text not null unique,
    p256dh text not null,
    auth text not null,
    created_at integer not null
);
create index push_subscriptions_user on push_subscriptions (user_id, created_at);

create table push_deliveries (
    id uuid primary key,
    event_id text not null,
    subscription_id uuid not null,
    user_id text not null,
    payload text not null,
    status text not null,
    attempts integer not null,
    next_attempt_at integer not null,
    lease_until integer,
    status_code integer,
    last_error text,
    created_at integer not null,
    updated_at integer not null,
    unique (event_id, subscription_id)
);
create index push_deliveries_owed on push_deliveries (next_attempt_at) where status = 'pending';
create index push_deliveries_final on push_deliveries (updated_at) where status <> 'pending';
create index push_deliveries_subscription on push_deliveries (subscription_id);
