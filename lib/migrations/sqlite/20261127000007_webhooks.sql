-- See the PostgreSQL migration of the same name.
create table webhooks (
    id blob primary key,
    user_id text not null,
    url text not null,
    secret text not null,
    created_at integer not null
);
create index webhooks_user on webhooks (user_id, created_at);

create table webhook_deliveries (
    event_id text not null,
    webhook_id blob not null,
    status text not null,
    attempts integer not null,
    last_status_code integer,
    last_error text,
    updated_at integer not null,
    primary key (event_id, webhook_id)
);
