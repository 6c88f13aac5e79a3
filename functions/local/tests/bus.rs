//! The in-process bus, on both backends: Dapr's delivery semantics without Dapr,
//! in batches as Dapr's bulk subscribe delivers them. SUCCESS is delivered once;
//! RETRY is retried with backoff, only the entries that asked; DROP, or retries
//! run out, lands in the dead-letter table; the request and each entry's
//! envelope are Dapr's.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use local::bus::{InProcessBus, RetryPolicy};
use serde_json::{Value, json};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::outbox::publish_and_mark;
use todo_lib::publish::Publisher;
use todo_lib::task::{NewTask, Task};
use todo_testing::TestDb;

todo_testing::on_both_backends!(
    success_is_delivered_once_in_dapr_s_envelope,
    retry_is_retried_until_success,
    drop_is_dead_lettered_at_once,
    endless_retry_is_dead_lettered_after_the_last_attempt,
    a_topic_without_subscriber_is_published_and_nothing_happens,
    publish_and_mark_empties_the_outbox,
    the_app_token_is_presented_to_subscribers_that_demand_it,
    a_backlog_goes_in_one_request_and_only_what_asked_is_retried,
);

/// A stand-in subscriber that answers each entry of a bulk request with the
/// next scripted status (then SUCCESS), records the events it received and the
/// size of each request, and checks each request's shape against Dapr's bulk
/// format.
#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<&'static str>>>,
    received: Arc<Mutex<Vec<Value>>>,
    requests: Arc<Mutex<Vec<usize>>>,
}

impl Script {
    fn new(answers: &[&'static str]) -> Self {
        let script = Self::default();
        script.answers.lock().expect("lock").extend(answers);
        script
    }

    fn router(&self) -> Router {
        Router::new()
            .route(
                "/",
                post(|State(s): State<Script>, body: String| async move {
                    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    assert_eq!(request["type"], "com.dapr.event.sent.bulk", "{request}");
                    assert_eq!(request["pubsubname"], "pubsub");
                    let entries = request["entries"].as_array().cloned().unwrap_or_default();
                    s.requests.lock().expect("lock").push(entries.len());
                    let mut statuses = Vec::new();
                    for entry in entries {
                        assert_eq!(entry["contentType"], "application/cloudevents+json", "{entry}");
                        assert!(entry["metadata"].is_object(), "{entry}");
                        let id = entry["entryId"].as_str().expect("an entryId").to_owned();
                        s.received.lock().expect("lock").push(entry["event"].clone());
                        let status = s.answers.lock().expect("lock").pop_front().unwrap_or("SUCCESS");
                        statuses.push(json!({ "entryId": id, "status": status }));
                    }
                    axum::Json(json!({ "statuses": statuses }))
                }),
            )
            .with_state(self.clone())
    }

    fn received(&self) -> Vec<Value> {
        self.received.lock().expect("lock").clone()
    }

    fn requests(&self) -> Vec<usize> {
        self.requests.lock().expect("lock").clone()
    }
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

async fn created(db: &TestDb) -> OutboxEvent {
    todo_testing::facts::created_titled(&db.store, "alice", "t").await.1
}

fn bus(db: &TestDb, script: &Script) -> InProcessBus {
    InProcessBus::new(db.store.clone(), fast()).subscribe("task-created", "task-created", script.router())
}

async fn success_is_delivered_once_in_dapr_s_envelope(db: TestDb) {
    let script = Script::new(&[]);
    let event = created(&db).await;
    bus(&db, &script).publish(&event).await.expect("published");
    let received = script.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["id"], event.id.to_string());
    assert_eq!(received[0]["pubsubname"], "pubsub");
    assert_eq!(received[0]["topic"], "task-created");
    assert!(db.store.list_dead_letters(10).await.expect("dead letters").is_empty());
}

async fn retry_is_retried_until_success(db: TestDb) {
    let script = Script::new(&["RETRY", "RETRY"]);
    let event = created(&db).await;
    bus(&db, &script).publish(&event).await.expect("published");
    assert_eq!(script.received().len(), 3);
    assert!(db.store.list_dead_letters(10).await.expect("dead letters").is_empty());
}

async fn drop_is_dead_lettered_at_once(db: TestDb) {
    let script = Script::new(&["DROP"]);
    let event = created(&db).await;
    bus(&db, &script).publish(&event).await.expect("handled");
    assert_eq!(script.received().len(), 1, "a dropped event is not retried");
    let letters = db.store.list_dead_letters(10).await.expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].event_id, letters[0].subscriber.as_str()), (event.id, "task-created"));
    assert!(letters[0].reason.contains("DROP"), "{}", letters[0].reason);
    assert_eq!(letters[0].payload, event.payload);
}

