//! The relay: one per process, it publishes what request handlers committed,
//! after the commit, so that a response never waits for the broker.
//!
//! Handlers hand each transaction's events over ([`Relay::hand`]) and return.
//! The relay takes them off a bounded queue and publishes them (each
//! transaction's events in order, up to [`CONCURRENCY`] transactions at once),
//! then marks them published. When the queue is full the events are not
//! queued: they are in the outbox already, and the sweeper (`cron-tick`)
//! publishes them once they are older than its `min_age`. Nothing is lost; a
//! burst only delays some events by a sweep. One task with a bounded queue
//! replaces a spawned task per write, which under load piled up without
//! bound.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};

use crate::event::OutboxEvent;
use crate::outbox::publish_and_mark;
use crate::publish::Publisher;
use crate::store::Store;

/// Transactions' events waiting for the relay, at most.
pub const QUEUE: usize = 1024;
/// Transactions whose events are being published at once.
pub const CONCURRENCY: usize = 16;

/// The handle handlers hand committed events to; cheap to clone.
#[derive(Debug, Clone)]
pub struct Relay {
    queue: mpsc::Sender<Vec<OutboxEvent>>,
    /// Becomes `true` when the relay has stopped.
    stopped: watch::Receiver<bool>,
}

impl Relay {
    /// Starts the relay publishing through `publisher` and marking in `store`.
    /// It runs until every handle is dropped. Needs a Tokio runtime.
    pub fn start(store: Store, publisher: Arc<dyn Publisher>) -> Self {
        Self::sized(store, publisher, QUEUE, CONCURRENCY)
    }

    /// [`Relay::start`] with a queue of `queue` transactions, publishing
    /// `concurrency` at once.
    pub fn sized(store: Store, publisher: Arc<dyn Publisher>, queue: usize, concurrency: usize) -> Self {
        let (sender, waiting) = mpsc::channel(queue.max(1));
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            run(store, publisher, waiting, concurrency.max(1)).await;
            stop.send_replace(true);
        });
        Self { queue: sender, stopped }
    }

    /// Drops this handle and waits until the relay has published (or left
    /// in the outbox) everything handed to it: once every other handle is
    /// gone too.
    pub async fn finish(self) {
        let Self { queue, mut stopped } = self;
        drop(queue);
        // An error means the relay is gone already.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }

    /// Hands one transaction's committed events over, without waiting. With
    /// the queue full they stay in the outbox for the sweeper.
    pub fn hand(&self, events: Vec<OutboxEvent>) {
        if events.is_empty() {
            return;
        }
        if let Err(err) = self.queue.try_send(events) {
            let events = match err {
                mpsc::error::TrySendError::Full(events) | mpsc::error::TrySendError::Closed(events) => events,
            };
            crate::metrics::relay_overflow(events.len());
            tracing::debug!(
                events = events.len(),
                "the relay's queue is full; the sweeper will publish these"
            );
        }
    }
}

async fn run(
    store: Store,
    publisher: Arc<dyn Publisher>,
    mut waiting: mpsc::Receiver<Vec<OutboxEvent>>,
    concurrency: usize,
) {
    futures_util::stream::poll_fn(move |cx| waiting.poll_recv(cx))
        .for_each_concurrent(concurrency, |events| {
            let (store, publisher) = (&store, &publisher);
            async move {
                publish_and_mark(store, publisher.as_ref(), &events).await;
            }
        })
        .await;
}
