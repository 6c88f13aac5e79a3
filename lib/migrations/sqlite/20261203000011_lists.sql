-- See the PostgreSQL migration of the same name.
create table lists (
    id blob primary key,
    owner_id text not null,
    name text not null,
    colour text,
    position integer not null,
    archived integer not null,
    inbox integer not null,
    created_at integer not null,
    updated_at integer not null,
    version integer not null
);
create index lists_owner on lists (owner_id, position, created_at, id);
create unique index lists_one_inbox on lists (owner_id) where inbox;
