-- Webhooks are sent from a queue of their own, apart from event handling: an
-- event handler queues one row per (event, webhook) with the body to send, and
-- cron-tick sends the rows that are due, each under a lease, retrying transient
-- failures with backoff. A receiver that hangs then holds only its own rows.
--
-- status: pending (owed) | delivered | failed (refused, or given up on).
alter table webhook_deliveries add column body text;
alter table webhook_deliveries add column next_attempt_at timestamptz;
alter table webhook_deliveries add column lease_until timestamptz;
-- Rows the old design left to be retried with their event have no body; the
-- event's redelivery fills it in (see the queueing statement).
update webhook_deliveries set status = 'pending' where status = 'retrying';
create index webhook_deliveries_owed on webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_by_webhook on webhook_deliveries (webhook_id) where status = 'pending';
