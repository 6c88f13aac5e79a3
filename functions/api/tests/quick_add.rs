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
