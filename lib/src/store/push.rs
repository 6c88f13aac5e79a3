//! Push subscriptions (`push_subscriptions`, one per browser endpoint) and the
//! push queue (`push_deliveries`: one row per event and subscription, sent by
//! `cron-tick` under a lease, like mail). A subscription's rows go with it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Dialects, Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::clock::lease_end;
use crate::push::{NewPush, OwedPush, Subscription};
use crate::webhook::Attempt;

const SELECT_BY_ENDPOINT: &str =
    "select id, user_id, endpoint, p256dh, auth, created_at from push_subscriptions where endpoint = $1";

const SELECT_OF_USER: &str = "select id, user_id, endpoint, p256dh, auth, created_at from push_subscriptions \
     where user_id = $1 order by created_at, id";

const COUNT_OF_USER: &str = "select count(*) from push_subscriptions where user_id = $1";

const INSERT_SUBSCRIPTION: &str = "insert into push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) \
     values ($1, $2, $3, $4, $5, $6)";

/// New keys $2, $3 for subscription $1 (its browser subscribed again).
const RENEW_SUBSCRIPTION: &str = "update push_subscriptions set p256dh = $2, auth = $3 where id = $1";

const DELETE_DELIVERIES_OF: &str = "delete from push_deliveries where subscription_id = $1";
const DELETE_SUBSCRIPTION: &str = "delete from push_subscriptions where id = $1";

/// Queues notice $1..$4 for subscription $5 due at $6, unless the event was
/// queued for it already; returns its id when queued.
const QUEUE_PUSH: &str = "insert into push_deliveries (id, event_id, user_id, payload, subscription_id, status, \
     attempts, next_attempt_at, created_at, updated_at) values ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7) \
     on conflict (event_id, subscription_id) do nothing returning id";

/// Leases owed messages: $1 lease end, $2 now, $3 limit; soonest due first,
/// each with its subscription.
const CLAIM_PUSH: Dialects = Dialects {
    postgres: concat!(
        "update push_deliveries d set lease_until = $1 where d.id in (select id from push_deliveries \
         where status = 'pending' and next_attempt_at <= $2 and (lease_until is null or lease_until < $2) \
         order by next_attempt_at, id limit $3 for update skip locked) ",
        "returning d.id, d.event_id, d.user_id, d.payload, d.attempts, d.subscription_id, \
         (select endpoint from push_subscriptions s where s.id = d.subscription_id) as endpoint, \
         (select p256dh from push_subscriptions s where s.id = d.subscription_id) as p256dh, \
         (select auth from push_subscriptions s where s.id = d.subscription_id) as auth, \
         (select created_at from push_subscriptions s where s.id = d.subscription_id) as subscribed_at"
    ),
    sqlite: concat!(
        "update push_deliveries set lease_until = $1 where id in (select id from push_deliveries \
         where status = 'pending' and next_attempt_at <= $2 and (lease_until is null or lease_until < $2) \
         order by next_attempt_at, id limit $3) ",
        "returning id, event_id, user_id, payload, attempts, subscription_id, \
         (select endpoint from push_subscriptions s where s.id = subscription_id) as endpoint, \
         (select p256dh from push_subscriptions s where s.id = subscription_id) as p256dh, \
         (select auth from push_subscriptions s where s.id = subscription_id) as auth, \
         (select created_at from push_subscriptions s where s.id = subscription_id) as subscribed_at"
    ),
};

/// Records an attempt at message $1: status $2, code $3, error $4 at $5, next
/// attempt $6 (pending only). A final row is never changed again.
const RECORD_ATTEMPT: &str = "update push_deliveries set status = $2, attempts = attempts + 1, status_code = $3, \
     last_error = $4, updated_at = $5, next_attempt_at = coalesce($6, next_attempt_at), lease_until = null \
     where id = $1 and status = 'pending'";

/// A claimed message $1 put back, unattempted, until $2.
const POSTPONE_PUSH: &str = "update push_deliveries set next_attempt_at = $2, lease_until = null \
     where id = $1 and status = 'pending'";

