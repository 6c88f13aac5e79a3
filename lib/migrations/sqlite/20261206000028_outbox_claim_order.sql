-- See the PostgreSQL migration of the same name.
drop index outbox_unpublished;
create index outbox_unpublished on outbox (created_at, id) where published_at is null;
