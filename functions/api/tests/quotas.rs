//! Quotas at their edges, on both stores: the last write a quota allows
//! succeeds, the next is 422 `quota_exceeded` naming the quota, and nothing
//! of it is stored; making room lets the next one in.

mod common;

use api::AppState;
use axum::http::{Method, StatusCode};
use common::{TestApp, TestResponse, id_of};
use serde_json::{Value, json};
use todo_lib::quota::Quotas;
use todo_testing::TestDb;

const QUOTAS: Quotas = Quotas {
    tasks_per_user: 3,
    lists_per_user: 2,
    members_per_list: 2,
    webhooks_per_user: 1,
    open_invitations_per_list: 1,
    tokens_per_user: 1,
    push_subscriptions_per_user: 1,
};

fn with_quotas(db: TestDb) -> TestApp {
    let state =
        AppState { quotas: QUOTAS, ..TestApp::state(&db, TestApp::authenticator(), Default::default()) };
    TestApp::from_state(db, state)
}

todo_testing::on_both_backends!(
    wrap = super::with_quotas;
    tasks_per_user,
    tasks_per_user_under_concurrent_creates,
    lists_per_user,
    webhooks_and_tokens_per_user,
    open_invitations_per_list,
    members_per_list,
);

/// A refusal names its quota, beside the field it concerns.
fn assert_refused(res: &TestResponse, variable: &str, field: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", res.body);
    assert_eq!(res.code(), "quota_exceeded");
    let message = res.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(variable) && message.contains("at most"), "{message}");
    assert_eq!(res.detail_fields(), [field]);
}

async fn count(app: &TestApp, user: &str, path: &str) -> usize {
    let res = app.send(Method::GET, path, Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    res.body["items"].as_array().or(res.body.as_array()).map_or(0, Vec::len)
}

async fn tasks_per_user(app: TestApp) {
    let mut made = Vec::new();
    for n in 0..3 {
        made.push(app.create("alice", json!({ "title": format!("task {n}") })).await);
    }
    let events = app.outbox_len().await;
    let refused =
        app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "one more" }))).await;
    assert_refused(&refused, "QUOTA_TASKS_PER_USER", "title");
    assert_eq!(count(&app, "alice", "/v1/tasks").await, 3, "nothing stored");
    assert_eq!(app.outbox_len().await, events, "no event either");

    // Done tasks still count; a subtask is a task.
    let done =
        app.send(Method::POST, &format!("/v1/tasks/{}/complete", id_of(&made[0])), Some("alice"), None).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let sub = json!({ "title": "sub", "parent_id": id_of(&made[1]) });
    assert_refused(
        &app.send(Method::POST, "/v1/tasks", Some("alice"), Some(sub)).await,
        "QUOTA_TASKS_PER_USER",
        "title",
    );

    // Another user has a quota of their own; deleting makes room.
    app.create_titled("bob", "bob's").await;
    let deleted =
        app.send(Method::DELETE, &format!("/v1/tasks/{}", id_of(&made[2])), Some("alice"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    app.create_titled("alice", "room again").await;
}

/// Six creates at once against a quota of three: each is created or refused
/// for the quota (none fails otherwise, none waits on another), at least the
/// quota's three are created, every one created is stored, and from then on
/// the quota holds.
async fn tasks_per_user_under_concurrent_creates(app: TestApp) {
    let creates = (0..6).map(|n| {
        app.send(Method::POST, "/v1/tasks", Some("carol"), Some(json!({ "title": format!("race {n}") })))
    });
    let answers = futures_util::future::join_all(creates).await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let refused = answers.iter().filter(|a| a.code() == "quota_exceeded").count();
    let seen: Vec<_> = answers.iter().map(|a| (a.status, a.code().to_owned())).collect();
    assert_eq!(created + refused, 6, "{seen:?}");
    assert!(created >= 3, "the quota's three are never refused: {seen:?}");
    assert_eq!(count(&app, "carol", "/v1/tasks").await, created);
    let after = app.send(Method::POST, "/v1/tasks", Some("carol"), Some(json!({ "title": "after" }))).await;
    assert_refused(&after, "QUOTA_TASKS_PER_USER", "title");
}

async fn lists_per_user(app: TestApp) {
    // The Inbox is one of the two.
    let first = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Work" }))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let refused = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Home" }))).await;
    assert_refused(&refused, "QUOTA_LISTS_PER_USER", "name");
    assert_eq!(count(&app, "alice", "/v1/lists").await, 2);
}

