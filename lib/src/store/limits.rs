//! The lock that makes a per-user limit hold: a count and an insert that no
//! other registration by the same user interleaves with.

use super::db::{Tx, on_tx};
use super::{Backend, StoreError};

/// PostgreSQL only: a lock on what ($1) user $2 registers, until the
/// transaction ends: "webhooks of alice", "lists of alice".
const LOCK_USER: &str = "select pg_advisory_xact_lock(hashtextextended($1 || ' of ' || $2, 0))";

impl Tx {
    /// Serializes registrations of `what` (`"webhooks"`, `"lists"`) by
    /// `user_id` until the transaction ends, so that a limit's count and the
    /// insert cannot interleave with another registration's. PostgreSQL takes a
    /// transaction-scoped advisory lock (there may be no row yet to lock);
    /// SQLite runs one write transaction at a time already.
    pub async fn lock_user(&mut self, what: &str, user_id: &str) -> Result<(), StoreError> {
        if self.backend() == Backend::Postgres {
            on_tx!(self, |c| sqlx::query(LOCK_USER).bind(what).bind(user_id).execute(c).await.map(drop)?);
        }
        Ok(())
    }
}
