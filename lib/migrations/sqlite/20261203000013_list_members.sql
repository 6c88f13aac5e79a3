-- See the PostgreSQL migration of the same name.
create table list_members (
    list_id blob not null references lists (id) on delete cascade,
    user_id text not null,
    role text not null check (role in ('owner', 'editor', 'viewer')),
    added_at integer not null,
    primary key (list_id, user_id)
);
create index list_members_user on list_members (user_id, list_id);

insert into list_members (list_id, user_id, role, added_at)
select id, owner_id, 'owner', created_at from lists;
