//! Sending what the queues owe: event handlers queue an event for the webhooks
//! of the members of its task's list (`todo_lib::function::queue_and_answer`)
//! and reminders for the mail of the users who want them; a [`Sender`] (in
//! `cron-tick`) sends what a [`Channel`] owes, each delivery under a lease, at
//! most `concurrency` at once per process, retrying transient failures on a
//! [`Backoff`] schedule. [`webhooks`], [`mail`] and [`push`] are the channels.
//!
//! A round waits for its sends only up to `wait`: a receiver that hangs keeps
//! its send (and its permit) in the background until the delivery timeout, while
//! the tick goes on with reminders and the next round with other deliveries. A
//! failing webhook's other owed deliveries wait with it, so a flood of events to
//! one dead endpoint costs one attempt, not one timeout per event.
//!
//! A send that outlives its process (a shutdown, a crash, a Lambda frozen after
//! it answered) is taken over by another round once its lease ends: delivery is
//! at least once, and receivers de-duplicate on `webhook-id` (or `Message-ID`).
//!
//! Each user's deliveries go out at most at their channel's budget
//! ([`Class::Webhooks`], [`Class::Mail`], [`Class::Push`]): a claimed delivery past the budget
//! is put back, unattempted, until the budget has room, so a burst of events
//! waits in the queue rather than storming the user's receivers (or being
//! dropped).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::rate_limit::{Class, Limiter};
use crate::store::{Store, StoreError, Tx};
use crate::webhook::{Attempt, DeliveryStatus};

pub mod mail;
pub mod push;
pub mod webhooks;

/// One queue of deliveries and how to send them.
#[async_trait::async_trait]
pub trait Channel: std::fmt::Debug + Send + Sync + 'static {
    /// A claimed delivery.
    type Owed: Send + 'static;

    /// What logs call it.
    fn name(&self) -> &'static str;

    /// Leases up to `limit` owed deliveries due at `now` for `lease`; concurrent
    /// callers get disjoint ones.
    async fn claim(
        &self,
        store: &Store,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<Self::Owed>, StoreError>;

    /// The budget a delivery spends: its class and key (`None`: none).
    fn budget(&self, owed: &Self::Owed) -> Option<(Class, String)>;

    /// Puts a claimed delivery back, unattempted, to be claimed again at `until`.
    async fn postpone(&self, tx: &mut Tx, owed: &Self::Owed, until: DateTime<Utc>) -> Result<(), StoreError>;

    /// Attempts made before this one.
    fn attempts(&self, owed: &Self::Owed) -> i32;

    /// Sends it once at `now`, saying how that went (before the retry
    /// schedule; a `retry_at` it sets is a receiver's `Retry-After`).
    async fn send(&self, owed: &Self::Owed, now: DateTime<Utc>) -> Attempt;

    /// Records the attempt at `now` (the schedule applied) and ends its lease.
    async fn record(
        &self,
        store: &Store,
        owed: &Self::Owed,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Counts the attempt and the deferrals in the channel's metrics.
    fn count(&self, status: DeliveryStatus);
    fn count_deferred(&self, n: usize);
}

/// Waits between attempts: after the n-th failed attempt, the n-th delay; when
/// the schedule runs out, the delivery is failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff(Vec<Duration>);

impl Backoff {
    pub fn new(delays: Vec<Duration>) -> Self {
        Self(delays)
    }

    /// The Standard Webhooks specification's suggested schedule: retries after
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, eight attempts over about
    /// 28 hours.
    pub fn standard() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self(vec![
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            minutes(120),
            minutes(300),
            minutes(600),
            minutes(600),
        ])
    }

    /// The record of the `n`-th attempt (from 1), which came to `sent` at `now`.
    /// A retry waits for the schedule, and for the receiver's `Retry-After`
    /// when it asked for longer.
    fn record(&self, sent: Attempt, n: i32, now: DateTime<Utc>) -> Attempt {
        let Attempt { status, status_code, error, retry_at: asked } = sent;
        if status != DeliveryStatus::Pending {
            return Attempt { status, status_code, error, retry_at: None };
        }
        let delay = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)).and_then(|i| self.0.get(i));
        match delay {
            Some(delay) => Attempt {
                status,
                status_code,
                error,
                retry_at: chrono::Duration::from_std(*delay)
                    .ok()
                    .and_then(|delay| now.checked_add_signed(delay))
                    .or(Some(DateTime::<Utc>::MAX_UTC))
                    .max(asked),
            },
            None => Attempt {
                status: DeliveryStatus::Failed,
                status_code,
                error: Some(format!(
                    "gave up after {n} attempts: {}",
                    error.as_deref().unwrap_or("the receiver kept failing")
                )),
                retry_at: None,
            },
        }
    }
}

