//! Fresh, migrated databases for tests: SQLite in memory, or a new PostgreSQL
//! database per test (dropped afterwards), so tests never see each other's rows.
//!
//! The PostgreSQL server is `TEST_DATABASE_URL`, by default the local one that
//! `.ci/run` starts (`postgres://postgres@127.0.0.1:5432/postgres`).

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};

use todo_lib::store::{ConnectOptions, Store};

pub mod bulk;
mod dapr;
pub mod facts;
pub mod lambda;
mod private_pg;
mod push;
mod redis;
mod smtp;
mod webhooks;
pub use dapr::DaprStandIn;
pub use private_pg::PrivatePostgres;
pub use push::{PushService, browser_subscription};
pub use redis::{PrivateRedis, redis_url};
pub use smtp::{SMTP_PASSWORD, SMTP_USER, SmtpServer, SmtpTls};
pub use webhooks::{Received, WebhookReceiver, loopback_deliverer};

/// Generates `postgres::name` and `sqlite::name` tests for each named async test
/// function, which takes a fresh [`TestDb`] (or, with `wrap = path;`, whatever
/// `path(TestDb)` returns).
#[macro_export]
macro_rules! on_both_backends {
    (wrap = $wrap:path; $($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($wrap($crate::postgres().await)).await })*
        }
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($wrap($crate::sqlite().await)).await })*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!(wrap = std::convert::identity; $($name),*);
    };
}

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated store, and for PostgreSQL the database to drop when done.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    /// The PostgreSQL database this test owns, and the server's admin options.
    owned: Option<(String, PgConnectOptions)>,
    /// The SQLite pool, kept to break it on purpose.
    sqlite_pool: Option<sqlx::SqlitePool>,
}

impl TestDb {
    /// The URL of this PostgreSQL database, for a process under test (`None` for SQLite).
    pub fn postgres_url(&self) -> Option<String> {
        let (name, _) = self.owned.as_ref()?;
        let server =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
        let mut url = url::Url::parse(&server).ok()?;
        url.set_path(name);
        Some(url.into())
    }

    /// Another replica's view of this PostgreSQL database: a store with its
    /// own pool. Dropping it leaves the database to `self`.
    pub fn replica(&self) -> TestDb {
        let url = self.postgres_url().expect("replicas share a PostgreSQL database");
        let store = todo_lib::store::connect(&url, ConnectOptions::default()).expect("the replica's pool");
        TestDb { store, owned: None, sqlite_pool: None }
    }

    /// The PostgreSQL connection options of this database (`None` for SQLite).
    pub fn pg_options(&self) -> Option<PgConnectOptions> {
        self.owned.as_ref().map(|(name, admin)| admin.clone().database(name))
    }
}

/// An empty, migrated in-memory SQLite database.
pub async fn sqlite() -> TestDb {
    let db = sqlite_unmigrated().await;
    db.store.migrate().await.expect("SQLite migrations apply");
    db
}

/// An in-memory SQLite database without tables, for tests of the migrations.
pub async fn sqlite_unmigrated() -> TestDb {
    let store = todo_lib::store::connect("sqlite::memory:", ConnectOptions::default())
        .expect("in-memory SQLite opens");
    let sqlite_pool = store.sqlite_pool().cloned();
    TestDb { store, owned: None, sqlite_pool }
}

/// A new, migrated PostgreSQL database on the test server.
pub async fn postgres() -> TestDb {
    let db = postgres_unmigrated().await;
    db.store.migrate().await.expect("PostgreSQL migrations apply");
    db
}

