-- See the PostgreSQL migration of the same name.
alter table outbox add column moved_from blob;
create index outbox_moved_changes on outbox (moved_from, xid, seq) where moved_from is not null;
