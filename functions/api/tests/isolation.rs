//! No user reaches another's data: every route answers 404 for another user's
//! task (never 403, which would confirm it exists), and changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::json;

both_backends!(
    another_users_task_is_404_on_every_route_and_unchanged,
    lists_and_tags_show_only_the_callers_data
);

async fn another_users_task_is_404_on_every_route_and_unchanged(app: TestApp) {
    let task = app.create("alice", json!({ "title": "private", "tags": ["secret"] })).await;
    let id = id_of(&task);
    let events_before = app.outbox_len().await;
    for (method, path, body) in [
        (Method::GET, format!("/v1/tasks/{id}"), None),
        (Method::PATCH, format!("/v1/tasks/{id}"), Some(json!({ "title": "mine now" }))),
        (Method::DELETE, format!("/v1/tasks/{id}"), None),
        (Method::POST, format!("/v1/tasks/{id}/complete"), None),
        (Method::POST, format!("/v1/tasks/{id}/reopen"), None),
    ] {
        let res = app.send(method.clone(), &path, Some("mallory"), body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(res.code(), "not_found");
        // The same answer as for a task that does not exist at all.
        let missing = path.replace(&id, &uuid::Uuid::now_v7().to_string());
        let body = (method == Method::PATCH).then(|| json!({ "title": "x" }));
        assert_eq!(app.send(method.clone(), &missing, Some("mallory"), body).await.body, res.body);
    }
    let res = app.send(Method::GET, &format!("/v1/tasks/{id}"), Some("alice"), None).await;
    assert_eq!(res.body, task, "alice's task is untouched");
    assert_eq!(app.outbox_len().await, events_before, "no event for refused changes");
}

async fn lists_and_tags_show_only_the_callers_data(app: TestApp) {
    app.create("alice", json!({ "title": "alice's", "tags": ["secret"] })).await;
    for query in ["", "?status=all", "?q=alice", "?tag=secret", "?sort=title"] {
        let res = app.send(Method::GET, &format!("/v1/tasks{query}"), Some("mallory"), None).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.body["items"], json!([]), "query {query:?}");
    }
    let tags = app.send(Method::GET, "/v1/tags", Some("mallory"), None).await;
    assert_eq!(tags.body, json!({ "tags": [] }));
}
