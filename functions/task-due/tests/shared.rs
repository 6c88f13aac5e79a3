//! Reminders in a shared list (issue #15), on PostgreSQL and SQLite: the
//! notification goes to the assignee (unassigned, to the creator), only ever
//! to a member of the list, and the event to every member's webhooks.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use todo_lib::event::OutboxEvent;
use todo_lib::lists::TaskList;
use todo_lib::members::Role;
use todo_lib::task::NewTask;
use todo_testing::{TestDb, call, facts, structured};

todo_testing::on_both_backends!(
    the_assignee_is_reminded_and_every_members_webhooks_get_the_event,
    an_assignee_who_left_hands_the_reminder_to_the_creator,
    nobody_is_reminded_when_neither_is_in_the_list,
);

/// A list of Alice's shared with Bob (editor) and Carol (viewer), each of
/// whom (and Dave, a stranger) has one webhook.
async fn household(db: &TestDb) -> TaskList {
    let list = facts::shared_list(
        &db.store,
        "alice",
        "Household",
        &[("bob", Role::Editor), ("carol", Role::Viewer)],
    )
    .await;
    for user in ["alice", "bob", "carol", "dave"] {
        facts::webhook(&db.store, user, &format!("https://hooks.example.com/{user}")).await;
    }
    list
}

/// A task of `creator` in `list` assigned to `assignee`, with its reminder
/// due now, and the `task.due` event that claimed it.
async fn due(db: &TestDb, list: &TaskList, creator: &str, assignee: Option<&str>) -> OutboxEvent {
    let now = Utc::now();
    let input = NewTask {
        title: Some("Water the plants".into()),
        list_id: Some(list.id),
        assignee_id: assignee.map(str::to_owned),
        due_at: Some(now + Duration::minutes(10)),
        remind_before_minutes: Some(10),
        ..NewTask::default()
    };
    let (task, _) = facts::created(&db.store, creator, input, now).await;
    facts::reminder(&db.store, &task, now + Duration::seconds(1)).await
}

async fn notified(db: &TestDb, user: &str) -> usize {
    db.store.list_notifications(user, false, 10).await.expect("notifications").len()
}

async fn the_assignee_is_reminded_and_every_members_webhooks_get_the_event(db: TestDb) {
    let list = household(&db).await;
    let event = due(&db, &list, "alice", Some("carol")).await;
    let app = task_due::app(db.store.clone(), None);
    let (status, body) = call(&app, structured(&event.payload)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["webhooks_queued"], 3, "one webhook of each of three members: {body}");
    let counts = [notified(&db, "alice").await, notified(&db, "bob").await, notified(&db, "carol").await];
    assert_eq!(counts, [0, 0, 1], "only the assignee is reminded");
    let (_, again) = call(&app, structured(&event.payload)).await;
    assert_eq!(again["status"], "duplicate", "{again}");
    assert_eq!(notified(&db, "carol").await, 1);
}

async fn an_assignee_who_left_hands_the_reminder_to_the_creator(db: TestDb) {
    let list = household(&db).await;
    let event = due(&db, &list, "alice", Some("bob")).await;
    facts::removed(&db.store, &list, "bob").await;
    let app = task_due::app(db.store.clone(), None);
    let (status, body) = call(&app, structured(&event.payload)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["webhooks_queued"], 2, "Bob's webhook gets nothing: {body}");
    assert_eq!((notified(&db, "alice").await, notified(&db, "bob").await), (1, 0));
}

async fn nobody_is_reminded_when_neither_is_in_the_list(db: TestDb) {
    let list = household(&db).await;
    let event = due(&db, &list, "bob", None).await;
    facts::removed(&db.store, &list, "bob").await;
    let app = task_due::app(db.store.clone(), None);
    let (status, body) = call(&app, structured(&event.payload)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["result"]["skipped"].as_str().is_some_and(|s| s.contains("creator")), "{body}");
    for user in ["alice", "bob", "carol"] {
        assert_eq!(notified(&db, user).await, 0, "{user}");
    }
}
