-- Task lists (issue #15). Every user has one Inbox, created on first need; the
-- partial unique index makes "create it if missing" safe under concurrency.
-- Tasks join lists in a later migration, which also moves existing tasks into
-- their owners' Inboxes.
create table lists (
    id uuid primary key,
    owner_id text not null,
    name text not null,
    -- #rrggbb, lower case.
    colour text,
    position bigint not null,
    archived boolean not null,
    inbox boolean not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    version bigint not null
);
create index lists_owner on lists (owner_id, position, created_at, id);
create unique index lists_one_inbox on lists (owner_id) where inbox;
