//! The PostgreSQL backend: production, with a pool sized per process.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::list::Param;
use super::sql::{self, bind_activity, bind_notification, bind_task, impl_store};
use super::timestamp::Timestamp;
use super::{ConnectOptions, StoreError};

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Builds the pool without connecting; see [`super::connect`].
    pub fn connect_lazy(url: &str, options: ConnectOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url.parse().map_err(StoreError::Database)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            // Fail a request within seconds when the database is down, rather than
            // holding it until the client gives up.
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(connect);
        Ok(Self { pool })
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// PostgreSQL's row locks let writers run side by side: nothing to hold.
    async fn writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        None
    }

    /// Serializes webhook registrations of `user_id` until `tx` ends, so the
    /// per-user limit's count and insert cannot interleave with another's: a
    /// transaction-scoped advisory lock, as there may be no row yet to lock.
    async fn lock_webhooks_of(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        user_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(sql::LOCK_WEBHOOKS_OF_USER).bind(user_id).execute(&mut **tx).await?;
        Ok(())
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }
}

// Overlapping ticks skip rows another tick holds instead of waiting for them.
impl_store!(PgStore, sqlx::Postgres, super::Backend::Postgres, lock_rows = " for update skip locked");
