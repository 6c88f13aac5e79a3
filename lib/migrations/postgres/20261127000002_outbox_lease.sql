-- A republisher leases the rows it is sending, so that overlapping cron ticks
-- (several replicas, or a slow tick) do not send the same rows at once.
alter table outbox add column lease_until timestamptz;
