//! After commit the API publishes each event through the Dapr sidecar (a stand-in
//! that checks the contract) and marks it published. A sidecar that fails or is
//! down never fails the user's request; the event waits in the outbox, and the
//! republisher sends it once the sidecar is back. Nothing is lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use api::AppState;
use api::auth::Authenticator;
use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use secrecy::SecretString;
use serde_json::json;
use todo_lib::outbox::{CLAIM_LEASE, Sweep, republish_unpublished};
use todo_lib::publish::{DaprPublisher, Publisher};
use todo_lib::serve::with_common_layers;
use todo_testing::{DaprStandIn, TestDb};

fn app_with_sidecar(db: TestDb, sidecar_url: &str, token: Option<&str>) -> (TestApp, Arc<dyn Publisher>) {
    let publisher: Arc<dyn Publisher> = Arc::new(
        DaprPublisher::new(sidecar_url, "pubsub", token.map(SecretString::from)).expect("client builds"),
    );
    let auth = Authenticator::with_secret(&SecretString::from(common::SECRET)).expect("secret");
    let state = AppState {
        publisher: Some(todo_lib::relay::Relay::start(db.store.clone(), Arc::clone(&publisher))),
        allow_loopback_webhooks: true,
        ..AppState::new(db.store.clone(), Arc::new(auth))
    };
    (TestApp { router: with_common_layers(api::app(state), common::settings()), db }, publisher)
}

/// Waits until the outbox holds `n` unpublished events (publishing is in the background).
async fn wait_for_unpublished(app: &TestApp, n: usize) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = app.outbox_len().await;
        if left == n || std::time::Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

todo_testing::on_both_backends!(
    every_change_is_published_in_order_and_marked,
    a_failing_sidecar_does_not_fail_the_request_and_the_republisher_catches_up,
    a_sidecar_that_is_down_does_not_fail_the_request,
    the_sidecar_token_is_sent_when_configured,
);

async fn every_change_is_published_in_order_and_marked(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", None).await;
    let (app, _) = app_with_sidecar(db, &sidecar.url, None);
    let task = app.create("alice", json!({ "title": "t" })).await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    // Each change waits for the previous event, so the order is the API's order.
    sidecar.wait_for(1, Duration::from_secs(10)).await;
    app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "t2" }))).await;
    sidecar.wait_for(2, Duration::from_secs(10)).await;
    app.send(Method::POST, &format!("{path}/complete"), Some("alice"), None).await;
    sidecar.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NO_CONTENT);

    let accepted = sidecar.wait_for(4, Duration::from_secs(10)).await;
    let types: Vec<&str> = accepted.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["task.created", "task.updated", "task.completed", "task.deleted"]);
    assert!(accepted.iter().all(|e| e["subject"] == task["id"]));
    assert_eq!(sidecar.violations(), Vec::<String>::new());
    assert_eq!(wait_for_unpublished(&app, 0).await, 0, "every published event is marked");
}

async fn a_failing_sidecar_does_not_fail_the_request_and_the_republisher_catches_up(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", None).await;
    sidecar.set_failing(true);
    let (app, publisher) = app_with_sidecar(db, &sidecar.url, None);
    for i in 0..3 {
        app.create("alice", json!({ "title": format!("t{i}") })).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sidecar.failed() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sidecar.failed(), 3, "each create tried to publish");
    assert_eq!(app.outbox_len().await, 3, "nothing is marked published");

    // While the sidecar still fails, the republisher publishes nothing and loses nothing.
    let sent = republish_unpublished(&app.db.store, publisher.as_ref(), sweep_now()).await;
    assert_eq!(sent.expect("store works"), 0);
    assert_eq!(app.outbox_len().await, 3);

    sidecar.set_failing(false);
    // The failed attempt leased the rows; a later run (after the lease) takes them.
    let store = &app.db.store;
    let now = chrono::Utc::now() + chrono::Duration::seconds(120);
    let claimed = store.claim_unpublished(now, now, Duration::from_secs(60), 100).await.expect("claim");
    let sent = todo_lib::outbox::publish_and_mark(store, publisher.as_ref(), &claimed).await;
    assert_eq!(sent, 3);
    assert_eq!(app.outbox_len().await, 0);
    let accepted = sidecar.accepted();
    let titles: Vec<&str> = accepted.iter().filter_map(|e| e["data"]["task"]["title"].as_str()).collect();
    assert_eq!(titles, ["t0", "t1", "t2"], "oldest first");
    assert_eq!(sidecar.violations(), Vec::<String>::new());
}

/// Sweeps every unpublished row, however young.
fn sweep_now() -> Sweep {
    Sweep {
        min_age: Duration::ZERO,
        lease: CLAIM_LEASE,
        batch: 100,
        max_batches: 10,
        workers: 1,
        budget: std::time::Duration::from_secs(5),
        clock: todo_lib::clock::system(),
    }
}

async fn a_sidecar_that_is_down_does_not_fail_the_request(db: TestDb) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let (app, publisher) = app_with_sidecar(db, &format!("http://127.0.0.1:{port}"), None);
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "t" }))).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let sent = republish_unpublished(&app.db.store, publisher.as_ref(), sweep_now()).await;
    assert_eq!(sent.expect("store works"), 0);
    assert_eq!(app.outbox_len().await, 1, "the event waits in the outbox");
}

async fn the_sidecar_token_is_sent_when_configured(db: TestDb) {
    let sidecar = DaprStandIn::start("pubsub", Some("sidecar-secret")).await;
    let (app, _) = app_with_sidecar(db, &sidecar.url, Some("sidecar-secret"));
    app.create("alice", json!({ "title": "t" })).await;
    assert_eq!(sidecar.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    assert_eq!(wait_for_unpublished(&app, 0).await, 0);

    let other = DaprStandIn::start("pubsub", Some("sidecar-secret")).await;
    let (app, _) = app_with_sidecar(todo_testing::sqlite().await, &other.url, None);
    app.create("alice", json!({ "title": "t" })).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while other.violations().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(other.violations(), ["missing or wrong dapr-api-token"]);
    assert_eq!(app.outbox_len().await, 1, "a refused event stays in the outbox");
}
