//! Notifications and activity through the API: listed per user, marked read, and
//! never visible to another user.

mod common;

use axum::http::{Method, StatusCode};
use chrono::Utc;
use common::{TestApp, id_of};
use serde_json::{Value, json};
use todo_lib::activity::Activity;
use todo_lib::event::{EventType, TaskEventData};
use todo_lib::notification::Notification;

both_backends!(
    notifications_are_listed_newest_first_and_filtered_by_unread,
    marking_read_is_idempotent_and_scoped_to_the_owner,
    activity_is_listed_per_user_and_per_task,
    invalid_inbox_queries_are_400,
);

/// Stores a reminder notification for the task, as task-due would.
async fn notify(app: &TestApp, user: &str, task: &Value, event_id: &str) -> Notification {
    let stored =
        app.db.store.get_task(user, id_of(task).parse().expect("uuid")).await.expect("get").expect("task");
    let data = TaskEventData {
        version: 1,
        user_id: user.into(),
        task: stored,
        reminder_at: Some(Utc::now()),
        moved_from: None,
    };
    let n = Notification::reminder(event_id, &data, user, Utc::now());
    assert!(app.db.store.record_notification_once("task-due", &n, Utc::now()).await.expect("record"));
    n
}

async fn notifications_are_listed_newest_first_and_filtered_by_unread(app: TestApp) {
    let task = app.create_titled("alice", "dentist").await;
    let first = notify(&app, "alice", &task, "e1").await;
    let second = notify(&app, "alice", &task, "e2").await;
    let res = app.send(Method::GET, "/v1/notifications", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    let ids: Vec<&str> =
        res.body["items"].as_array().expect("items").iter().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(ids, [second.id.to_string(), first.id.to_string()]);
    assert_eq!(res.body["items"][0]["title"], "dentist");

    app.send(Method::POST, &format!("/v1/notifications/{}/read", second.id), Some("alice"), None).await;
    let unread = app.send(Method::GET, "/v1/notifications?unread=true", Some("alice"), None).await;
    assert_eq!(unread.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(unread.body["items"][0]["id"], first.id.to_string());
}

async fn marking_read_is_idempotent_and_scoped_to_the_owner(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let n = notify(&app, "alice", &task, "e1").await;
    let path = format!("/v1/notifications/{}/read", n.id);
    let stolen = app.send(Method::POST, &path, Some("mallory"), None).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(stolen.body["error"]["message"], "notification not found");
    let first = app.send(Method::POST, &path, Some("alice"), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body["read_at"].is_string());
    let again = app.send(Method::POST, &path, Some("alice"), None).await;
    assert_eq!(again.body["read_at"], first.body["read_at"], "the first read time is kept");
    let theirs = app.send(Method::GET, "/v1/notifications", Some("mallory"), None).await;
    assert_eq!(theirs.body, json!({ "items": [] }));
    let bad = app.send(Method::POST, "/v1/notifications/xyz/read", Some("alice"), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn activity_is_listed_per_user_and_per_task(app: TestApp) {
    let a = app.create_titled("alice", "a").await;
    let b = app.create_titled("alice", "b").await;
    for (i, task) in [&a, &b].into_iter().enumerate() {
        let stored = app
            .db
            .store
            .get_task("alice", id_of(task).parse().expect("uuid"))
            .await
            .expect("get")
            .expect("task");
        let data = TaskEventData {
            version: 1,
            user_id: "alice".into(),
            task: stored,
            reminder_at: None,
            moved_from: None,
        };
        let entry = Activity::of_event(EventType::Created, &format!("e{i}"), &data, Utc::now());
        assert!(app.db.store.record_activity_once("task-created", &entry, Utc::now()).await.expect("record"));
    }
    let all = app.send(Method::GET, "/v1/activity", Some("alice"), None).await;
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(all.body["items"][0]["summary"], "b", "newest first");
    let one = app.send(Method::GET, &format!("/v1/tasks/{}/activity", id_of(&a)), Some("alice"), None).await;
    assert_eq!(one.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(one.body["items"][0]["kind"], "task.created");
    let theirs =
        app.send(Method::GET, &format!("/v1/tasks/{}/activity", id_of(&a)), Some("mallory"), None).await;
    assert_eq!(theirs.body, json!({ "items": [] }));
    let inbox = a["list_id"].as_str().expect("the task's list");
    let listed =
        app.send(Method::GET, &format!("/v1/lists/{inbox}/activity?limit=1"), Some("alice"), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "the limit holds");
    assert_eq!(
        (listed.body["items"][0]["summary"].as_str(), listed.body["items"][0]["list_id"].as_str()),
        (Some("b"), Some(inbox))
    );
    let hidden = app.send(Method::GET, &format!("/v1/lists/{inbox}/activity"), Some("mallory"), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);
}

async fn invalid_inbox_queries_are_400(app: TestApp) {
    for path in [
        "/v1/notifications?limit=0",
        "/v1/notifications?unread=maybe",
        "/v1/activity?unread=true",
        "/v1/activity?x=1",
    ] {
        let res = app.send(Method::GET, path, Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(res.code(), "invalid_query");
    }
}
