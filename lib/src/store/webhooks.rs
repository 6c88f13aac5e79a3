//! Users' webhooks and the deliveries owed to them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::db::{Dialects, Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::clock::lease_end;
use crate::webhook::{Attempt, DeliveryStatus, OwedDelivery, Webhook};

/// Inserts webhook ($1..$5) unless the user already has $6 of them.
const INSERT_WEBHOOK: &str = "insert into webhooks (id, user_id, url, secret, created_at) \
     select $1, $2, $3, $4, $5 where (select count(*) from webhooks where user_id = $2) < $6";

const SELECT_WEBHOOKS: &str =
    "select id, user_id, url, secret, created_at from webhooks where user_id = $1 order by created_at, id";

const SELECT_WEBHOOK: &str = "select id, user_id, url, secret, created_at from webhooks where id = $1";

const DELETE_WEBHOOK: &str = "delete from webhooks where id = $1 and user_id = $2";

const SELECT_DELIVERY_STATUSES: &str =
    "select webhook_id, status from webhook_deliveries where event_id = $1";

/// Queues body $3 for each webhook of each member of list $2 that does not have
/// event $1 yet, due at $4; when the event is a reminder ($5), not for members
/// who turned reminders to webhooks off. A row the previous design left owed
/// without a body gets this one.
const QUEUE_DELIVERIES: &str = "insert into webhook_deliveries (event_id, webhook_id, status, \
     attempts, body, next_attempt_at, updated_at) select $1, w.id, 'pending', 0, $3, $4, $4 \
     from webhooks w where w.user_id in (select m.user_id from list_members m where m.list_id = $2) \
     and not ($5 and exists (select 1 from user_settings s where s.user_id = w.user_id and not s.reminders_webhooks)) \
     on conflict (event_id, webhook_id) do update set body = excluded.body, \
     next_attempt_at = excluded.next_attempt_at \
     where webhook_deliveries.status = 'pending' and webhook_deliveries.body is null";

/// PostgreSQL only: [`QUEUE_DELIVERIES`] for a batch of distinct events, as
/// arrays: event ids $1, their lists $2, bodies $3, whether each is a reminder
/// $5; due at $4. Returns one row per delivery queued, naming its event.
const QUEUE_FANOUT: &str = "insert into webhook_deliveries (event_id, webhook_id, status, attempts, body, \
     next_attempt_at, updated_at) select i.event_id, w.id, 'pending', 0, i.body, $4, $4 \
     from unnest($1::text[], $2::uuid[], $3::text[], $5::bool[]) as i(event_id, list_id, body, reminder) \
     join list_members m on m.list_id = i.list_id join webhooks w on w.user_id = m.user_id \
     where not (i.reminder and exists (select 1 from user_settings s \
     where s.user_id = w.user_id and not s.reminders_webhooks)) \
     on conflict (event_id, webhook_id) do update set body = excluded.body, \
     next_attempt_at = excluded.next_attempt_at \
     where webhook_deliveries.status = 'pending' and webhook_deliveries.body is null returning event_id";

/// An event to queue for the webhooks of every member of its list.
#[derive(Debug, Clone)]
pub struct Fanout {
    pub event_id: String,
    pub list_id: Uuid,
    /// What each webhook is sent.
    pub body: String,
    /// A `task.due` event: not sent to the webhooks of a member who turned
    /// reminders to webhooks off.
    pub reminder: bool,
}

/// Leases owed deliveries: $1 lease end, $2 now, $3 limit; soonest due first.
/// PostgreSQL skips rows another sender holds; SQLite has a single writer.
const CLAIM_DELIVERIES: Dialects = Dialects {
    postgres: "update webhook_deliveries set lease_until = $1 \
         where (event_id, webhook_id) in (select event_id, webhook_id from webhook_deliveries \
         where status = 'pending' and body is not null and next_attempt_at <= $2 \
         and (lease_until is null or lease_until < $2) order by next_attempt_at, event_id limit $3 \
         for update skip locked) returning event_id, webhook_id, body, attempts",
    sqlite: "update webhook_deliveries set lease_until = $1 \
         where (event_id, webhook_id) in (select event_id, webhook_id from webhook_deliveries \
         where status = 'pending' and body is not null and next_attempt_at <= $2 \
         and (lease_until is null or lease_until < $2) order by next_attempt_at, event_id limit $3) \
         returning event_id, webhook_id, body, attempts",
};

