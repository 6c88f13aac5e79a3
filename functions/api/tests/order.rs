//! A list's own order through the API, on both backends: new tasks go last,
//! `POST /v1/tasks/{id}/move` puts a task after another of its list (or
//! first) with one event, keyset pages follow the order, a list out of room
//! between two tasks is spread out without losing the order, moves by two
//! members at once leave one order, and refused moves change nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of, team};
use serde_json::{Value, json};

both_backends!(
    new_tasks_go_last_and_a_move_puts_a_task_after_another_or_first,
    a_move_writes_one_task_and_one_event_and_a_move_to_where_it_is_writes_nothing,
    pages_follow_the_order,
    a_list_out_of_room_is_spread_out_and_keeps_its_order,
    two_members_moving_at_once_leave_one_order,
    refused_moves_change_nothing,
    a_task_moved_to_another_list_goes_last_there,
);

/// Tasks titled `titles`, made in this order in `list`; their ids.
async fn tasks(app: &TestApp, list: &str, titles: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for title in titles {
        ids.push(id_of(&app.create("alice", json!({ "title": title, "list_id": list })).await));
    }
    ids
}

/// The titles of `list` in its own order, as `user` reads them.
async fn order(app: &TestApp, user: &str, list: &str) -> Vec<String> {
    let res = app
        .send(Method::GET, &format!("/v1/tasks?list={list}&sort=manual&limit=200"), Some(user), None)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn move_after(app: &TestApp, user: &str, id: &str, after: Option<&str>) -> common::TestResponse {
    app.send(Method::POST, &format!("/v1/tasks/{id}/move"), Some(user), Some(json!({ "after": after }))).await
}

async fn moved(app: &TestApp, user: &str, id: &str, after: Option<&str>) -> Value {
    let res = move_after(app, user, id, after).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    res.body
}

async fn new_tasks_go_last_and_a_move_puts_a_task_after_another_or_first(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b", "c", "d"]).await;
    assert_eq!(order(&app, "bob", &list).await, ["a", "b", "c", "d"], "new tasks go last");
    moved(&app, "bob", &ids[3], None).await;
    assert_eq!(order(&app, "alice", &list).await, ["d", "a", "b", "c"], "first");
    moved(&app, "alice", &ids[0], Some(&ids[2])).await;
    assert_eq!(order(&app, "alice", &list).await, ["d", "b", "c", "a"], "after c, at the end");
    moved(&app, "bob", &ids[3], Some(&ids[1])).await;
    assert_eq!(order(&app, "vic", &list).await, ["b", "d", "c", "a"], "after b, in the middle");
    tasks(&app, &list, &["e"]).await;
    assert_eq!(order(&app, "vic", &list).await, ["b", "d", "c", "a", "e"], "a new task still goes last");
}

async fn a_move_writes_one_task_and_one_event_and_a_move_to_where_it_is_writes_nothing(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b", "c"]).await;
    let before = app.outbox_len().await;
    let task = moved(&app, "bob", &ids[2], Some(&ids[0])).await;
    assert_eq!(task["version"], 2);
    let events = app.db.store.unpublished_events(10_000).await.expect("outbox");
    let new: Vec<(String, String)> = events[before..]
        .iter()
        .map(|e| {
            (
                e.payload["type"].as_str().expect("type").to_owned(),
                e.payload["subject"].as_str().expect("subject").to_owned(),
            )
        })
        .collect();
    assert_eq!(new, [("task.updated".to_owned(), ids[2].clone())], "one event, for the task moved");
    let again = moved(&app, "bob", &ids[2], Some(&ids[0])).await;
    assert_eq!((again["version"].clone(), again["position"].clone()), (json!(2), task["position"].clone()));
    let first = moved(&app, "bob", &ids[0], None).await;
    assert_eq!(first["version"], 1, "a in its place already");
    assert_eq!(app.outbox_len().await, before + 1, "moves to where a task is write nothing");
    let res = app
        .send_with(
            Method::POST,
            &format!("/v1/tasks/{}/move", ids[1]),
            Some("bob"),
            Some(json!({ "after": null })),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(res.status, StatusCode::PRECONDITION_FAILED, "If-Match is honoured");
}

async fn pages_follow_the_order(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b", "c", "d", "e"]).await;
    moved(&app, "alice", &ids[4], None).await;
    moved(&app, "alice", &ids[0], Some(&ids[2])).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..5 {
        let path = format!("/v1/tasks?list={list}&sort=manual&limit=2{cursor}");
        let page = app.send(Method::GET, &path, Some("bob"), None).await.body;
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|t| t["title"].as_str().expect("title").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["e", "b", "c", "a", "d"]);
    let desc = app
        .send(Method::GET, &format!("/v1/tasks?list={list}&sort=manual&order=desc"), Some("bob"), None)
        .await;
    let titles: Vec<&str> = desc.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["d", "a", "c", "b", "e"]);
}

async fn a_list_out_of_room_is_spread_out_and_keeps_its_order(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b", "c", "d"]).await;
    // The same two tasks, each put between a and the other, halve the room
    // between them every move: a list made in one go runs out within a few
    // dozen moves, and is spread out again.
    let mut expected = vec!["a", "b", "c", "d"];
    for round in 0..80 {
        let (mover, name) = if round % 2 == 0 { (&ids[2], "c") } else { (&ids[1], "b") };
        moved(&app, "bob", mover, Some(&ids[0])).await;
        expected.retain(|t| *t != name);
        expected.insert(1, name);
        assert_eq!(order(&app, "alice", &list).await, expected, "after move {round}");
    }
    let positions: Vec<i64> =
        app.send(Method::GET, &format!("/v1/tasks?list={list}&sort=manual"), Some("alice"), None).await.body
            ["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["position"].as_i64().expect("position"))
            .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "distinct positions, in order: {positions:?}");
}

async fn two_members_moving_at_once_leave_one_order(app: TestApp) {
    let list = team(&app).await;
    let titles = ["a", "b", "c", "d", "e", "f"];
    let ids = tasks(&app, &list, &titles).await;
    // Alice puts f first while Bob puts e first: whichever goes second is
    // first, the other second, and the rest keep their order.
    let (alice, bob) = tokio::join!(moved(&app, "alice", &ids[5], None), moved(&app, "bob", &ids[4], None));
    assert_ne!(alice["position"], bob["position"], "one order: no tie");
    let seen = order(&app, "vic", &list).await;
    assert!(seen == ["f", "e", "a", "b", "c", "d"] || seen == ["e", "f", "a", "b", "c", "d"], "{seen:?}");
    assert_eq!(order(&app, "alice", &list).await, seen, "every member reads the same order");
    // Both put a task after the same one at once.
    let (x, y) = tokio::join!(
        moved(&app, "alice", &ids[0], Some(&ids[3])),
        moved(&app, "bob", &ids[1], Some(&ids[3]))
    );
    assert_ne!(x["position"], y["position"]);
    let seen = order(&app, "bob", &list).await;
    let tail = &seen[seen.len() - 3..];
    assert!(tail == ["d", "a", "b"] || tail == ["d", "b", "a"], "{seen:?}");
    assert_eq!(seen.len(), titles.len(), "no task lost or doubled: {seen:?}");
}

async fn refused_moves_change_nothing(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b"]).await;
    let parent = ids[0].clone();
    let child = id_of(&app.create("alice", json!({ "title": "a.1", "parent_id": parent })).await);
    let elsewhere = id_of(&app.create_titled("alice", "in the Inbox").await);
    let before = (order(&app, "alice", &list).await, app.outbox_len().await);
    for (body, message) in [
        (json!({}), "is required"),
        (json!({ "after": ids[0].clone() }), "is the task itself"),
        (json!({ "after": elsewhere }), "is in another list"),
        (json!({ "after": child }), "has another parent task"),
        (json!({ "after": "0190c0de-0000-7000-8000-000000000000" }), "names no task you can see"),
    ] {
        let res = app
            .send(Method::POST, &format!("/v1/tasks/{}/move", ids[0]), Some("alice"), Some(body.clone()))
            .await;
        assert_eq!(
            (res.status, res.detail_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["after".to_owned()]),
            "{body}"
        );
        assert!(
            res.body["error"]["details"][0]["message"].as_str().expect("message").contains(message),
            "{:?}",
            res.body
        );
    }
    let viewer = move_after(&app, "vic", &ids[1], None).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let stranger = move_after(&app, "mallory", &ids[1], None).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let unknown = app
        .send(
            Method::POST,
            &format!("/v1/tasks/{}/move", ids[1]),
            Some("bob"),
            Some(json!({ "after": null, "to": 3 })),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{:?}", unknown.body);
    assert_eq!((order(&app, "alice", &list).await, app.outbox_len().await), before);
}

async fn a_task_moved_to_another_list_goes_last_there(app: TestApp) {
    let list = team(&app).await;
    let ids = tasks(&app, &list, &["a", "b"]).await;
    let other = id_of(
        &app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Other" }))).await.body,
    );
    let late = tasks(&app, &other, &["x", "y"]).await;
    moved(&app, "alice", &late[1], None).await;
    // a was made before x and y: moved in, it goes last all the same.
    let res = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", ids[0]),
            Some("alice"),
            Some(json!({ "list_id": other })),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    assert_eq!(order(&app, "alice", &other).await, ["y", "x", "a"]);
}
