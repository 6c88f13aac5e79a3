//! Task lists through the API, on both backends: every user has an Inbox that
//! cannot be deleted, renamed or archived; lists are validated, ordered,
//! archived and restored; nobody sees or changes another user's lists; a
//! refused request changes nothing.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{Value, json};

both_backends!(
    every_user_has_one_inbox_created_on_first_need,
    a_list_is_created_read_changed_and_deleted,
    the_inbox_cannot_be_deleted_renamed_or_archived,
    invalid_lists_are_422_and_store_nothing,
    lists_are_ordered_by_position_and_archived_ones_hidden_unless_asked,
    another_users_list_is_404_for_every_route,
    concurrent_first_requests_make_one_inbox,
    bad_ids_and_queries_are_400,
    at_most_two_hundred_lists_even_under_concurrent_creation,
    if_match_guards_changes_and_deletions,
    counts_give_open_and_overdue_tasks_by_list_to_its_members_only,
    each_member_orders_their_lists_their_own_way,
);

async fn lists(app: &TestApp, user: &str, query: &str) -> Vec<Value> {
    let res = app.send(Method::GET, &format!("/v1/lists{query}"), Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    res.body["items"].as_array().expect("items").clone()
}

async fn create(app: &TestApp, user: &str, body: Value) -> Value {
    let res = app.send(Method::POST, "/v1/lists", Some(user), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/lists/{}", res.body["id"].as_str().expect("id")).as_str())
    );
    res.body
}

fn names(lists: &[Value]) -> Vec<&str> {
    lists.iter().map(|l| l["name"].as_str().expect("name")).collect()
}

fn inbox_of(lists: &[Value]) -> &Value {
    lists.iter().find(|l| l["inbox"] == true).expect("an Inbox")
}

async fn every_user_has_one_inbox_created_on_first_need(app: TestApp) {
    let first = lists(&app, "alice", "").await;
    assert_eq!(names(&first), ["Inbox"]);
    assert_eq!((first[0]["owner_id"].as_str(), first[0]["inbox"].as_bool()), (Some("alice"), Some(true)));
    let again = lists(&app, "alice", "").await;
    assert_eq!(again[0]["id"], first[0]["id"], "the same Inbox, not a second one");
    let bob = lists(&app, "bob", "").await;
    assert_ne!(bob[0]["id"], first[0]["id"], "each user has their own");
}

async fn a_list_is_created_read_changed_and_deleted(app: TestApp) {
    let list = create(&app, "alice", json!({ "name": "  Groceries ", "colour": "#AABBCC" })).await;
    assert_eq!((list["name"].as_str(), list["colour"].as_str()), (Some("Groceries"), Some("#aabbcc")));
    assert_eq!(
        (list["version"].as_i64(), list["archived"].as_bool(), list["inbox"].as_bool()),
        (Some(1), Some(false), Some(false))
    );
    let path = format!("/v1/lists/{}", list["id"].as_str().expect("id"));
    let read = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!((read.status, &read.body), (StatusCode::OK, &list));

    let changed =
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "name": "Food", "colour": null }))).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!((changed.body["name"].as_str(), changed.body["colour"].as_str()), (Some("Food"), None));
    assert_eq!(changed.body["version"], 2);
    let same = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "name": "Food" }))).await;
    assert_eq!(same.body["version"], 2, "a patch that changes nothing writes nothing");

    let deleted = app.send(Method::DELETE, &path, Some("alice"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox"]);
}

async fn the_inbox_cannot_be_deleted_renamed_or_archived(app: TestApp) {
    let inbox = inbox_of(&lists(&app, "alice", "").await).clone();
    let path = format!("/v1/lists/{}", inbox["id"].as_str().expect("id"));
    let delete = app.send(Method::DELETE, &path, Some("alice"), None).await;
    assert_eq!((delete.status, delete.code()), (StatusCode::CONFLICT, "inbox_undeletable"));
    for (body, field) in [(json!({ "name": "Other" }), "name"), (json!({ "archived": true }), "archived")] {
        let res = app.send(Method::PATCH, &path, Some("alice"), Some(body)).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
        assert_eq!(res.detail_fields(), [field]);
    }
    let recoloured =
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "colour": "#112233" }))).await;
    assert_eq!(recoloured.status, StatusCode::OK, "the Inbox may change colour and position");
    let now = inbox_of(&lists(&app, "alice", "").await).clone();
    assert_eq!(
        (now["name"].as_str(), now["archived"].as_bool(), now["version"].as_i64()),
        (Some("Inbox"), Some(false), Some(2))
    );
}

