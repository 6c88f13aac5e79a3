//! Fresh, migrated databases for tests: SQLite in memory, or a new PostgreSQL
//! database per test (dropped afterwards), so tests never see each other's rows.
//!
//! The PostgreSQL server is `TEST_DATABASE_URL`, by default the local one that
//! `.ci/run` starts (`postgres://postgres@127.0.0.1:5432/postgres`).

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};

use crate::store::{ConnectOptions, PgStore, SqliteStore, Store};

mod dapr;
pub use dapr::DaprStandIn;

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated store, and for PostgreSQL the database to drop when done.
#[derive(Debug)]
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The PostgreSQL database this test owns, and the server's admin options.
    owned: Option<(String, PgConnectOptions)>,
}

impl TestDb {
    /// The PostgreSQL connection options of this database (`None` for SQLite).
    pub fn pg_options(&self) -> Option<PgConnectOptions> {
        self.owned.as_ref().map(|(name, admin)| admin.clone().database(name))
    }
}

/// An empty, migrated in-memory SQLite database.
pub async fn sqlite() -> TestDb {
    let store = SqliteStore::connect_lazy("sqlite::memory:", ConnectOptions::default())
        .expect("in-memory SQLite opens");
    store.migrate().await.expect("SQLite migrations apply");
    TestDb { store: Arc::new(store), owned: None }
}

/// A new, migrated PostgreSQL database on the test server.
pub async fn postgres() -> TestDb {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    let admin =
        PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL parses").disable_statement_logging();
    let name = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = admin
        .connect()
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} must be running for tests: {e}"));
    sqlx::query(&format!("create database {name}")).execute(&mut conn).await.expect("create test database");
    conn.close().await.ok();
    let pool = PgPoolOptions::new().max_connections(8).connect_lazy_with(admin.clone().database(&name));
    let store = PgStore::from_pool(pool);
    store.migrate().await.expect("PostgreSQL migrations apply");
    TestDb { store: Arc::new(store), owned: Some((name, admin)) }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((name, admin)) = self.owned.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a
        // thread with its own runtime, and wait for it so the database is gone
        // before the test process exits.
        let dropper = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}
