-- See the PostgreSQL migration of the same name. The single writer numbers
-- a new membership as it numbers outbox rows (xid is always 0).
alter table list_members add column joined_xid integer not null default 0;
alter table list_members add column joined_seq integer not null default 0;

update list_members set joined_seq = coalesce((
    select max(o.seq) from outbox o
    where o.topic = 'list-member-added' and o.list_id = list_members.list_id
      and o.member_id = list_members.user_id), 0);

create trigger list_members_joined_seq after insert on list_members begin
    update change_seq set last = last + 1;
    update list_members set joined_seq = (select last from change_seq) where rowid = new.rowid;
end;
