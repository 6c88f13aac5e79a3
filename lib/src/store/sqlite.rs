//! The SQLite backend: the embedded default, a file under `data/` or in memory.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{ConnectOptions, StoreError};

/// Builds the pool without connecting; creates the file's folder if needed.
pub(super) fn connect_lazy(url: &str, options: ConnectOptions) -> Result<SqlitePool, StoreError> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut connect = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::Database)?
        .create_if_missing(true)
        .foreign_keys(true)
        // Writers of other processes queue for the lock instead of failing at once.
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
    Ok(pool.connect_lazy_with(connect))
}

pub(super) async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await?;
    Ok(())
}
