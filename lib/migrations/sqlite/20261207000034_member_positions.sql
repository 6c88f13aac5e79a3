-- See the PostgreSQL migration of the same name.
alter table list_members add column position bigint not null default 0;
update list_members set position = (select l.position from lists l where l.id = list_members.list_id);
create index list_members_user_position on list_members (user_id, position);
