//! The Dapr sidecar fails for 30 seconds, on PostgreSQL: 15 s answering 500 (its
//! broker is down), then 15 s down itself (connections refused). Throughout, the
//! API (served over loopback) answers every write, and the real `cron-tick`
//! binary, ticked every second as Dapr's cron binding would, keeps answering.
//! Once the sidecar is back, the outbox drains: every acknowledged write's event
//! reaches the sidecar once, none is left behind, and every request kept to the
//! sidecar's contract.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::AppState;
use api::auth::Authenticator;
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};
use todo_lib::publish::{DaprPublisher, Publisher};
use todo_lib::serve::{Settings, with_common_layers};
use todo_testing::DaprStandIn;

const BIN: &str = env!("CARGO_BIN_EXE_cron-tick");
const JWT_SECRET: &str = "sidecar-outage-secret-sidecar-outage-secret";
const SIDECAR_TOKEN: &str = "sidecar-token-outage";
const APP_TOKEN: &str = "app-token-outage";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// The API over loopback, publishing through the sidecar at `sidecar_url`.
async fn serve_api(store: todo_lib::store::Store, sidecar_url: &str) -> String {
    let publisher: Arc<dyn Publisher> = Arc::new(
        DaprPublisher::new(sidecar_url, "pubsub", Some(SecretString::from(SIDECAR_TOKEN))).expect("client"),
    );
    let auth = Authenticator::with_secret(&SecretString::from(JWT_SECRET)).expect("secret");
    let relay = todo_lib::relay::Relay::start(store.clone(), publisher);
    let state = AppState { publisher: Some(relay), ..AppState::new(store, Arc::new(auth)) };
    let settings = Settings {
        addr: "127.0.0.1:0".parse().expect("address"),
        body_limit_bytes: 64 * 1024,
        request_timeout: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(1),
    };
    let router = with_common_layers(api::app(state), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the API");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

fn start_cron_tick(database_url: &str, sidecar_url: &str) -> (Running, String) {
    let port = free_port();
    let sidecar_port = sidecar_url.rsplit(':').next().expect("port").to_owned();
    let child = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("DAPR_HTTP_PORT", sidecar_port)
        .env("DAPR_API_TOKEN", SIDECAR_TOKEN)
        .env("APP_API_TOKEN", APP_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cron-tick starts");
    (Running(child), format!("http://127.0.0.1:{port}"))
}

/// Drives writes and ticks: one create every 250 ms, one tick every second.
struct Driver {
    client: reqwest::Client,
    api: String,
    cron: String,
    token: String,
    /// Ids of the tasks the API acknowledged.
    acknowledged: Vec<String>,
    ticks: usize,
}

impl Driver {
    async fn create(&mut self, title: &str) {
        let res = self
            .client
            .post(format!("{}/v1/tasks", self.api))
            .bearer_auth(&self.token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 201, "a write during the outage is still acknowledged");
        let task: Value = res.json().await.expect("JSON");
        self.acknowledged.push(task["id"].as_str().expect("id").to_owned());
    }

    async fn tick(&mut self) -> Value {
        let res = self
            .client
            .post(&self.cron)
            .header(todo_lib::config::DAPR_API_TOKEN_HEADER, APP_TOKEN)
            .send()
            .await
            .expect("cron-tick answers");
        assert_eq!(res.status(), 200, "the tick succeeds while the sidecar fails");
        self.ticks += 1;
        res.json().await.expect("JSON")
    }

    /// Writes and ticks for `span`.
    async fn run_for(&mut self, span: Duration, phase: &str) {
        let end = Instant::now() + span;
        let mut n = 0;
        while Instant::now() < end {
            self.create(&format!("{phase} {n}")).await;
            n += 1;
            if n % 4 == 0 {
                self.tick().await;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test]
async fn a_sidecar_failing_then_down_for_30_seconds_loses_nothing() {
    let db = todo_testing::postgres().await;
    let sidecar = DaprStandIn::start("pubsub", Some(SIDECAR_TOKEN)).await;
    let api = serve_api(db.store.clone(), &sidecar.url).await;
    let (_cron_process, cron) = start_cron_tick(&db.postgres_url().expect("url"), &sidecar.url);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(format!("{cron}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "cron-tick did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": "alice", "iat": now, "exp": now + 3600 });
    let token =
        encode(&Header::default(), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).expect("token");
    let mut driver = Driver { client, api, cron, token, acknowledged: Vec::new(), ticks: 0 };

    driver.run_for(Duration::from_secs(2), "before").await;
    sidecar.set_failing(true);
    driver.run_for(Duration::from_secs(15), "failing").await;
    sidecar.go_down().await;
    driver.run_for(Duration::from_secs(15), "down").await;
    assert!(sidecar.failed() > 0, "the failing phase was exercised");
    let published_during = sidecar.accepted().len();
    sidecar.come_up().await;
    sidecar.set_failing(false);

    // Recovery: writes go straight out again, and ticks sweep the backlog
    // (events are swept once 10 s old, so this takes that long at least).
    driver.run_for(Duration::from_secs(1), "after").await;
    let written = driver.acknowledged.len();
    let drain_deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let left = db.store.count_unpublished().await.expect("count");
        if left == 0 || Instant::now() > drain_deadline {
            assert_eq!(left, 0, "the outbox drained");
            break;
        }
        driver.tick().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    let accepted = sidecar.accepted();
    let mut per_task: HashMap<String, usize> = HashMap::new();
    for event in &accepted {
        assert_eq!(event["type"], "task.created");
        *per_task.entry(event["subject"].as_str().expect("subject").to_owned()).or_default() += 1;
    }
    for id in &driver.acknowledged {
        assert_eq!(per_task.get(id), Some(&1), "task {id}'s event reached the sidecar exactly once");
    }
    assert_eq!(per_task.len(), written, "no event for anything that was not acknowledged");
    assert_eq!(sidecar.violations(), Vec::<String>::new());
    assert!(written >= 100, "{written} writes in all");
    assert!(published_during < written, "the outage held events back ({published_during} of {written} out)");
    eprintln!(
        "outage: {written} writes acknowledged, {} publishes refused with 500, {} ticks, 0 lost",
        sidecar.failed(),
        driver.ticks
    );
}
