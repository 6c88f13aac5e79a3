//! `task-changed` on PostgreSQL and SQLite: updates and deletions each get their
//! activity entry once, in Dapr's terms, in the order they happened whatever the
//! order they arrive in; other types are dropped as misrouted.
//! (The shared handler's whole delivery contract is tested through task-created.)

use chrono::Utc;
use serde_json::json;
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::task::{NewTask, Task};
use todo_lib::testing::{TestDb, deliver_via_dapr};

todo_lib::on_both_backends!(
    updates_and_deletions_are_recorded_once_each,
    events_arriving_out_of_order_are_listed_in_the_order_they_happened,
    other_event_types_are_dropped_as_misrouted,
);

fn event(ty: EventType, task: &Task) -> OutboxEvent {
    task_event(ty, task, "api", Utc::now(), None).expect("event builds")
}

fn task(user: &str) -> Task {
    Task::create(user, NewTask { title: Some("Buy milk".into()), ..NewTask::default() }, Utc::now())
        .expect("valid")
}

async fn updates_and_deletions_are_recorded_once_each(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let task = task("alice");
    let (updated, deleted) = (event(EventType::Updated, &task), event(EventType::Deleted, &task));
    for event in [&updated, &deleted, &updated, &deleted] {
        let (status, body) = deliver_via_dapr(&app, event).await;
        assert_eq!((status.as_u16(), body), (200, json!({ "status": "SUCCESS" })));
    }
    let activity = db.store.list_activity("alice", Some(task.id), 10).await.expect("activity");
    let mut kinds: Vec<&str> = activity.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["task.deleted", "task.updated"], "one entry per event, duplicates ignored");
}

async fn events_arriving_out_of_order_are_listed_in_the_order_they_happened(db: TestDb) {
    let app = task_changed::app(db.store.clone(), None);
    let task = task("alice");
    let t0 = Utc::now();
    let at = |ty, seconds| task_event(ty, &task, "api", t0 + chrono::Duration::seconds(seconds), None);
    let first = at(EventType::Updated, 1).expect("event");
    let second = at(EventType::Updated, 2).expect("event");
    let deleted = at(EventType::Deleted, 3).expect("event");
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
    for ty in [EventType::Created, EventType::Completed, EventType::Due] {
        let (status, body) = deliver_via_dapr(&app, &event(ty, &task("alice"))).await;
        assert_eq!((status.as_u16(), body), (200, json!({ "status": "DROP" })), "{ty:?}");
    }
    assert!(db.store.list_activity("alice", None, 10).await.expect("activity").is_empty());
}