/// Records an attempt at (event $1, webhook $2): status $3, code $4, error $5 at
/// $6, next attempt $7 (pending only). A final row drops its body, and is never
/// changed again (a sender that outlived its lease cannot undo a delivery).
const RECORD_ATTEMPT: &str = "update webhook_deliveries set status = $3, attempts = attempts + 1, \
     last_status_code = $4, last_error = $5, updated_at = $6, next_attempt_at = $7, lease_until = null, \
     body = case when $3 = 'pending' then body else null end \
     where event_id = $1 and webhook_id = $2 and status = 'pending'";

/// Webhook $1's other owed rows wait until $2 too, except those leased at $3
/// (being sent).
const DEFER_WEBHOOK: &str = "update webhook_deliveries set next_attempt_at = $2 \
     where webhook_id = $1 and status = 'pending' and next_attempt_at < $2 \
     and (lease_until is null or lease_until < $3)";

/// A claimed delivery (event $1, webhook $2) put back, unattempted, until $3.
const POSTPONE_DELIVERY: &str = "update webhook_deliveries set next_attempt_at = $3, lease_until = null \
     where event_id = $1 and webhook_id = $2 and status = 'pending'";

const COUNT_OWED_DELIVERIES: &str = "select count(*) from webhook_deliveries where status = 'pending'";

/// A `webhooks` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
struct WebhookRow {
    id: Uuid,
    user_id: String,
    url: String,
    secret: String,
    created_at: Timestamp,
}

impl From<WebhookRow> for Webhook {
    fn from(row: WebhookRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            url: row.url,
            secret: secrecy::SecretString::from(row.secret),
            created_at: row.created_at.into(),
        }
    }
}

/// A claimed `webhook_deliveries` row.
#[derive(Debug, sqlx::FromRow)]
struct ClaimedRow {
    event_id: String,
    webhook_id: Uuid,
    body: String,
    attempts: i32,
}

