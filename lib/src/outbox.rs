//! Publishing outbox events after the transaction that wrote them has
//! committed ([`crate::relay`] does it for request handlers), and
//! republishing what was left.
//!
//! A publish that fails is logged and left in the outbox; `cron-tick` republishes
//! it later. Nothing here ever fails a user's request, and nothing is lost: an
//! event is marked published only after the broker (through Dapr) accepted it.
//! Republishing may deliver an event twice; consumers are idempotent on its id.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::event::OutboxEvent;
use crate::publish::{Publisher, Unsent};
use crate::store::Store;

/// Publishes `events` (in one bulk call per topic when there are several) and
/// marks those the broker accepted published, in one statement; releases the
/// lease of those it did not, so that a sweep retries them as soon as the
/// broker is back rather than when the lease runs out. Nothing is marked
/// published that was not sent. Returns how many went out.
///
/// Order: one task's events keep their order when the batch goes out whole.
/// When the broker fails some of a batch, the ones it failed go out later
/// than the ones after them it accepted, as with any retry; consumers do not
/// depend on arrival order (the activity and the changes feed order by when
/// each change happened, and each event is acted on once).
pub async fn publish_and_mark(store: &Store, publisher: &dyn Publisher, events: &[OutboxEvent]) -> usize {
    if events.is_empty() {
        return 0;
    }
    let unsent = publisher.publish_batch(events).await;
    for Unsent { id, reason } in &unsent {
        tracing::warn!(event_id = %id, %reason, "publish failed; left in the outbox");
    }
    let sent: Vec<Uuid> =
        events.iter().map(|e| e.id).filter(|id| !unsent.iter().any(|u| u.id == *id)).collect();
    if !unsent.is_empty() {
        release(store, &unsent.iter().map(|u| u.id).collect::<Vec<_>>()).await;
    }
    if let Err(err) = store.mark_all_published(&sent, Utc::now()).await {
        // Published but not marked: the sweeper will publish them again, and
        // consumers drop the duplicates by their ids.
        tracing::warn!(events = sent.len(), error = %crate::telemetry::Chain(&err), "marking events published failed");
        return 0;
    }
    sent.len()
}

async fn release(store: &Store, ids: &[Uuid]) {
    if let Err(err) = store.release_unpublished(ids).await {
        // The leases run out on their own; the events wait that long.
        tracing::warn!(events = ids.len(), error = %crate::telemetry::Chain(&err), "releasing unpublished events failed");
    }
}

/// How long a republisher holds the rows it claimed before another may take them.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// How [`republish_unpublished`] sweeps the outbox.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// An unpublished event younger than this is left to its writer.
    pub min_age: Duration,
    /// How long the sweeper holds the rows it claimed before another may take them.
    pub lease: Duration,
    /// Rows per claim.
    pub batch: i64,
    /// Claims per sweep at most.
    pub max_batches: usize,
    /// How long one sweep may go on claiming (at least one claim), so that it
    /// stays short however large the backlog.
    pub budget: Duration,
    /// Claimers working at once, each claiming, publishing and marking its
    /// own batches (claims are disjoint), so that the database and the
    /// sidecar are busy at the same time.
    pub workers: usize,
    /// The time the sweep goes by.
    pub clock: Arc<dyn crate::clock::Clock>,
}

/// Republishes events that are still unpublished `min_age` after they were written
/// (their writer's own publish failed, or it crashed), in batches. Stops early when
/// the publisher fails, leaving the rest for the next run. Returns how many were
/// published.
pub async fn republish_unpublished(
    store: &Store,
    publisher: &dyn Publisher,
    sweep: Sweep,
) -> Result<usize, crate::store::StoreError> {
    let started = std::time::Instant::now();
    let rounds = std::sync::atomic::AtomicUsize::new(0);
    let workers = (0..sweep.workers.max(1)).map(|_| claimer(store, publisher, &sweep, started, &rounds));
    let mut published = 0;
    for outcome in futures_util::future::join_all(workers).await {
        published += outcome?;
    }
    Ok(published)
}

/// One claimer of [`republish_unpublished`]: batch after batch until a claim
/// comes back empty, a publish falls short, the sweep's claims are used up or
/// its budget is spent.
async fn claimer(
    store: &Store,
    publisher: &dyn Publisher,
    sweep: &Sweep,
    started: std::time::Instant,
    rounds: &std::sync::atomic::AtomicUsize,
) -> Result<usize, crate::store::StoreError> {
    let mut published = 0;
    loop {
        let round = rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if round >= sweep.max_batches || (round > 0 && started.elapsed() >= sweep.budget) {
            break;
        }
        let now = sweep.clock.now();
        let cutoff = now - chrono::Duration::from_std(sweep.min_age).unwrap_or_default();
        let claimed = store.claim_unpublished(cutoff, now, sweep.lease, sweep.batch).await?;
        if claimed.is_empty() {
            break;
        }
        let sent = publish_and_mark(store, publisher, &claimed).await;
        published += sent;
        if sent < claimed.len() {
            break;
        }
    }
    Ok(published)
}
