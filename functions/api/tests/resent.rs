//! A new task sent again is made once (the web app's offline queue, a client
//! whose answer was lost), on both backends: `POST /v1/tasks` with an `id`
//! the client chose answers 201 the first time and 200 with the task as it is
//! now after that, writing nothing; eight sends at once make one task and one
//! event; another user's id is refused without telling what it holds. And a
//! quick-add line queued offline is read as of when it was written.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Timelike, Utc};
use common::TestApp;
use serde_json::json;

both_backends!(
    the_same_new_task_sent_twice_is_made_once,
    a_resend_after_a_change_answers_the_task_as_it_is_now,
    eight_sends_at_once_make_one_task_and_one_event,
    an_id_another_task_has_is_refused_and_tells_nothing,
    a_nil_or_malformed_id_is_refused,
);

const ID: &str = "0b5b8c8e-6a3f-4c1e-9d2a-3f1e2d4c5b6a";

async fn the_same_new_task_sent_twice_is_made_once(app: TestApp) {
    let body = json!({ "id": ID, "title": "Buy milk", "tags": ["shop"] });
    let first = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["id"], ID, "the id chosen is the task's");
    let again = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body, first.body, "the same task");
    assert_eq!(again.header("location"), Some(format!("/v1/tasks/{ID}").as_str()));
    assert_eq!(again.header("etag"), Some("\"1\""));
    assert_eq!(app.outbox_len().await, 1, "one task.created event");
    let page = app.send(Method::GET, "/v1/tasks?q=milk", Some("alice"), None).await;
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(1), "{:?}", page.body);
}

async fn a_resend_after_a_change_answers_the_task_as_it_is_now(app: TestApp) {
    let body = json!({ "id": ID, "title": "Buy milk" });
    app.create("alice", body.clone()).await;
    let path = format!("/v1/tasks/{ID}");
    let renamed =
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "Buy oat milk" }))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let events = app.outbox_len().await;
    let again = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        (again.body["title"].as_str(), again.body["version"].as_i64()),
        (Some("Buy oat milk"), Some(2))
    );
    assert_eq!(app.outbox_len().await, events, "nothing written");
}

async fn eight_sends_at_once_make_one_task_and_one_event(app: TestApp) {
    let body = json!({ "id": ID, "title": "Buy milk" });
    let sends = (0..8).map(|_| app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())));
    let answers = futures_util::future::join_all(sends).await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let before = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    assert_eq!(
        (created, before),
        (1, 7),
        "{:?}",
        answers.iter().map(|a| (a.status, &a.body)).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|a| a.body["id"] == ID));
    assert_eq!(app.outbox_len().await, 1, "one task.created event");
}

async fn an_id_another_task_has_is_refused_and_tells_nothing(app: TestApp) {
    app.create("alice", json!({ "id": ID, "title": "Alice's secret" })).await;
    let events = app.outbox_len().await;
    let res =
        app.send(Method::POST, "/v1/tasks", Some("bob"), Some(json!({ "id": ID, "title": "Bob's" }))).await;
    assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "id_taken"), "{:?}", res.body);
    assert!(!res.body.to_string().contains("secret"), "nothing of Alice's task: {:?}", res.body);
    assert_eq!(app.outbox_len().await, events, "nothing written");
    let alices = app.send(Method::GET, &format!("/v1/tasks/{ID}"), Some("alice"), None).await;
    assert_eq!(alices.body["title"], "Alice's secret", "Alice's task is untouched");
}

async fn a_nil_or_malformed_id_is_refused(app: TestApp) {
    let nil = json!({ "id": "00000000-0000-0000-0000-000000000000", "title": "x" });
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(nil)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    assert_eq!(res.body["error"]["details"][0]["field"], "id", "{:?}", res.body);
    let malformed =
        app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "id": "milk", "title": "x" }))).await;
    assert!(malformed.status.is_client_error(), "{:?}", malformed.body);
    assert!(malformed.body.to_string().contains("id"), "{:?}", malformed.body);
    assert_eq!(app.outbox_len().await, 0, "nothing written");
}

/// The due time a quick-add line gets, written at `written_at`.
async fn read_as_of(app: &TestApp, written_at: DateTime<Utc>) -> common::TestResponse {
    let body =
        json!({ "text": "Buy milk tomorrow 9am", "time_zone": "Europe/Berlin", "written_at": written_at });
    app.send(Method::POST, "/v1/quick-add", Some("alice"), Some(body)).await
}

#[tokio::test]
async fn a_line_written_offline_is_read_as_of_when_it_was_written() {
    let app = TestApp::sqlite().await;
    let written = Utc::now() - Duration::days(2);
    let res = read_as_of(&app, written).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let due: DateTime<Utc> = res.body["task"]["due_at"].as_str().expect("due").parse().expect("RFC 3339");
    let local = due.with_timezone(&chrono_tz::Europe::Berlin);
    let day_after = written.with_timezone(&chrono_tz::Europe::Berlin).date_naive().succ_opt().expect("a day");
    assert_eq!((local.date_naive(), local.hour()), (day_after, 9), "9am the day after it was written");

    for (at, why) in [
        (Utc::now() + Duration::days(1), "in the future"),
        (Utc::now() - Duration::days(31), "over 30 days ago"),
    ] {
        let res = read_as_of(&app, at).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {:?}", res.body);
        assert_eq!(res.body["error"]["details"][0]["field"], "written_at", "{why}: {:?}", res.body);
    }
}
