-- cron-tick prunes what no longer serves a purpose (see Store::prune): published
-- outbox rows, processed event ids and final webhook deliveries past their
-- retention. These indexes find them without scanning the tables.
create index outbox_published on outbox (published_at) where published_at is not null;
create index processed_events_at on processed_events (processed_at);
create index webhook_deliveries_final on webhook_deliveries (updated_at) where status <> 'pending';
