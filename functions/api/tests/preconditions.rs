//! Optimistic concurrency: `ETag` carries the version, `If-Match` guards every
//! change, a stale version is 412 and changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::json;

both_backends!(
    a_stale_if_match_is_412_on_every_change_and_changes_nothing,
    a_current_if_match_lets_the_change_through,
    if_match_star_and_lists_of_tags_are_understood,
    a_malformed_if_match_is_400,
    concurrent_patches_without_if_match_all_apply,
);

async fn a_stale_if_match_is_412_on_every_change_and_changes_nothing(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let id = id_of(&task);
    let path = format!("/v1/tasks/{id}");
    let v2 = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "t2" }))).await;
    assert_eq!(v2.status, StatusCode::OK);
    for (method, path, body) in [
        (Method::PATCH, path.clone(), Some(json!({ "title": "stale" }))),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/complete"), None),
        (Method::POST, format!("{path}/reopen"), None),
    ] {
        let res = app.send_with(method.clone(), &path, Some("alice"), body, &[("if-match", "\"1\"")]).await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{method} {path}");
        assert_eq!(res.code(), "precondition_failed");
    }
    let stored = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(stored.body, v2.body);
    assert_eq!(app.outbox_len().await, 2);
}

async fn a_current_if_match_lets_the_change_through(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app
        .send_with(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "title": "new" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let etag = res.header("etag").expect("etag").to_owned();
    let res = app
        .send_with(Method::POST, &format!("{path}/complete"), Some("alice"), None, &[("if-match", &etag)])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let etag = res.header("etag").expect("etag").to_owned();
    let res = app.send_with(Method::DELETE, &path, Some("alice"), None, &[("if-match", &etag)]).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
}

async fn if_match_star_and_lists_of_tags_are_understood(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let res = app
        .send_with(Method::PATCH, &path, Some("alice"), Some(json!({ "title": "a" })), &[("if-match", "*")])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app
        .send_with(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "title": "b" })),
            &[("if-match", "\"7\", \"2\"")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = app
        .send_with(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "title": "c" })),
            &[("if-match", "W/\"3\"")],
        )
        .await;
    assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "weak tags never match If-Match");
    // Entity tags compare as strings: the current ETag is "3", and "03" or "+3" is another tag.
    for tag in ["\"03\"", "\"+3\""] {
        let res = app
            .send_with(
                Method::PATCH,
                &path,
                Some("alice"),
                Some(json!({ "title": "c" })),
                &[("if-match", tag)],
            )
            .await;
        assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "{tag} is not \"3\"");
    }
    let current = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!((current.header("etag"), current.body["title"].as_str()), (Some("\"3\""), Some("b")));
    let missing = format!("/v1/tasks/{}", uuid::Uuid::now_v7());
    let res = app
        .send_with(
            Method::PATCH,
            &missing,
            Some("alice"),
            Some(json!({ "title": "x" })),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

async fn a_malformed_if_match_is_400(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    for value in ["1", "\"one\"", "\"1"] {
        let res = app
            .send_with(
                Method::PATCH,
                &path,
                Some("alice"),
                Some(json!({ "title": "x" })),
                &[("if-match", value)],
            )
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{value}");
        assert_eq!(res.code(), "invalid_header");
    }
}

async fn concurrent_patches_without_if_match_all_apply(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    // Different fields, so every change can be seen in the result; polled together
    // so that they really interleave.
    let (a, b, c) = tokio::join!(
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "description": "d" }))),
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "priority": "high" }))),
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "tags": ["x"] }))),
    );
    let results = [a, b, c];
    let ok = results.iter().filter(|r| r.status == StatusCode::OK).count();
    let conflict = results.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!(ok + conflict, 3, "{results:?}");
    assert!(ok >= 1, "at least one writer wins");
    let stored = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(stored.body["version"], 1 + ok as i64, "each success is one version");
    assert_eq!(app.outbox_len().await, 1 + ok);
}
