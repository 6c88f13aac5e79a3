//! The mail channel: owed `mail_deliveries`, sent by a [`Mailer`] (or kept,
//! on the local host without `SMTP_URL`). Each user's mails spend their
//! [`Class::Mail`] budget.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Channel;
use crate::mail::{Mailer, OwedMail};
use crate::rate_limit::Class;
use crate::store::{Store, StoreError, Tx};
use crate::webhook::{Attempt, DeliveryStatus};

#[async_trait::async_trait]
impl Channel for Mailer {
    type Owed = OwedMail;

    fn name(&self) -> &'static str {
        "mail"
    }

    async fn claim(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OwedMail>, StoreError> {
        store.claim_mail(now, lease, limit).await
    }

    fn budget(&self, owed: &OwedMail) -> Option<(Class, String)> {
        Some((Class::Mail, format!("user:{}", owed.user_id)))
    }

    async fn postpone(&self, tx: &mut Tx, owed: &OwedMail, until: DateTime<Utc>) -> Result<(), StoreError> {
        tx.postpone_mail(owed.id, until).await
    }

    fn attempts(&self, owed: &OwedMail) -> i32 {
        owed.attempts
    }

    async fn send(&self, owed: &OwedMail, _now: DateTime<Utc>) -> Attempt {
        Mailer::send(self, owed).await
    }

    async fn record(
        &self,
        store: &Store,
        owed: &OwedMail,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        store.record_mail_attempt(owed.id, attempt, now).await
    }

    fn count(&self, status: DeliveryStatus) {
        crate::metrics::record_mail_attempt(status.as_str());
    }

    fn count_deferred(&self, n: usize) {
        crate::metrics::mail_deferred(n);
    }
}
