//! The time the schedulers go by (cron-tick's claims and pruning, the webhook
//! sender's leases and backoff), injected so that tests step a clock of their
//! own instead of sleeping. Records that only say when something happened
//! (`created_at`, a signature's `webhook-timestamp`) read the wall clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};

/// Says what time it is.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The wall clock, shared.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// When a lease of `lease` taken at `from` ends: the one place leases are
/// reckoned (one too long for chrono is taken as the default 60 s).
pub fn lease_end(from: DateTime<Utc>, lease: std::time::Duration) -> DateTime<Utc> {
    from + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60))
}
