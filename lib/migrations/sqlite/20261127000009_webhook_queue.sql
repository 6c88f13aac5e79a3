-- See the PostgreSQL migration of the same name.
alter table webhook_deliveries add column body text;
alter table webhook_deliveries add column next_attempt_at integer;
alter table webhook_deliveries add column lease_until integer;
update webhook_deliveries set status = 'pending' where status = 'retrying';
create index webhook_deliveries_owed on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_by_webhook on webhook_deliveries (webhook_id) where status = 'pending';
