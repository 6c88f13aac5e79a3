-- Each member's own order of their lists in the sidebar: a list's position
-- is its member's, so that an editor or a viewer orders the lists shared with
-- them as they like. It starts as the list's own position, which was everyone's.
alter table list_members add column position bigint not null default 0;
update list_members set position = (select l.position from lists l where l.id = list_members.list_id);
create index list_members_user_position on list_members (user_id, position);
