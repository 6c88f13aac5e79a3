//! Batches through Dapr's bulk subscribe, on PostgreSQL and SQLite, answered
//! per entry and checked against Dapr's documented format
//! (`todo_testing::bulk`): events of several types, users and lists; the same
//! event twice in a batch and in both of Dapr's entry forms; entries that can
//! never succeed (misrouted, forged, not a CloudEvent) dropped alone; a batch
//! redelivered whole; a transient failure between the batch's two writes; an
//! empty batch; a malformed request. (The shared handler's single-event
//! contract is tested through task-created.)

use chrono::Utc;
use serde_json::json;
use todo_lib::event::OutboxEvent;
use todo_lib::members::Role;
use todo_lib::task::{NewTask, TaskPatch};
use todo_testing::bulk::BulkRequest;
use todo_testing::{TestDb, facts};

todo_testing::on_both_backends!(
    every_entry_gets_its_own_status_and_each_event_takes_effect_once,
    a_batch_redelivered_whole_changes_nothing,
    a_transient_failure_between_the_writes_retries_the_batch_and_doubles_nothing,
    an_empty_batch_is_answered_with_no_statuses,
    a_malformed_bulk_request_is_refused_and_changes_nothing,
);

fn retitled(title: &str) -> TaskPatch {
    TaskPatch { title: Some(Some(title.into())), ..TaskPatch::default() }
}

/// Events of both types task-changed handles, for alice's Inbox, bob's Inbox
/// and a list alice shares with bob; each user with one webhook.
async fn changes(db: &TestDb) -> Vec<OutboxEvent> {
    let store = &db.store;
    for user in ["alice", "bob"] {
        facts::webhook(store, user, &format!("https://hooks.example.com/{user}")).await;
    }
    let shared = facts::shared_list(store, "alice", "Household", &[("bob", Role::Editor)]).await;
    let mut events = Vec::new();
    for (user, list) in [("alice", None), ("bob", None), ("alice", Some(shared.id))] {
        let input = NewTask { title: Some(format!("{user}'s task")), list_id: list, ..NewTask::default() };
        let (task, _) = facts::created(store, user, input, Utc::now()).await;
        let (task, updated) = facts::updated(store, &task, retitled("renamed"), Utc::now()).await;
        events.push(updated);
        events.push(facts::deleted(store, &task, Utc::now()).await);
    }
    events
}

/// How many activity entries `user` sees, and how many deliveries are queued
/// for the webhooks of all users.
async fn effects(db: &TestDb, user: &str, events: &[OutboxEvent]) -> (usize, usize) {
    let activity = db.store.list_activity(user, None, 100).await.expect("activity").len();
    let mut queued = 0;
    for event in events {
        queued += db.store.webhook_delivery_statuses(&event.id.to_string()).await.expect("statuses").len();
    }
    (activity, queued)
}

async fn every_entry_gets_its_own_status_and_each_event_takes_effect_once(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let events = changes(&db).await;
    let (_, stranger) = facts::created_titled(&db.store, "carol", "not for this function").await;
    let mut forged = events[0].clone();
    forged.id = uuid::Uuid::now_v7();
    forged.payload["id"] = json!(forged.id.to_string());

    let mut request = BulkRequest::on("task-updated");
    let mut expected = Vec::new();
    for event in &events {
        request.cloud_event(event);
        expected.push("SUCCESS");
    }
    // The same event again, as a CloudEvent entry and as a raw one.
    request.cloud_event(&events[0]);
    request.raw(&events[1]);
    expected.extend(["SUCCESS", "SUCCESS"]);
    // Entries that can never succeed: each is dropped alone.
    request.cloud_event(&stranger);
    request.cloud_event(&forged);
    request.push(json!("not base64 and not JSON"), "application/json", json!({ "rawPayload": "true" }));
    request.push(json!(42), "application/json", json!({}));
    expected.extend(["DROP", "DROP", "DROP", "DROP"]);

    assert_eq!(request.send(&app).await, expected);
    // alice: her Inbox's two events and the shared list's two; bob: his and the shared list's.
    // Webhooks: one per member of each event's list: 2 + 2 + 2 × 2.
    assert_eq!(effects(&db, "alice", &events).await, (4, 8));
    assert_eq!(effects(&db, "bob", &events).await, (4, 8));
    assert_eq!(db.store.list_activity("carol", None, 10).await.expect("activity").len(), 0);
}

async fn a_batch_redelivered_whole_changes_nothing(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let events = changes(&db).await;
    let mut request = BulkRequest::on("task-updated");
    for event in &events {
        request.raw(event);
    }
    let all = vec!["SUCCESS"; events.len()];
    assert_eq!(request.send(&app).await, all);
    let before = (effects(&db, "alice", &events).await, effects(&db, "bob", &events).await);
    assert_eq!(request.send(&app).await, all, "a redelivery succeeds");
    let after = (effects(&db, "alice", &events).await, effects(&db, "bob", &events).await);
    assert_eq!(after, before, "and changes nothing");
}

async fn a_transient_failure_between_the_writes_retries_the_batch_and_doubles_nothing(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let events = changes(&db).await;
    let mut request = BulkRequest::on("task-updated");
    for event in &events {
        request.cloud_event(event);
    }
    // The activity entries are written; queueing the webhooks fails.
    db.fail_inserts_into("webhook_deliveries").await;
    assert_eq!(request.send(&app).await, vec!["RETRY"; events.len()]);
    assert_eq!(effects(&db, "alice", &events).await, (4, 0), "what committed stays; the rest waits");

    db.clear_fault("webhook_deliveries").await;
    assert_eq!(request.send(&app).await, vec!["SUCCESS"; events.len()]);
    assert_eq!(effects(&db, "alice", &events).await, (4, 8), "completed, not doubled");
    assert_eq!(effects(&db, "bob", &events).await, (4, 8));
}

async fn an_empty_batch_is_answered_with_no_statuses(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let request = BulkRequest::on("task-updated");
    assert_eq!(request.send(&app).await, Vec::<String>::new());
    let (status, body) = todo_testing::call(&app, todo_testing::structured(&request.body())).await;
    assert_eq!((status.as_u16(), body), (200, json!({ "statuses": [] })));
}

async fn a_malformed_bulk_request_is_refused_and_changes_nothing(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let events = changes(&db).await;
    let mut body = BulkRequest::on("task-updated").body();
    body["entries"] = json!([{ "event": todo_testing::dapr_envelope(&events[0]) }]);
    let (status, answer) = todo_testing::call(&app, todo_testing::structured(&body)).await;
    assert_eq!(status.as_u16(), 400, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_bulk_request");
    assert!(answer["error"]["message"].as_str().is_some_and(|m| m.contains("entryId")), "{answer}");
    assert_eq!(effects(&db, "alice", &events).await, (0, 0));
}
