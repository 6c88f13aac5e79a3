//! Delivering reminders, on PostgreSQL and SQLite: one in-app notification per
//! `task.due` event however often it arrives; none for a task that was completed,
//! deleted or moved meanwhile; RETRY when the database is down.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::task::{NewTask, Task, TaskPatch};
use todo_lib::testing::{TestDb, dapr_envelope, deliver_via_dapr as deliver};
use tower::ServiceExt;

todo_lib::on_both_backends!(
    a_reminder_becomes_one_notification_however_often_delivered,
    completed_deleted_or_moved_tasks_get_no_notification,
    a_broken_database_is_retry,
    poison_is_dropped_for_dapr_and_400_for_others,
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
    let task = Task::create("alice", input, now).expect("valid");
    let created = task_event(EventType::Created, &task, "api", now, None).expect("event");
    db.store.insert_task(&task, &created).await.expect("insert");
    let event = task_event(EventType::Due, &task, "cron-tick", now, task.remind_at).expect("event");
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

    let (task, event) = due(&db).await;
    let done = task.completed(now).expect("open");
    db.store
        .update_task(
            &done,
            task.version,
            &task_event(EventType::Completed, &done, "api", now, None).expect("e"),
        )
        .await
        .expect("update");
    assert_eq!(deliver(&app, &event).await.0, StatusCode::OK);

    let (task, event) = due(&db).await;
    db.store
        .delete_task(&task, &task_event(EventType::Deleted, &task, "api", now, None).expect("e"))
        .await
        .expect("delete");
    assert_eq!(deliver(&app, &event).await.0, StatusCode::OK);

    let (task, event) = due(&db).await;
    let patch = TaskPatch { due_at: Some(Some(now + Duration::days(1))), ..TaskPatch::default() };
    let moved = task.patched(patch, now).expect("valid").expect("changed");
    db.store
        .update_task(
            &moved,
            task.version,
            &task_event(EventType::Updated, &moved, "api", now, None).expect("e"),
        )
        .await
        .expect("update");
    assert_eq!(deliver(&app, &event).await.0, StatusCode::OK);

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