/// Owed messages whose subscription is gone (a claim that lost a race with its deletion).
const DELETE_ORPHAN: &str = "delete from push_deliveries where id = $1";

#[derive(Debug, sqlx::FromRow)]
struct SubscriptionRow {
    id: Uuid,
    user_id: String,
    endpoint: String,
    p256dh: String,
    auth: String,
    created_at: Timestamp,
}

impl From<SubscriptionRow> for Subscription {
    fn from(row: SubscriptionRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            endpoint: row.endpoint,
            p256dh: row.p256dh,
            auth: row.auth,
            created_at: row.created_at.into(),
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct ClaimedRow {
    id: Uuid,
    event_id: String,
    user_id: String,
    payload: String,
    attempts: i32,
    subscription_id: Uuid,
    endpoint: Option<String>,
    p256dh: Option<String>,
    auth: Option<String>,
    subscribed_at: Option<Timestamp>,
}

/// What subscribing a browser came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscribed {
    /// A new subscription.
    Created(Subscription),
    /// The browser was subscribed for this user already: its keys are renewed.
    Renewed(Subscription),
    /// The user holds as many as they may.
    OverQuota,
}

impl Tx {
    /// Subscribes `subscription`'s browser for its user, at most `max_per_user`
    /// each. An endpoint another user had moves to this one, without what was
    /// owed to the other. The caller holds the user's `"push"` lock.
    pub async fn subscribe_push(
        &mut self,
        subscription: &Subscription,
        max_per_user: i64,
    ) -> Result<Subscribed, StoreError> {
        let existing: Option<SubscriptionRow> = on_tx!(self, |c| {
            sqlx::query_as(SELECT_BY_ENDPOINT).bind(subscription.endpoint.as_str()).fetch_optional(c).await?
        });
        if let Some(existing) = existing {
            if existing.user_id == subscription.user_id {
                on_tx!(self, |c| sqlx::query(RENEW_SUBSCRIPTION)
                    .bind(existing.id)
                    .bind(subscription.p256dh.as_str())
                    .bind(subscription.auth.as_str())
                    .execute(c)
                    .await
                    .map(drop)?);
                let renewed = Subscription {
                    p256dh: subscription.p256dh.clone(),
                    auth: subscription.auth.clone(),
                    ..Subscription::from(existing)
                };
                return Ok(Subscribed::Renewed(renewed));
            }
            self.delete_push_subscription(existing.id).await?;
        }
        let (held,): (i64,) = on_tx!(self, |c| {
            sqlx::query_as(COUNT_OF_USER).bind(subscription.user_id.as_str()).fetch_one(c).await?
        });
        if held >= max_per_user {
            return Ok(Subscribed::OverQuota);
        }
        on_tx!(self, |c| sqlx::query(INSERT_SUBSCRIPTION)
            .bind(subscription.id)
            .bind(subscription.user_id.as_str())
            .bind(subscription.endpoint.as_str())
            .bind(subscription.p256dh.as_str())
            .bind(subscription.auth.as_str())
            .bind(Timestamp(subscription.created_at))
            .execute(c)
            .await
            .map(drop)?);
        Ok(Subscribed::Created(subscription.clone()))
    }

    /// Deletes subscription `id` and every message still owed to it.
    async fn delete_push_subscription(&mut self, id: Uuid) -> Result<bool, StoreError> {
        on_tx!(self, |c| sqlx::query(DELETE_DELIVERIES_OF).bind(id).execute(c).await.map(drop)?);
        let deleted =
            on_tx!(self, |c| sqlx::query(DELETE_SUBSCRIPTION).bind(id).execute(c).await?.rows_affected());
        Ok(deleted == 1)
    }

