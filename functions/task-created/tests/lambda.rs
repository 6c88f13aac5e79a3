//! The `task-created` binary under AWS Lambda, wired to a topic by an event
//! source mapping: the Lambda Runtime API stand-in hands it the batches AWS
//! documents (self-managed Kafka, Amazon MSK, SQS) and records its answer.
//! Each batch takes the one path every delivery takes: duplicates and forged
//! records change nothing, and the answer names exactly the records to deliver
//! again (`batchItemFailures`), here the whole batch while the database fails
//! and none once it is back, with nothing doubled. On PostgreSQL and on a
//! SQLite file.

use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_lib::store::Store;
use todo_testing::lambda::{LambdaRuntime, REQUEST_ID, kafka_event, msk_event, sqs_event};
use todo_testing::{TestDb, facts};

const BIN: &str = env!("CARGO_BIN_EXE_task-created");
const APP_TOKEN: &str = "lambda-app-token";

/// Invokes the binary once with `event` against `url`; its answer.
async fn invoke(url: &str, event: Value) -> Value {
    let mut runtime = LambdaRuntime::start(event).await;
    let env = [("DATABASE_URL", url), ("APP_API_TOKEN", APP_TOKEN)];
    let (what, body) =
        runtime.invoke(BIN, "task-created", &env).await.expect("the function answered in time");
    assert_eq!(what, format!("response {REQUEST_ID}"), "{body}");
    body
}

/// Two new tasks of alice's with their events, and a forged copy of the first.
async fn events(store: &Store) -> (OutboxEvent, OutboxEvent, OutboxEvent) {
    let (_, first) = facts::created_titled(store, "alice", "Buy milk").await;
    let (_, second) = facts::created_titled(store, "alice", "Call mum").await;
    let mut forged = first.clone();
    forged.id = uuid::Uuid::now_v7();
    forged.payload["id"] = json!(forged.id.to_string());
    (first, second, forged)
}

async fn entries(store: &Store) -> usize {
    store.list_activity("alice", None, 100).await.expect("activity").len()
}

async fn batches_from_each_source_take_effect_once(url: &str, store: &Store) {
    let (first, second, forged) = events(store).await;
    let batch = [&first, &second, &first, &forged];
    let none = json!({ "batchItemFailures": [] });
    assert_eq!(invoke(url, kafka_event("task-created", &batch)).await, none);
    assert_eq!(entries(store).await, 2, "one entry per event; the forged one dropped");
    assert_eq!(invoke(url, msk_event("task-created", &batch)).await, none, "redelivered");
    assert_eq!(invoke(url, sqs_event(&batch)).await, none, "and again through SQS");
    assert_eq!(entries(store).await, 2, "nothing doubled");
}

#[tokio::test]
async fn on_postgres_batches_take_effect_once_and_failures_name_their_records() {
    let db = todo_testing::postgres().await;
    let url = db.postgres_url().expect("PostgreSQL");
    batches_from_each_source_take_effect_once(&url, &db.store).await;
    failures_name_exactly_the_records_to_deliver_again(&db, &url).await;
}

#[tokio::test]
async fn on_sqlite_batches_take_effect_once() {
    let dir = std::env::temp_dir().join(format!("todo-lambda-batch-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/todo.db", dir.display());
    let store = todo_lib::store::connect(&url, todo_lib::store::ConnectOptions::default()).expect("the file");
    store.migrate().await.expect("migrated");
    batches_from_each_source_take_effect_once(&url, &store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn failures_name_exactly_the_records_to_deliver_again(db: &TestDb, url: &str) {
    facts::webhook(&db.store, "alice", "https://hooks.example.com/alice").await;
    let (_, third) = facts::created_titled(&db.store, "alice", "Water plants").await;
    let (_, fourth) = facts::created_titled(&db.store, "alice", "Pay rent").await;
    let (_, _, forged) = events(&db.store).await;
    let before = entries(&db.store).await;
    db.fail_inserts_into("webhook_deliveries").await;

    let batch = [&third, &forged, &fourth];
    let failed = invoke(url, kafka_event("task-created", &batch)).await;
    // Record i is on partition i % 2 at offset 100 + i; the forged one is dropped, not retried.
    let expected = json!({ "batchItemFailures": [
        { "itemIdentifier": { "partition": "task-created-0", "offset": 100 } },
        { "itemIdentifier": { "partition": "task-created-0", "offset": 102 } },
    ] });
    assert_eq!(failed, expected);
    let failed = invoke(url, sqs_event(&batch)).await;
    let expected =
        json!({ "batchItemFailures": [{ "itemIdentifier": "msg-0" }, { "itemIdentifier": "msg-2" }] });
    assert_eq!(failed, expected);

    db.clear_fault("webhook_deliveries").await;
    assert_eq!(invoke(url, kafka_event("task-created", &batch)).await, json!({ "batchItemFailures": [] }));
    assert_eq!(entries(&db.store).await, before + 2, "each once");
    for event in [&third, &fourth] {
        let queued = db.store.webhook_delivery_statuses(&event.id.to_string()).await.expect("statuses");
        assert_eq!(queued.len(), 1, "queued once for alice's webhook");
    }
}
