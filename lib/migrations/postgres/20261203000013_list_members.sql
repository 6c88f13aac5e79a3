-- Members of lists and their roles (issue #15): every read and write of a
-- list or of its tasks is decided by the caller's membership. Each list's
-- maker becomes its first owner, for the lists that exist already too.
create table list_members (
    list_id uuid not null references lists (id) on delete cascade,
    user_id text not null,
    role text not null check (role in ('owner', 'editor', 'viewer')),
    added_at timestamptz not null,
    primary key (list_id, user_id)
);
-- The lists a user may see, for every task query.
create index list_members_user on list_members (user_id, list_id);

insert into list_members (list_id, user_id, role, added_at)
select id, owner_id, 'owner', created_at from lists;
