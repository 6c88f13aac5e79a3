//! The relay (one per process) publishes what handlers commit; a burst larger
//! than its queue is left in the outbox for the sweep, never lost, never sent
//! twice. On both backends.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use todo_lib::outbox::{Sweep, republish_unpublished};
use todo_lib::publish::{PublishError, Publisher};
use todo_lib::relay::Relay;

use super::*;

todo_testing::on_both_backends!(a_burst_past_the_relay_s_queue_waits_in_the_outbox_for_the_sweep);

/// A publisher that publishes only as many events as it is allowed to.
#[derive(Debug)]
struct Gated {
    allowed: tokio::sync::Semaphore,
    published: Mutex<Vec<Uuid>>,
}

#[async_trait::async_trait]
impl Publisher for Gated {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        self.allowed.acquire().await.expect("open").forget();
        self.published.lock().expect("lock").push(event.id);
        Ok(())
    }
}

impl Gated {
    fn closed() -> Self {
        Self { allowed: tokio::sync::Semaphore::new(0), published: Mutex::default() }
    }
}

async fn a_burst_past_the_relay_s_queue_waits_in_the_outbox_for_the_sweep(db: TestDb) {
    let gated = Arc::new(Gated::closed());
    let publisher: Arc<dyn Publisher> = gated.clone();
    let relay = Relay::sized(db.store.clone(), Arc::clone(&publisher), 2, 1);
    let mut handed = Vec::new();
    for i in 0..10 {
        let t = task("alice", &format!("burst {i}"), t0());
        insert(&db, &t).await;
        let written = db.store.recent_events(None, 1).await.expect("recent").remove(0);
        handed.push(written.id);
        relay.hand(vec![written]);
    }
    // The relay took at most its one in flight and its queue of two; the rest
    // are in the outbox, unpublished.
    gated.allowed.add_permits(100);
    tokio::time::timeout(StdDuration::from_secs(10), relay.finish()).await.expect("the relay finishes");
    let by_relay = gated.published.lock().expect("lock").len() as i64;
    assert!(
        (2..=3).contains(&by_relay),
        "the relay published what it held (its queue and one in flight): {by_relay}"
    );
    assert_eq!(db.store.count_unpublished().await.expect("count"), 10 - by_relay, "and marked it published");

    let sweep = Sweep {
        min_age: StdDuration::ZERO,
        lease: StdDuration::from_secs(60),
        batch: 100,
        max_batches: 1,
        workers: 1,
        budget: StdDuration::from_secs(5),
        clock: todo_lib::clock::system(),
    };
    let swept = republish_unpublished(&db.store, publisher.as_ref(), sweep).await.expect("swept");
    assert_eq!(swept as i64, 10 - by_relay);
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0, "nothing is lost");
    let mut published = gated.published.lock().expect("lock").clone();
    published.sort();
    handed.sort();
    assert_eq!(published, handed, "each event published once");
}
