//! Reminders to webhooks, on PostgreSQL and SQLite: signed per the Standard
//! Webhooks specification (checked by the reference Python implementation), one
//! delivery record per (event, webhook), so that a retry resends only what did not
//! go out; 5xx is retried, 4xx is recorded as failed and not retried.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use chrono::Utc;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::task::{NewTask, Task};
use todo_lib::testing::{Received, TestDb, WebhookReceiver, loopback_deliverer};
use todo_lib::webhook::{Deliverer, DeliveryStatus, Webhook};

todo_lib::on_both_backends!(
    the_reminder_reaches_the_webhook_signed_and_verifiable,
    a_5xx_is_retried_and_only_the_failed_webhook_gets_it_again,
    a_4xx_is_recorded_as_failed_and_not_retried,
    a_receiver_that_hangs_times_out_and_is_retried,
    a_hanging_receiver_does_not_hold_up_the_users_other_webhooks,
    a_name_that_resolves_to_loopback_is_refused_at_delivery,
    redirects_are_followed_only_to_addresses_a_webhook_may_reach,
);

async fn due_event(db: &TestDb) -> OutboxEvent {
    let now = Utc::now();
    let input = NewTask {
        title: Some("Standup".into()),
        due_at: Some(now + chrono::Duration::minutes(5)),
        remind_before_minutes: Some(5),
        ..NewTask::default()
    };
    let task = Task::create("alice", input, now).expect("valid");
    let created = task_event(EventType::Created, &task, "api", now, None).expect("event");
    db.store.insert_task(&task, &created).await.expect("insert");
    task_event(EventType::Due, &task, "cron-tick", now, task.remind_at).expect("event")
}

async fn register(db: &TestDb, receiver: &WebhookReceiver) -> Webhook {
    register_url(db, &receiver.url).await
}

/// Registers `url` straight in the store, as if it had passed the API's check
/// (a name can be rebound to another address after registration).
async fn register_url(db: &TestDb, url: &str) -> Webhook {
    let url = url::Url::parse(url).expect("url");
    let hook = Webhook::new("alice", &url, Utc::now()).expect("random");
    assert!(db.store.insert_webhook(&hook, 10).await.expect("insert"));
    hook
}

async fn deliver(app: &Router, event: &OutboxEvent) -> Value {
    let (status, body) = todo_lib::testing::deliver_via_dapr(app, event).await;
    assert_eq!(status, StatusCode::OK);
    body
}

async fn statuses(db: &TestDb, event: &OutboxEvent) -> Vec<(uuid::Uuid, DeliveryStatus)> {
    db.store.webhook_delivery_statuses(&event.id.to_string()).await.expect("statuses")
}

/// Verifies `request` with the reference implementation (scripts/verify-webhook.py).
fn verify_with_python(secret: &str, request: &Received) -> Result<(), String> {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify-webhook.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 runs: {e}"))?;
    let input = json!({ "secret": secret, "headers": request.headers, "body": request.body }).to_string();
    child.stdin.take().ok_or("stdin")?.write_all(input.as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

async fn the_reminder_reaches_the_webhook_signed_and_verifiable(db: TestDb) {
    let receiver = WebhookReceiver::start().await;
    let hook = register(&db, &receiver).await;
    let event = due_event(&db).await;
    let app = task_due::app(db.store.clone(), None, loopback_deliverer());
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));

    let received = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(
        request.headers.get("webhook-id"),
        Some(&event.id.to_string()),
        "the event id is the idempotency key"
    );
    assert!(request.headers.get("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
    let body: Value = serde_json::from_str(&request.body).expect("JSON body");
    assert_eq!(body["type"], "task.due");
    assert_eq!(body["data"]["task"]["title"], "Standup");
    verify_with_python(hook.secret.expose_secret(), request)
        .expect("the reference implementation verifies it");

    let mut tampered = request.clone();
    tampered.body = request.body.replace("Standup", "Payday");
    assert!(verify_with_python(hook.secret.expose_secret(), &tampered).is_err(), "a changed body fails");
}

async fn a_5xx_is_retried_and_only_the_failed_webhook_gets_it_again(db: TestDb) {
    let healthy = WebhookReceiver::start().await;
    let flaky = WebhookReceiver::start().await;
    flaky.answer_with(&[503]);
    register(&db, &healthy).await;
    register(&db, &flaky).await;
    let event = due_event(&db).await;
    let app = task_due::app(db.store.clone(), None, loopback_deliverer());

    assert_eq!(deliver(&app, &event).await, json!({ "status": "RETRY" }));
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }), "a later duplicate is harmless");

    assert_eq!(healthy.received().len(), 1, "the healthy receiver got it once");
    assert_eq!(flaky.received().len(), 2, "the flaky one got it again after its 503");
    assert_eq!(db.store.list_notifications("alice", false, 10).await.expect("notes").len(), 1);
}

