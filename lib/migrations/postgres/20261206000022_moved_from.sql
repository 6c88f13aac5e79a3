-- A task moved to another list: its event also names the list it left, so
-- that the members of that list see it leave in their changes feed (as
-- `task_moved_out`, without its new state) rather than keep it forever.
alter table outbox add column moved_from uuid;
create index outbox_moved_changes on outbox (moved_from, xid, seq) where moved_from is not null;
