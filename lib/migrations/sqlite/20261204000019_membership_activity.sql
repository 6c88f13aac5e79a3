-- See the PostgreSQL migration of the same name. SQLite cannot drop a NOT
-- NULL constraint in place: the table is rebuilt with its indexes and trigger.
create table activity_rebuilt (
    id blob primary key,
    user_id text not null,
    task_id blob,
    kind text not null,
    event_id text not null,
    summary text not null,
    occurred_at integer not null,
    list_id blob
);
insert into activity_rebuilt (id, user_id, task_id, kind, event_id, summary, occurred_at, list_id)
select id, user_id, task_id, kind, event_id, summary, occurred_at, list_id from activity;
drop table activity;
alter table activity_rebuilt rename to activity;

create index activity_user on activity (user_id, occurred_at, id);
create index activity_task on activity (task_id, occurred_at, id);
create index activity_list on activity (list_id, occurred_at, id);
create trigger activity_list_required before insert on activity when new.list_id is null
begin
    select raise(abort, 'activity.list_id must not be null');
end;
