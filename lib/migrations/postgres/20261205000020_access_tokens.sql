-- Personal access tokens (issue #17): a credential a user makes and revokes
-- without an identity provider. Only the token's SHA-256 is kept (unique: it is
-- how a request's token is found); revoking deletes the row, so it takes
-- effect on the next request. `scopes` is space-separated, as OAuth writes it.
create table access_tokens (
    id uuid primary key,
    user_id text not null,
    token_hash text not null unique,
    name text not null,
    scopes text not null,
    created_at timestamptz not null,
    expires_at timestamptz,
    last_used_at timestamptz
);
create index access_tokens_user on access_tokens (user_id, created_at);
