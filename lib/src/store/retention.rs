//! Retention: deleting what has outlived its use, in bounded batches.

use chrono::{DateTime, Utc};

use super::db::{on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};

/// What [`Store::prune`] deletes: rows older than these instants, at most
/// `limit` of each kind per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub published_before: DateTime<Utc>,
    pub processed_before: DateTime<Utc>,
    /// Final webhook deliveries, mails and push messages last changed before this.
    pub deliveries_before: DateTime<Utc>,
    /// Links in mails that expired before this (now).
    pub links_expired_before: DateTime<Utc>,
    pub limit: i64,
}

/// How many rows [`Store::prune`] deleted, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub outbox: u64,
    pub processed: u64,
    pub webhook_deliveries: u64,
    pub mail: u64,
    pub mail_links: u64,
    pub push: u64,
}

/// Each deletes at most $2 rows older than $1, oldest first. The outbox's
/// returns the changes feed's positions of what it deleted.
const PRUNE_OUTBOX: &str = "delete from outbox where id in (select id from outbox \
     where published_at is not null and published_at < $1 order by published_at limit $2) \
     returning xid, seq";

/// Moves the feed's pruned position forward to ($1, $2), never back.
const RAISE_PRUNED: &str =
    "update changes_pruned set xid = $1, seq = $2 where id = 1 and (xid, seq) < ($1, $2)";

const PRUNE_PROCESSED: &str = "delete from processed_events where (consumer, event_id) in \
     (select consumer, event_id from processed_events where processed_at < $1 order by processed_at limit $2)";

const PRUNE_DELIVERIES: &str = "delete from webhook_deliveries where (event_id, webhook_id) in \
     (select event_id, webhook_id from webhook_deliveries where status <> 'pending' and updated_at < $1 \
     order by updated_at limit $2)";

const PRUNE_MAIL: &str = "delete from mail_deliveries where id in (select id from mail_deliveries \
     where status <> 'pending' and updated_at < $1 order by updated_at limit $2)";

const PRUNE_PUSH: &str = "delete from push_deliveries where id in (select id from push_deliveries \
     where status <> 'pending' and updated_at < $1 order by updated_at limit $2)";

const PRUNE_MAIL_LINKS: &str = "delete from mail_links where token_hash in (select token_hash from mail_links \
     where expires_at < $1 order by expires_at limit $2)";

impl Store {
    /// Deletes, up to `cutoffs.limit` rows of each, oldest first: outbox rows
    /// published before `published_before`, processed event ids recorded before
    /// `processed_before`, final webhook deliveries, mails and push messages last changed
    /// before `deliveries_before`, and links in mails expired before
    /// `links_expired_before`. Owed work and users' data are never pruned.
    pub async fn prune(&self, cutoffs: &Retention) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned { outbox: self.prune_outbox(cutoffs).await?, ..Pruned::default() };
        for (statement, before, count) in [
            (PRUNE_PROCESSED, cutoffs.processed_before, &mut pruned.processed),
            (PRUNE_DELIVERIES, cutoffs.deliveries_before, &mut pruned.webhook_deliveries),
            (PRUNE_MAIL, cutoffs.deliveries_before, &mut pruned.mail),
            (PRUNE_PUSH, cutoffs.deliveries_before, &mut pruned.push),
            (PRUNE_MAIL_LINKS, cutoffs.links_expired_before, &mut pruned.mail_links),
        ] {
            *count = on_writer!(self.pool, |c| {
                sqlx::query(statement)
                    .bind(Timestamp(before))
                    .bind(cutoffs.limit)
                    .execute(c)
                    .await?
                    .rows_affected()
            });
        }
        Ok(pruned)
    }

    /// Deletes published outbox rows and, in the same transaction, records the
    /// newest feed position deleted, so that a client behind it is told.
    async fn prune_outbox(&self, cutoffs: &Retention) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let deleted: Vec<(i64, i64)> = on_tx!(tx, |c| {
            sqlx::query_as(PRUNE_OUTBOX)
                .bind(Timestamp(cutoffs.published_before))
                .bind(cutoffs.limit)
                .fetch_all(c)
                .await?
        });
        if let Some((xid, seq)) = deleted.iter().max() {
            on_tx!(tx, |c| sqlx::query(RAISE_PRUNED).bind(xid).bind(seq).execute(c).await.map(drop)?);
        }
        tx.commit().await?;
        Ok(deleted.len() as u64)
    }
}
