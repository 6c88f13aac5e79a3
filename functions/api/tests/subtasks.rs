//! Subtasks through the API, on both backends: a subtask joins its parent's
//! list and is listed beneath it; the tree stays in one list, acyclic, at most
//! four levels deep and at most 200 subtasks large, and a refused change
//! stores nothing; completing, moving or deleting a task reaches its subtasks,
//! each with its own event; concurrent reparenting cannot make a cycle.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of, team};
use serde_json::{Value, json};

both_backends!(
    a_subtask_joins_its_parents_list_and_is_listed_beneath_it,
    parents_that_would_break_the_tree_are_422_and_store_nothing,
    completing_a_task_completes_its_open_subtasks_each_with_its_event,
    moving_a_task_moves_its_subtasks_and_a_subtask_moved_alone_is_top_level,
    deleting_a_task_deletes_its_subtasks_each_with_its_event,
    a_tree_holds_at_most_two_hundred_subtasks,
    concurrent_reparenting_makes_no_cycle,
);

async fn subtask(app: &TestApp, user: &str, parent: &Value, title: &str) -> Value {
    app.create(user, json!({ "title": title, "parent_id": parent["id"] })).await
}

async fn get(app: &TestApp, user: &str, path: &str) -> Value {
    let res = app.send(Method::GET, path, Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {:?}", res.body);
    res.body
}

fn titles(page: &Value) -> Vec<&str> {
    let mut titles: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title"))
        .collect();
    titles.sort_unstable();
    titles
}

/// The (type, subject) of every event in the outbox after the first `skip`.
async fn events_after(app: &TestApp, skip: usize) -> Vec<(String, String)> {
    let events = app.db.store.unpublished_events(10_000).await.expect("outbox");
    events[skip..]
        .iter()
        .map(|e| {
            let p = &e.payload;
            (p["type"].as_str().expect("type").to_owned(), p["subject"].as_str().expect("subject").to_owned())
        })
        .collect()
}

async fn a_subtask_joins_its_parents_list_and_is_listed_beneath_it(app: TestApp) {
    let list = team(&app).await;
    let parent = app.create("alice", json!({ "title": "Party", "list_id": list })).await;
    let child = subtask(&app, "bob", &parent, "Invite").await;
    assert_eq!((child["list_id"].as_str(), &child["parent_id"]), (Some(list.as_str()), &parent["id"]));
    subtask(&app, "alice", &child, "Write cards").await;
    subtask(&app, "alice", &parent, "Cake").await;
    app.create("alice", json!({ "title": "Elsewhere", "list_id": list })).await;

    let pid = id_of(&parent);
    let beneath = get(&app, "vic", &format!("/v1/tasks/{pid}/subtasks")).await;
    assert_eq!(titles(&beneath), ["Cake", "Invite"], "direct subtasks only, for a viewer too");
    let paged = get(&app, "bob", &format!("/v1/tasks/{pid}/subtasks?sort=title&limit=1")).await;
    assert_eq!(paged["items"][0]["title"], "Cake");
    let cursor = paged["next_cursor"].as_str().expect("a second page");
    let second =
        get(&app, "bob", &format!("/v1/tasks/{pid}/subtasks?sort=title&limit=1&cursor={cursor}")).await;
    assert_eq!((titles(&second), &second["next_cursor"]), (vec!["Invite"], &json!(null)));
    let top = get(&app, "alice", &format!("/v1/tasks?list={list}&parent=none")).await;
    assert_eq!(titles(&top), ["Elsewhere", "Party"]);
    let under = get(&app, "alice", &format!("/v1/tasks?parent={}", id_of(&child))).await;
    assert_eq!(titles(&under), ["Write cards"]);

    for (user, path, status) in [
        ("mallory", format!("/v1/tasks/{pid}/subtasks"), StatusCode::NOT_FOUND),
        ("alice", format!("/v1/tasks/{}/subtasks", uuid::Uuid::now_v7()), StatusCode::NOT_FOUND),
        ("alice", "/v1/tasks/nope/subtasks".to_owned(), StatusCode::BAD_REQUEST),
        ("alice", format!("/v1/tasks/{pid}/subtasks?parent=none"), StatusCode::BAD_REQUEST),
        ("alice", format!("/v1/tasks/{pid}/subtasks?list={list}"), StatusCode::BAD_REQUEST),
        ("alice", "/v1/tasks?parent=nope".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let res = app.send(Method::GET, &path, Some(user), None).await;
        assert_eq!(res.status, status, "{user} {path}: {:?}", res.body);
    }
    // A viewer cannot add subtasks.
    let refused = app
        .send(Method::POST, "/v1/tasks", Some("vic"), Some(json!({ "title": "x", "parent_id": pid })))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
}

async fn parents_that_would_break_the_tree_are_422_and_store_nothing(app: TestApp) {
    let list = team(&app).await;
    let top = app.create("alice", json!({ "title": "1", "list_id": list })).await;
    let two = subtask(&app, "alice", &top, "2").await;
    let three = subtask(&app, "alice", &two, "3").await;
    let four = subtask(&app, "alice", &three, "4").await;
    let other_list = app.create("alice", json!({ "title": "in the Inbox" })).await;
    let malloryss = app.create("mallory", json!({ "title": "Mallory's" })).await;
    let before = app.outbox_len().await;

    let not_in_list = "must be a task in the task's list";
    for (body, field, message) in [
        (
            json!({ "title": "5", "parent_id": four["id"] }),
            "parent_id",
            "would nest tasks more than 4 levels deep",
        ),
        (json!({ "title": "x", "parent_id": malloryss["id"] }), "parent_id", not_in_list),
        (json!({ "title": "x", "parent_id": uuid::Uuid::now_v7() }), "parent_id", not_in_list),
        (
            json!({ "title": "x", "parent_id": top["id"], "list_id": other_list["list_id"] }),
            "parent_id",
            not_in_list,
        ),
        (
            json!({ "title": "x", "parent_id": top["id"], "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY" }),
            "recurrence",
            "a subtask repeats with its parent: set the recurrence on the top-level task",
        ),
    ] {
        let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(res.body["error"]["details"], json!([{ "field": field, "message": message }]), "{body}");
    }

    let patch = |task: &Value, body: Value| {
        let path = format!("/v1/tasks/{}", id_of(task));
        let app = &app;
        async move { app.send(Method::PATCH, &path, Some("alice"), Some(body)).await }
    };
    for (task, body, message) in [
        (&top, json!({ "parent_id": four["id"] }), "must not be the task itself or one of its subtasks"),
        (&two, json!({ "parent_id": two["id"] }), "must not be the task itself or one of its subtasks"),
        (&three, json!({ "parent_id": four["id"] }), "must not be the task itself or one of its subtasks"),
        (&other_list, json!({ "parent_id": four["id"] }), not_in_list),
        (&other_list, json!({ "parent_id": malloryss["id"] }), not_in_list),
    ] {
        let res = patch(task, body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(
            res.body["error"]["details"],
            json!([{ "field": "parent_id", "message": message }]),
            "{body}"
        );
    }
    // A second tree of two levels cannot go beneath "3": that would make five.
    let other = app.create("alice", json!({ "title": "a", "list_id": list })).await;
    subtask(&app, "alice", &other, "b").await;
    let before_deep = app.outbox_len().await;
    let deep = patch(&other, json!({ "parent_id": three["id"] })).await;
    assert_eq!(deep.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", deep.body);
    assert_eq!(deep.body["error"]["details"][0]["message"], "would nest tasks more than 4 levels deep");
    // A recurring task cannot become a subtask, nor a subtask recur.
    let rec = patch(&four, json!({ "due_at": "2030-01-01T09:00:00Z", "recurrence": "FREQ=DAILY" })).await;
    assert_eq!(
        (rec.status, rec.detail_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["recurrence".to_owned()])
    );

    assert_eq!(app.outbox_len().await, before_deep, "no refused change wrote");
    assert_eq!(before_deep, before + 2, "only the second tree was written");
    let read = get(&app, "alice", &format!("/v1/tasks/{}", id_of(&top))).await;
    assert_eq!((&read["parent_id"], read["version"].as_i64()), (&json!(null), Some(1)));
    // A legal move: "a" (with "b") goes beneath "2", three and four levels deep.
    let legal = patch(&other, json!({ "parent_id": two["id"] })).await;
    assert_eq!((legal.status, &legal.body["parent_id"]), (StatusCode::OK, &two["id"]), "{:?}", legal.body);
    let lifted = patch(&other, json!({ "parent_id": null })).await;
    assert_eq!((lifted.status, &lifted.body["parent_id"]), (StatusCode::OK, &json!(null)));
}

async fn completing_a_task_completes_its_open_subtasks_each_with_its_event(app: TestApp) {
    let list = team(&app).await;
    let top = app.create("alice", json!({ "title": "Move house", "list_id": list })).await;
    let boxes = subtask(&app, "alice", &top, "Boxes").await;
    let tape = subtask(&app, "alice", &boxes, "Tape").await;
    let done = subtask(&app, "alice", &top, "Van").await;
    let completed =
        app.send(Method::POST, &format!("/v1/tasks/{}/complete", id_of(&done)), Some("bob"), None).await;
    assert_eq!(completed.status, StatusCode::OK);
    let unrelated = app.create("alice", json!({ "title": "Other", "list_id": list })).await;
    let before = app.outbox_len().await;

    let res = app.send(Method::POST, &format!("/v1/tasks/{}/complete", id_of(&top)), Some("bob"), None).await;
    assert_eq!((res.status, res.body["completed"].as_bool()), (StatusCode::OK, Some(true)), "{:?}", res.body);
    let mut events = events_after(&app, before).await;
    events.sort();
    let mut expected: Vec<(String, String)> =
        [&top, &boxes, &tape].iter().map(|t| ("task.completed".to_owned(), id_of(t))).collect();
    expected.sort();
    assert_eq!(events, expected, "one completion each; none for the one already done");
    for (task, version) in [(&boxes, 2), (&tape, 2), (&done, 2), (&unrelated, 1)] {
        let read = get(&app, "alice", &format!("/v1/tasks/{}", id_of(task))).await;
        assert_eq!(read["version"].as_i64(), Some(version), "{}", read["title"]);
        assert_eq!(read["completed"].as_bool(), Some(version == 2), "{}", read["title"]);
    }
    // Completing a subtask leaves its parent open; reopening a parent leaves its subtasks done.
    let reopened =
        app.send(Method::POST, &format!("/v1/tasks/{}/reopen", id_of(&top)), Some("bob"), None).await;
    assert_eq!(reopened.body["completed"].as_bool(), Some(false));
    let open = get(&app, "alice", &format!("/v1/tasks/{}/subtasks?status=open", id_of(&top))).await;
    assert!(titles(&open).is_empty(), "{open:?}");
}

async fn moving_a_task_moves_its_subtasks_and_a_subtask_moved_alone_is_top_level(app: TestApp) {
    let team = team(&app).await;
    let top = app.create("alice", json!({ "title": "Trip", "list_id": team })).await;
    let child = app
        .create("alice", json!({ "title": "Tickets", "parent_id": top["id"], "assignee_id": "bob" }))
        .await;
    let mine = app
        .create("alice", json!({ "title": "Passport", "parent_id": child["id"], "assignee_id": "alice" }))
        .await;
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Private" }))).await;
    let private = id_of(&res.body);
    let before = app.outbox_len().await;

    let path = format!("/v1/tasks/{}", id_of(&top));
    let moved = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "list_id": private }))).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let mut events = events_after(&app, before).await;
    events.sort();
    let mut expected: Vec<(String, String)> =
        [&top, &child, &mine].iter().map(|t| ("task.updated".to_owned(), id_of(t))).collect();
    expected.sort();
    assert_eq!(events, expected);
    let child_now = get(&app, "alice", &format!("/v1/tasks/{}", id_of(&child))).await;
    let mine_now = get(&app, "alice", &format!("/v1/tasks/{}", id_of(&mine))).await;
    assert_eq!(
        (child_now["list_id"].as_str(), &child_now["parent_id"]),
        (Some(private.as_str()), &top["id"])
    );
    assert_eq!(child_now["assignee_id"], json!(null), "Bob is no member of the private list");
    assert_eq!(
        (mine_now["list_id"].as_str(), mine_now["assignee_id"].as_str()),
        (Some(private.as_str()), Some("alice"))
    );
    let bobs = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(&child)), Some("bob"), None).await;
    assert_eq!(bobs.status, StatusCode::NOT_FOUND, "it left the list Bob is in");

    // Moved alone, a subtask is top-level where it goes, unless a parent there is named.
    let alone = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", id_of(&mine)),
            Some("alice"),
            Some(json!({ "list_id": team })),
        )
        .await;
    assert_eq!((alone.status, &alone.body["parent_id"]), (StatusCode::OK, &json!(null)), "{:?}", alone.body);
    let host = app.create("alice", json!({ "title": "Host", "list_id": team })).await;
    let body = json!({ "list_id": private, "parent_id": host["id"] });
    let wrong =
        app.send(Method::PATCH, &format!("/v1/tasks/{}", id_of(&mine)), Some("alice"), Some(body)).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "the parent is not where it goes");
    let body = json!({ "list_id": private, "parent_id": top["id"] });
    let back =
        app.send(Method::PATCH, &format!("/v1/tasks/{}", id_of(&mine)), Some("alice"), Some(body)).await;
    assert_eq!((back.status, &back.body["parent_id"]), (StatusCode::OK, &top["id"]), "{:?}", back.body);
}

