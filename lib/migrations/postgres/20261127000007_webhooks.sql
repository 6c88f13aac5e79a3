-- Users' webhook endpoints, and one delivery record per (event, webhook) so that a
-- redelivered event resends only what did not go out.
create table webhooks (
    id uuid primary key,
    user_id text not null,
    url text not null,
    -- Standard Webhooks signing secret (whsec_…); needed in clear to sign.
    secret text not null,
    created_at timestamptz not null
);
create index webhooks_user on webhooks (user_id, created_at);

create table webhook_deliveries (
    event_id text not null,
    webhook_id uuid not null,
    -- delivered | failed (permanent, 4xx) | retrying (5xx, timeout)
    status text not null,
    attempts integer not null,
    last_status_code integer,
    last_error text,
    updated_at timestamptz not null,
    primary key (event_id, webhook_id)
);
