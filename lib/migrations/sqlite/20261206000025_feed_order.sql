-- See the PostgreSQL migration of the same name.
-- One reader of the changes feed per process (issue #29, item 3) reads every
-- change after its position once, in commit order, and hands each open stream
-- what its user may see: these indexes give it the changes after a position
-- without reading the lists one by one.
create index outbox_feed on outbox (xid, seq);
create index notifications_feed on notifications (xid, seq);
