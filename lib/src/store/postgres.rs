//! The PostgreSQL backend: production, with a pool sized per process.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{ConnectOptions, StoreError};

/// Builds the pool without connecting; see [`super::Store::connect`].
pub(super) fn connect_lazy(url: &str, options: ConnectOptions) -> Result<PgPool, StoreError> {
    let connect: PgConnectOptions = url.parse().map_err(StoreError::Database)?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections)
        // Fail a request within seconds when the database is down, rather than
        // holding it until the client gives up.
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(connect))
}

pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations/postgres").run(pool).await?;
    Ok(())
}
