//! Storage: one interface ([`Store`]), two backends chosen by the `DATABASE_URL`
//! scheme: PostgreSQL in production, SQLite as the embedded default.
//!
//! Both backends run the same SQL (see [`sql`]); only connection set-up,
//! migrations and the column type of instants ([`timestamp`]) differ. The same
//! conformance suite (`lib/tests/store_*.rs`) runs against both.
//!
//! Every state change writes its outbox event in the same transaction, so a change
//! is never visible without its event, nor an event without its change.

mod list;
mod postgres;
mod sql;
mod sqlite;
mod timestamp;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use list::{
    Cursor, CursorError, LIMIT_DEFAULT, LIMIT_MAX, ListQuery, Order, Page, SortKey, StatusFilter,
};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::event::OutboxEvent;
use crate::task::Task;

/// How many tags a user has used, and on how many tasks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// What recording a completion came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// This consumer had already handled the event: nothing changed.
    Duplicate,
    /// Recorded; `next_created` says whether the next occurrence was created now
    /// (false when there is none, or another delivery already created it).
    Recorded { next_created: bool },
}

/// What [`Store::prune`] deletes: rows older than these instants, at most
/// `limit` of each kind per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub published_before: chrono::DateTime<chrono::Utc>,
    pub processed_before: chrono::DateTime<chrono::Utc>,
    pub deliveries_before: chrono::DateTime<chrono::Utc>,
    pub limit: i64,
}

/// How many rows [`Store::prune`] deleted, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub outbox: u64,
    pub processed: u64,
    pub webhook_deliveries: u64,
}

/// Which engine is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row was changed or deleted since it was read (optimistic concurrency).
    #[error("the task was changed concurrently")]
    VersionConflict,
    /// The database cannot be reached or is overloaded; retrying later may work.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Any other database failure: a bug or a broken schema.
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no backend we know.
    #[error("unsupported DATABASE_URL scheme (expected postgres://, postgresql:// or sqlite:)")]
    UnsupportedUrl,
    /// A stored value no longer parses (an unknown priority, say).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the caller may succeed by retrying later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if is_transient(&err) { Self::Unavailable(err) } else { Self::Database(err) }
    }
}

/// Connection loss, pool exhaustion, lock contention and shutdown are transient,
/// and so is a database that refuses the connection itself (dropped, not
/// accepting connections, an unknown role or bad credentials): an operator's fix
/// or a failover brings it back without a change of ours. Everything else is a
/// bug to fix, not to retry.
fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: 08 connection exception, 28 invalid authorization
            // (unknown role, bad password), 3D000 no such database (dropped),
            // 40001 serialization failure, 40P01 deadlock, 53 insufficient
            // resources, 55000 "not currently accepting connections", 57
            // operator intervention (shutdown, database dropped, cancelled).
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and their extended codes).
            let postgres = ["08", "28", "53", "57"].iter().any(|class| code.starts_with(class))
                || ["3D000", "40001", "40P01", "55000"].contains(&code.as_ref());
            postgres || code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
        }
        _ => false,
    }
}

