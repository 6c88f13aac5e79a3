//! The push channel: owed `push_deliveries`, encrypted and sent by a
//! [`Pusher`]. A push service that answers 404 or 410 has dropped the
//! subscription: it is deleted with everything still owed to it. Each user's
//! messages spend their [`Class::Push`] budget.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Channel;
use crate::push::{OwedPush, Pusher};
use crate::rate_limit::Class;
use crate::store::{Store, StoreError, Tx};
use crate::webhook::{Attempt, DeliveryStatus};

#[async_trait::async_trait]
impl Channel for Pusher {
    type Owed = OwedPush;

    fn name(&self) -> &'static str {
        "push"
    }

    async fn claim(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OwedPush>, StoreError> {
        store.claim_push(now, lease, limit).await
    }

    fn budget(&self, owed: &OwedPush) -> Option<(Class, String)> {
        Some((Class::Push, format!("user:{}", owed.user_id)))
    }

    async fn postpone(&self, tx: &mut Tx, owed: &OwedPush, until: DateTime<Utc>) -> Result<(), StoreError> {
        tx.postpone_push(owed.id, until).await
    }

    fn attempts(&self, owed: &OwedPush) -> i32 {
        owed.attempts
    }

    async fn send(&self, owed: &OwedPush, now: DateTime<Utc>) -> Attempt {
        Pusher::send(self, owed, now).await
    }

    async fn record(
        &self,
        store: &Store,
        owed: &OwedPush,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if crate::push::gone(attempt) {
            tracing::info!(subscription = %owed.subscription.id, "the push service dropped a subscription; deleted");
            return store.forget_push_subscription(owed.subscription.id).await;
        }
        store.record_push_attempt(owed.id, attempt, now).await
    }

    fn count(&self, status: DeliveryStatus) {
        crate::metrics::record_push_attempt(status.as_str());
    }

    fn count_deferred(&self, n: usize) {
        crate::metrics::push_deferred(n);
    }
}
