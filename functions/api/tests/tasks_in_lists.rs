//! Tasks in lists through the API, on both backends: a task goes to the
//! caller's Inbox unless it names one of their lists; it moves with PATCH;
//! `?list=` filters; a list that holds tasks is not deleted; nobody puts a task
//! into another user's list, nor into an archived one; every task event names
//! the list under data schema v2. A refused request changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::{Value, json};

both_backends!(
    a_task_goes_to_the_inbox_unless_it_names_a_list,
    a_task_moves_between_lists_and_its_event_says_where,
    the_list_filter_shows_one_list_and_refuses_a_foreign_one,
    a_list_holding_tasks_is_not_deleted,
    tasks_go_only_into_lists_of_the_caller_that_are_not_archived,
);

async fn new_list(app: &TestApp, user: &str, name: &str) -> String {
    let res = app.send(Method::POST, "/v1/lists", Some(user), Some(json!({ "name": name }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    id_of(&res.body)
}

async fn inbox_id(app: &TestApp, user: &str) -> String {
    let res = app.send(Method::GET, "/v1/lists", Some(user), None).await;
    let items = res.body["items"].as_array().expect("items").clone();
    id_of(items.iter().find(|l| l["inbox"] == true).expect("an Inbox"))
}

async fn titles(app: &TestApp, user: &str, query: &str) -> Vec<String> {
    let res = app.send(Method::GET, &format!("/v1/tasks{query}"), Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {:?}", res.body);
    let items = res.body["items"].as_array().expect("items");
    let mut titles: Vec<String> =
        items.iter().map(|t| t["title"].as_str().expect("title").to_owned()).collect();
    titles.sort_unstable();
    titles
}

/// The task events in the outbox about `task`, oldest first.
async fn events_of(app: &TestApp, task: &str) -> Vec<Value> {
    let events = app.db.store.unpublished_events(1_000).await.expect("outbox");
    events.into_iter().map(|e| e.payload).filter(|p| p["subject"] == task).collect()
}

async fn a_task_goes_to_the_inbox_unless_it_names_a_list(app: TestApp) {
    let plain = app.create_titled("alice", "plain").await;
    let inbox = inbox_id(&app, "alice").await;
    assert_eq!(plain["list_id"], inbox.as_str(), "the first task made the Inbox and went there");
    let home = new_list(&app, "alice", "Home").await;
    let placed = app.create("alice", json!({ "title": "placed", "list_id": home })).await;
    assert_eq!(placed["list_id"], home.as_str());
    let read = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(&placed)), Some("alice"), None).await;
    assert_eq!(read.body["list_id"], home.as_str());
}

async fn a_task_moves_between_lists_and_its_event_says_where(app: TestApp) {
    let task = app.create_titled("alice", "wander").await;
    let inbox = inbox_id(&app, "alice").await;
    let home = new_list(&app, "alice", "Home").await;
    let path = format!("/v1/tasks/{}", id_of(&task));
    let moved = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "list_id": home }))).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(
        (moved.body["list_id"].as_str(), moved.body["version"].as_i64()),
        (Some(home.as_str()), Some(2))
    );
    let again = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "list_id": home }))).await;
    assert_eq!(again.body["version"], 2, "moving to where it is changes nothing");

    let events = events_of(&app, &id_of(&task)).await;
    let seen: Vec<(&str, &str, &str)> = events
        .iter()
        .map(|e| {
            let ty = e["type"].as_str().expect("type");
            let schema = e["dataschema"].as_str().expect("dataschema");
            (ty, schema, e["data"]["task"]["list_id"].as_str().expect("list_id"))
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("task.created", "urn:todo:events:task:v2", inbox.as_str()),
            ("task.updated", "urn:todo:events:task:v2", home.as_str()),
        ]
    );
    assert!(events.iter().all(|e| e["data"]["version"] == 2), "{events:?}");

    let null = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "list_id": null }))).await;
    assert_eq!(
        (null.status, null.detail_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["list_id".to_owned()])
    );
    let bad = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "list_id": "not-a-uuid" }))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    let read = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(
        (read.body["list_id"].as_str(), read.body["version"].as_i64()),
        (Some(home.as_str()), Some(2))
    );
}

