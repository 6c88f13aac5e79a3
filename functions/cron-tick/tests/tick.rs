//! A tick, on PostgreSQL and SQLite: due reminders become `task.due` events,
//! published through the Dapr sidecar (a contract-checking stand-in) exactly once
//! even when ticks overlap; stale outbox rows are republished; nothing is lost
//! when the sidecar or the database fails.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Utc;
use cron_tick::TickSettings;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::publish::{DaprPublisher, Publisher};
use todo_lib::task::{NewTask, Task};
use todo_testing::facts;
use todo_testing::{DaprStandIn, TestDb, loopback_deliverer};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    options_and_an_empty_post_answer_200,
    due_reminders_are_published_as_task_due_once,
    overlapping_ticks_publish_each_reminder_once,
    stale_outbox_rows_are_republished,
    a_failing_sidecar_loses_nothing,
    a_broken_database_is_503,
    the_app_token_is_enforced,
    finished_rows_past_their_retention_are_pruned_once_per_interval,
);

/// A sender round that sent nothing (webhooks or mail).
fn nothing_sent() -> Value {
    json!({ "delivered": 0, "failed": 0, "retrying": 0, "in_flight": 0, "deferred": 0 })
}

fn nothing_pruned() -> Value {
    json!({ "outbox": 0, "processed": 0, "webhook_deliveries": 0, "mail": 0, "mail_links": 0, "push": 0 })
}

fn settings() -> TickSettings {
    TickSettings { batch: 10, max_batches: 10, republish_after: Duration::ZERO, ..TickSettings::default() }
}

async fn sidecar_app(db: &TestDb) -> (Router, DaprStandIn) {
    let sidecar = DaprStandIn::start("pubsub", None).await;
    let publisher: Arc<dyn Publisher> =
        Arc::new(DaprPublisher::new(&sidecar.url, "pubsub", None).expect("client"));
    (cron_tick::app(db.store.clone(), Some(publisher), settings(), None, loopback_deliverer()), sidecar)
}

async fn call(app: &Router, method: Method, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri("/");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).expect("request")).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Inserts `n` open tasks whose reminders are due now.
async fn due_tasks(db: &TestDb, n: usize) -> Vec<Task> {
    let now = Utc::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let input = NewTask {
            title: Some(format!("t{i}")),
            due_at: Some(now - chrono::Duration::seconds(1)),
            remind_before_minutes: Some(0),
            ..NewTask::default()
        };
        let (task, event) = facts::created(&db.store, "alice", input, now).await;
        db.store.mark_published(event.id, now).await.expect("mark");
        tasks.push(task);
    }
    tasks
}

async fn options_and_an_empty_post_answer_200(db: TestDb) {
    let (app, _sidecar) = sidecar_app(&db).await;
    assert_eq!(call(&app, Method::OPTIONS, &[]).await.0, StatusCode::OK);
    let (status, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "reminders": 0, "published": 0, "republished": 0, "webhooks": nothing_sent(), "mail": nothing_sent(), "push": nothing_sent(), "pruned": nothing_pruned() })
        )
    );
}

async fn due_reminders_are_published_as_task_due_once(db: TestDb) {
    let tasks = due_tasks(&db, 3).await;
    let (app, sidecar) = sidecar_app(&db).await;
    let (status, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({ "reminders": 3, "published": 3, "republished": 0, "webhooks": nothing_sent(), "mail": nothing_sent(), "push": nothing_sent(), "pruned": nothing_pruned() })
        )
    );
    let (_, again) = call(&app, Method::POST, &[]).await;
    assert_eq!(again["reminders"], 0);

    let accepted = sidecar.accepted();
    assert_eq!(accepted.len(), 3);
    assert!(accepted.iter().all(|e| e["type"] == "task.due" && e["source"] == "cron-tick"));
    let mut subjects: Vec<String> =
        accepted.iter().filter_map(|e| e["subject"].as_str().map(String::from)).collect();
    subjects.sort();
    let mut ids: Vec<String> = tasks.iter().map(|t| t.id.to_string()).collect();
    ids.sort();
    assert_eq!(subjects, ids);
    assert_eq!(sidecar.violations(), Vec::<String>::new());
    assert!(db.store.unpublished_events(10).await.expect("outbox").is_empty());
}