async fn a_4xx_is_recorded_as_failed_and_not_retried(db: TestDb) {
    let refusing = WebhookReceiver::start().await;
    refusing.answer_with(&[410]);
    let hook = register(&db, &refusing).await;
    let event = due_event(&db).await;
    let app = task_due::app(db.store.clone(), None, loopback_deliverer());
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert_eq!(refusing.received().len(), 1, "not retried");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
}

async fn a_receiver_that_hangs_times_out_and_is_retried(db: TestDb) {
    let hanging = WebhookReceiver::start().await;
    hanging.answer_with(&[0]);
    let hook = register(&db, &hanging).await;
    let event = due_event(&db).await;
    let deliverer = Deliverer::with_timeout(Duration::from_millis(300), true).expect("client");
    let app = task_due::app(db.store.clone(), None, deliverer);
    assert_eq!(deliver(&app, &event).await, json!({ "status": "RETRY" }));
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Retrying)]);
    // The receiver answers again: the redelivery gets through.
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert_eq!(hanging.received().len(), 2);
}

async fn a_hanging_receiver_does_not_hold_up_the_users_other_webhooks(db: TestDb) {
    let hanging = WebhookReceiver::start().await;
    hanging.answer_with(&[0]);
    let healthy = WebhookReceiver::start().await;
    // The hanging one first: sent one after the other, it would hold the other
    // back for the whole timeout.
    let stuck = register(&db, &hanging).await;
    let fine = register(&db, &healthy).await;
    let event = due_event(&db).await;
    let app = task_due::app(
        db.store.clone(),
        None,
        Deliverer::with_timeout(Duration::from_secs(3), true).expect("client"),
    );

    let delivering = tokio::spawn({
        let (app, event) = (app.clone(), event.clone());
        async move { deliver(&app, &event).await }
    });
    let received = healthy.wait_for(1, Duration::from_secs(2)).await;
    assert_eq!(received.len(), 1, "the healthy receiver got it while the other hung");
    assert!(!delivering.is_finished(), "the event is still waiting for the hanging receiver");
    assert_eq!(delivering.await.expect("delivered"), json!({ "status": "RETRY" }));
    let mut got = statuses(&db, &event).await;
    got.sort_by_key(|(id, _)| *id != fine.id);
    assert_eq!(got, [(fine.id, DeliveryStatus::Delivered), (stuck.id, DeliveryStatus::Retrying)]);
    // The retry goes only to the one still owed.
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert_eq!(healthy.received().len(), 1);
}

/// This machine's host name, which its hosts file maps to a loopback address.
fn loopback_host_name() -> String {
    use std::net::ToSocketAddrs;
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("host name").trim().to_owned();
    let resolved: Vec<_> = (name.as_str(), 0).to_socket_addrs().expect("the host name resolves").collect();
    assert!(
        !resolved.is_empty() && resolved.iter().all(|a| a.ip().is_loopback()),
        "this test needs a host name that resolves to loopback; {name} resolves to {resolved:?}"
    );
    name
}

async fn a_name_that_resolves_to_loopback_is_refused_at_delivery(db: TestDb) {
    let receiver = WebhookReceiver::start().await;
    let port = url::Url::parse(&receiver.url).expect("url").port().expect("port");
    // An https URL with a host name passes the registration check; only
    // resolving the name shows where it points.
    let url = format!("https://{}:{port}/hook", loopback_host_name());
    assert!(todo_lib::webhook::check_url(&url, false).is_ok(), "{url} passes registration");
    let hook = register_url(&db, &url).await;
    let event = due_event(&db).await;
    let app = task_due::app(db.store.clone(), None, Deliverer::new(false).expect("client"));

    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }), "refused for good, not retried");
    assert_eq!(statuses(&db, &event).await, [(hook.id, DeliveryStatus::Failed)]);
    assert_eq!(deliver(&app, &event).await, json!({ "status": "SUCCESS" }));
    assert!(receiver.received().is_empty(), "no connection was made");
}

async fn redirects_are_followed_only_to_addresses_a_webhook_may_reach(db: TestDb) {
    let first = WebhookReceiver::start().await;
    let second = WebhookReceiver::start().await;
    // Loopback is allowed here (the development flag), so a redirect to
    // another loopback receiver is followed, and one to the metadata address is not.
    first.redirect_with(307, &second.url);
    first.redirect_with(307, "http://169.254.169.254/latest/meta-data/");
    let hook = register(&db, &first).await;
    let app = task_due::app(db.store.clone(), None, loopback_deliverer());

    let followed = due_event(&db).await;
    assert_eq!(deliver(&app, &followed).await, json!({ "status": "SUCCESS" }));
    assert_eq!(statuses(&db, &followed).await, [(hook.id, DeliveryStatus::Delivered)]);
    assert_eq!(second.received().len(), 1, "the redirect was followed");

    let refused = due_event(&db).await;
    assert_eq!(deliver(&app, &refused).await, json!({ "status": "SUCCESS" }));
    assert_eq!(statuses(&db, &refused).await, [(hook.id, DeliveryStatus::Failed)]);
    assert_eq!(first.received().len(), 2);
    assert_eq!(second.received().len(), 1, "nothing else went anywhere");
}
