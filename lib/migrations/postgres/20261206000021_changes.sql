-- The changes feed (GET /v1/changes, GET /v1/stream; issue #16): what the
-- system already writes, the outbox and the notifications, read in commit order.
--
-- A change's cursor is (xid, seq): the writing transaction's id and a number
-- from one sequence shared by both tables. A reader returns only rows whose
-- xid is below its snapshot's xmin, so every transaction that could still
-- commit a row has a larger xid than any cursor already handed out: a reader
-- never skips a row that commits late.
create sequence change_seq;

alter table outbox
    add column seq bigint not null default nextval('change_seq'),
    add column xid bigint not null default (pg_current_xact_id()::text::bigint),
    -- The list whose members see the event, and for a membership event the
    -- member who joined or left; written by the writer from the event.
    add column list_id uuid,
    add column member_id text;

update outbox set
    list_id = coalesce(payload -> 'data' -> 'task' ->> 'list_id', payload -> 'data' ->> 'list_id')::uuid,
    member_id = case when topic like 'list-member-%' then payload -> 'data' ->> 'user_id' end;

create index outbox_list_changes on outbox (list_id, xid, seq);
create index outbox_member_changes on outbox (member_id, xid, seq) where member_id is not null;

alter table notifications
    add column seq bigint not null default nextval('change_seq'),
    add column xid bigint not null default (pg_current_xact_id()::text::bigint);
create index notifications_changes on notifications (user_id, xid, seq);

-- The newest cursor whose outbox row retention has deleted: a client behind it
-- has missed changes and must load everything again.
create table changes_pruned (
    id integer primary key check (id = 1),
    xid bigint not null,
    seq bigint not null
);
insert into changes_pruned (id, xid, seq) values (1, 0, 0);

-- Wakes every replica's stream (LISTEN todo_changes) when a change commits;
-- PostgreSQL delivers a notification only on commit, once per transaction.
create function notify_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('todo_changes', '');
    return null;
end
$$;
create trigger outbox_changed after insert on outbox
    for each statement execute function notify_change();
create trigger notifications_changed after insert on notifications
    for each statement execute function notify_change();
