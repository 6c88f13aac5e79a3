//! The real `api` binary as a separate process over loopback: `api migrate`, then
//! serving from environment variables, then a clean exit on SIGTERM.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_api");

/// A free loopback port (bound, read, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

fn command(database_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("DATABASE_URL", database_url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("JWT_SECRET", common::SECRET)
        .env("SHUTDOWN_GRACE_SECS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Kills the child if a test fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(res) = client.get(format!("{base}/healthz")).send().await
            && res.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the api did not become healthy at {base}");
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-api-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn the_binary_migrates_serves_over_http_and_stops_on_sigterm() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/todo.db", dir.display());
    let port = free_port();

    // Arrange: migrations run from the binary's own subcommand, twice (idempotent).
    for _ in 0..2 {
        let out = command(&url, port).arg("migrate").output().expect("api migrate runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut cmd = command(&url, port);
    let mut running = Running(cmd.spawn().expect("api starts"));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_until_healthy(&client, &base).await;

    // Act: a user's round trip over a real socket.
    let token = common::token("alice");
    let created = client
        .post(format!("{base}/v1/tasks"))
        .bearer_auth(&token)
        .json(&json!({ "title": "over the wire", "tags": ["e2e"] }))
        .send()
        .await
        .expect("create answered");
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("x-request-id"));
    let listed: Value = client
        .get(format!("{base}/v1/tasks?tag=e2e"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list answered")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"][0]["title"], "over the wire");
    let ready = client.get(format!("{base}/readyz")).send().await.expect("readyz answered");
    assert_eq!(ready.status(), 200);

    // Assert: SIGTERM ends the process cleanly.
    let child = &mut running.0;
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the api did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_binary_refuses_to_start_without_jwt_keys_and_says_why() {
    let out = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .env("PORT", free_port().to_string())
        .output()
        .expect("api runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("JWT_SECRET"), "{stderr}");
}

#[tokio::test]
async fn the_binary_rejects_an_unknown_subcommand() {
    let out = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", "sqlite::memory:")
        .arg("frobnicate")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("frobnicate"));
}

#[tokio::test]
async fn migrate_applies_on_postgres_too() {
    let db = todo_testing::postgres().await;
    let options = db.pg_options().expect("a PostgreSQL test database");
    let url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("database name")
    );
    let out = command(&url, free_port()).arg("migrate").output().expect("api migrate runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
