-- See the PostgreSQL migration of the same name.
drop index tasks_open_reminders;
create index tasks_due_reminders on tasks (remind_at, id)
    where completed = 0 and remind_at is not null and (reminded_at is null or reminded_at <> remind_at);
