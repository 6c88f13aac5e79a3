//! The real `cron-tick` binary, configured only by its environment as under Dapr:
//! `DAPR_HTTP_PORT` points at a contract-checking sidecar stand-in on loopback and
//! `APP_API_TOKEN` guards its route. A tick over HTTP publishes a due reminder.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use todo_lib::store::ConnectOptions;
use todo_lib::task::NewTask;
use todo_testing::DaprStandIn;

const BIN: &str = env!("CARGO_BIN_EXE_cron-tick");

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_publishes_due_reminders_through_the_sidecar_named_in_its_environment() {
    let dir = std::env::temp_dir().join(format!("todo-cron-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/todo.db", dir.display());
    let migrated =
        Command::new(BIN).env_clear().env("DATABASE_URL", &url).arg("migrate").output().expect("runs");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    // A task whose reminder is due, written as the API would.
    let store = todo_lib::store::connect(&url, ConnectOptions::default()).expect("store");
    let now = Utc::now();
    let input = NewTask {
        title: Some("due".into()),
        due_at: Some(now),
        remind_before_minutes: Some(0),
        ..NewTask::default()
    };
    let (_, created) = todo_testing::facts::created(&store, "alice", input, now).await;
    store.mark_published(created.id, now).await.expect("mark");

    let sidecar = DaprStandIn::start("pubsub", Some("sidecar-token")).await;
    let sidecar_port = sidecar.url.rsplit(':').next().expect("port").to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let _running = Running(
        Command::new(BIN)
            .env_clear()
            .env("DATABASE_URL", &url)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("DAPR_HTTP_PORT", &sidecar_port)
            .env("DAPR_API_TOKEN", "sidecar-token")
            .env("APP_API_TOKEN", "app-token")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cron-tick starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "cron-tick did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let refused = client.post(&base).send().await.expect("answered");
    assert_eq!(refused.status(), 401, "the app token is required");
    let tick = client
        .post(&base)
        .header(todo_lib::config::DAPR_API_TOKEN_HEADER, "app-token")
        .send()
        .await
        .expect("answered");
    assert_eq!(tick.status(), 200);
    let counts: serde_json::Value = tick.json().await.expect("json");
    assert_eq!(counts["reminders"], 1);
    assert_eq!(counts["published"], 1);
    let accepted = sidecar.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["type"], "task.due");
    assert_eq!(sidecar.violations(), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(dir);
}
