-- See the PostgreSQL migration of the same name. A new Inbox gets a random
-- (version 4) uuid; its instants are microseconds. SQLite cannot make the
-- added column NOT NULL: triggers refuse a null list_id.
alter table activity add column list_id blob;

insert into lists (id, owner_id, name, colour, position, archived, inbox, created_at, updated_at, version)
select
    unhex(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)
        || substr('89AB', 1 + abs(random() % 4), 1) || substr(hex(randomblob(8)), 2)),
    actors.user_id, 'Inbox', null, 0, 0, 1,
    cast(unixepoch('subsec') * 1000000 as integer), cast(unixepoch('subsec') * 1000000 as integer), 1
from (select distinct user_id from activity) actors
where not exists (select 1 from lists l where l.owner_id = actors.user_id and l.inbox = 1)
on conflict do nothing;

insert into list_members (list_id, user_id, role, added_at)
select l.id, l.owner_id, 'owner', l.created_at from lists l
where l.inbox = 1 and not exists (select 1 from list_members m where m.list_id = l.id)
on conflict do nothing;

update activity set list_id = (select l.id from lists l where l.owner_id = activity.user_id and l.inbox = 1);

create trigger activity_list_required before insert on activity when new.list_id is null
begin
    select raise(abort, 'activity.list_id must not be null');
end;

create index activity_list on activity (list_id, occurred_at, id);
