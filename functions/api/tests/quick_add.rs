//! `POST /v1/quick-add`: a line read into a task's fields, stored nowhere,
//! and those fields accepted as they are by `POST /v1/tasks`.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Timelike, Utc};
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_line_is_read_into_fields_that_post_tasks_takes_as_they_are() {
    let app = TestApp::sqlite().await;
    let text = "Pay rent tomorrow 9am #home !high every month";
    let res = app
        .send(
            Method::POST,
            "/v1/quick-add",
            Some("alice"),
            Some(json!({"text": text, "time_zone": "America/New_York"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let task = &res.body["task"];
    assert_eq!(task["title"], "Pay rent");
    assert_eq!(task["tags"], json!(["home"]));
    assert_eq!(task["priority"], "high");
    assert_eq!(task["recurrence"], "FREQ=MONTHLY");
    assert_eq!(task["time_zone"], "America/New_York");
    let due: DateTime<Utc> = task["due_at"].as_str().expect("a due time").parse().expect("RFC 3339");
    let local = due.with_timezone(&chrono_tz::America::New_York);
    let tomorrow =
        Utc::now().with_timezone(&chrono_tz::America::New_York).date_naive().succ_opt().expect("a day");
    assert_eq!(
        (local.date_naive(), local.hour(), local.minute()),
        (tomorrow, 9, 0),
        "9am tomorrow in New York"
    );
    let fields: Vec<&str> = res.body["recognized"]
        .as_array()
        .expect("recognized")
        .iter()
        .filter_map(|r| r["field"].as_str())
        .collect();
    assert_eq!(fields, ["tags", "priority", "recurrence", "due_at"]);
    assert_eq!(app.outbox_len().await, 0, "reading stores nothing");

    let created = app.create("alice", task.clone()).await;
    assert_eq!(
        (created["title"].clone(), created["due_at"].clone()),
        (task["title"].clone(), task["due_at"].clone())
    );
    assert_eq!(created["recurrence"], "FREQ=MONTHLY");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    let app = TestApp::sqlite().await;
    let long_title = "word ".repeat(60);
    for (body, status, field) in [
        (json!({"text": "   "}), StatusCode::UNPROCESSABLE_ENTITY, "text"),
        (json!({"text": "x".repeat(501)}), StatusCode::UNPROCESSABLE_ENTITY, "text"),
        (
            json!({"text": "Tea 5pm", "time_zone": "Mars/Olympus"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "time_zone",
        ),
        (json!({"text": long_title}), StatusCode::UNPROCESSABLE_ENTITY, "title"),
        (json!({"text": "Tea", "when": "now"}), StatusCode::BAD_REQUEST, "when"),
    ] {
        let res = app.send(Method::POST, "/v1/quick-add", Some("alice"), Some(body.clone())).await;
        assert_eq!(res.status, status, "{body}: {:?}", res.body);
        assert_eq!(res.detail_fields(), [field], "{body}");
    }
    let res = app.send(Method::POST, "/v1/quick-add", None, Some(json!({"text": "Tea"}))).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.outbox_len().await, 0);
}

#[tokio::test]
async fn an_at_name_puts_the_task_in_a_list_the_user_may_add_to() {
    let app = TestApp::postgres().await;
    let list = |owner: &str, name: &str| {
        let app = &app;
        let (owner, name) = (owner.to_owned(), name.to_owned());
        async move {
            let res = app.send(Method::POST, "/v1/lists", Some(&owner), Some(json!({ "name": name }))).await;
            assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
            res.body["id"].as_str().expect("id").to_owned()
        }
    };
    let club = list("alice", "Book club").await;
    let theirs = list("bob", "Garden").await;
    let share = format!("/v1/lists/{theirs}/members");
    let shared = app
        .send(Method::POST, &share, Some("bob"), Some(json!({ "user_id": "alice", "role": "viewer" })))
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{:?}", shared.body);

    let read = |text: &'static str| {
        let app = &app;
        async move {
            let res =
                app.send(Method::POST, "/v1/quick-add", Some("alice"), Some(json!({ "text": text }))).await;
            assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
            res.body
        }
    };
    let body = read("Read chapter 3 @book-club tomorrow").await;
    assert_eq!((&body["task"]["title"], &body["task"]["list_id"]), (&json!("Read chapter 3"), &json!(club)));
    assert!(
        body["recognized"]
            .as_array()
            .expect("recognized")
            .contains(&json!({"text": "@book-club", "field": "list_id"}))
    );
    let created = app.create("alice", body["task"].clone()).await;
    assert_eq!(created["list_id"], json!(club), "POST /v1/tasks takes the list as read");

    let viewer = read("Weed the beds @garden").await;
    assert_eq!(
        viewer["task"]["title"], "Weed the beds @garden",
        "a list she only views is not one to add to"
    );
    assert!(viewer["task"].get("list_id").is_none());
    let other = read("Lunch @carol").await;
    assert_eq!(other["task"]["title"], "Lunch @carol", "an @word naming no list stays in the title");
}
