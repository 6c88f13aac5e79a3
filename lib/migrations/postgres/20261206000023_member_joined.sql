-- A member sees a list's changes from when they joined, not its history
-- (issue #27): each membership keeps the feed position of the transaction
-- that made it, numbered as the outbox numbers its rows (see `changes`).
alter table list_members
    add column joined_xid bigint not null default 0,
    add column joined_seq bigint not null default 0;

-- A member already there joined with their latest list.member_added event;
-- one without (a list's creator, an Inbox's owner) has been there from the start.
update list_members m set (joined_xid, joined_seq) = (
    select o.xid, o.seq from outbox o
    where o.topic = 'list-member-added' and o.list_id = m.list_id and o.member_id = m.user_id
    order by o.xid desc, o.seq desc limit 1)
where exists (
    select 1 from outbox o
    where o.topic = 'list-member-added' and o.list_id = m.list_id and o.member_id = m.user_id);

alter table list_members
    alter column joined_xid set default (pg_current_xact_id()::text::bigint),
    alter column joined_seq set default nextval('change_seq');