async fn invalid_lists_are_422_and_store_nothing(app: TestApp) {
    let cases = [
        (json!({}), vec!["name"]),
        (json!({ "name": "   " }), vec!["name"]),
        (json!({ "name": "x".repeat(101) }), vec!["name"]),
        (json!({ "name": "a\u{0007}b" }), vec!["name"]),
        (json!({ "name": "ok", "colour": "red" }), vec!["colour"]),
        (json!({ "name": "", "colour": "#12345" }), vec!["name", "colour"]),
    ];
    for (body, fields) in cases {
        let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(res.detail_fields(), fields, "{body}");
    }
    let unknown = app
        .send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "a", "owner_id": "bob" })))
        .await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::BAD_REQUEST, "invalid_json"));
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox"], "nothing was stored");
}

async fn lists_are_ordered_by_position_and_archived_ones_hidden_unless_asked(app: TestApp) {
    create(&app, "alice", json!({ "name": "Later", "position": 20 })).await;
    let work = create(&app, "alice", json!({ "name": "Work", "position": 10 })).await;
    create(&app, "alice", json!({ "name": "Home", "position": 10 })).await;
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox", "Work", "Home", "Later"]);
    let path = format!("/v1/lists/{}", work["id"].as_str().expect("id"));
    let archived = app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "archived": true }))).await;
    assert_eq!(archived.body["archived"], true);
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox", "Home", "Later"]);
    assert_eq!(names(&lists(&app, "alice", "?archived=true").await), ["Inbox", "Work", "Home", "Later"]);
    app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "archived": false, "position": 30 }))).await;
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox", "Home", "Later", "Work"]);
}

async fn another_users_list_is_404_for_every_route(app: TestApp) {
    let list = create(&app, "alice", json!({ "name": "Private" })).await;
    let inbox = inbox_of(&lists(&app, "alice", "").await).clone();
    for target in [&list, &inbox] {
        let path = format!("/v1/lists/{}", target["id"].as_str().expect("id"));
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(json!({ "name": "mine now" }))),
            (Method::DELETE, None),
        ] {
            let res = app.send(method.clone(), &path, Some("mallory"), body).await;
            assert_eq!((res.status, res.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}");
        }
    }
    assert_eq!(names(&lists(&app, "mallory", "").await), ["Inbox"], "Mallory sees only her own");
    let mine = app
        .send(Method::GET, &format!("/v1/lists/{}", list["id"].as_str().expect("id")), Some("alice"), None)
        .await;
    assert_eq!(mine.body, list, "unchanged by the refused requests");
}

async fn concurrent_first_requests_make_one_inbox(app: TestApp) {
    let (a, b, c) =
        tokio::join!(lists(&app, "carol", ""), lists(&app, "carol", ""), lists(&app, "carol", ""));
    assert_eq!((a.len(), b.len(), c.len()), (1, 1, 1));
    assert!(a[0]["id"] == b[0]["id"] && b[0]["id"] == c[0]["id"], "one Inbox: {a:?} {b:?} {c:?}");
}

