-- See the PostgreSQL migration of the same name.
create table list_invitations (
    id blob primary key,
    token_hash text not null unique,
    list_id blob not null references lists (id) on delete cascade,
    role text not null check (role in ('owner', 'editor', 'viewer')),
    created_by text not null,
    created_at integer not null,
    expires_at integer not null,
    accepted_by text,
    accepted_at integer
);
create index list_invitations_list on list_invitations (list_id);