async fn the_list_filter_shows_one_list_and_refuses_a_foreign_one(app: TestApp) {
    let home = new_list(&app, "alice", "Home").await;
    let work = new_list(&app, "alice", "Work").await;
    app.create("alice", json!({ "title": "sweep", "list_id": home })).await;
    app.create("alice", json!({ "title": "cook", "list_id": home, "priority": "high" })).await;
    app.create("alice", json!({ "title": "report", "list_id": work })).await;
    app.create_titled("alice", "loose").await;
    let inbox = inbox_id(&app, "alice").await;

    assert_eq!(titles(&app, "alice", &format!("?list={home}")).await, ["cook", "sweep"]);
    assert_eq!(titles(&app, "alice", &format!("?list={home}&priority=high")).await, ["cook"]);
    assert_eq!(titles(&app, "alice", &format!("?list={work}")).await, ["report"]);
    assert_eq!(titles(&app, "alice", &format!("?list={inbox}")).await, ["loose"]);
    assert_eq!(titles(&app, "alice", "").await, ["cook", "loose", "report", "sweep"]);

    // One page at a time, the filter holds on every page.
    let first = app.send(Method::GET, &format!("/v1/tasks?list={home}&limit=1"), Some("alice"), None).await;
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_owned();
    let second = app
        .send(Method::GET, &format!("/v1/tasks?list={home}&limit=1&cursor={cursor}"), Some("alice"), None)
        .await;
    assert_eq!(second.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["next_cursor"], Value::Null);

    let foreign = app.send(Method::GET, &format!("/v1/tasks?list={home}"), Some("mallory"), None).await;
    assert_eq!((foreign.status, foreign.code()), (StatusCode::NOT_FOUND, "not_found"));
    let unknown =
        app.send(Method::GET, &format!("/v1/tasks?list={}", uuid::Uuid::now_v7()), Some("alice"), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.send(Method::GET, "/v1/tasks?list=home", Some("alice"), None).await;
    assert_eq!(
        (malformed.status, malformed.detail_fields()),
        (StatusCode::BAD_REQUEST, vec!["list".to_owned()])
    );
}

async fn a_list_holding_tasks_is_not_deleted(app: TestApp) {
    let home = new_list(&app, "alice", "Home").await;
    let task = app.create("alice", json!({ "title": "sweep", "list_id": home })).await;
    let list_path = format!("/v1/lists/{home}");
    let refused = app.send(Method::DELETE, &list_path, Some("alice"), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "list_not_empty"));
    assert_eq!(app.send(Method::GET, &list_path, Some("alice"), None).await.status, StatusCode::OK);
    assert_eq!(titles(&app, "alice", &format!("?list={home}")).await, ["sweep"], "the task stays too");

    // A done task still holds the list; once moved away, the list goes.
    let task_path = format!("/v1/tasks/{}", id_of(&task));
    app.send(Method::POST, &format!("{task_path}/complete"), Some("alice"), None).await;
    let still = app.send(Method::DELETE, &list_path, Some("alice"), None).await;
    assert_eq!(still.code(), "list_not_empty");
    let inbox = inbox_id(&app, "alice").await;
    let moved = app.send(Method::PATCH, &task_path, Some("alice"), Some(json!({ "list_id": inbox }))).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(
        app.send(Method::DELETE, &list_path, Some("alice"), None).await.status,
        StatusCode::NO_CONTENT
    );
}

async fn tasks_go_only_into_lists_of_the_caller_that_are_not_archived(app: TestApp) {
    let private = new_list(&app, "alice", "Private").await;
    let archived = new_list(&app, "mallory", "Old").await;
    let archive = app
        .send(
            Method::PATCH,
            &format!("/v1/lists/{archived}"),
            Some("mallory"),
            Some(json!({ "archived": true })),
        )
        .await;
    assert_eq!(archive.status, StatusCode::OK);
    let before = app.outbox_len().await;
    let missing = uuid::Uuid::now_v7().to_string();
    for (list, message) in [
        (&private, "no such list"),
        (&missing, "no such list"),
        (&archived, "the list is archived: restore it first"),
    ] {
        let res = app
            .send(Method::POST, "/v1/tasks", Some("mallory"), Some(json!({ "title": "x", "list_id": list })))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{list}: {:?}", res.body);
        assert_eq!(res.body["error"]["details"], json!([{ "field": "list_id", "message": message }]));
    }
    // Every problem at once: the title's and the list's.
    let both = app
        .send(Method::POST, "/v1/tasks", Some("mallory"), Some(json!({ "title": "", "list_id": private })))
        .await;
    assert_eq!(both.detail_fields(), ["title", "list_id"]);

    let own = app.create_titled("mallory", "mine").await;
    let path = format!("/v1/tasks/{}", id_of(&own));
    for list in [&private, &archived] {
        let res = app.send(Method::PATCH, &path, Some("mallory"), Some(json!({ "list_id": list }))).await;
        assert_eq!(
            (res.status, res.detail_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["list_id".to_owned()])
        );
    }
    assert_eq!(app.outbox_len().await, before + 1, "only the one task created wrote an event");
    assert!(
        titles(&app, "alice", &format!("?list={private}")).await.is_empty(),
        "Alice's list holds nothing of Mallory's"
    );
    let read = app.send(Method::GET, &path, Some("mallory"), None).await;
    assert_eq!(
        (read.body["version"].as_i64(), read.body["list_id"].as_str()),
        (Some(1), own["list_id"].as_str())
    );
}