impl Tx {
    /// Registers `webhook` unless its user already has `max_per_user`; `false`
    /// then. Under [`Tx::lock_user`] for `"webhooks"` the limit holds.
    pub async fn insert_webhook(&mut self, webhook: &Webhook, max_per_user: i64) -> Result<bool, StoreError> {
        let inserted = on_tx!(self, |c| {
            sqlx::query(INSERT_WEBHOOK)
                .bind(webhook.id)
                .bind(webhook.user_id.as_str())
                .bind(webhook.url.as_str())
                .bind(webhook.secret.expose_secret())
                .bind(Timestamp(webhook.created_at))
                .bind(max_per_user)
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Records how an attempt at a claimed delivery ended at `now`, and ends its
    /// lease. A delivery already final stays as it is.
    pub async fn record_webhook_attempt(
        &mut self,
        event_id: &str,
        webhook_id: Uuid,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, |c| {
            sqlx::query(RECORD_ATTEMPT)
                .bind(event_id)
                .bind(webhook_id)
                .bind(attempt.status.as_str())
                .bind(attempt.status_code.map(i32::from))
                .bind(attempt.error.as_deref())
                .bind(Timestamp(now))
                .bind(attempt.retry_at.map(Timestamp))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Puts a claimed delivery back, unattempted, to be claimed again at
    /// `until` (its user's budget of deliveries is spent until then).
    pub async fn postpone_webhook_delivery(
        &mut self,
        event_id: &str,
        webhook_id: Uuid,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, |c| {
            sqlx::query(POSTPONE_DELIVERY)
                .bind(event_id)
                .bind(webhook_id)
                .bind(Timestamp(until))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Holds back the webhook's other owed deliveries until `until` (its
    /// receiver is failing), except those being sent at `now`.
    pub async fn defer_webhook(
        &mut self,
        webhook_id: Uuid,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, |c| {
            sqlx::query(DEFER_WEBHOOK)
                .bind(webhook_id)
                .bind(Timestamp(until))
                .bind(Timestamp(now))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }
}

impl Store {
    /// The user's webhooks, oldest first.
    pub async fn list_webhooks(&self, user_id: &str) -> Result<Vec<Webhook>, StoreError> {
        let rows: Vec<WebhookRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_WEBHOOKS).bind(user_id).fetch_all(c).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Removes the user's webhook; `false` when it is not theirs or does not exist.
    pub async fn delete_webhook(&self, user_id: &str, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_writer!(self.pool, |c| {
            sqlx::query(DELETE_WEBHOOK).bind(id).bind(user_id).execute(c).await?.rows_affected()
        });
        Ok(deleted == 1)
    }

    /// Where sending this event to each webhook stands.
    pub async fn webhook_delivery_statuses(
        &self,
        event_id: &str,
    ) -> Result<Vec<(Uuid, DeliveryStatus)>, StoreError> {
        let rows: Vec<(Uuid, String)> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_DELIVERY_STATUSES).bind(event_id).fetch_all(c).await?
        });
        rows.into_iter()
            .map(|(id, status)| {
                DeliveryStatus::parse(&status)
                    .map(|s| (id, s))
                    .ok_or_else(|| StoreError::Corrupt(format!("delivery status '{status}'")))
            })
            .collect()
    }

    /// Queues `body` (event `event_id`) for each webhook of each member of the
    /// list that does not have it yet, due at `now`; how many were queued (0
    /// for a duplicate). Membership is read as this statement runs: a member
    /// removed before the event was written gets nothing of it.
    pub async fn queue_webhook_deliveries(
        &self,
        event_id: &str,
        list_id: Uuid,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let fanout =
            Fanout { event_id: event_id.to_owned(), list_id, body: body.to_owned(), reminder: false };
        Ok(self.queue_fanout(std::slice::from_ref(&fanout), now).await?.first().copied().unwrap_or(0))
    }

    /// [`Store::queue_webhook_deliveries`] for a batch of distinct events: how
    /// many deliveries each queued, in order. One statement on PostgreSQL; one
    /// transaction on SQLite.
    pub async fn queue_fanout(&self, events: &[Fanout], now: DateTime<Utc>) -> Result<Vec<u64>, StoreError> {
        if let super::db::Pool::Postgres(pool) = &self.pool {
            let rows: Vec<(String,)> = sqlx::query_as(QUEUE_FANOUT)
                .bind(events.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.list_id).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.body.as_str()).collect::<Vec<_>>())
                .bind(Timestamp(now))
                .bind(events.iter().map(|e| e.reminder).collect::<Vec<_>>())
                .fetch_all(pool)
                .await?;
            let mut queued: HashMap<String, u64> = HashMap::new();
            for (event_id,) in rows {
                *queued.entry(event_id).or_default() += 1;
            }
            return Ok(events.iter().map(|e| queued.get(&e.event_id).copied().unwrap_or(0)).collect());
        }
        let mut tx = self.begin().await?;
        let mut queued = Vec::with_capacity(events.len());
        for event in events {
            let rows = on_tx!(tx, |c| sqlx::query(QUEUE_DELIVERIES)
                .bind(event.event_id.as_str())
                .bind(event.list_id)
                .bind(event.body.as_str())
                .bind(Timestamp(now))
                .bind(event.reminder)
                .execute(c)
                .await?
                .rows_affected());
            queued.push(rows);
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Leases up to `limit` owed deliveries that are due at `now` for `lease`,
    /// soonest first, with their webhooks (`None` for one deleted since).
    /// Concurrent callers get disjoint deliveries.
    pub async fn claim_webhook_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OwedDelivery>, StoreError> {
        let statement = CLAIM_DELIVERIES.of(self.backend());
        let rows: Vec<ClaimedRow> = on_writer!(self.pool, |c| {
            sqlx::query_as(statement)
                .bind(Timestamp(lease_end(now, lease)))
                .bind(Timestamp(now))
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        let mut webhooks: HashMap<Uuid, Option<Webhook>> = HashMap::new();
        let mut owed = Vec::with_capacity(rows.len());
        for row in rows {
            let webhook = match webhooks.get(&row.webhook_id) {
                Some(found) => found.clone(),
                None => {
                    let found = self.get_webhook(row.webhook_id).await?;
                    webhooks.insert(row.webhook_id, found.clone());
                    found
                }
            };
            owed.push(OwedDelivery {
                event_id: row.event_id,
                webhook_id: row.webhook_id,
                webhook,
                body: row.body,
                attempts: row.attempts,
            });
        }
        Ok(owed)
    }

    /// How many deliveries are owed (the webhook backlog).
    pub async fn count_owed_webhook_deliveries(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            on_pool!(self.pool, |c| sqlx::query_as(COUNT_OWED_DELIVERIES).fetch_one(c).await?);
        Ok(count)
    }

    /// Any user's webhook by id, for the sender.
    async fn get_webhook(&self, id: Uuid) -> Result<Option<Webhook>, StoreError> {
        let row: Option<WebhookRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_WEBHOOK).bind(id).fetch_optional(c).await?);
        Ok(row.map(Into::into))
    }
}
