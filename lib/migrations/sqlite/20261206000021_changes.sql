-- See the PostgreSQL migration of the same name. SQLite has one writer at a
-- time, which takes its number inside its write lock, so numbers are in commit
-- order and xid is always 0. The counter is a table because retention may
-- empty the outbox, and a rowid would then start again.
create table change_seq (last integer not null);
insert into change_seq (last) values (0);

alter table outbox add column seq integer;
alter table outbox add column xid integer not null default 0;
alter table outbox add column list_id blob;
alter table outbox add column member_id text;

update outbox set
    seq = rowid,
    list_id = unhex(replace(coalesce(json_extract(payload, '$.data.task.list_id'),
        json_extract(payload, '$.data.list_id')), '-', '')),
    member_id = case when topic like 'list-member-%' then json_extract(payload, '$.data.user_id') end;
update change_seq set last = coalesce((select max(seq) from outbox), 0);

alter table notifications add column seq integer;
alter table notifications add column xid integer not null default 0;
update notifications set seq = rowid + (select last from change_seq);
update change_seq set last = coalesce((select max(seq) from notifications), last);

create index outbox_list_changes on outbox (list_id, xid, seq);
create index outbox_member_changes on outbox (member_id, xid, seq) where member_id is not null;
create index notifications_changes on notifications (user_id, xid, seq);

create trigger outbox_change_seq after insert on outbox begin
    update change_seq set last = last + 1;
    update outbox set seq = (select last from change_seq) where rowid = new.rowid;
end;
create trigger notifications_change_seq after insert on notifications begin
    update change_seq set last = last + 1;
    update notifications set seq = (select last from change_seq) where rowid = new.rowid;
end;

-- Without rowid, its key is an index, as on PostgreSQL.
create table changes_pruned (
    id integer primary key check (id = 1),
    xid integer not null,
    seq integer not null
) without rowid;
insert into changes_pruned (id, xid, seq) values (1, 0, 0);
