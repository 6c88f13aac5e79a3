//! Delivering reminders, on PostgreSQL and SQLite: one in-app notification per
//! `task.due` event however often it arrives; none for a task that was completed,
//! deleted or moved meanwhile; RETRY when the database is down.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;
use todo_lib::task::{NewTask, Task, TaskPatch};
use todo_testing::{TestDb, dapr_envelope, deliver_via_dapr as deliver, facts};
use tower::ServiceExt;

todo_testing::on_both_backends!(
    a_reminder_becomes_one_notification_however_often_delivered,
    completed_deleted_or_moved_tasks_get_no_notification,
    a_broken_database_is_retry,
    poison_is_dropped_for_dapr_and_400_for_others,
    a_forged_reminder_notifies_nobody_and_a_real_one_carries_the_stored_text,
);

/// A stored task with a reminder due now, and the `task.due` event claiming it.
async fn due(db: &TestDb) -> (Task, OutboxEvent) {
    let now = Utc::now();
    let input = NewTask {
        title: Some("Call the dentist".into()),
        due_at: Some(now + Duration::minutes(10)),
        remind_before_minutes: Some(10),
        ..NewTask::default()
    };
    let (task, _) = facts::created(&db.store, "alice", input, now).await;
    let event = facts::reminder(&db.store, &task, now + Duration::seconds(1)).await;
    (task, event)
}

async fn a_reminder_becomes_one_notification_however_often_delivered(db: TestDb) {
    let (task, event) = due(&db).await;
    let app = task_due::app(db.store.clone(), None);
    for _ in 0..3 {
        assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
    }
    let notes = db.store.list_notifications("alice", false, 10).await.expect("notifications");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].task_id, task.id);
    assert_eq!(notes[0].title, "Call the dentist");
    assert_eq!(notes[0].reminder_at, task.remind_at);
    assert_eq!(notes[0].event_id, event.id.to_string());
    assert_eq!(notes[0].read_at, None);
}

async fn completed_deleted_or_moved_tasks_get_no_notification(db: TestDb) {
    let app = task_due::app(db.store.clone(), None);
    let now = Utc::now();

    let store = &db.store;
    let (task, event) = due(&db).await;
    facts::completed(store, &task, now).await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));

    let (task, event) = due(&db).await;
    facts::deleted(store, &task, now).await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));

    let (task, event) = due(&db).await;
    let patch = TaskPatch { due_at: Some(Some(now + Duration::days(1))), ..TaskPatch::default() };
    facts::updated(store, &task, patch, now).await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));

    assert!(db.store.list_notifications("alice", false, 10).await.expect("notifications").is_empty());
}

async fn a_broken_database_is_retry(db: TestDb) {
    let (_, event) = due(&db).await;
    let app = task_due::app(db.store.clone(), None);
    let outage = db.break_connections().await;
    assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "RETRY" })));
    if db.pg_options().is_some() {
        outage.heal().await;
        assert_eq!(deliver(&app, &event).await, (StatusCode::OK, json!({ "status": "SUCCESS" })));
        assert_eq!(db.store.list_notifications("alice", false, 10).await.expect("notifications").len(), 1);
    }
}

async fn poison_is_dropped_for_dapr_and_400_for_others(db: TestDb) {
    let (_, event) = due(&db).await;
    let app = task_due::app(db.store.clone(), None);
    let mut wrong = dapr_envelope(&event);
    wrong["type"] = "task.completed".into();
    let req = Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body(Body::from(wrong.to_string()))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(body, json!({ "status": "DROP" }));
    let req =
        Request::post("/").header("content-type", "application/json").body(Body::from("{")).expect("request");
    assert_eq!(app.oneshot(req).await.expect("infallible").status(), StatusCode::BAD_REQUEST);
    assert!(db.store.list_notifications("alice", false, 10).await.expect("notes").is_empty());
}

/// Issue #13, item 1: a `task.due` nobody wrote for a real task (without
/// `reminder_at`, which once skipped the "moved" check) is dropped; a real one
/// whose copy carries other text notifies with the stored title.
async fn a_forged_reminder_notifies_nobody_and_a_real_one_carries_the_stored_text(db: TestDb) {
    let app = task_due::app(db.store.clone(), None);
    let (task, event) = due(&db).await;
    let mut fake = task.clone();
    fake.title = "Your account is locked: call +1 555 0100".into();
    let forged =
        todo_lib::event::task_event(todo_lib::event::EventType::Due, &fake, "cron-tick", Utc::now(), None)
            .expect("event");
    assert_eq!(deliver(&app, &forged).await, (StatusCode::OK, json!({ "status": "DROP" })));
    assert!(db.store.list_notifications("alice", false, 10).await.expect("notes").is_empty());

    let mut altered = dapr_envelope(&event);
    altered["data"]["task"]["title"] = fake.title.clone().into();
    let req = Request::post("/")
        .header("content-type", "application/cloudevents+json")
        .body(Body::from(altered.to_string()))
        .expect("request");
    let res = app.oneshot(req).await.expect("infallible");
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(body, json!({ "status": "SUCCESS" }));
    let notes = db.store.list_notifications("alice", false, 10).await.expect("notes");
    assert_eq!(notes.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["Call the dentist"]);
}