/// How a [`Sender`] works.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// Sends in flight at once in this process, across rounds.
    pub concurrency: usize,
    /// How long a round waits for its sends before it returns (they go on).
    pub wait: Duration,
    /// How long a claimed delivery is held: after a crash, another sender takes
    /// it once this has passed. Longer than the delivery timeout.
    pub lease: Duration,
    pub backoff: Backoff,
    /// Each user's budgets of deliveries; unlimited by default.
    pub per_user: Limiter,
}

impl Default for SenderSettings {
    fn default() -> Self {
        Self {
            concurrency: 32,
            wait: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            backoff: Backoff::standard(),
            per_user: Limiter::unlimited(),
        }
    }
}

/// What one round did. Sends still in flight when it returned finish in the
/// background and are counted by no round.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoundReport {
    pub delivered: usize,
    pub failed: usize,
    /// Failed transiently: retried later.
    pub retrying: usize,
    pub in_flight: usize,
    /// Put back for their user's per-minute bound, unattempted.
    pub deferred: usize,
}

/// Sends what `C` owes. Clones share the concurrency limit.
#[derive(Debug)]
pub struct Sender<C> {
    channel: Arc<C>,
    settings: Arc<SenderSettings>,
    permits: Arc<Semaphore>,
    clock: Arc<dyn Clock>,
}

