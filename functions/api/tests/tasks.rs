//! Every task endpoint, in-process, on PostgreSQL and SQLite.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use common::{TestApp, id_of};
use serde_json::{Value, json};

both_backends!(
    create_returns_201_with_location_etag_and_defaults,
    create_writes_a_task_created_event,
    get_returns_the_task_with_its_etag,
    get_of_a_missing_task_is_404,
    patch_changes_the_given_fields_and_bumps_the_version,
    patch_null_clears_a_field,
    patch_that_changes_nothing_keeps_the_version_and_writes_no_event,
    complete_marks_done_once_and_emits_task_completed,
    reopen_marks_open_and_emits_task_updated,
    delete_returns_204_then_404_and_emits_task_deleted,
    list_returns_the_callers_tasks_newest_first,
    list_applies_filters_from_the_query_string,
    list_pages_with_next_cursor,
    tags_lists_the_callers_tags_with_counts,
);

async fn create_returns_201_with_location_etag_and_defaults(app: TestApp) {
    let res =
        app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": " Buy milk " }))).await;
    assert_eq!(res.status, StatusCode::CREATED);
    let id = id_of(&res.body);
    assert_eq!(res.header("location"), Some(format!("/v1/tasks/{id}").as_str()));
    assert_eq!(res.header("etag"), Some("\"1\""));
    assert_eq!(res.body["title"], "Buy milk");
    assert_eq!(res.body["priority"], "medium");
    assert_eq!(res.body["completed"], false);
    assert_eq!(res.body["tags"], json!([]));
    assert_eq!(res.body["version"], 1);
    assert!(res.body.get("user_id").is_none(), "the owner is not exposed");
}

async fn create_writes_a_task_created_event(app: TestApp) {
    let due = (Utc::now() + Duration::days(1)).to_rfc3339();
    let task = app
        .create(
            "alice",
            json!({ "title": "t", "due_at": due, "remind_before_minutes": 15, "tags": ["Work"] }),
        )
        .await;
    let events = app.db.store.unpublished_events(10).await.expect("outbox");
    assert_eq!(events.len(), 1);
    let ce = &events[0].payload;
    assert_eq!(ce["type"], "task.created");
    assert_eq!(ce["source"], "api");
    assert_eq!(ce["subject"], task["id"]);
    assert_eq!(ce["data"]["user_id"], "alice");
    assert_eq!(ce["data"]["task"]["tags"], json!(["work"]));
    assert_eq!(ce["data"]["task"]["remind_at"], task["remind_at"]);
}

async fn get_returns_the_task_with_its_etag(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let res = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(&task)), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, task);
    assert_eq!(res.header("etag"), Some("\"1\""));
}

async fn get_of_a_missing_task_is_404(app: TestApp) {
    let res =
        app.send(Method::GET, &format!("/v1/tasks/{}", uuid::Uuid::now_v7()), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
}

async fn patch_changes_the_given_fields_and_bumps_the_version(app: TestApp) {
    let task = app.create("alice", json!({ "title": "old", "description": "keep", "priority": "low" })).await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "title": "new", "priority": "urgent", "tags": ["a", "A", "b"] })),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["title"], "new");
    assert_eq!(res.body["description"], "keep");
    assert_eq!(res.body["priority"], "urgent");
    assert_eq!(res.body["tags"], json!(["a", "b"]));
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.header("etag"), Some("\"2\""));
    let stored = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(stored.body, res.body);
    let events = app.db.store.unpublished_events(10).await.expect("outbox");
    assert_eq!(events.last().map(|e| e.payload["type"].clone()), Some(json!("task.updated")));
}

async fn patch_null_clears_a_field(app: TestApp) {
    let due = (Utc::now() + Duration::days(1)).to_rfc3339();
    let task = app.create("alice", json!({ "title": "t", "due_at": due, "description": "d" })).await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app
        .send(Method::PATCH, &path, Some("alice"), Some(json!({ "due_at": null, "description": null })))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(res.body["due_at"], Value::Null);
    assert_eq!(res.body["description"], "");
}

async fn patch_that_changes_nothing_keeps_the_version_and_writes_no_event(app: TestApp) {
    let task = app.create_titled("alice", "same").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "same" }))).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["version"], 1);
    assert_eq!(app.outbox_len().await, 1);
}

