//! Wakes readers of the changes feed when a change commits: in this process
//! from [`super::Tx::commit`], and on PostgreSQL also from every other process
//! through `LISTEN todo_changes` (the migration `changes` notifies on commit).
//! A wake says only "look again"; the feed itself says what changed.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

/// The channel the migration's trigger notifies on.
const CHANNEL: &str = "todo_changes";

/// How often a listener whose store is gone notices it, and how long it waits
/// before connecting again after losing its connection.
const RECHECK: Duration = Duration::from_secs(30);
const RECONNECT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(super) struct ChangeSignal {
    wakes: watch::Sender<u64>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Default for ChangeSignal {
    fn default() -> Self {
        Self { wakes: watch::Sender::new(0), listener: Mutex::new(None) }
    }
}

impl ChangeSignal {
    /// Wakes every reader of this process.
    pub(super) fn wake(&self) {
        self.wakes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes whenever a change may have committed; on
    /// PostgreSQL this starts the process's one listener, if it is not running.
    pub(super) fn subscribe(self: &Arc<Self>, pool: Option<&PgPool>) -> watch::Receiver<u64> {
        if let Some(pool) = pool {
            let mut listener = self.listener.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if listener.as_ref().is_none_or(|task| task.is_finished()) {
                *listener = Some(tokio::spawn(listen(pool.clone(), Arc::downgrade(self))));
            }
        }
        self.wakes.subscribe()
    }
}

/// Relays PostgreSQL's notifications to `signal` until the store is dropped.
/// After a lost connection it wakes every reader too: notifications sent
/// meanwhile are lost, and the feed is the truth.
async fn listen(pool: PgPool, signal: Weak<ChangeSignal>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => loop {
                    let Some(signal) = signal.upgrade() else { return };
                    signal.wake();
                    drop(signal);
                    match tokio::time::timeout(RECHECK, listener.try_recv()).await {
                        // A notification, a reconnection (`None`), or time to
                        // check that the store is still there: wake either way.
                        Ok(Ok(_)) | Err(_) => {}
                        Ok(Err(err)) => {
                            tracing::warn!(error = %err, "listening for changes failed; connecting again");
                            break;
                        }
                    }
                },
                Err(err) => tracing::warn!(error = %err, "LISTEN {CHANNEL} failed; trying again"),
            },
            Err(err) => tracing::warn!(error = %err, "connecting to listen for changes failed; trying again"),
        }
        if signal.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}
