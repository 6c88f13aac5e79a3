-- See the PostgreSQL migration of the same name. SQLite cannot add a NOT NULL
-- column that references another table, so triggers refuse a null list_id.
-- A new Inbox gets a random (version 4) uuid; its instants are microseconds.
alter table tasks add column list_id blob references lists (id);

insert into lists (id, owner_id, name, colour, position, archived, inbox, created_at, updated_at, version)
select
    unhex(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)
        || substr('89AB', 1 + abs(random() % 4), 1) || substr(hex(randomblob(8)), 2)),
    owners.user_id, 'Inbox', null, 0, 0, 1,
    cast(unixepoch('subsec') * 1000000 as integer), cast(unixepoch('subsec') * 1000000 as integer), 1
from (select distinct user_id from tasks) owners
where not exists (select 1 from lists l where l.owner_id = owners.user_id and l.inbox = 1)
on conflict do nothing;

update tasks set list_id = (select l.id from lists l where l.owner_id = tasks.user_id and l.inbox = 1);

create trigger tasks_list_required_on_insert before insert on tasks when new.list_id is null
begin
    select raise(abort, 'tasks.list_id must not be null');
end;
create trigger tasks_list_required_on_update before update of list_id on tasks when new.list_id is null
begin
    select raise(abort, 'tasks.list_id must not be null');
end;

create index tasks_list on tasks (list_id, created_at, id);
