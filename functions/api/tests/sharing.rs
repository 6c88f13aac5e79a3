//! Shared lists through the API, on both backends: the isolation matrix over
//! every list, member and task route for an owner, an editor, a viewer, a
//! removed member, a non-member and an anonymous caller, with nothing changed
//! by a refused request; and the life of a membership (added, promoted,
//! removed, leaving; an owner always kept; an Inbox never shared).

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::{Value, json};

both_backends!(
    every_route_answers_each_role_as_the_table_says_and_refusals_change_nothing,
    members_see_and_change_what_their_role_allows_from_their_next_request,
    a_list_always_keeps_an_owner,
    an_inbox_is_never_shared_and_bad_members_are_refused,
);

const OWNER: &str = "alice";
const EDITOR: &str = "bob";
const VIEWER: &str = "carol";
const REMOVED: &str = "dave";
const STRANGER: &str = "mallory";

async fn new_list(app: &TestApp, user: &str, name: &str) -> String {
    let res = app.send(Method::POST, "/v1/lists", Some(user), Some(json!({ "name": name }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    id_of(&res.body)
}

async fn add(app: &TestApp, list: &str, user: &str, role: &str) {
    app.sign_in(&[user]).await;
    let body = json!({ "user_id": user, "role": role });
    let res = app.send(Method::POST, &format!("/v1/lists/{list}/members"), Some(OWNER), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert_eq!(res.header("location"), Some(format!("/v1/lists/{list}/members/{user}").as_str()));
    assert_eq!((res.body["user_id"].as_str(), res.body["role"].as_str()), (Some(user), Some(role)));
}

/// A list of Alice's shared with an editor and a viewer, and once with a
/// member since removed, holding one task; returns (list, task) ids.
async fn shared(app: &TestApp) -> (String, String) {
    let list = new_list(app, OWNER, "Household").await;
    add(app, &list, EDITOR, "editor").await;
    add(app, &list, VIEWER, "viewer").await;
    add(app, &list, REMOVED, "editor").await;
    let removed =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/members/{REMOVED}"), Some(OWNER), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let task = app.create(OWNER, json!({ "title": "Buy bread", "list_id": list, "tags": ["food"] })).await;
    (list, id_of(&task))
}

/// Everything a refused request could have changed, as the owner sees it.
async fn snapshot(app: &TestApp, list: &str, task: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        format!("/v1/lists/{list}"),
        format!("/v1/lists/{list}/members"),
        format!("/v1/tasks/{task}"),
        format!("/v1/tasks?list={list}"),
    ] {
        seen.push(app.send(Method::GET, &path, Some(OWNER), None).await.body);
    }
    seen.push(json!(app.outbox_len().await));
    seen
}

/// A route of the matrix: method, path, body, headers and the expected status
/// for the owner, an editor, a viewer, a removed member, a non-member and an
/// anonymous caller.
type Case = (Method, String, Option<Value>, &'static [(&'static str, &'static str)], [u16; 6]);

/// An `If-Match` naming a version the task never had.
const STALE: &[(&str, &str)] = &[("if-match", "\"999\"")];

async fn every_route_answers_each_role_as_the_table_says_and_refusals_change_nothing(app: TestApp) {
    let (list, task) = shared(&app).await;
    let stale = STALE;
    let table: Vec<Case> = vec![
        (Method::GET, format!("/v1/lists/{list}"), None, &[], [200, 200, 200, 404, 404, 401]),
        (
            Method::PATCH,
            format!("/v1/lists/{list}"),
            Some(json!({ "name": "Household" })),
            &[],
            [200, 403, 403, 404, 404, 401],
        ),
        (Method::DELETE, format!("/v1/lists/{list}"), None, &[], [409, 403, 403, 404, 404, 401]),
        (Method::GET, format!("/v1/lists/{list}/members"), None, &[], [200, 200, 200, 404, 404, 401]),
        (
            Method::POST,
            format!("/v1/lists/{list}/members"),
            Some(json!({ "user_id": EDITOR, "role": "viewer" })),
            &[],
            [409, 403, 403, 404, 404, 401],
        ),
        (
            Method::PATCH,
            format!("/v1/lists/{list}/members/{EDITOR}"),
            Some(json!({ "role": "editor" })),
            &[],
            [200, 403, 403, 404, 404, 401],
        ),
        (
            Method::DELETE,
            format!("/v1/lists/{list}/members/{OWNER}"),
            None,
            &[],
            [409, 403, 403, 404, 404, 401],
        ),
        (
            Method::POST,
            format!("/v1/lists/{list}/invitations"),
            Some(json!({ "role": "viewer" })),
            &[],
            [201, 403, 403, 404, 404, 401],
        ),
        (Method::GET, format!("/v1/lists/{list}/invitations"), None, &[], [200, 403, 403, 404, 404, 401]),
        (
            Method::DELETE,
            format!("/v1/lists/{list}/invitations/{}", uuid::Uuid::now_v7()),
            None,
            &[],
            [404, 403, 403, 404, 404, 401],
        ),
        (Method::GET, format!("/v1/lists/{list}/activity"), None, &[], [200, 200, 200, 404, 404, 401]),
        (Method::GET, format!("/v1/tasks/{task}"), None, &[], [200, 200, 200, 404, 404, 401]),
        (Method::GET, format!("/v1/tasks?list={list}"), None, &[], [200, 200, 200, 404, 404, 401]),
        (Method::GET, format!("/v1/tasks/{task}/subtasks"), None, &[], [200, 200, 200, 404, 404, 401]),
        // Filtering by a parent one cannot see finds nothing, as for one that does not exist.
        (Method::GET, format!("/v1/tasks?parent={task}"), None, &[], [200, 200, 200, 200, 200, 401]),
        (
            Method::PATCH,
            format!("/v1/tasks/{task}"),
            Some(json!({ "title": "Buy bread" })),
            &[],
            [200, 200, 403, 404, 404, 401],
        ),
        (Method::POST, format!("/v1/tasks/{task}/reopen"), None, &[], [200, 200, 403, 404, 404, 401]),
        (Method::POST, format!("/v1/tasks/{task}/complete"), None, stale, [412, 412, 403, 404, 404, 401]),
        (Method::DELETE, format!("/v1/tasks/{task}"), None, stale, [412, 412, 403, 404, 404, 401]),
        (
            Method::POST,
            "/v1/tasks".into(),
            Some(json!({ "title": "", "list_id": list })),
            &[],
            [422, 422, 403, 422, 422, 401],
        ),
        (
            Method::POST,
            "/v1/tasks".into(),
            Some(json!({ "title": "", "parent_id": task })),
            &[],
            [422, 422, 403, 422, 422, 401],
        ),
    ];
    let callers = [Some(OWNER), Some(EDITOR), Some(VIEWER), Some(REMOVED), Some(STRANGER), None];
    let before = snapshot(&app, &list, &task).await;
    let mut wrong = Vec::new();
    for (method, path, body, headers, expected) in &table {
        for (caller, want) in callers.iter().zip(expected) {
            let res = app.send_with(method.clone(), path, *caller, body.clone(), headers).await;
            if res.status.as_u16() != *want {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: {} (expected {want}) {}",
                    res.status, res.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(snapshot(&app, &list, &task).await, before, "no request of the table changed anything");

    // Writing to the list itself: the owner and the editor may, the others not.
    for (caller, want) in callers.iter().zip([201, 201, 403, 422, 422, 401]) {
        let body = json!({ "title": format!("by {caller:?}"), "list_id": list });
        let res = app.send(Method::POST, "/v1/tasks", *caller, Some(body)).await;
        assert_eq!(res.status.as_u16(), want, "create as {caller:?}: {}", res.body);
    }
    let titles: Vec<String> = app
        .send(Method::GET, &format!("/v1/tasks?list={list}&sort=title"), Some(VIEWER), None)
        .await
        .body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["title"].as_str().expect("title").to_owned())
        .collect();
    assert_eq!(titles, ["Buy bread", "by Some(\"alice\")", "by Some(\"bob\")"]);

    // What each caller sees across all their lists and tags.
    for (caller, sees) in [(OWNER, true), (EDITOR, true), (VIEWER, true), (REMOVED, false), (STRANGER, false)]
    {
        let all = app.send(Method::GET, "/v1/tasks", Some(caller), None).await;
        let ids: Vec<&str> =
            all.body["items"].as_array().expect("items").iter().filter_map(|t| t["id"].as_str()).collect();
        assert_eq!(ids.contains(&task.as_str()), sees, "{caller} in GET /v1/tasks");
        let lists = app.send(Method::GET, "/v1/lists", Some(caller), None).await;
        let names: Vec<&str> =
            lists.body["items"].as_array().expect("items").iter().filter_map(|l| l["id"].as_str()).collect();
        assert_eq!(names.contains(&list.as_str()), sees, "{caller} in GET /v1/lists");
        let tags = app.send(Method::GET, "/v1/tags", Some(caller), None).await;
        let food = tags.body["tags"].as_array().expect("tags").iter().any(|t| t["tag"] == "food");
        assert_eq!(food, sees, "{caller} in GET /v1/tags");
    }
}

async fn members_see_and_change_what_their_role_allows_from_their_next_request(app: TestApp) {
    let (list, task) = shared(&app).await;
    let path = format!("/v1/tasks/{task}");
    let viewer_reads = app.send(Method::GET, &format!("/v1/lists/{list}"), Some(VIEWER), None).await;
    assert_eq!(
        (viewer_reads.body["role"].as_str(), viewer_reads.body["owner_id"].as_str()),
        (Some("viewer"), Some(OWNER))
    );

    let refused = app.send(Method::POST, &format!("{path}/complete"), Some(VIEWER), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let promote = json!({ "role": "editor" });
    let promoted = app
        .send(Method::PATCH, &format!("/v1/lists/{list}/members/{VIEWER}"), Some(OWNER), Some(promote))
        .await;
    assert_eq!((promoted.status, promoted.body["role"].as_str()), (StatusCode::OK, Some("editor")));
    let done = app.send(Method::POST, &format!("{path}/complete"), Some(VIEWER), None).await;
    assert_eq!(
        (done.status, done.body["completed"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{:?}",
        done.body
    );

    // An editor moves a task between two lists they write to, never into one they only view.
    let bobs = new_list(&app, EDITOR, "Bob's").await;
    let moved = app.send(Method::PATCH, &path, Some(EDITOR), Some(json!({ "list_id": bobs }))).await;
    assert_eq!((moved.status, moved.body["list_id"].as_str()), (StatusCode::OK, Some(bobs.as_str())));
    assert_eq!(
        app.send(Method::GET, &path, Some(OWNER), None).await.status,
        StatusCode::NOT_FOUND,
        "gone from Alice's view"
    );
    let back = app.send(Method::PATCH, &path, Some(EDITOR), Some(json!({ "list_id": list }))).await;
    assert_eq!(back.status, StatusCode::OK);
    let demote = json!({ "role": "viewer" });
    app.send(Method::PATCH, &format!("/v1/lists/{list}/members/{EDITOR}"), Some(OWNER), Some(demote)).await;
    let out = app.send(Method::PATCH, &path, Some(EDITOR), Some(json!({ "list_id": bobs }))).await;
    assert_eq!(out.status, StatusCode::FORBIDDEN, "a viewer moves nothing out: {:?}", out.body);
    let into = app.create(EDITOR, json!({ "title": "mine", "list_id": bobs })).await;
    let pushed = app
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", id_of(&into)),
            Some(EDITOR),
            Some(json!({ "list_id": list })),
        )
        .await;
    assert_eq!(pushed.status, StatusCode::FORBIDDEN, "nor anything in: {:?}", pushed.body);

    // Removed: the next request no longer sees the list or its tasks.
    let removed =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/members/{VIEWER}"), Some(OWNER), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some(VIEWER), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send(Method::GET, &format!("/v1/lists/{list}"), Some(VIEWER), None).await.status,
        StatusCode::NOT_FOUND
    );
    let again =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/members/{VIEWER}"), Some(OWNER), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "not a member any more");

    // Any member may leave by themselves.
    let left =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/members/{EDITOR}"), Some(EDITOR), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let members = app.send(Method::GET, &format!("/v1/lists/{list}/members"), Some(OWNER), None).await;
    let ids: Vec<&str> = members.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["user_id"].as_str())
        .collect();
    assert_eq!(ids, [OWNER]);
}

async fn a_list_always_keeps_an_owner(app: TestApp) {
    app.sign_in(&[EDITOR, VIEWER, REMOVED, STRANGER]).await;
    let list = new_list(&app, OWNER, "Team").await;
    let members = format!("/v1/lists/{list}/members");
    for (method, body) in [(Method::PATCH, Some(json!({ "role": "editor" }))), (Method::DELETE, None)] {
        let res = app.send(method.clone(), &format!("{members}/{OWNER}"), Some(OWNER), body).await;
        assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "last_owner"), "{method}");
    }
    add(&app, &list, EDITOR, "owner").await;
    // Two owners demoting each other at once: exactly one of them succeeds.
    let viewer = || Some(json!({ "role": "viewer" }));
    let (bobs, alices) = (format!("{members}/{EDITOR}"), format!("{members}/{OWNER}"));
    let (a, b) = tokio::join!(
        app.send(Method::PATCH, &bobs, Some(OWNER), viewer()),
        app.send(Method::PATCH, &alices, Some(EDITOR), viewer()),
    );
    let ok = [&a, &b].iter().filter(|r| r.status == StatusCode::OK).count();
    assert_eq!(ok, 1, "{a:?} {b:?}");
    let listed = app.send(Method::GET, &members, Some(OWNER), None).await;
    let owners: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|m| m["role"] == "owner")
        .filter_map(|m| m["user_id"].as_str())
        .collect();
    let [owner] = owners.as_slice() else { panic!("one owner remains: {:?}", listed.body) };
    let leave = app.send(Method::DELETE, &format!("{members}/{owner}"), Some(owner), None).await;
    assert_eq!((leave.status, leave.code()), (StatusCode::CONFLICT, "last_owner"), "the last owner stays");
}

async fn an_inbox_is_never_shared_and_bad_members_are_refused(app: TestApp) {
    app.create_titled(OWNER, "private").await;
    let lists = app.send(Method::GET, "/v1/lists", Some(OWNER), None).await;
    let inbox = id_of(
        lists.body["items"].as_array().expect("items").iter().find(|l| l["inbox"] == true).expect("Inbox"),
    );
    let members = format!("/v1/lists/{inbox}/members");
    let shared = app
        .send(Method::POST, &members, Some(OWNER), Some(json!({ "user_id": EDITOR, "role": "viewer" })))
        .await;
    assert_eq!((shared.status, shared.code()), (StatusCode::CONFLICT, "inbox_personal"));

    let list = new_list(&app, OWNER, "Team").await;
    let members = format!("/v1/lists/{list}/members");
    for (body, fields) in [
        (json!({}), vec!["user_id", "role"]),
        (json!({ "user_id": " bob" , "role": "editor" }), vec!["user_id"]),
        (json!({ "user_id": "\u{202e}bob" , "role": "editor" }), vec!["user_id"]),
        // A typo: nobody has signed in with this id, so nothing is shared.
        (json!({ "user_id": "no-such-user-xyz" , "role": "editor" }), vec!["user_id"]),
        (json!({ "user_id": "b\u{2066}ob" , "role": "viewer" }), vec!["user_id"]),
        (json!({ "user_id": "bob" }), vec!["role"]),
    ] {
        let res = app.send(Method::POST, &members, Some(OWNER), Some(body.clone())).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", res.body);
        assert_eq!(res.detail_fields(), fields, "{body}");
    }
    let bad_role = app
        .send(Method::POST, &members, Some(OWNER), Some(json!({ "user_id": "bob", "role": "admin" })))
        .await;
    assert_eq!(bad_role.status, StatusCode::BAD_REQUEST, "{:?}", bad_role.body);
    let no_role = app.send(Method::PATCH, &format!("{members}/{OWNER}"), Some(OWNER), Some(json!({}))).await;
    assert_eq!(no_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let nobody = app
        .send(Method::PATCH, &format!("{members}/nobody"), Some(OWNER), Some(json!({ "role": "viewer" })))
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let listed = app.send(Method::GET, &members, Some(OWNER), None).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "only the owner: {:?}", listed.body);
    assert_eq!(listed.body["items"][0]["role"], "owner");
}
