-- See the PostgreSQL migration of the same name.
alter table tasks add column reminded_at integer;