async fn deleting_a_task_deletes_its_subtasks_each_with_its_event(app: TestApp) {
    let list = team(&app).await;
    let top = app.create("alice", json!({ "title": "Top", "list_id": list })).await;
    let child = subtask(&app, "alice", &top, "Child").await;
    let grandchild = subtask(&app, "bob", &child, "Grandchild").await;
    let sibling = app.create("alice", json!({ "title": "Sibling", "list_id": list })).await;
    let before = app.outbox_len().await;

    let viewer = app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&top)), Some("vic"), None).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let res = app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&top)), Some("bob"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let events = events_after(&app, before).await;
    let expected: Vec<(String, String)> =
        [&grandchild, &child, &top].iter().map(|t| ("task.deleted".to_owned(), id_of(t))).collect();
    assert_eq!(events, expected, "deepest first");
    for task in [&top, &child, &grandchild] {
        let res = app.send(Method::GET, &format!("/v1/tasks/{}", id_of(task)), Some("alice"), None).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
    }
    get(&app, "alice", &format!("/v1/tasks/{}", id_of(&sibling))).await;
    // Deleting a subtask leaves its parent.
    let parent = app.create("alice", json!({ "title": "Parent" })).await;
    let only = subtask(&app, "alice", &parent, "Only").await;
    let gone = app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&only)), Some("alice"), None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let left = get(&app, "alice", &format!("/v1/tasks/{}/subtasks", id_of(&parent))).await;
    assert!(titles(&left).is_empty());
}

