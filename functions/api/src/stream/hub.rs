//! One reader of the changes feed per process, for every open stream.
//!
//! A commit (in this process, or in any replica through PostgreSQL's
//! `NOTIFY`) wakes the hub, not each stream. The hub reads what changed once,
//! for all the users with a stream open here ([`todo_lib::store::Store::changes_for`]:
//! who sees an event is found from its list's members), and broadcasts the
//! batch; each stream takes its user's changes from it. So what a write costs
//! the database does not grow with the number of open streams: a stream reads
//! the feed itself only to catch up (when it opens, resumes, or falls behind
//! the broadcast), and [`Reads`] counts both kinds.
//!
//! Because the feed only shows what has surely committed, a wake is followed
//! by a few more looks shortly after. The hub runs while streams are open and
//! stops after the last one closes; the next stream starts it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use todo_lib::changes::{ChangeCursor, FeedBatch};
use todo_lib::store::Store;
use tokio::sync::broadcast;
use tokio::time::Instant;

/// After a wake, look again this long after the last look, in turn: a
/// transaction that took its id earlier may commit a moment later.
const LOOK_AGAIN: [Duration; 3] =
    [Duration::from_millis(250), Duration::from_secs(1), Duration::from_secs(4)];
/// While the database is down, look again after this long.
const RETRY: Duration = Duration::from_secs(2);
/// How often an idle hub checks whether any stream is left.
const IDLE: Duration = Duration::from_secs(5);
/// Events (and notifications) per read.
pub const PAGE: i64 = 100;
/// Batches a stream may fall behind by before it reads for itself.
const BACKLOG: usize = 64;

/// The feed's reader for this process; see the module.
#[derive(Debug, Default)]
pub struct Hub {
    running: Arc<Mutex<Option<Running>>>,
    reads: Arc<Reads>,
}

/// Reads of the feed in this process: by the hub (one for every stream), and
/// by streams catching up on their own. Also the metric
/// `todo_feed_reads_total{by}`.
#[derive(Debug, Default)]
pub struct Reads {
    hub: AtomicU64,
    streams: AtomicU64,
}

impl Reads {
    pub fn by_hub(&self) -> u64 {
        self.hub.load(Ordering::Relaxed)
    }

    pub fn by_streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }

    /// Counts a stream's own read.
    pub fn stream_read(&self) {
        self.streams.fetch_add(1, Ordering::Relaxed);
        todo_lib::metrics::feed_read("stream");
    }

    fn hub_read(&self) {
        self.hub.fetch_add(1, Ordering::Relaxed);
        todo_lib::metrics::feed_read("hub");
    }
}

#[derive(Debug)]
struct Running {
    batches: broadcast::Sender<Arc<FeedBatch>>,
    /// Users with streams open here, and how many each.
    readers: Arc<Mutex<HashMap<String, usize>>>,
}

/// A stream's place at the hub: the batches it reads, and its user among the
/// readers until it is dropped.
#[derive(Debug)]
pub struct Subscription {
    pub batches: broadcast::Receiver<Arc<FeedBatch>>,
    user: String,
    readers: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut readers = lock(&self.readers);
        if let Some(count) = readers.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                readers.remove(&self.user);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    /// The reads made so far.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// Adds `user` to the readers and returns their subscription, starting
    /// the hub if it is not running. Needs a Tokio runtime.
    pub fn subscribe(&self, store: &Store, user: &str) -> Subscription {
        let mut running = lock(&self.running);
        let current = running.get_or_insert_with(|| {
            let (batches, _) = broadcast::channel(BACKLOG);
            let readers = Arc::new(Mutex::new(HashMap::new()));
            let hub = Arc::clone(&self.running);
            tokio::spawn(run(
                store.clone(),
                batches.clone(),
                Arc::clone(&readers),
                hub,
                Arc::clone(&self.reads),
            ));
            Running { batches, readers }
        });
        *lock(&current.readers).entry(user.to_owned()).or_default() += 1;
        Subscription {
            batches: current.batches.subscribe(),
            user: user.to_owned(),
            readers: Arc::clone(&current.readers),
        }
    }
}

/// Reads the feed for the readers and broadcasts it, from now until no
/// stream is left.
async fn run(
    store: Store,
    batches: broadcast::Sender<Arc<FeedBatch>>,
    readers: Arc<Mutex<HashMap<String, usize>>>,
    hub: Arc<Mutex<Option<Running>>>,
    reads: Arc<Reads>,
) {
    let mut wakes = store.watch_changes();
    wakes.borrow_and_update();
    let mut cursor: Option<ChangeCursor> = None;
    let mut look_at = Some(Instant::now());
    let mut again = 0;
    loop {
        tokio::select! {
            woke = wakes.changed() => {
                if woke.is_err() {
                    break;
                }
                look_at = Some(Instant::now());
                again = 0;
                continue;
            }
            () = sleep_until(look_at) => {}
            () = tokio::time::sleep(IDLE) => {
                if stopped(&hub, &batches) {
                    return;
                }
                continue;
            }
        }
        if stopped(&hub, &batches) {
            return;
        }
        let after = match cursor {
            Some(cursor) => cursor,
            None => match store.changes_head().await {
                Ok(head) => *cursor.insert(head),
                Err(err) => {
                    tracing::warn!(error = %err, "finding the feed's head failed; trying again");
                    look_at = Some(Instant::now() + RETRY);
                    continue;
                }
            },
        };
        let who: Vec<String> = lock(&readers).keys().cloned().collect();
        reads.hub_read();
        match store.changes_for(&who, after, PAGE).await {
            Ok(batch) => {
                cursor = Some(batch.to);
                look_at = if batch.has_more {
                    Some(Instant::now())
                } else {
                    let delay = LOOK_AGAIN.get(again).copied();
                    again += 1;
                    delay.map(|d| Instant::now() + d)
                };
                if batch.to > batch.after {
                    // No receiver left is seen at the next look.
                    let _ = batches.send(Arc::new(batch));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "reading the changes feed for the streams failed; trying again");
                look_at = Some(Instant::now() + RETRY);
            }
        }
    }
    // The store's signal is gone: the process is ending.
    lock(&hub).take();
}

/// Whether no stream is left: then the hub is taken down, under the lock a
/// new stream takes to subscribe, so none subscribes to a hub that is stopping.
fn stopped(hub: &Mutex<Option<Running>>, batches: &broadcast::Sender<Arc<FeedBatch>>) -> bool {
    let mut running = lock(hub);
    if batches.receiver_count() > 0 {
        return false;
    }
    running.take();
    true
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
