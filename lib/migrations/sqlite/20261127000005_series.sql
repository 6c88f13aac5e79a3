-- See the PostgreSQL migration of the same name.
alter table tasks add column series_start integer;

create table series_occurrences (
    series_id blob not null,
    occurs_at integer not null,
    task_id blob not null,
    primary key (series_id, occurs_at)
);
