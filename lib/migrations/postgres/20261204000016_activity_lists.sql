-- Activity belongs to the list its task was in when it happened (issue #15),
-- and every member of that list sees it. The entries written before lists
-- happened in what became their owner's Inbox, the only place their owner
-- could see them: a user with activity but no Inbox gets one (and owns it).
alter table activity add column list_id uuid;

insert into lists (id, owner_id, name, colour, position, archived, inbox, created_at, updated_at, version)
select gen_random_uuid(), actors.user_id, 'Inbox', null, 0, false, true, now(), now(), 1
from (select distinct user_id from activity) actors
where not exists (select 1 from lists l where l.owner_id = actors.user_id and l.inbox)
on conflict do nothing;

insert into list_members (list_id, user_id, role, added_at)
select l.id, l.owner_id, 'owner', l.created_at from lists l
where l.inbox and not exists (select 1 from list_members m where m.list_id = l.id)
on conflict do nothing;

update activity a set list_id = l.id from lists l where l.owner_id = a.user_id and l.inbox;

alter table activity alter column list_id set not null;
create index activity_list on activity (list_id, occurred_at, id);