async fn webhooks_and_tokens_per_user(app: TestApp) {
    let hook = |n: u32| json!({ "url": format!("http://127.0.0.1:9/hook/{n}") });
    let first = app.send(Method::POST, "/v1/webhooks", Some("alice"), Some(hook(1))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_refused(
        &app.send(Method::POST, "/v1/webhooks", Some("alice"), Some(hook(2))).await,
        "QUOTA_WEBHOOKS_PER_USER",
        "url",
    );
    assert_eq!(count(&app, "alice", "/v1/webhooks").await, 1);

    let token = |name: &str| json!({ "name": name, "scopes": ["tasks:read"] });
    let first = app.send(Method::POST, "/v1/tokens", Some("alice"), Some(token("laptop"))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_refused(
        &app.send(Method::POST, "/v1/tokens", Some("alice"), Some(token("phone"))).await,
        "QUOTA_TOKENS_PER_USER",
        "name",
    );
    assert_eq!(count(&app, "alice", "/v1/tokens").await, 1);
}

async fn shared_list(app: &TestApp) -> String {
    let list = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Trip" }))).await;
    assert_eq!(list.status, StatusCode::CREATED, "{:?}", list.body);
    id_of(&list.body)
}

async fn invite(app: &TestApp, list: &str) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/v1/lists/{list}/invitations"),
        Some("alice"),
        Some(json!({ "role": "editor" })),
    )
    .await
}

async fn open_invitations_per_list(app: TestApp) {
    let list = shared_list(&app).await;
    let first = invite(&app, &list).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_refused(&invite(&app, &list).await, "QUOTA_OPEN_INVITATIONS_PER_LIST", "role");
    assert_eq!(count(&app, "alice", &format!("/v1/lists/{list}/invitations?open=true")).await, 1);

    // Revoking one makes room.
    let revoked = app
        .send(
            Method::DELETE,
            &format!("/v1/lists/{list}/invitations/{}", id_of(&first.body)),
            Some("alice"),
            None,
        )
        .await;
    assert!(revoked.status.is_success(), "{:?}", revoked.body);
    assert_eq!(invite(&app, &list).await.status, StatusCode::CREATED);
}

async fn members_per_list(app: TestApp) {
    app.sign_in(&["bob", "carol", "dave"]).await;
    let list = shared_list(&app).await;
    let add = |user: &str| json!({ "user_id": user, "role": "viewer" });
    let path = format!("/v1/lists/{list}/members");
    // The owner is one of the two.
    let bob = app.send(Method::POST, &path, Some("alice"), Some(add("bob"))).await;
    assert_eq!(bob.status, StatusCode::CREATED, "{:?}", bob.body);
    assert_refused(
        &app.send(Method::POST, &path, Some("alice"), Some(add("carol"))).await,
        "QUOTA_MEMBERS_PER_LIST",
        "user_id",
    );
    assert_eq!(count(&app, "alice", &path).await, 2);

    // An invitation made before the list filled cannot overfill it.
    let removed = app.send(Method::DELETE, &format!("{path}/bob"), Some("alice"), None).await;
    assert!(removed.status.is_success(), "{:?}", removed.body);
    let invitation = invite(&app, &list).await;
    let token = invitation.body["token"].as_str().expect("a token").to_owned();
    let bob = app.send(Method::POST, &path, Some("alice"), Some(add("bob"))).await;
    assert_eq!(bob.status, StatusCode::CREATED);
    let accepted =
        app.send(Method::POST, &format!("/v1/invitations/{token}/accept"), Some("dave"), None).await;
    assert_refused(&accepted, "QUOTA_MEMBERS_PER_LIST", "token");
    let members: Value = app.send(Method::GET, &path, Some("alice"), None).await.body;
    assert!(!members.to_string().contains("dave"), "{members}");
}