async fn overlapping_ticks_publish_each_reminder_once(db: TestDb) {
    due_tasks(&db, 40).await;
    let (app, sidecar) = sidecar_app(&db).await;
    let (a, b, c) = tokio::join!(
        call(&app, Method::POST, &[]),
        call(&app, Method::POST, &[]),
        call(&app, Method::POST, &[])
    );
    let claimed: i64 = [a, b, c]
        .iter()
        .map(|(s, body)| {
            assert_eq!(*s, StatusCode::OK, "{body}");
            body["reminders"].as_i64().unwrap_or_default()
        })
        .sum();
    assert_eq!(claimed, 40);
    let accepted = sidecar.accepted();
    let subjects: std::collections::HashSet<&str> =
        accepted.iter().filter_map(|e| e["subject"].as_str()).collect();
    assert_eq!(subjects.len(), 40, "each reminder once");
    assert_eq!(accepted.len(), 40, "no reminder twice");
}

async fn stale_outbox_rows_are_republished(db: TestDb) {
    let (_, event) = facts::created_titled(&db.store, "alice", "t").await;
    let (app, sidecar) = sidecar_app(&db).await;
    let (_, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(body["republished"], 1);
    assert_eq!(sidecar.accepted()[0]["id"], event.id.to_string(), "the same event id as written");
    assert!(db.store.unpublished_events(10).await.expect("outbox").is_empty());
}

async fn a_failing_sidecar_loses_nothing(db: TestDb) {
    due_tasks(&db, 2).await;
    let (app, sidecar) = sidecar_app(&db).await;
    sidecar.set_failing(true);
    let (status, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((body["reminders"].clone(), body["published"].clone()), (json!(2), json!(0)));
    assert_eq!(
        db.store.unpublished_events(10).await.expect("outbox").len(),
        2,
        "the events wait in the outbox"
    );
}

async fn a_broken_database_is_503(db: TestDb) {
    let (app, _sidecar) = sidecar_app(&db).await;
    let _outage = db.break_connections().await;
    let (status, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

async fn the_app_token_is_enforced(db: TestDb) {
    let app = cron_tick::app(
        db.store.clone(),
        None,
        settings(),
        Some(secrecy::SecretString::from("tick-token")),
        loopback_deliverer(),
    );
    assert_eq!(call(&app, Method::POST, &[]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, Method::OPTIONS, &[]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(&app, Method::POST, &[(todo_lib::config::DAPR_API_TOKEN_HEADER, "tick-token")]).await.0,
        StatusCode::OK
    );
}

async fn finished_rows_past_their_retention_are_pruned_once_per_interval(db: TestDb) {
    // Everything finished is past a zero retention; pruning runs once an hour.
    let retention = cron_tick::RetentionSettings {
        outbox: Duration::ZERO,
        processed: Duration::ZERO,
        webhook_deliveries: Duration::ZERO,
        every: Duration::from_secs(3600),
        ..cron_tick::RetentionSettings::default()
    };
    let sidecar = DaprStandIn::start("pubsub", None).await;
    let publisher: Arc<dyn Publisher> =
        Arc::new(DaprPublisher::new(&sidecar.url, "pubsub", None).expect("client"));
    let app = cron_tick::app(
        db.store.clone(),
        Some(publisher),
        TickSettings { retention, ..settings() },
        None,
        loopback_deliverer(),
    );
    due_tasks(&db, 2).await; // two task.created rows, published
    let (status, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The tick published two task.due events, then pruned all four published rows.
    assert_eq!(body["published"], 2, "{body}");
    assert_eq!(
        body["pruned"],
        json!({ "outbox": 4, "processed": 0, "webhook_deliveries": 0, "mail": 0, "mail_links": 0, "push": 0 }),
        "{body}"
    );
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0);

    due_tasks(&db, 1).await;
    let (_, body) = call(&app, Method::POST, &[]).await;
    assert_eq!(body["pruned"], nothing_pruned(), "not again within the hour: {body}");
}