async fn a_tree_holds_at_most_two_hundred_subtasks(app: TestApp) {
    let top = app.create("alice", json!({ "title": "Big" })).await;
    let mut first = None;
    for i in 0..200 {
        let parent = if i % 2 == 0 { &top } else { first.as_ref().expect("the first subtask") };
        let task = subtask(&app, "alice", parent, &format!("s{i}")).await;
        first.get_or_insert(task);
    }
    let before = app.outbox_len().await;
    let body = json!({ "title": "one more", "parent_id": top["id"] });
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    assert_eq!(
        res.body["error"]["details"][0]["message"],
        "a top-level task holds at most 200 subtasks beneath it"
    );
    let outside = app.create("alice", json!({ "title": "outside" })).await;
    let join = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", id_of(&outside)),
            Some("alice"),
            Some(json!({ "parent_id": top["id"] })),
        )
        .await;
    assert_eq!(join.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", join.body);
    assert_eq!(app.outbox_len().await, before + 1, "only the task outside the tree was written");
    // Within the tree, a subtask still moves: the count stays at 200.
    let last =
        get(&app, "alice", &format!("/v1/tasks?parent={}&limit=1", id_of(first.as_ref().expect("first"))))
            .await;
    let shift = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", id_of(&last["items"][0])),
            Some("alice"),
            Some(json!({ "parent_id": top["id"] })),
        )
        .await;
    assert_eq!(shift.status, StatusCode::OK, "{:?}", shift.body);
}

async fn concurrent_reparenting_makes_no_cycle(app: TestApp) {
    for round in 0..5 {
        let a = app.create("alice", json!({ "title": format!("a{round}") })).await;
        let b = app.create("alice", json!({ "title": format!("b{round}") })).await;
        let under = |task: &Value, parent: &Value| {
            let (path, body) = (format!("/v1/tasks/{}", id_of(task)), json!({ "parent_id": parent["id"] }));
            let app = &app;
            async move { app.send(Method::PATCH, &path, Some("alice"), Some(body)).await.status }
        };
        let (ab, ba) = tokio::join!(under(&a, &b), under(&b, &a));
        let mut statuses = [ab, ba];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY], "round {round}");
        let (a, b) = (
            get(&app, "alice", &format!("/v1/tasks/{}", id_of(&a))).await,
            get(&app, "alice", &format!("/v1/tasks/{}", id_of(&b))).await,
        );
        let parents = [&a["parent_id"], &b["parent_id"]];
        assert_eq!(
            parents.iter().filter(|p| p.is_null()).count(),
            1,
            "exactly one is top-level: {parents:?}"
        );
    }
}
