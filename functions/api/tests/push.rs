//! Push subscriptions through the API, on both backends: the key browsers
//! subscribe with, a browser subscribed (and again: renewed, not doubled),
//! listed without its endpoint or keys, deleted only by its user, moved when
//! another user subscribes it, every bad field named at once, the quota, and
//! a server without a VAPID key that says push is off.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{Value, json};
use todo_lib::push::VapidKeys;
use todo_testing::{TestDb, browser_subscription};

todo_testing::on_both_backends!(
    wrap = crate::with_push;
    the_key_is_the_servers_public_vapid_key,
    a_browser_is_subscribed_once_and_listed_without_its_capability,
    only_its_user_deletes_a_subscription,
    a_browser_subscribed_by_another_user_moves_to_them,
    every_bad_field_is_named_and_nothing_is_stored,
    the_quota_bounds_the_browsers_of_a_user,
    a_server_without_a_vapid_key_says_push_is_off,
);

const QUOTA: i64 = 3;

/// The API with a VAPID key pair and a small push quota.
fn with_push(db: TestDb) -> (TestApp, VapidKeys) {
    let keys = VapidKeys::new(&VapidKeys::generate(), "mailto:ops@todo.example").expect("keys");
    let state = api::AppState {
        push: Some(keys.clone()),
        quotas: todo_lib::quota::Quotas { push_subscriptions_per_user: QUOTA, ..Default::default() },
        ..TestApp::state(&db, TestApp::authenticator(), Default::default())
    };
    (TestApp::from_state(db, state), keys)
}

async fn subscribe(app: &TestApp, user: &str, body: Value) -> common::TestResponse {
    app.send(Method::POST, "/v1/push/subscriptions", Some(user), Some(body)).await
}

async fn listed(app: &TestApp, user: &str) -> Vec<Value> {
    let res = app.send(Method::GET, "/v1/push/subscriptions", Some(user), None).await;
    assert_eq!(res.status, StatusCode::OK);
    res.body["items"].as_array().cloned().unwrap_or_default()
}

async fn the_key_is_the_servers_public_vapid_key((app, keys): (TestApp, VapidKeys)) {
    let res = app.send(Method::GET, "/v1/push/key", Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, json!({ "enabled": true, "public_key": keys.public_key() }));
    let anonymous = app.send(Method::GET, "/v1/push/key", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn a_browser_is_subscribed_once_and_listed_without_its_capability((app, _): (TestApp, VapidKeys)) {
    let browser = browser_subscription("https://fcm.googleapis.com/fcm/send/secret-capability-123");
    let first = subscribe(&app, "alice", browser.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["service"], "fcm.googleapis.com");
    // The same browser again, with new keys (it re-subscribed): renewed.
    let again = browser_subscription("https://fcm.googleapis.com/fcm/send/secret-capability-123");
    let second = subscribe(&app, "alice", again).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["id"], first.body["id"], "one subscription per browser");
    let items = listed(&app, "alice").await;
    assert_eq!(items.len(), 1);
    let shown = serde_json::to_string(&items).expect("json");
    assert!(!shown.contains("secret-capability") && !shown.contains("p256dh"), "{shown}");
    assert!(listed(&app, "bob").await.is_empty(), "each user sees their own");
}

async fn only_its_user_deletes_a_subscription((app, _): (TestApp, VapidKeys)) {
    let created = subscribe(&app, "alice", browser_subscription("https://push.example.com/a")).await;
    let path = format!("/v1/push/subscriptions/{}", created.body["id"].as_str().expect("id"));
    let by_bob = app.send(Method::DELETE, &path, Some("bob"), None).await;
    assert_eq!(by_bob.status, StatusCode::NOT_FOUND);
    assert_eq!(listed(&app, "alice").await.len(), 1, "bob deleted nothing");
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    assert!(listed(&app, "alice").await.is_empty());
    let bad = app.send(Method::DELETE, "/v1/push/subscriptions/nope", Some("alice"), None).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_path"));
}

async fn a_browser_subscribed_by_another_user_moves_to_them((app, _): (TestApp, VapidKeys)) {
    let endpoint = "https://updates.push.services.mozilla.com/wpush/v2/shared-laptop";
    assert_eq!(subscribe(&app, "alice", browser_subscription(endpoint)).await.status, StatusCode::CREATED);
    let bob = subscribe(&app, "bob", browser_subscription(endpoint)).await;
    assert_eq!(bob.status, StatusCode::CREATED);
    assert!(listed(&app, "alice").await.is_empty(), "alice's reminders no longer go to bob's browser");
    assert_eq!(listed(&app, "bob").await.len(), 1);
}

async fn every_bad_field_is_named_and_nothing_is_stored((app, _): (TestApp, VapidKeys)) {
    let bad = json!({
        "endpoint": "http://169.254.169.254/latest",
        "keys": { "p256dh": "not-a-key", "auth": "c2hvcnQ" },
    });
    let res = subscribe(&app, "alice", bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.detail_fields(), ["endpoint", "keys.p256dh", "keys.auth"]);
    let unknown = json!({ "endpoint": "https://push.example.com/x", "keys": {}, "extra": 1 });
    assert_eq!(subscribe(&app, "alice", unknown).await.status, StatusCode::BAD_REQUEST);
    assert!(listed(&app, "alice").await.is_empty());
}

async fn the_quota_bounds_the_browsers_of_a_user((app, _): (TestApp, VapidKeys)) {
    for n in 0..QUOTA {
        let res =
            subscribe(&app, "alice", browser_subscription(&format!("https://push.example.com/{n}"))).await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let over = subscribe(&app, "alice", browser_subscription("https://push.example.com/one-more")).await;
    assert_eq!((over.status, over.code()), (StatusCode::UNPROCESSABLE_ENTITY, "quota_exceeded"));
    assert!(
        over.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("QUOTA_PUSH_SUBSCRIPTIONS_PER_USER")
    );
    assert_eq!(listed(&app, "alice").await.len(), QUOTA as usize);
    let bob = subscribe(&app, "bob", browser_subscription("https://push.example.com/bob")).await;
    assert_eq!(bob.status, StatusCode::CREATED, "the quota is per user");
}

async fn a_server_without_a_vapid_key_says_push_is_off((with_keys, _): (TestApp, VapidKeys)) {
    let app = TestApp::with_db(with_keys.db);
    let key = app.send(Method::GET, "/v1/push/key", Some("alice"), None).await;
    assert_eq!(key.body, json!({ "enabled": false, "public_key": null }));
    let res = subscribe(&app, "alice", browser_subscription("https://push.example.com/a")).await;
    assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "push_not_configured"));
}
