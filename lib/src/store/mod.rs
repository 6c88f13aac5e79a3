//! Storage: one [`Store`] over two backends chosen by the `DATABASE_URL`
//! scheme, PostgreSQL in production and SQLite as the embedded default.
//!
//! The store knows rows, not use cases. It is split by aggregate, each file
//! with its statements written out whole beside the operations that run them,
//! its row types and its binds: `tasks` (tasks, tags, recurrence
//! occurrences, reminder claims), `outbox`, `inbox` (processed event ids),
//! `activity`, `notifications`, `changes` (the feed of both, in commit order, and the signal that wakes its readers), `webhooks`, `access_tokens` (personal, found by their hash), `lists`, `members` (who may see
//! and change a list and its tasks), `invitations` (to lists, by link), `dead_letters` and `retention`; `limits`
//! holds the lock a per-user limit needs; `subtasks` reads the tree beneath a task and the chain above it. Lists and tasks are read through the
//! reader's membership: a list they are not a member of is not there for them.
//! Reads and one-statement writes are methods of [`Store`]; anything that must
//! change several rows together is written by its caller as a [`Tx`] from
//! [`Store::begin`], composed of the aggregates' operations and committed once.
//! So every state change writes its outbox event in the same transaction: a
//! change is never visible without its event, nor an event without its change.
//!
//! Both backends run the same SQL (`$n` placeholders, which sqlx's SQLite
//! driver accepts as numbered parameters) except where a statement locks rows
//! (`for update skip locked` on PostgreSQL); [`db`] holds the backends and the
//! macros that run a body on either. Only connection set-up, migrations and the
//! column type of instants ([`timestamp`]) differ otherwise. The same
//! conformance suite (`lib/tests/store/`) runs against both.

mod access_tokens;
mod activity;
mod change_signal;
mod changes;
mod cursor;
mod db;
mod dead_letters;
mod explain;
mod inbox;
mod invitations;
mod limits;
mod list;
mod lists;
mod mail;
mod members;
mod notifications;
mod outbox;
mod positions;
mod postgres;
mod push;
mod retention;
mod settings;
mod sqlite;
mod subtasks;
mod tasks;
mod timestamp;
mod webhooks;

pub use db::Tx;
pub use invitations::InvitationPage;
pub use list::{
    Cursor, CursorError, LIMIT_DEFAULT, LIMIT_MAX, ListQuery, Order, Page, ParentFilter, SortKey,
    StatusFilter,
};
pub use members::Headcount;
pub use push::Subscribed;
pub use retention::{Pruned, Retention};
pub use tasks::TagCount;
pub use webhooks::Fanout;

use db::{Pool, on_pool};

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
    /// The list a task is written to does not exist (or was deleted meanwhile).
    #[error("no such list")]
    NoSuchList,
    /// A row with the same key is stored already (a task id chosen twice).
    #[error("a row with this key exists")]
    Duplicate,
    /// The list cannot be deleted while tasks are in it.
    #[error("the list still holds tasks")]
    ListNotEmpty,
    /// A stored value no longer parses (an unknown priority, say).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The same call would fail the same way however often it is retried:
    /// what it names is missing or unreadable, or the store is misconfigured.
    /// A lost connection, a conflict or an unclassified database error may
    /// pass on another try.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::NoSuchList
            | Self::Duplicate
            | Self::ListNotEmpty
            | Self::Corrupt(_)
            | Self::UnsupportedUrl => true,
            Self::VersionConflict | Self::Unavailable(_) | Self::Database(_) | Self::Migrate(_) => false,
        }
    }

    /// `Ok` when a versioned write touched its one row; otherwise the row was
    /// changed or deleted since it was read.
    fn unless_conflict(rows_affected: u64) -> Result<(), Self> {
        if rows_affected == 1 { Ok(()) } else { Err(Self::VersionConflict) }
    }

    /// [`Self::NoSuchList`] for a foreign-key violation (a task naming a
    /// missing list), else what `err` always maps to.
    fn no_such_list(err: sqlx::Error) -> Self {
        if is_foreign_key(&err) { Self::NoSuchList } else { err.into() }
    }

    /// [`Self::Duplicate`] for a unique violation (a key stored already),
    /// else what `err` always maps to.
    fn duplicate(err: sqlx::Error) -> Self {
        let unique =
            matches!(&err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation);
        if unique { Self::Duplicate } else { err.into() }
    }

    /// [`Self::ListNotEmpty`] for a foreign-key violation (tasks still name
    /// the list being deleted), else what `err` always maps to.
    fn list_not_empty(err: sqlx::Error) -> Self {
        if is_foreign_key(&err) { Self::ListNotEmpty } else { err.into() }
    }

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

/// A foreign-key violation, as either backend reports it.
fn is_foreign_key(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
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
pub fn connect(url: &str, options: ConnectOptions) -> Result<Store, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Store::from_pg_pool(postgres::connect_lazy(url, options)?))
    } else if url.starts_with("sqlite:") {
        Ok(Store::from_sqlite_pool(sqlite::connect_lazy(url, options)?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// The storage the API and every function use: a pool of either backend,
/// cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    signal: std::sync::Arc<change_signal::ChangeSignal>,
    inboxes: std::sync::Arc<lists::InboxIds>,
}

impl Store {
    pub fn from_pg_pool(pool: sqlx::PgPool) -> Self {
        Self { pool: Pool::Postgres(pool), signal: Default::default(), inboxes: Default::default() }
    }

    pub fn from_sqlite_pool(pool: sqlx::SqlitePool) -> Self {
        Self { pool: Pool::sqlite(pool), signal: Default::default(), inboxes: Default::default() }
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// The PostgreSQL pool, for tests and tools that inspect the database.
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite { .. } => None,
        }
    }

    /// The SQLite pool, for tests and tools that inspect the database.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.pool {
            Pool::Postgres(_) => None,
            Pool::Sqlite { pool, .. } => Some(pool),
        }
    }

    /// Opens a transaction to compose; see [`Tx`].
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        self.pool.begin(std::sync::Arc::clone(&self.signal)).await
    }

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self.pool, |c| sqlx::query("select 1").execute(c).await.map(drop))?;
        Ok(())
    }

    /// Applies pending migrations. Only `migrate` commands and the local runner call
    /// this; a function's cold start never does.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Postgres(pool) => postgres::migrate(pool).await,
            Pool::Sqlite { pool, .. } => sqlite::migrate(pool).await,
        }
    }
}