async fn complete_marks_done_once_and_emits_task_completed(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}/complete", id_of(&task));
    let first = app.send(Method::POST, &path, Some("alice"), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["completed"], true);
    assert!(first.body["completed_at"].is_string());
    let again = app.send(Method::POST, &path, Some("alice"), None).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body, "completing twice changes nothing");
    let types: Vec<Value> = app
        .db
        .store
        .unpublished_events(10)
        .await
        .expect("outbox")
        .iter()
        .map(|e| e.payload["type"].clone())
        .collect();
    assert_eq!(types, [json!("task.created"), json!("task.completed")]);
}

async fn reopen_marks_open_and_emits_task_updated(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let id = id_of(&task);
    app.send(Method::POST, &format!("/v1/tasks/{id}/complete"), Some("alice"), None).await;
    let res = app.send(Method::POST, &format!("/v1/tasks/{id}/reopen"), Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["completed"], false);
    assert_eq!(res.body["completed_at"], Value::Null);
    assert_eq!(res.body["version"], 3);
    let events = app.db.store.unpublished_events(10).await.expect("outbox");
    assert_eq!(events.last().map(|e| e.payload["type"].clone()), Some(json!("task.updated")));
}

async fn delete_returns_204_then_404_and_emits_task_deleted(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app.send(Method::DELETE, &path, Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    let events = app.db.store.unpublished_events(10).await.expect("outbox");
    let last = events.last().expect("events");
    assert_eq!(last.payload["type"], "task.deleted");
    assert_eq!(last.payload["data"]["task"]["id"], task["id"]);
}

async fn list_returns_the_callers_tasks_newest_first(app: TestApp) {
    app.create_titled("alice", "first").await;
    app.create_titled("alice", "second").await;
    app.create_titled("bob", "bob's").await;
    let res = app.send(Method::GET, "/v1/tasks", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    let titles: Vec<&str> =
        res.body["items"].as_array().expect("items").iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(titles, ["second", "first"]);
    assert_eq!(res.body["next_cursor"], Value::Null);
}

async fn list_applies_filters_from_the_query_string(app: TestApp) {
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    app.create(
        "alice",
        json!({ "title": "Late report", "priority": "high", "tags": ["work"], "due_at": past }),
    )
    .await;
    app.create("alice", json!({ "title": "Report draft", "priority": "low", "tags": ["work", "home"] }))
        .await;
    app.create("alice", json!({ "title": "Groceries", "priority": "urgent", "tags": ["home"] })).await;

    let titles = |res: &common::TestResponse| -> Vec<String> {
        res.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|t| t["title"].as_str().map(String::from))
            .collect()
    };
    let get = |q: &'static str| app.send(Method::GET, q, Some("alice"), None);

    assert_eq!(titles(&get("/v1/tasks?priority=high,urgent&sort=title").await), ["Groceries", "Late report"]);
    assert_eq!(
        titles(&get("/v1/tasks?priority=high&priority=urgent&sort=title").await),
        ["Groceries", "Late report"]
    );
    assert_eq!(titles(&get("/v1/tasks?tag=work&tag=home").await), ["Report draft"]);
    assert_eq!(
        titles(&get("/v1/tasks?q=REPORT&sort=title&order=desc").await),
        ["Report draft", "Late report"]
    );
    assert_eq!(titles(&get("/v1/tasks?overdue=true").await), ["Late report"]);
    assert_eq!(titles(&get("/v1/tasks?status=done").await), Vec::<String>::new());
}

async fn list_pages_with_next_cursor(app: TestApp) {
    for i in 0..5 {
        app.create_titled("alice", &format!("t{i}")).await;
    }
    let mut path = "/v1/tasks?limit=2&sort=title".to_owned();
    let mut titles = Vec::new();
    for _ in 0..10 {
        let res = app.send(Method::GET, &path, Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
        titles.extend(
            res.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter_map(|t| t["title"].as_str().map(String::from)),
        );
        match res.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/tasks?limit=2&sort=title&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(titles, ["t0", "t1", "t2", "t3", "t4"]);
}

async fn tags_lists_the_callers_tags_with_counts(app: TestApp) {
    app.create("alice", json!({ "title": "a", "tags": ["work", "home"] })).await;
    app.create("alice", json!({ "title": "b", "tags": ["work"] })).await;
    app.create("bob", json!({ "title": "c", "tags": ["private"] })).await;
    let res = app.send(Method::GET, "/v1/tags", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, json!({ "tags": [{ "tag": "work", "count": 2 }, { "tag": "home", "count": 1 }] }));
}
