-- Every task is in a list (issue #15). A user with tasks but no Inbox gets
-- one, and every existing task moves into its owner's Inbox; from here on the
-- API names the list of each task it writes. The foreign key without a cascade
-- is what refuses to delete a list that still holds tasks, and what makes a
-- task written to a list deleted meanwhile fail instead of dangle.
--
-- Deploy this before the binaries that write `list_id`: binaries older than
-- it cannot insert tasks once it has run.
alter table tasks add column list_id uuid references lists (id);

insert into lists (id, owner_id, name, colour, position, archived, inbox, created_at, updated_at, version)
select gen_random_uuid(), owners.user_id, 'Inbox', null, 0, false, true, now(), now(), 1
from (select distinct user_id from tasks) owners
where not exists (select 1 from lists l where l.owner_id = owners.user_id and l.inbox)
on conflict do nothing;

update tasks t set list_id = l.id from lists l where l.owner_id = t.user_id and l.inbox;

alter table tasks alter column list_id set not null;
create index tasks_list on tasks (list_id, created_at, id);
