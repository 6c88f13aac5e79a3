//! The outbox: events written with the change that caused them, until the relay
//! (`crate::outbox`, above the store) has published them.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::db::{Dialects, Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::clock::lease_end;
use crate::event::OutboxEvent;

/// $6 is the writer's lease: while it lasts, republishers leave the row to the
/// writer, which publishes it right after commit.
/// $7 to $9 are who sees the event in the changes feed: the members of list
/// $7, the member $8 who joined or left, and the members of list $9 that the
/// task left.
const INSERT_OUTBOX: &str = "insert into outbox (id, topic, partition_key, payload, created_at, lease_until, \
     list_id, member_id, moved_from) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const SELECT_UNPUBLISHED: &str = "select id, topic, partition_key, payload, created_at \
     from outbox where published_at is null order by created_at, id limit $1";

const COUNT_UNPUBLISHED: &str = "select count(*) from outbox where published_at is null";

const SELECT_EVENT: &str = "select id, topic, partition_key, payload, created_at from outbox where id = $1";

/// PostgreSQL only: the events with the ids in array $1.
const SELECT_EVENTS: &str =
    "select id, topic, partition_key, payload, created_at from outbox where id = any($1)";

/// $1 the topic, or null for every topic; $2 the limit.
const SELECT_RECENT_EVENTS: &str = "select id, topic, partition_key, payload, created_at \
     from outbox where ($1 is null or topic = $1) order by created_at desc, id desc limit $2";

const MARK_PUBLISHED: &str =
    "update outbox set published_at = $2, lease_until = null where id = $1 and published_at is null";

/// PostgreSQL only: [`MARK_PUBLISHED`] for the ids in array $1.
const MARK_ALL_PUBLISHED: &str =
    "update outbox set published_at = $2, lease_until = null where id = any($1) and published_at is null";

const RELEASE_UNPUBLISHED: &str =
    "update outbox set lease_until = null where id = $1 and published_at is null";

/// Leases unpublished rows: $1 lease end, $2 created before, $3 now, $4 limit.
/// PostgreSQL skips rows another claimer holds; SQLite has a single writer.
const CLAIM_UNPUBLISHED: Dialects = Dialects {
    postgres: "update outbox set lease_until = $1, attempts = attempts + 1 \
         where id in (select id from outbox where published_at is null and created_at < $2 \
         and (lease_until is null or lease_until < $3) order by created_at, id limit $4 \
         for update skip locked) returning id, topic, partition_key, payload, created_at",
    sqlite: "update outbox set lease_until = $1, attempts = attempts + 1 \
         where id in (select id from outbox where published_at is null and created_at < $2 \
         and (lease_until is null or lease_until < $3) order by created_at, id limit $4) \
         returning id, topic, partition_key, payload, created_at",
};

/// An `outbox` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    topic: String,
    partition_key: String,
    payload: Json<serde_json::Value>,
    created_at: Timestamp,
}

impl From<OutboxRow> for OutboxEvent {
    fn from(row: OutboxRow) -> Self {
        Self {
            id: row.id,
            topic: row.topic,
            partition_key: row.partition_key,
            payload: row.payload.0,
            created_at: row.created_at.into(),
        }
    }
}

fn events(rows: Vec<OutboxRow>) -> Vec<OutboxEvent> {
    rows.into_iter().map(Into::into).collect()
}

impl Tx {
    /// Writes `event` to the outbox, unpublished. With `lease_until`, the writer
    /// holds it until then: republishers leave it to the writer, who publishes
    /// it after commit.
    pub async fn write_event(
        &mut self,
        event: &OutboxEvent,
        lease_until: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        on_tx!(self, |c| {
            sqlx::query(INSERT_OUTBOX)
                .bind(event.id)
                .bind(event.topic.as_str())
                .bind(event.partition_key.as_str())
                .bind(Json(&event.payload))
                .bind(Timestamp(event.created_at))
                .bind(lease_until.map(Timestamp))
                .bind(event.list_id())
                .bind(event.member_id())
                .bind(event.moved_from())
                .execute(c)
                .await
                .map(drop)?
        });
        self.mark_changed();
        Ok(())
    }
}

