-- Claiming due reminders reads only the ones not claimed yet (issue #29): a
-- claimed reminder leaves this index, so a tick's claim reads a batch however
-- many were claimed before it, where the index it replaces kept them and each
-- claim stepped over all of those (and a prepared claim, comparing
-- `completed` with a parameter, could not use it at all: a full scan, 450 ms
-- with 10^5 reminders due among 10^6 tasks).
drop index tasks_open_reminders;
create index tasks_due_reminders on tasks (remind_at, id)
    where not completed and remind_at is not null and (reminded_at is null or reminded_at <> remind_at);
