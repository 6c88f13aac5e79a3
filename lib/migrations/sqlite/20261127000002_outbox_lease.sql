-- See the PostgreSQL migration of the same name.
alter table outbox add column lease_until integer;