async fn bad_ids_and_queries_are_400(app: TestApp) {
    let res = app.send(Method::GET, "/v1/lists/not-a-uuid", Some("alice"), None).await;
    assert_eq!((res.status, res.code()), (StatusCode::BAD_REQUEST, "invalid_path"));
    for query in ["?archived=yes", "?colour=red"] {
        let res = app.send(Method::GET, &format!("/v1/lists{query}"), Some("alice"), None).await;
        assert_eq!((res.status, res.code()), (StatusCode::BAD_REQUEST, "invalid_query"), "{query}");
    }
    let anonymous = app.send(Method::GET, "/v1/lists", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn at_most_two_hundred_lists_even_under_concurrent_creation(app: TestApp) {
    // The Inbox and 189 more, one by one; then 20 at once for the last 10 places.
    for i in 0..189 {
        create(&app, "alice", json!({ "name": format!("l{i}") })).await;
    }
    let app = std::sync::Arc::new(app);
    let mut creations = tokio::task::JoinSet::new();
    for i in 0..20 {
        let app = std::sync::Arc::clone(&app);
        creations.spawn(async move {
            let res = app
                .send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": format!("c{i}") })))
                .await;
            (res.status, res.detail_fields())
        });
    }
    let results = creations.join_all().await;
    let created = results.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    assert_eq!(created, 10, "exactly the free places were taken: {results:?}");
    for (status, fields) in results.iter().filter(|(status, _)| *status != StatusCode::CREATED) {
        assert_eq!(
            (*status, fields.as_slice()),
            (StatusCode::UNPROCESSABLE_ENTITY, ["name".to_owned()].as_slice())
        );
    }
    assert_eq!(lists(&app, "alice", "").await.len(), 200);
}

async fn if_match_guards_changes_and_deletions(app: TestApp) {
    let list = create(&app, "alice", json!({ "name": "Home" })).await;
    let path = format!("/v1/lists/{}", list["id"].as_str().expect("id"));
    let read = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(read.header("etag"), Some("\"1\""));

    let changed = app
        .send_with(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "name": "House" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (changed.status, changed.header("etag")),
        (StatusCode::OK, Some("\"2\"")),
        "{:?}",
        changed.body
    );
    let stale = app
        .send_with(
            Method::PATCH,
            &path,
            Some("alice"),
            Some(json!({ "name": "Flat" })),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!((stale.status, stale.code()), (StatusCode::PRECONDITION_FAILED, "precondition_failed"));
    let delete = app.send_with(Method::DELETE, &path, Some("alice"), None, &[("if-match", "\"1\"")]).await;
    assert_eq!(delete.status, StatusCode::PRECONDITION_FAILED);
    let malformed = app.send_with(Method::DELETE, &path, Some("alice"), None, &[("if-match", "2")]).await;
    assert_eq!((malformed.status, malformed.code()), (StatusCode::BAD_REQUEST, "invalid_header"));
    let now = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(
        (now.body["name"].as_str(), now.body["version"].as_i64()),
        (Some("House"), Some(2)),
        "refused requests changed nothing"
    );

    let deleted = app.send_with(Method::DELETE, &path, Some("alice"), None, &[("if-match", "\"2\"")]).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

async fn counts(app: &TestApp, user: &str) -> Vec<(String, i64, i64)> {
    let res = app.send(Method::GET, "/v1/lists/counts", Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let mut counts: Vec<(String, i64, i64)> = res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            let field = |name: &str| c[name].as_i64().expect(name);
            (c["list_id"].as_str().expect("list_id").to_owned(), field("open"), field("overdue"))
        })
        .collect();
    counts.sort();
    counts
}

async fn counts_give_open_and_overdue_tasks_by_list_to_its_members_only(app: TestApp) {
    app.sign_in(&["alice", "bob", "carol"]).await;
    let home = create(&app, "alice", json!({ "name": "Home" })).await;
    let home_id = home["id"].as_str().expect("id").to_owned();
    let past = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let later = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    app.create("alice", json!({ "title": "Late", "list_id": home_id, "due_at": past })).await;
    app.create("alice", json!({ "title": "Soon", "list_id": home_id, "due_at": later })).await;
    app.create("alice", json!({ "title": "Whenever", "list_id": home_id })).await;
    let done = app.create("alice", json!({ "title": "Done", "list_id": home_id, "due_at": past })).await;
    let complete = format!("/v1/tasks/{}/complete", common::id_of(&done));
    assert_eq!(app.send(Method::POST, &complete, Some("alice"), None).await.status, StatusCode::OK);
    let inbox_task = app.create_titled("alice", "In the Inbox").await;
    let inbox_id = inbox_task["list_id"].as_str().expect("list_id").to_owned();
    let mut expected = vec![(home_id.clone(), 3, 1), (inbox_id, 1, 0)];
    expected.sort();
    assert_eq!(counts(&app, "alice").await, expected, "completed tasks are not counted");

    let share = format!("/v1/lists/{home_id}/members");
    let added = app
        .send(Method::POST, &share, Some("alice"), Some(json!({ "user_id": "bob", "role": "viewer" })))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(
        counts(&app, "bob").await,
        [(home_id, 3, 1)],
        "a member counts the shared list, not the owner's Inbox"
    );
    assert_eq!(counts(&app, "carol").await, [], "nobody else sees anything");

    let res = app.send(Method::GET, "/v1/lists/counts?archived=true", Some("alice"), None).await;
    assert_eq!((res.status, res.code()), (StatusCode::BAD_REQUEST, "invalid_query"));
    assert_eq!(res.detail_fields(), ["archived"]);
}

async fn each_member_orders_their_lists_their_own_way(app: TestApp) {
    app.sign_in(&["alice", "bob", "vic"]).await;
    let shared = create(&app, "alice", json!({ "name": "Shared" })).await;
    create(&app, "alice", json!({ "name": "Solo" })).await;
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox", "Shared", "Solo"], "a new list goes last");
    let id = shared["id"].as_str().expect("id");
    for (user, role) in [("bob", "editor"), ("vic", "viewer")] {
        let body = json!({ "user_id": user, "role": role });
        let added =
            app.send(Method::POST, &format!("/v1/lists/{id}/members"), Some("alice"), Some(body)).await;
        assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    }
    create(&app, "bob", json!({ "name": "Bob's" })).await;
    assert_eq!(
        names(&lists(&app, "bob", "").await),
        ["Inbox", "Shared", "Bob's"],
        "a list shared goes last too"
    );

    let path = format!("/v1/lists/{id}");
    let moved = app.send(Method::PATCH, &path, Some("vic"), Some(json!({ "position": -1 }))).await;
    assert_eq!(moved.status, StatusCode::OK, "a viewer orders their own lists: {:?}", moved.body);
    assert_eq!((moved.body["position"].as_i64(), moved.body["version"].as_i64()), (Some(-1), Some(1)));
    assert_eq!(names(&lists(&app, "vic", "").await), ["Shared", "Inbox"]);
    assert_eq!(
        names(&lists(&app, "alice", "").await),
        ["Inbox", "Shared", "Solo"],
        "nobody else's order moves"
    );
    assert_eq!(names(&lists(&app, "bob", "").await), ["Inbox", "Shared", "Bob's"]);
    let renamed =
        app.send(Method::PATCH, &path, Some("vic"), Some(json!({ "name": "Mine", "position": 5 }))).await;
    assert_eq!(renamed.status, StatusCode::FORBIDDEN, "the name stays the owners' to change");
    assert_eq!(names(&lists(&app, "vic", "").await), ["Shared", "Inbox"], "a refused change moves nothing");
    let stale = app
        .send_with(
            Method::PATCH,
            &path,
            Some("bob"),
            Some(json!({ "position": 9 })),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let both =
        app.send(Method::PATCH, &path, Some("alice"), Some(json!({ "name": "Team", "position": 9 }))).await;
    assert_eq!((both.status, both.body["version"].as_i64()), (StatusCode::OK, Some(2)), "{:?}", both.body);
    assert_eq!(names(&lists(&app, "alice", "").await), ["Inbox", "Solo", "Team"]);
    assert_eq!(
        names(&lists(&app, "vic", "").await),
        ["Team", "Inbox"],
        "renamed for all, still first for Vic"
    );
    let stranger = app.send(Method::PATCH, &path, Some("mallory"), Some(json!({ "position": 0 }))).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}
