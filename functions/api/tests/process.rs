//! The real `api` binary as a separate process over loopback: `api migrate`, then
//! serving from environment variables, then a clean exit on SIGTERM.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::process::{BIN, Running, command, free_port, temp_dir, wait_until_healthy};
use serde_json::{Value, json};

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
