//! `task-changed` on PostgreSQL and SQLite: updates and deletions each get their
//! activity entry once, in Dapr's terms, in the order they happened whatever the
//! order they arrive in; other types are dropped as misrouted.
//! (The shared handler's whole delivery contract is tested through task-created.)

use chrono::{Duration, Utc};
use serde_json::json;
use todo_lib::task::TaskPatch;
use todo_testing::{TestDb, deliver_via_dapr, facts};

todo_testing::on_both_backends!(
    updates_and_deletions_are_recorded_once_each,
    events_arriving_out_of_order_are_listed_in_the_order_they_happened,
    other_event_types_are_dropped_as_misrouted,
);

fn retitled(title: &str) -> TaskPatch {
    TaskPatch { title: Some(Some(title.into())), ..TaskPatch::default() }
}

async fn updates_and_deletions_are_recorded_once_each(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let store = &db.store;
    let (task, _) = facts::created_titled(store, "alice", "Buy milk").await;
    let (task, updated) = facts::updated(store, &task, retitled("Buy oat milk"), Utc::now()).await;
    let deleted = facts::deleted(store, &task, Utc::now()).await;
    for event in [&updated, &deleted, &updated, &deleted] {
        let (status, body) = deliver_via_dapr(&app, event).await;
        assert_eq!((status.as_u16(), body), (200, json!({ "status": "SUCCESS" })));
    }
    let activity = db.store.list_activity("alice", Some(task.id), 10).await.expect("activity");
    let mut kinds: Vec<(&str, &str)> =
        activity.iter().map(|a| (a.kind.as_str(), a.summary.as_str())).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [("task.deleted", "Buy oat milk"), ("task.updated", "Buy oat milk")],
        "one entry per event, duplicates ignored"
    );
}

async fn events_arriving_out_of_order_are_listed_in_the_order_they_happened(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let store = &db.store;
    let t0 = Utc::now();
    let (task, _) = facts::created_titled(store, "alice", "Buy milk").await;
    let (task, first) = facts::updated(store, &task, retitled("one"), t0 + Duration::seconds(1)).await;
    let (task, second) = facts::updated(store, &task, retitled("two"), t0 + Duration::seconds(2)).await;
    let deleted = facts::deleted(store, &task, t0 + Duration::seconds(3)).await;
    // The broker redelivers and reorders: newest first, with duplicates between.
    for event in [&deleted, &second, &deleted, &first, &second] {
        let (status, body) = deliver_via_dapr(&app, event).await;
        assert_eq!((status.as_u16(), body), (200, json!({ "status": "SUCCESS" })));
    }
    let activity = db.store.list_activity("alice", Some(task.id), 10).await.expect("activity");
    let events: Vec<String> = activity.iter().map(|a| a.event_id.clone()).collect();
    let expected: Vec<String> = [&deleted, &second, &first].iter().map(|e| e.id.to_string()).collect();
    assert_eq!(events, expected, "newest first by when each change happened, each once");
}

async fn other_event_types_are_dropped_as_misrouted(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let store = &db.store;
    let (task, created) = facts::created_titled(store, "alice", "Buy milk").await;
    let (_, completed) = facts::completed(store, &task, Utc::now()).await;
    for event in [&created, &completed] {
        let (status, body) = deliver_via_dapr(&app, event).await;
        assert_eq!((status.as_u16(), body), (200, json!({ "status": "DROP" })), "{}", event.topic);
    }
    assert!(db.store.list_activity("alice", None, 10).await.expect("activity").is_empty());
}