/// A new PostgreSQL database without tables, for tests of the migrations.
pub async fn postgres_unmigrated() -> TestDb {
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
    TestDb { store: Store::from_pg_pool(pool), owned: Some((name, admin)), sqlite_pool: None }
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

/// The envelope in which Dapr delivers `event` to a subscriber: our structured
/// CloudEvent plus the attributes Dapr adds (`pubsubname`, `topic`, trace context).
pub fn dapr_envelope(event: &todo_lib::event::OutboxEvent) -> serde_json::Value {
    let mut envelope = todo_lib::event::dapr_envelope(event, todo_lib::config::DEFAULT_PUBSUB_NAME);
    if let Some(fields) = envelope.as_object_mut() {
        fields.insert("traceid".into(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
        fields.insert("traceparent".into(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
        fields.insert("tracestate".into(), "".into());
    }
    envelope
}

/// Sends `req` to `router` in-process; the status and the JSON body (`Null` when
/// the body is not JSON).
pub async fn call(
    router: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let Ok(res) = router.clone().oneshot(req).await;
    let status = res.status();
    let bytes = res.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

/// A `POST /` carrying `body` as a structured CloudEvent.
pub fn structured(body: &serde_json::Value) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body(axum::body::Body::from(body.to_string()))
        .expect("a valid request")
}

/// Delivers `event` to a function's `POST /` the way Dapr does.
pub async fn deliver_via_dapr(
    router: &axum::Router,
    event: &todo_lib::event::OutboxEvent,
) -> (axum::http::StatusCode, serde_json::Value) {
    call(router, structured(&dapr_envelope(event))).await
}

impl TestDb {
    /// Breaks the store's database connections for real: PostgreSQL refuses new
    /// connections to this database and its open ones are terminated; SQLite's
    /// pool is closed. Returns a guard that, for PostgreSQL, lets connections in
    /// again when [`Outage::heal`] is called.
    pub async fn break_connections(&self) -> Outage {
        match (&self.owned, &self.sqlite_pool) {
            (Some((name, admin)), _) => {
                let mut conn = admin.connect().await.expect("admin connection");
                sqlx::query(&format!("alter database {name} with allow_connections false"))
                    .execute(&mut conn)
                    .await
                    .expect("refuse connections");
                sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()")
                    .bind(name)
                    .execute(&mut conn)
                    .await
                    .expect("terminate connections");
                Outage { pg: Some((name.clone(), admin.clone())) }
            }
            (None, Some(pool)) => {
                pool.close().await;
                Outage { pg: None }
            }
            (None, None) => Outage { pg: None },
        }
    }
}

impl TestDb {
    /// Makes every insert into `table` fail from now on, as a database error
    /// a function treats as transient (a serialization failure on PostgreSQL,
    /// an abort on SQLite), until [`TestDb::clear_fault`].
    pub async fn fail_inserts_into(&self, table: &str) {
        let statements = if self.owned.is_some() {
            vec![
                "create or replace function todo_test_fault() returns trigger language plpgsql as \
                 $$ begin raise exception 'injected fault' using errcode = '40001'; end $$"
                    .to_owned(),
                format!(
                    "create trigger todo_test_fault before insert on {table} for each row execute function todo_test_fault()"
                ),
            ]
        } else {
            vec![format!(
                "create trigger todo_test_fault before insert on {table} begin select raise(abort, 'injected fault'); end"
            )]
        };
        for statement in statements {
            self.execute(&statement).await;
        }
    }

    /// Removes the fault [`TestDb::fail_inserts_into`] put on `table`.
    pub async fn clear_fault(&self, table: &str) {
        let statement = match self.owned {
            Some(_) => format!("drop trigger todo_test_fault on {table}"),
            None => "drop trigger todo_test_fault".to_owned(),
        };
        self.execute(&statement).await;
    }

    /// Gives task `id` a priority no version of this system writes (past the
    /// schema's check, as a bad restore or a hand edit might): reading it is
    /// refused as corrupt.
    pub async fn corrupt_task(&self, id: uuid::Uuid) {
        let sql = if self.owned.is_some() {
            format!(
                "alter table tasks drop constraint tasks_priority_check; \
                 update tasks set priority = 9 where id = '{id}'"
            )
        } else {
            format!(
                "pragma ignore_check_constraints = on; \
                 update tasks set priority = 9 where id = x'{}'; \
                 pragma ignore_check_constraints = off",
                id.simple()
            )
        };
        self.execute(&sql).await;
    }

    /// Runs `sql` (one or more statements) on this database, outside the
    /// store, on one connection; panics if it fails.
    pub async fn execute(&self, sql: &str) {
        if let Some(options) = self.pg_options() {
            let mut conn = options.connect().await.expect("a connection");
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        } else if let Some(pool) = &self.sqlite_pool {
            let mut conn = pool.acquire().await.expect("a connection");
            sqlx::raw_sql(sql).execute(&mut *conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}

/// A database outage made by [`TestDb::break_connections`].
#[derive(Debug)]
pub struct Outage {
    pg: Option<(String, PgConnectOptions)>,
}

impl Outage {
    /// Lets connections in again (PostgreSQL; a closed SQLite pool stays closed).
    pub async fn heal(self) {
        if let Some((name, admin)) = self.pg {
            let mut conn = admin.connect().await.expect("admin connection");
            sqlx::query(&format!("alter database {name} with allow_connections true"))
                .execute(&mut conn)
                .await
                .expect("allow connections");
        }
    }
}

/// What `read` gives once it has `n` items, or when `within` has passed:
/// the wait of the stand-ins that record what reaches them (webhooks, the
/// Dapr sidecar, the SMTP server, the push service). A real clock: these wait on other processes.
pub async fn at_least<T>(n: usize, within: std::time::Duration, read: impl Fn() -> Vec<T>) -> Vec<T> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let got = read();
        if got.len() >= n || std::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Starts a Python stand-in from `scripts/` with `args`, through [`python`],
/// and waits for the `READY <port>` line it prints when it listens: the
/// process, its stdin (closing it stops the stand-in) and its port.
pub fn start_stand_in(
    script: &str,
    args: &[&std::ffi::OsStr],
) -> (std::process::Child, std::process::ChildStdin, u16) {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts").join(script);
    let mut child = Command::new(python())
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{script} starts: {e}"));
    let stdin = child.stdin.take().expect("its stdin");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("its stdout"))
        .read_line(&mut line)
        .expect("it says it is ready");
    let port = line.trim().strip_prefix("READY ").and_then(|p| p.parse().ok());
    let port = port.unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
    (child, stdin, port)
}

/// The interpreter of the project's own virtualenv, `target/python-tools`, which
/// holds the packages of `scripts/python-tools.txt` (the Standard Webhooks
/// reference, …). Tests run Python through it, never through the user's
/// `python3`, so a package missing from that list fails here as it would on a
/// fresh machine. Panics, saying how to make it, when it is absent.
pub fn python() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python-tools");
    let python = venv.join("bin/python");
    assert!(
        venv.join(".installed").exists() && python.exists(),
        "{} is missing: run `make python-tools` (make test does)",
        venv.display()
    );
    python
}

/// A clock that moves only when told, for the schedulers under test: a test
/// steps it past a backoff or a lease instead of sleeping.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl ManualClock {
    /// A clock showing `at`, shared.
    pub fn starting_at(at: chrono::DateTime<chrono::Utc>) -> Arc<Self> {
        Arc::new(Self(std::sync::Mutex::new(at)))
    }

    /// Moves the clock `by` forward.
    pub fn advance(&self, by: std::time::Duration) {
        let step = chrono::Duration::from_std(by).expect("a step chrono can hold");
        let mut now = self.0.lock().expect("the clock is never poisoned");
        *now += step;
    }
}

impl todo_lib::clock::Clock for ManualClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().expect("the clock is never poisoned")
    }
}
