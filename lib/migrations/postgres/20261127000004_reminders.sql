-- The reminder time that was last claimed for a task. A reminder is due when
-- remind_at has passed and differs from reminded_at, so moving the due time
-- re-arms it, and a claimed one never fires twice.
alter table tasks add column reminded_at timestamptz;
