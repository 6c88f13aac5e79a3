-- Invitations to lists by link (issue #15). Only the token's SHA-256 is
-- kept; an invitation is accepted once, before it expires.
create table list_invitations (
    id uuid primary key,
    token_hash text not null unique,
    list_id uuid not null references lists (id) on delete cascade,
    role text not null check (role in ('owner', 'editor', 'viewer')),
    created_by text not null,
    created_at timestamptz not null,
    expires_at timestamptz not null,
    accepted_by text,
    accepted_at timestamptz
);
create index list_invitations_list on list_invitations (list_id);
