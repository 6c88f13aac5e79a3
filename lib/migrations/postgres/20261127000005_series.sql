-- Recurring series: where each began (the RRULE's DTSTART, so COUNT and UNTIL
-- count from the start), and which occurrence times already have a task.
alter table tasks add column series_start timestamptz;

create table series_occurrences (
    series_id uuid not null,
    occurs_at timestamptz not null,
    task_id uuid not null,
    primary key (series_id, occurs_at)
);
