-- The sweeper claims unpublished rows oldest first, `order by created_at, id`
-- (issue #30). The index it had ordered by created_at alone, so rows written
-- in the same instant (a bulk import, a burst during an outage, the bench's
-- 10^6-row backlog) were all read and sorted by id on every claim: 757 rows/s
-- drained. Ordered by both, a claim reads the rows it takes.
drop index outbox_unpublished;
create index outbox_unpublished on outbox (created_at, id) where published_at is null;
