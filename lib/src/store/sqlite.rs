//! The SQLite backend: the embedded default, a file under `data/` or in memory.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::list::Param;
use super::sql::{self, bind_activity, bind_notification, bind_task, impl_store};
use super::timestamp::Timestamp;
use super::{ConnectOptions, StoreError};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one writer at a time. Writers of this process queue here, in
    /// order, instead of in SQLite's busy handler, which polls with sleeps of up to
    /// 100 ms and made p99 latencies of writes hundreds of milliseconds under load.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Builds the pool without connecting; creates the file's folder if needed.
    pub fn connect_lazy(url: &str, options: ConnectOptions) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut connect = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::Database)?
            .create_if_missing(true)
            .foreign_keys(true)
            // Writers queue for the lock instead of failing at once.
            .busy_timeout(Duration::from_secs(5));
        let mut pool = SqlitePoolOptions::new().acquire_timeout(Duration::from_secs(5));
        if in_memory {
            // Each connection to ":memory:" is its own database: keep exactly one,
            // forever, or the data vanishes.
            pool = pool.max_connections(1).idle_timeout(None).max_lifetime(None);
        } else {
            connect = connect.journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal);
            if let Some(dir) = connect.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
            pool = pool.max_connections(options.max_connections);
        }
        Ok(Self::from_pool(pool.connect_lazy_with(connect)))
    }

    pub fn from_pool(pool: SqlitePool) -> Self {
        Self { pool, write_lock: Arc::default() }
    }

    /// Held for the length of a write (a statement or a transaction).
    async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.write_lock.lock().await)
    }

    /// SQLite runs one write transaction at a time (and this process's writers
    /// queue in [`Self::writer`]): registrations are serialized already.
    async fn lock_webhooks_of(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        _user_id: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }
}

// One writer at a time: the update itself is the lock.
impl_store!(SqliteStore, sqlx::Sqlite, super::Backend::Sqlite, lock_rows = "");
