//! Assignment through the API, on both backends: a task is assigned only to a
//! member of its list; `assignee=me` finds the caller's; `null` unassigns; a
//! member who leaves is unassigned from the list's tasks, each change with its
//! `task.updated` event naming no assignee, also when the assignment and the
//! removal race.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::json;

both_backends!(
    tasks_are_assigned_to_members_only_and_found_by_assignee,
    a_member_who_leaves_is_unassigned_with_an_event,
    an_assignment_racing_the_assignees_removal_never_outlives_it,
);

/// Alice's list with Bob as an editor.
async fn shared(app: &TestApp) -> String {
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Team" }))).await;
    let list = id_of(&res.body);
    app.sign_in(&["bob", "carol", "dave", "mallory"]).await;
    let bob = json!({ "user_id": "bob", "role": "editor" });
    let added = app.send(Method::POST, &format!("/v1/lists/{list}/members"), Some("alice"), Some(bob)).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    list
}

async fn titles(app: &TestApp, user: &str, query: &str) -> Vec<String> {
    let res = app.send(Method::GET, &format!("/v1/tasks{query}"), Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let mut titles: Vec<String> = res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect();
    titles.sort_unstable();
    titles
}

async fn tasks_are_assigned_to_members_only_and_found_by_assignee(app: TestApp) {
    let list = shared(&app).await;
    let for_bob =
        app.create("alice", json!({ "title": "for Bob", "list_id": list, "assignee_id": "bob" })).await;
    assert_eq!(for_bob["assignee_id"], "bob");
    app.create("alice", json!({ "title": "for Alice", "list_id": list, "assignee_id": "alice" })).await;
    app.create("alice", json!({ "title": "nobody's", "list_id": list })).await;

    let before = app.outbox_len().await;
    for (assignee, message) in [
        ("mallory", "must be a member of the task's list"),
        (" bob", "must not contain control characters or surrounding spaces"),
    ] {
        let body = json!({ "title": "x", "list_id": list, "assignee_id": assignee });
        let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
        assert_eq!(res.body["error"]["details"], json!([{ "field": "assignee_id", "message": message }]));
    }
    let inbox_task = app.create_titled("alice", "private").await;
    let to_bob = json!({ "assignee_id": "bob" });
    let path = format!("/v1/tasks/{}", id_of(&inbox_task));
    let refused = app.send(Method::PATCH, &path, Some("alice"), Some(to_bob)).await;
    assert_eq!(
        (refused.status, refused.detail_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["assignee_id".to_owned()])
    );
    // Moving an assigned task into a list its assignee is not in is refused too.
    let bob_path = format!("/v1/tasks/{}", id_of(&for_bob));
    let inbox = inbox_task["list_id"].as_str().expect("list");
    let moved = app.send(Method::PATCH, &bob_path, Some("alice"), Some(json!({ "list_id": inbox }))).await;
    assert_eq!(
        (moved.status, moved.detail_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["assignee_id".to_owned()])
    );
    assert_eq!(app.outbox_len().await, before + 1, "only the Inbox task was written");

    assert_eq!(titles(&app, "bob", "?assignee=me").await, ["for Bob"]);
    assert_eq!(titles(&app, "alice", "?assignee=me").await, ["for Alice"]);
    assert_eq!(titles(&app, "alice", "?assignee=bob").await, ["for Bob"]);
    let empty = app.send(Method::GET, "/v1/tasks?assignee=", Some("alice"), None).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let cleared = app.send(Method::PATCH, &bob_path, Some("bob"), Some(json!({ "assignee_id": null }))).await;
    assert_eq!((cleared.status, cleared.body["assignee_id"].clone()), (StatusCode::OK, json!(null)));
    assert!(titles(&app, "bob", "?assignee=me").await.is_empty());
}

async fn a_member_who_leaves_is_unassigned_with_an_event(app: TestApp) {
    let list = shared(&app).await;
    let task =
        app.create("alice", json!({ "title": "for Bob", "list_id": list, "assignee_id": "bob" })).await;
    let other =
        app.create("alice", json!({ "title": "for Alice", "list_id": list, "assignee_id": "alice" })).await;
    let left = app.send(Method::DELETE, &format!("/v1/lists/{list}/members/bob"), Some("bob"), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);

    let read = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(&task)), Some("alice"), None).await;
    assert_eq!((read.body["assignee_id"].clone(), read.body["version"].as_i64()), (json!(null), Some(2)));
    let kept = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(&other)), Some("alice"), None).await;
    assert_eq!((kept.body["assignee_id"].as_str(), kept.body["version"].as_i64()), (Some("alice"), Some(1)));

    let events = app.db.store.unpublished_events(100).await.expect("outbox");
    let about: Vec<_> =
        events.iter().map(|e| &e.payload).filter(|p| p["subject"] == id_of(&task).as_str()).collect();
    assert_eq!(about.len(), 2, "created, then unassigned: {about:?}");
    assert_eq!(about[1]["type"], "task.updated");
    assert_eq!(about[1]["data"]["task"]["assignee_id"], json!(null));
    assert_eq!(about[0]["data"]["task"]["assignee_id"], "bob");
}

async fn an_assignment_racing_the_assignees_removal_never_outlives_it(app: TestApp) {
    let list = shared(&app).await;
    let members = format!("/v1/lists/{list}/members");
    let mut outcomes = std::collections::BTreeSet::new();
    for round in 0..8 {
        if round > 0 {
            let bob = json!({ "user_id": "bob", "role": "editor" });
            let back = app.send(Method::POST, &members, Some("alice"), Some(bob)).await;
            assert_eq!(back.status, StatusCode::CREATED, "{:?}", back.body);
        }
        let task = app.create("alice", json!({ "title": format!("r{round}"), "list_id": list })).await;
        let (path, bob) = (format!("/v1/tasks/{}", id_of(&task)), format!("{members}/bob"));
        let (assigned, removed) = tokio::join!(
            app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "assignee_id": "bob" }))),
            app.send(Method::DELETE, &bob, Some("alice"), None),
        );
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        outcomes.insert(assigned.status.as_u16());
        let read = app.send(Method::GET, &path, Some("alice"), None).await;
        assert_eq!(read.body["assignee_id"], json!(null), "round {round}: Bob left, yet has the task");
    }
    assert!(outcomes.iter().all(|s| [200, 422].contains(s)), "{outcomes:?}");
}