async fn endless_retry_is_dead_lettered_after_the_last_attempt(db: TestDb) {
    let script = Script::new(&["RETRY"; 10]);
    let event = created(&db).await;
    bus(&db, &script).publish(&event).await.expect("handled");
    assert_eq!(script.received().len(), 3, "exactly the policy's attempts");
    let letters = db.store.list_dead_letters(10).await.expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert!(letters[0].reason.contains("3 attempts"), "{}", letters[0].reason);
}

async fn a_topic_without_subscriber_is_published_and_nothing_happens(db: TestDb) {
    let script = Script::new(&[]);
    let now = Utc::now();
    let task = Task::create(
        "alice",
        uuid::Uuid::now_v7(),
        NewTask { title: Some("t".into()), ..NewTask::default() },
        now,
    )
    .expect("valid");
    let updated = task_event(EventType::Updated, &task, "api", now, None).expect("event");
    bus(&db, &script).publish(&updated).await.expect("published");
    assert!(script.received().is_empty());
}

async fn publish_and_mark_empties_the_outbox(db: TestDb) {
    let script = Script::new(&["RETRY"]);
    let event = created(&db).await;
    let bus = bus(&db, &script);
    assert_eq!(publish_and_mark(&db.store, &bus, std::slice::from_ref(&event)).await, 1);
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0);
    assert_eq!(script.received().len(), 2);
}

async fn the_app_token_is_presented_to_subscribers_that_demand_it(db: TestDb) {
    let script = Script::new(&[]);
    let token = || Some(secrecy::SecretString::from("app-token"));
    let guarded = todo_lib::function::protect(script.router(), token());
    let event = created(&db).await;

    let without =
        InProcessBus::new(db.store.clone(), fast()).subscribe("task-created", "task-created", guarded);
    without.publish(&event).await.expect("handled");
    assert!(script.received().is_empty(), "refused without the token");
    let letters = db.store.list_dead_letters(10).await.expect("dead letters");
    assert!(letters[0].reason.contains("HTTP 401"), "{}", letters[0].reason);

    let with = without.with_app_token(token());
    with.publish(&event).await.expect("published");
    assert_eq!(script.received().len(), 1, "accepted with the token");
}

async fn a_backlog_goes_in_one_request_and_only_what_asked_is_retried(db: TestDb) {
    let script = Script::new(&["SUCCESS", "RETRY", "DROP", "SUCCESS"]);
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(created(&db).await);
    }
    let bus = bus(&db, &script);
    assert_eq!(publish_and_mark(&db.store, &bus, &events).await, 4, "all taken or dead-lettered");
    assert_eq!(script.requests(), [4, 1], "one request, then the one entry that asked again");
    let ids: Vec<Value> = script.received().iter().map(|e| e["id"].clone()).collect();
    let expected: Vec<Value> = [0, 1, 2, 3, 1].iter().map(|&i| json!(events[i].id.to_string())).collect();
    assert_eq!(ids, expected);
    let letters = db.store.list_dead_letters(10).await.expect("dead letters");
    assert_eq!(letters.iter().map(|l| l.event_id).collect::<Vec<_>>(), [events[2].id]);
    assert_eq!(db.store.count_unpublished().await.expect("count"), 0);
}
