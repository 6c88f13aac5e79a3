-- See the PostgreSQL migration of the same name.
create table access_tokens (
    id blob primary key,
    user_id text not null,
    token_hash text not null unique,
    name text not null,
    scopes text not null,
    created_at integer not null,
    expires_at integer,
    last_used_at integer
);
create index access_tokens_user on access_tokens (user_id, created_at);
