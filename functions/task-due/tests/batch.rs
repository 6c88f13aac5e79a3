//! Reminders in batches through Dapr's bulk subscribe, on PostgreSQL and
//! SQLite: each reminder of the batch reaches its own recipient once (alice's,
//! bob's, the assignee's in a shared list), skipped ones are answered too,
//! duplicates inside the batch notify once, and a reminder whose task row is
//! corrupt (it cannot be read, now or ever) is dropped alone while the rest of
//! its batch is delivered.

use chrono::{Duration, Utc};
use todo_lib::event::OutboxEvent;
use todo_lib::members::Role;
use todo_lib::task::{NewTask, Task};
use todo_testing::bulk::BulkRequest;
use todo_testing::{TestDb, facts};

todo_testing::on_both_backends!(
    each_reminder_of_a_batch_reaches_its_recipient_once,
    a_reminder_that_can_never_be_read_is_dropped_alone,
);

/// A task of `user` (assigned to `assignee`, in `list`) with a reminder due
/// now, and its `task.due` event.
async fn due(
    db: &TestDb,
    user: &str,
    list: Option<uuid::Uuid>,
    assignee: Option<&str>,
) -> (Task, OutboxEvent) {
    let now = Utc::now();
    let input = NewTask {
        title: Some(format!("{user}'s call")),
        list_id: list,
        assignee_id: assignee.map(str::to_owned),
        due_at: Some(now + Duration::minutes(10)),
        remind_before_minutes: Some(10),
        ..NewTask::default()
    };
    let (task, _) = facts::created(&db.store, user, input, now).await;
    let event = facts::reminder(&db.store, &task, now + Duration::seconds(1)).await;
    (task, event)
}

async fn notified(db: &TestDb, user: &str) -> Vec<String> {
    let notes = db.store.list_notifications(user, false, 100).await.expect("notifications");
    let mut titles: Vec<String> = notes.into_iter().map(|n| n.title).collect();
    titles.sort();
    titles
}

async fn each_reminder_of_a_batch_reaches_its_recipient_once(db: TestDb) {
    let app = task_due::app(db.store.clone(), None);
    let shared = facts::shared_list(&db.store, "alice", "Household", &[("bob", Role::Editor)]).await;
    let (_, alices) = due(&db, "alice", None, None).await;
    let (_, bobs) = due(&db, "bob", None, None).await;
    let (_, assigned) = due(&db, "carol", None, None).await;
    let (_, for_bob) = due(&db, "alice", Some(shared.id), Some("bob")).await;
    let (done, skipped) = due(&db, "dave", None, None).await;
    facts::completed(&db.store, &done, Utc::now()).await;

    let mut request = BulkRequest::on("task-due");
    for event in [&alices, &bobs, &assigned, &for_bob, &skipped, &alices, &for_bob] {
        request.cloud_event(event);
    }
    assert_eq!(request.send(&app).await, vec!["SUCCESS"; 7]);
    assert_eq!(notified(&db, "alice").await, ["alice's call"]);
    assert_eq!(notified(&db, "bob").await, ["alice's call", "bob's call"], "bob is the assignee of alice's");
    assert_eq!(notified(&db, "carol").await, ["carol's call"]);
    assert!(notified(&db, "dave").await.is_empty(), "a completed task's reminder is skipped");

    assert_eq!(request.send(&app).await, vec!["SUCCESS"; 7], "redelivered whole");
    assert_eq!(notified(&db, "bob").await.len(), 2, "and nobody is notified twice");
}

async fn a_reminder_that_can_never_be_read_is_dropped_alone(db: TestDb) {
    let app = task_due::app(db.store.clone(), None);
    let (_, first) = due(&db, "alice", None, None).await;
    let (broken, poison) = due(&db, "bob", None, None).await;
    let (_, last) = due(&db, "carol", None, None).await;
    db.corrupt_task(broken.id).await;

    let mut request = BulkRequest::on("task-due");
    for event in [&first, &poison, &last] {
        request.cloud_event(event);
    }
    assert_eq!(request.send(&app).await, ["SUCCESS", "DROP", "SUCCESS"]);
    assert_eq!(notified(&db, "alice").await.len(), 1);
    assert!(notified(&db, "bob").await.is_empty());
    assert_eq!(notified(&db, "carol").await.len(), 1);
}