/// The storage interface the API and every function use.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    fn backend(&self) -> Backend;

    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies pending migrations. Only `migrate` commands and the local runner call
    /// this; a function's cold start never does.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Inserts a new task and its event.
    async fn insert_task(&self, task: &Task, event: &OutboxEvent) -> Result<(), StoreError>;

    /// The user's task with this id; `None` for a missing task and for another
    /// user's task alike.
    async fn get_task(&self, user_id: &str, id: Uuid) -> Result<Option<Task>, StoreError>;

    /// Replaces the stored task with `task` and records its event, provided the
    /// stored version is still `expected_version`; otherwise [`StoreError::VersionConflict`].
    async fn update_task(
        &self,
        task: &Task,
        expected_version: i64,
        event: &OutboxEvent,
    ) -> Result<(), StoreError>;

    /// Deletes `task` (as last read, version included) and records its event;
    /// [`StoreError::VersionConflict`] if it changed or vanished meanwhile.
    async fn delete_task(&self, task: &Task, event: &OutboxEvent) -> Result<(), StoreError>;

    /// One page of the user's tasks, filtered and sorted as asked.
    async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page, StoreError>;

    /// The user's tags with the number of tasks carrying each, most used first.
    async fn tag_counts(&self, user_id: &str) -> Result<Vec<TagCount>, StoreError>;

    /// Records `activity` for `consumer`, once per event id: `false` (and no
    /// change) when this consumer already handled that event.
    async fn record_activity(
        &self,
        consumer: &str,
        activity: &crate::activity::Activity,
    ) -> Result<bool, StoreError>;

    /// Records a completed task for `consumer`, once per event id: the activity
    /// entry and, for a recurring task, its next occurrence with its
    /// `task.created` event (leased to the caller for `lease`). The occurrence is
    /// created at most once per series and time, whichever event asks.
    async fn record_completion(
        &self,
        consumer: &str,
        activity: &crate::activity::Activity,
        next: Option<(&Task, &OutboxEvent)>,
        lease: std::time::Duration,
    ) -> Result<Completion, StoreError>;

    /// Records an in-app notification for `consumer`, once per event id; `false`
    /// (and no change) for a duplicate.
    async fn record_notification(
        &self,
        consumer: &str,
        notification: &crate::notification::Notification,
    ) -> Result<bool, StoreError>;

    /// The user's notifications, newest first.
    async fn list_notifications(
        &self,
        user_id: &str,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<crate::notification::Notification>, StoreError>;

    /// Marks the user's notification read (keeping the first read time); `None`
    /// when it is not theirs or does not exist.
    async fn mark_notification_read(
        &self,
        user_id: &str,
        id: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<crate::notification::Notification>, StoreError>;

    /// Registers a webhook unless the user already has `max_per_user`; `false` then.
    async fn insert_webhook(
        &self,
        webhook: &crate::webhook::Webhook,
        max_per_user: i64,
    ) -> Result<bool, StoreError>;

    /// The user's webhooks, oldest first.
    async fn list_webhooks(&self, user_id: &str) -> Result<Vec<crate::webhook::Webhook>, StoreError>;

    /// Removes the user's webhook; `false` when it is not theirs or does not exist.
    async fn delete_webhook(&self, user_id: &str, id: Uuid) -> Result<bool, StoreError>;

    /// Where sending this event to each webhook stands.
    async fn webhook_delivery_statuses(
        &self,
        event_id: &str,
    ) -> Result<Vec<(Uuid, crate::webhook::DeliveryStatus)>, StoreError>;

    /// Queues `body` (event `event_id`) for each of the user's webhooks that does
    /// not have it yet, due at `now`; how many were queued (0 for a duplicate).
    async fn queue_webhook_deliveries(
        &self,
        event_id: &str,
        user_id: &str,
        body: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError>;

    /// Leases up to `limit` owed deliveries that are due at `now` for `lease`,
    /// soonest first, with their webhooks (`None` for one deleted since).
    /// Concurrent callers get disjoint deliveries.
    async fn claim_webhook_deliveries(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<crate::webhook::OwedDelivery>, StoreError>;

    /// Records how an attempt at a claimed delivery ended and ends its lease. A
    /// retry time also holds back the webhook's other owed deliveries until then
    /// (its receiver is failing). A delivery already final stays as it is.
    async fn record_webhook_attempt(
        &self,
        event_id: &str,
        webhook_id: Uuid,
        attempt: &crate::webhook::Attempt,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// How many deliveries are owed (the webhook backlog).
    async fn count_owed_webhook_deliveries(&self) -> Result<i64, StoreError>;

    /// The user's activity, newest first, for one task or all of them.
    async fn list_activity(
        &self,
        user_id: &str,
        task_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<crate::activity::Activity>, StoreError>;

    /// Claims up to `limit` reminders that are due at `now` (open task, reminder
    /// time passed, not yet claimed for that time) and writes a `task.due` event
    /// for each, in one transaction. Concurrent callers claim disjoint reminders.
    /// The events are leased to the caller for `lease`, who publishes them; only
    /// if that fails do republishers take them, after the lease.
    async fn claim_due_reminders(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
        source: &str,
        lease: std::time::Duration,
    ) -> Result<Vec<OutboxEvent>, StoreError>;

    /// Marks an outbox row published. Marking twice is harmless.
    async fn mark_published(&self, id: Uuid, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError>;

    /// Leases up to `limit` unpublished rows created before `created_before` whose
    /// lease (if any) ended before `now`, for `lease`; oldest first. Concurrent
    /// callers get disjoint rows.
    async fn claim_unpublished(
        &self,
        created_before: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError>;

    /// Ends the lease on rows a claimer could not publish, so that the next sweep
    /// takes them at once instead of when the lease runs out. Rows already
    /// published are left alone.
    async fn release_unpublished(&self, ids: &[Uuid]) -> Result<(), StoreError>;

    /// Deletes, up to `cutoffs.limit` rows of each, oldest first: outbox rows
    /// published before `published_before`, processed event ids recorded before
    /// `processed_before`, and final webhook deliveries last changed before
    /// `deliveries_before`. Owed work and users' data are never pruned.
    async fn prune(&self, cutoffs: &Retention) -> Result<Pruned, StoreError>;

    /// Records an event the in-process bus gave up on.
    async fn insert_dead_letter(&self, letter: &crate::event::DeadLetter) -> Result<(), StoreError>;

    /// Dead letters, newest first.
    async fn list_dead_letters(&self, limit: i64) -> Result<Vec<crate::event::DeadLetter>, StoreError>;

    /// How many outbox rows are not yet published (the backlog).
    async fn count_unpublished(&self) -> Result<i64, StoreError>;

    /// Outbox rows not yet marked published, oldest first.
    async fn unpublished_events(&self, limit: i64) -> Result<Vec<OutboxEvent>, StoreError>;

    /// The event this system wrote with id `id`, while the outbox keeps it
    /// (published rows are pruned after 7 days).
    async fn get_event(&self, id: Uuid) -> Result<Option<OutboxEvent>, StoreError>;

    /// Writes `events` to the outbox in one transaction, each as if its cause's
    /// transaction had: for tools that generate facts without their causes (the
    /// load generator). Unpublished; the relay publishes them like any other.
    async fn write_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError>;

    /// The events written last, newest first; only those on `topic` if given.
    async fn recent_events(&self, topic: Option<&str>, limit: i64) -> Result<Vec<OutboxEvent>, StoreError>;
}

/// Options for opening a store.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    pub max_connections: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 10 }
    }
}

/// Opens the store that `url` names, lazily: no connection is made until the first
/// query, so a cold start does not wait for (or fail on) the database.
pub fn connect(url: &str, options: ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect_lazy(url, options)?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect_lazy(url, options)?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}
