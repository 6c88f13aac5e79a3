//! Webhook registration through the API: the secret is shown once, URLs must be
//! https to public hosts (loopback only with the development flag), at most ten
//! per user, and nobody sees or deletes another user's webhooks.

mod common;

use std::sync::Arc;

use api::AppState;
use api::auth::Authenticator;
use axum::http::{Method, StatusCode};
use common::TestApp;
use secrecy::SecretString;
use serde_json::json;
use todo_lib::serve::with_common_layers;

both_backends!(
    a_webhook_is_created_with_its_secret_shown_once,
    webhooks_are_listed_and_deleted_per_user,
    invalid_urls_are_422_and_store_nothing,
    at_most_ten_webhooks_per_user,
    the_limit_holds_under_thirty_concurrent_registrations,
);

async fn a_webhook_is_created_with_its_secret_shown_once(app: TestApp) {
    let res = app
        .send(
            Method::POST,
            "/v1/webhooks",
            Some("alice"),
            Some(json!({ "url": "https://hooks.example.com/todo" })),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    assert!(res.body["secret"].as_str().is_some_and(|s| s.starts_with("whsec_")));
    assert_eq!(res.body["url"], "https://hooks.example.com/todo");
    let listed = app.send(Method::GET, "/v1/webhooks", Some("alice"), None).await;
    assert_eq!(listed.body["items"][0]["id"], res.body["id"]);
    assert!(listed.body["items"][0].get("secret").is_none(), "never listed with its secret");
    let unknown = app
        .send(
            Method::POST,
            "/v1/webhooks",
            Some("alice"),
            Some(json!({ "url": "https://a.example", "secret": "mine" })),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

async fn webhooks_are_listed_and_deleted_per_user(app: TestApp) {
    let created = app
        .send(Method::POST, "/v1/webhooks", Some("alice"), Some(json!({ "url": "https://a.example/h" })))
        .await;
    let path = format!("/v1/webhooks/{}", created.body["id"].as_str().expect("id"));
    assert_eq!(
        app.send(Method::GET, "/v1/webhooks", Some("mallory"), None).await.body,
        json!({ "items": [] })
    );
    let stolen = app.send(Method::DELETE, &path, Some("mallory"), None).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(stolen.body["error"]["message"], "webhook not found");
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::DELETE, &path, Some("alice"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send(Method::DELETE, "/v1/webhooks/nope", Some("alice"), None).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.send(Method::GET, "/v1/webhooks", Some("alice"), None).await.body, json!({ "items": [] }));
}

async fn invalid_urls_are_422_and_store_nothing(app: TestApp) {
    // The same database behind an API without the development flag.
    let auth = Authenticator::with_secret(&SecretString::from(common::SECRET)).expect("secret");
    let state = AppState::new(app.db.store.clone(), Arc::new(auth));
    let strict = TestApp {
        router: with_common_layers(api::app(state), common::settings()),
        db: todo_testing::sqlite().await,
    };
    for url in [
        "http://hooks.example.com/h",
        "https://10.1.2.3/h",
        "https://169.254.169.254/latest",
        "https://[::1]/h",
        "http://127.0.0.1:9000/h",
        "not a url",
        "",
        // The outside probe's: IPv4 embedded in IPv6, and special-purpose ranges.
        "https://[::127.0.0.1]/h",
        "https://[64:ff9b::a9fe:a9fe]/h",
        "https://[64:ff9b::10.0.0.1]/h",
        "https://[64:ff9b:1::a00:1]/h",
        "https://[2002:7f00:1::]/h",
        "https://[::ffff:0:7f00:1]/h",
        "https://[fec0::1]/h",
        "https://[2001:db8::1]/h",
        "https://[100::1]/h",
        "https://192.0.0.192/h",
        "https://198.18.0.1/h",
        "https://240.0.0.1/h",
    ] {
        let res = strict.send(Method::POST, "/v1/webhooks", Some("alice"), Some(json!({ "url": url }))).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {:?}", res.body);
        assert_eq!(res.detail_fields(), ["url"], "{url}");
    }
    assert_eq!(
        strict.send(Method::GET, "/v1/webhooks", Some("alice"), None).await.body,
        json!({ "items": [] })
    );
    // With the flag (as in `make dev`), a receiver on this machine is fine.
    let dev = app
        .send(Method::POST, "/v1/webhooks", Some("alice"), Some(json!({ "url": "http://127.0.0.1:9000/h" })))
        .await;
    assert_eq!(dev.status, StatusCode::CREATED);
}

async fn at_most_ten_webhooks_per_user(app: TestApp) {
    for i in 0..10 {
        let res = app
            .send(
                Method::POST,
                "/v1/webhooks",
                Some("alice"),
                Some(json!({ "url": format!("https://h{i}.example/") })),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED);
    }
    let res = app
        .send(Method::POST, "/v1/webhooks", Some("alice"), Some(json!({ "url": "https://h10.example/" })))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = app
        .send(Method::POST, "/v1/webhooks", Some("bob"), Some(json!({ "url": "https://h10.example/" })))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "the limit is per user");
}

async fn the_limit_holds_under_thirty_concurrent_registrations(app: TestApp) {
    let app = Arc::new(app);
    let mut registrations = tokio::task::JoinSet::new();
    for i in 0..30 {
        let app = Arc::clone(&app);
        registrations.spawn(async move {
            let url = format!("https://h{i}.example/");
            app.send(Method::POST, "/v1/webhooks", Some("alice"), Some(json!({ "url": url }))).await.status
        });
    }
    let statuses = registrations.join_all().await;

    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    assert_eq!((created, refused), (10, 20), "{statuses:?}");
    let listed = app.send(Method::GET, "/v1/webhooks", Some("alice"), None).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(10), "ten stored: {:?}", listed.body);
}