    /// Queues `push` for each of its user's subscriptions at `now`, with its
    /// links, unless its event was queued for them already: how many were queued.
    pub async fn queue_push(&mut self, push: &NewPush, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let subscriptions: Vec<SubscriptionRow> = on_tx!(self, |c| {
            sqlx::query_as(SELECT_OF_USER).bind(push.user_id.as_str()).fetch_all(c).await?
        });
        let payload = serde_json::to_string(&push.notice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut queued = 0;
        for subscription in subscriptions {
            let row: Option<(Uuid,)> = on_tx!(self, |c| {
                sqlx::query_as(QUEUE_PUSH)
                    .bind(Uuid::now_v7())
                    .bind(push.event_id.as_str())
                    .bind(push.user_id.as_str())
                    .bind(payload.as_str())
                    .bind(subscription.id)
                    .bind(Timestamp(push.not_before))
                    .bind(Timestamp(now))
                    .fetch_optional(c)
                    .await?
            });
            queued += usize::from(row.is_some());
        }
        if queued > 0 {
            for link in &push.links {
                self.insert_mail_link(link).await?;
            }
        }
        Ok(queued)
    }

    /// Puts a claimed message back, unattempted, until `until`.
    pub async fn postpone_push(&mut self, id: Uuid, until: DateTime<Utc>) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(POSTPONE_PUSH)
            .bind(id)
            .bind(Timestamp(until))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}

impl Store {
    /// `user_id`'s subscriptions, oldest first.
    pub async fn push_subscriptions(&self, user_id: &str) -> Result<Vec<Subscription>, StoreError> {
        let rows: Vec<SubscriptionRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_OF_USER).bind(user_id).fetch_all(c).await?);
        Ok(rows.into_iter().map(Subscription::from).collect())
    }

    /// Deletes `user_id`'s subscription `id` with what is owed to it; `false`
    /// when they have none such.
    pub async fn unsubscribe_push(&self, user_id: &str, id: Uuid) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let owned = on_tx!(tx, |c| {
            sqlx::query_as::<_, (String,)>("select user_id from push_subscriptions where id = $1")
                .bind(id)
                .fetch_optional(c)
                .await?
        });
        if owned.is_none_or(|(owner,)| owner != user_id) {
            return Ok(false);
        }
        let deleted = tx.delete_push_subscription(id).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Deletes subscription `id` (its push service dropped it) with what is owed to it.
    pub async fn forget_push_subscription(&self, id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.delete_push_subscription(id).await?;
        tx.commit().await
    }

    /// Queues each of `pushes` at `now` in one transaction: how many messages
    /// were queued for each.
    pub async fn queue_pushes(
        &self,
        pushes: &[NewPush],
        now: DateTime<Utc>,
    ) -> Result<Vec<usize>, StoreError> {
        if pushes.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin().await?;
        let mut queued = Vec::with_capacity(pushes.len());
        for push in pushes {
            queued.push(tx.queue_push(push, now).await?);
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Leases up to `limit` owed messages due at `now` for `lease`, soonest
    /// first, each with its subscription; concurrent callers get disjoint ones.
    pub async fn claim_push(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OwedPush>, StoreError> {
        let statement = CLAIM_PUSH.of(self.backend());
        let rows: Vec<ClaimedRow> = on_writer!(self.pool, |c| {
            sqlx::query_as(statement)
                .bind(Timestamp(lease_end(now, lease)))
                .bind(Timestamp(now))
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        let mut owed = Vec::with_capacity(rows.len());
        for row in rows {
            let (Some(endpoint), Some(p256dh), Some(auth), Some(subscribed_at)) =
                (row.endpoint, row.p256dh, row.auth, row.subscribed_at)
            else {
                // Its subscription was deleted after this was claimed.
                on_writer!(self.pool, |c| sqlx::query(DELETE_ORPHAN)
                    .bind(row.id)
                    .execute(c)
                    .await
                    .map(drop)?);
                continue;
            };
            owed.push(OwedPush {
                id: row.id,
                event_id: row.event_id,
                subscription: Subscription {
                    id: row.subscription_id,
                    user_id: row.user_id.clone(),
                    endpoint,
                    p256dh,
                    auth,
                    created_at: subscribed_at.into(),
                },
                user_id: row.user_id,
                payload: row.payload,
                attempts: row.attempts,
            });
        }
        Ok(owed)
    }

    /// Records how an attempt at a claimed message ended at `now`, and ends its lease.
    pub async fn record_push_attempt(
        &self,
        id: Uuid,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_writer!(self.pool, |c| {
            sqlx::query(RECORD_ATTEMPT)
                .bind(id)
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
}
