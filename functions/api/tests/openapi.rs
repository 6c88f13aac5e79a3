//! The OpenAPI document matches the routes that really serve, and the health
//! probes answer.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn the_document_is_openapi_3_1_with_bearer_security() {
    let app = TestApp::sqlite().await;
    let res = app.send(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", res.body["openapi"]);
    assert_eq!(res.body["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    for schema in ["Task", "NewTask", "TaskPatch", "TaskPage", "ErrorBody", "Priority"] {
        assert!(res.body["components"]["schemas"].get(schema).is_some(), "schema {schema} is documented");
    }
}

#[tokio::test]
async fn the_documented_operations_are_exactly_the_served_ones() {
    let app = TestApp::sqlite().await;
    let doc = app.send(Method::GET, "/openapi.json", None, None).await.body;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "patch", "delete", "put"].contains(&method.as_str()) {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let expected: BTreeSet<String> = [
        "POST /v1/tasks",
        "GET /v1/tasks",
        "GET /v1/tasks/{id}",
        "PATCH /v1/tasks/{id}",
        "DELETE /v1/tasks/{id}",
        "POST /v1/tasks/{id}/complete",
        "POST /v1/tasks/{id}/reopen",
        "GET /v1/tags",
        "GET /v1/notifications",
        "POST /v1/notifications/{id}/read",
        "GET /v1/activity",
        "GET /v1/tasks/{id}/activity",
        "POST /v1/webhooks",
        "GET /v1/webhooks",
        "DELETE /v1/webhooks/{id}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(documented, expected);

    // Each documented operation is routed: without a token it is refused by
    // authentication, not by the router.
    for op in &documented {
        let (method, path) = op.split_once(' ').expect("method and path");
        let path = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let method: Method = method.parse().expect("method");
        let res = app.send(method, &path, None, Some(json!({}))).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{op} is documented but not served: {:?}", res.body);
    }
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_database_is_up() {
    let app = TestApp::postgres().await;
    let res = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!((res.status, res.body), (StatusCode::OK, json!({ "status": "ok" })));
    let res = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!((res.status, res.body), (StatusCode::OK, json!({ "status": "ready" })));
}

#[tokio::test]
async fn readyz_is_503_and_the_api_503_when_the_database_is_unreachable() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let store = todo_lib::store::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/todo"),
        todo_lib::store::ConnectOptions::default(),
    )
    .expect("lazy connect succeeds");
    let auth =
        api::auth::Authenticator::with_secret(&secrecy::SecretString::from(common::SECRET)).expect("secret");
    let state = api::AppState {
        store,
        auth: std::sync::Arc::new(auth),
        publisher: None,
        allow_loopback_webhooks: true,
    };
    let router = todo_lib::serve::with_common_layers(api::app(state), common::settings());
    let app = TestApp { router, db: todo_lib::testing::sqlite().await };

    let res = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(res.status, StatusCode::OK, "alive even without a database");
    let res = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "t" }))).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", res.body);
    assert_eq!(res.code(), "unavailable");
    assert_eq!(res.header("retry-after"), Some("5"));
}
