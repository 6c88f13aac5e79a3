//! The webhook channel: owed `webhook_deliveries`, signed and POSTed by a
//! [`Deliverer`]. A transient failure holds back the webhook's other owed
//! deliveries until its retry (its receiver is failing).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Channel;
use crate::rate_limit::Class;
use crate::store::{Store, StoreError, Tx};
use crate::webhook::{Attempt, Deliverer, DeliveryStatus, OwedDelivery};

#[async_trait::async_trait]
impl Channel for Deliverer {
    type Owed = OwedDelivery;

    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn claim(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OwedDelivery>, StoreError> {
        store.claim_webhook_deliveries(now, lease, limit).await
    }

    fn budget(&self, owed: &OwedDelivery) -> Option<(Class, String)> {
        owed.webhook.as_ref().map(|w| (Class::Webhooks, format!("user:{}", w.user_id)))
    }

    async fn postpone(
        &self,
        tx: &mut Tx,
        owed: &OwedDelivery,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        tx.postpone_webhook_delivery(&owed.event_id, owed.webhook_id, until).await
    }

    fn attempts(&self, owed: &OwedDelivery) -> i32 {
        owed.attempts
    }

    async fn send(&self, owed: &OwedDelivery, _now: DateTime<Utc>) -> Attempt {
        match &owed.webhook {
            Some(webhook) => Deliverer::send(self, webhook, &owed.event_id, &owed.body).await,
            None => Attempt::sent(DeliveryStatus::Failed, None, Some("the webhook was deleted".into())),
        }
    }

    async fn record(
        &self,
        store: &Store,
        owed: &OwedDelivery,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = store.begin().await?;
        tx.record_webhook_attempt(&owed.event_id, owed.webhook_id, attempt, now).await?;
        if let Some(retry_at) = attempt.retry_at {
            tx.defer_webhook(owed.webhook_id, retry_at, now).await?;
        }
        tx.commit().await
    }

    fn count(&self, status: DeliveryStatus) {
        crate::metrics::record_webhook_attempt(status.as_str());
    }

    fn count_deferred(&self, n: usize) {
        crate::metrics::webhook_deliveries_deferred(n);
    }
}