impl<C> Clone for Sender<C> {
    fn clone(&self) -> Self {
        Self {
            channel: Arc::clone(&self.channel),
            settings: Arc::clone(&self.settings),
            permits: Arc::clone(&self.permits),
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<C: Channel> Sender<C> {
    pub fn new(channel: C, settings: SenderSettings) -> Self {
        let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        Self {
            channel: Arc::new(channel),
            settings: Arc::new(settings),
            permits,
            clock: crate::clock::system(),
        }
    }

    /// The sender with leases and retry times reckoned by `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Claims owed deliveries and sends them while permits are free, until none
    /// is owed or `wait` has passed.
    pub async fn round(&self, store: &Store) -> Result<RoundReport, StoreError> {
        let deadline = Instant::now() + self.settings.wait;
        let (done_tx, mut done) = mpsc::unbounded_channel();
        let mut report = RoundReport::default();
        let mut drained = false;
        loop {
            // Claim again once half the permits are free, or when nothing is in flight.
            let wanted = if report.in_flight == 0 { 1 } else { self.settings.concurrency.div_ceil(2) };
            if !drained && Instant::now() < deadline && self.permits.available_permits() >= wanted {
                let permits = self.take_permits();
                let owed = self
                    .channel
                    .claim(store, self.clock.now(), self.settings.lease, permits.len() as i64)
                    .await?;
                drained = owed.len() < permits.len();
                let owed = self.within_budgets(store, owed, &mut report).await?;
                for (delivery, permit) in owed.into_iter().zip(permits) {
                    let (this, store, done_tx) = (self.clone(), store.clone(), done_tx.clone());
                    report.in_flight += 1;
                    tokio::spawn(async move {
                        let status = this.attempt(&store, delivery).await;
                        drop(permit);
                        // The round may have returned: then nobody counts it.
                        let _ = done_tx.send(status);
                    });
                }
            }
            if report.in_flight == 0 {
                break;
            }
            match tokio::time::timeout_at(deadline, done.recv()).await {
                Ok(Some(status)) => {
                    report.in_flight -= 1;
                    match status {
                        DeliveryStatus::Delivered => report.delivered += 1,
                        DeliveryStatus::Failed => report.failed += 1,
                        DeliveryStatus::Pending => report.retrying += 1,
                    }
                }
                // Past the deadline (or every sender is gone: it cannot be, we hold one).
                _ => break,
            }
        }
        Ok(report)
    }

    /// The deliveries whose user has room in their budget; the others are
    /// put back until it has, unattempted.
    async fn within_budgets(
        &self,
        store: &Store,
        owed: Vec<C::Owed>,
        report: &mut RoundReport,
    ) -> Result<Vec<C::Owed>, StoreError> {
        let now = self.clock.now();
        let mut sendable = Vec::with_capacity(owed.len());
        let mut later = Vec::new();
        for delivery in owed {
            let Some((class, key)) = self.channel.budget(&delivery) else {
                sendable.push(delivery);
                continue;
            };
            let decision = self.settings.per_user.check(class, &key).await;
            if decision.allowed {
                sendable.push(delivery);
            } else {
                let wait = chrono::Duration::from_std(decision.retry_after).unwrap_or(chrono::Duration::MAX);
                later.push((delivery, now.checked_add_signed(wait).unwrap_or(DateTime::<Utc>::MAX_UTC)));
            }
        }
        if !later.is_empty() {
            let mut tx = store.begin().await?;
            for (delivery, until) in &later {
                self.channel.postpone(&mut tx, delivery, *until).await?;
            }
            tx.commit().await?;
            self.channel.count_deferred(later.len());
            report.deferred += later.len();
        }
        Ok(sendable)
    }

    fn take_permits(&self) -> Vec<OwnedSemaphorePermit> {
        std::iter::from_fn(|| Arc::clone(&self.permits).try_acquire_owned().ok()).collect()
    }

    /// Sends one delivery and records how it went.
    async fn attempt(&self, store: &Store, owed: C::Owed) -> DeliveryStatus {
        let outcome = self.channel.send(&owed, self.clock.now()).await;
        let now = self.clock.now();
        let attempt =
            self.settings.backoff.record(outcome, self.channel.attempts(&owed).saturating_add(1), now);
        self.channel.count(attempt.status);
        if let Err(err) = self.channel.record(store, &owed, &attempt, now).await {
            // Unrecorded, the delivery stays claimed until its lease ends and is
            // then sent again: the receiver de-duplicates on its id.
            tracing::warn!(error = %crate::telemetry::Chain(&err), channel = self.channel.name(),
                "could not record a delivery attempt; it is sent again after its lease");
        }
        attempt.status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: DeliveryStatus) -> Attempt {
        Attempt::sent(status, Some(503), Some("503".into()))
    }

    #[test]
    fn transient_failures_wait_by_the_schedule_then_fail_for_good() {
        let backoff = Backoff::new(vec![Duration::from_secs(5), Duration::from_secs(60)]);
        let now = Utc::now();
        let first = backoff.record(outcome(DeliveryStatus::Pending), 1, now);
        assert_eq!(first.status, DeliveryStatus::Pending);
        assert_eq!(first.retry_at, Some(now + chrono::Duration::seconds(5)));
        let second = backoff.record(outcome(DeliveryStatus::Pending), 2, now);
        assert_eq!(second.retry_at, Some(now + chrono::Duration::seconds(60)));
        let third = backoff.record(outcome(DeliveryStatus::Pending), 3, now);
        assert_eq!(third.status, DeliveryStatus::Failed);
        assert_eq!(third.retry_at, None);
        assert_eq!(third.error.as_deref(), Some("gave up after 3 attempts: 503"));
    }

    #[test]
    fn a_receivers_retry_after_delays_a_retry_past_the_schedule_never_before_it() {
        let backoff = Backoff::new(vec![Duration::from_secs(5)]);
        let now = Utc::now();
        let asking = |secs: i64| Attempt {
            retry_at: Some(now + chrono::Duration::seconds(secs)),
            ..outcome(DeliveryStatus::Pending)
        };
        assert_eq!(backoff.record(asking(120), 1, now).retry_at, Some(now + chrono::Duration::seconds(120)));
        assert_eq!(backoff.record(asking(1), 1, now).retry_at, Some(now + chrono::Duration::seconds(5)));
    }

    #[test]
    fn final_outcomes_are_recorded_as_they_are() {
        let backoff = Backoff::standard();
        for status in [DeliveryStatus::Delivered, DeliveryStatus::Failed] {
            let attempt = backoff.record(outcome(status), 1, Utc::now());
            assert_eq!((attempt.status, attempt.retry_at), (status, None));
        }
    }

    #[test]
    fn the_standard_schedule_makes_eight_attempts() {
        let backoff = Backoff::standard();
        let now = Utc::now();
        let attempts = (1..)
            .take_while(|&n| backoff.record(outcome(DeliveryStatus::Pending), n, now).retry_at.is_some())
            .count();
        assert_eq!(attempts + 1, 8);
    }
}
