-- See the PostgreSQL migration of the same name.
create index outbox_published on outbox (published_at) where published_at is not null;
create index processed_events_at on processed_events (processed_at);
create index webhook_deliveries_final on webhook_deliveries (updated_at) where status <> 'pending';