impl Store {
    /// Marks an outbox row published. Marking twice is harmless.
    pub async fn mark_published(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_writer!(self.pool, |c| sqlx::query(MARK_PUBLISHED)
            .bind(id)
            .bind(Timestamp(at))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// [`Store::mark_published`] for each of `ids`: one statement on
    /// PostgreSQL, one transaction on SQLite.
    pub async fn mark_all_published(&self, ids: &[Uuid], at: DateTime<Utc>) -> Result<(), StoreError> {
        match ids {
            [] => return Ok(()),
            [id] => return self.mark_published(*id, at).await,
            _ => {}
        }
        if let super::db::Pool::Postgres(pool) = &self.pool {
            sqlx::query(MARK_ALL_PUBLISHED).bind(ids).bind(Timestamp(at)).execute(pool).await?;
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for id in ids {
            on_tx!(tx, |c| sqlx::query(MARK_PUBLISHED)
                .bind(id)
                .bind(Timestamp(at))
                .execute(c)
                .await
                .map(drop)?);
        }
        tx.commit().await
    }

    /// Leases up to `limit` unpublished rows created before `created_before` whose
    /// lease (if any) ended before `now`, for `lease`; oldest first. Concurrent
    /// callers get disjoint rows.
    pub async fn claim_unpublished(
        &self,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let statement = CLAIM_UNPUBLISHED.of(self.backend());
        let mut rows: Vec<OutboxRow> = on_writer!(self.pool, |c| {
            sqlx::query_as(statement)
                .bind(Timestamp(lease_end(now, lease)))
                .bind(Timestamp(created_before))
                .bind(Timestamp(now))
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        // `returning` keeps no order; publish oldest first.
        rows.sort_by_key(|r| (r.created_at, r.id));
        Ok(events(rows))
    }

    /// Ends the lease on rows a claimer could not publish, so that the next sweep
    /// takes them at once instead of when the lease runs out. Rows already
    /// published are left alone.
    pub async fn release_unpublished(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        for id in ids {
            on_writer!(self.pool, |c| sqlx::query(RELEASE_UNPUBLISHED)
                .bind(id)
                .execute(c)
                .await
                .map(drop)?);
        }
        Ok(())
    }

    /// How many outbox rows are not yet published (the backlog).
    pub async fn count_unpublished(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            on_pool!(self.pool, |c| sqlx::query_as(COUNT_UNPUBLISHED).fetch_one(c).await?);
        Ok(count)
    }

    /// Outbox rows not yet marked published, oldest first.
    pub async fn unpublished_events(&self, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_UNPUBLISHED).bind(limit).fetch_all(c).await?);
        Ok(events(rows))
    }

    /// The event this system wrote with id `id`, while the outbox keeps it
    /// (published rows are pruned after 7 days).
    pub async fn get_event(&self, id: Uuid) -> Result<Option<OutboxEvent>, StoreError> {
        let row: Option<OutboxRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_EVENT).bind(id).fetch_optional(c).await?);
        Ok(row.map(Into::into))
    }

    /// The events this system wrote with the ids in `ids` (those the outbox
    /// keeps), in no particular order: one statement on PostgreSQL; on
    /// SQLite, in this process, one lookup each.
    pub async fn get_events(&self, ids: &[Uuid]) -> Result<Vec<OutboxEvent>, StoreError> {
        if let super::db::Pool::Postgres(pool) = &self.pool {
            let rows: Vec<OutboxRow> = sqlx::query_as(SELECT_EVENTS).bind(ids).fetch_all(pool).await?;
            return Ok(events(rows));
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.get_event(*id).await?);
        }
        Ok(found)
    }

    /// The events written last, newest first; only those on `topic` if given.
    pub async fn recent_events(
        &self,
        topic: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_RECENT_EVENTS).bind(topic).bind(limit).fetch_all(c).await?
        });
        Ok(events(rows))
    }
}
