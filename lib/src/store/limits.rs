//! What makes a per-user limit hold: a lock under which a count and an insert
//! do not interleave with another registration by the same user; and the
//! count of a user's tasks, which the database keeps (`task_counts`).

use super::db::{Tx, on_tx};
use super::{Backend, StoreError};

/// PostgreSQL only: a lock on what ($1) user $2 registers, until the
/// transaction ends: "webhooks of alice", "lists of alice".
const LOCK_USER: &str = "select pg_advisory_xact_lock(hashtextextended($1 || ' of ' || $2, 0))";

const TASKS_MADE_BY: &str =
    "select cast(coalesce(sum(tasks), 0) as bigint) from task_counts where user_id = $1";

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

    /// How many tasks `user_id` has made (done ones included), as the
    /// triggers on `tasks` count them: every insert committed, and this
    /// transaction's own. Inserts of the same user still in flight elsewhere
    /// are not seen (on PostgreSQL; SQLite writes one at a time), so
    /// concurrent creates can pass a quota by as many as are in flight at
    /// once, never by more.
    pub async fn tasks_made_by(&mut self, user_id: &str) -> Result<i64, StoreError> {
        Ok(on_tx!(self, |c| sqlx::query_scalar(TASKS_MADE_BY).bind(user_id).fetch_one(c).await?))
    }
}
