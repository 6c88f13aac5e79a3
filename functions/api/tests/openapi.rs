//! The OpenAPI document matches the routes that really serve, the AsyncAPI
//! document of the events is served, and the health probes answer.

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
    // Any operation may be refused for the caller's rate limit, and says so.
    let paths = res.body["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("operations") {
            let refusal = &operation["responses"]["429"];
            assert!(
                refusal["headers"]["Retry-After"].is_object(),
                "{method} {path} documents 429: {refusal}"
            );
        }
    }
}

#[tokio::test]
async fn the_asyncapi_document_of_the_events_is_served_as_committed() {
    let app = TestApp::sqlite().await;
    let res = app.send(Method::GET, "/asyncapi.json", None, None).await;
    assert_eq!(res.status, StatusCode::OK);
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/asyncapi.json"))
            .expect("docs"),
    )
    .expect("JSON");
    assert_eq!(res.body, committed);
    assert_eq!(res.body["asyncapi"], "3.0.0");
    assert!(res.body["channels"]["task-due"]["messages"]["task.due"].is_object(), "{}", res.body["channels"]);
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
        "POST /v1/tasks/{id}/snooze",
        "POST /v1/tasks/{id}/move",
        "GET /v1/tags",
        "POST /v1/lists",
        "GET /v1/lists",
        "GET /v1/lists/counts",
        "GET /v1/lists/{id}",
        "PATCH /v1/lists/{id}",
        "DELETE /v1/lists/{id}",
        "GET /v1/lists/{id}/members",
        "POST /v1/lists/{id}/members",
        "PATCH /v1/lists/{id}/members/{user_id}",
        "DELETE /v1/lists/{id}/members/{user_id}",
        "POST /v1/lists/{id}/invitations",
        "GET /v1/lists/{id}/invitations",
        "DELETE /v1/lists/{id}/invitations/{invitation_id}",
        "POST /v1/invitations/{token}/accept",
        "GET /v1/notifications",
        "POST /v1/notifications/{id}/read",
        "GET /v1/activity",
        "GET /v1/tasks/{id}/activity",
        "GET /v1/tasks/{id}/subtasks",
        "GET /v1/lists/{id}/activity",
        "POST /v1/webhooks",
        "GET /v1/webhooks",
        "DELETE /v1/webhooks/{id}",
        "POST /v1/tokens",
        "GET /v1/tokens",
        "DELETE /v1/tokens/{id}",
        "GET /v1/me/settings",
        "PUT /v1/me/settings",
        "POST /v1/me/settings/email/confirmation",
        "GET /v1/push/key",
        "POST /v1/push/subscriptions",
        "GET /v1/push/subscriptions",
        "DELETE /v1/push/subscriptions/{id}",
        "POST /v1/quick-add",
        "GET /v1/recurrence/preview",
        "GET /v1/changes",
        "GET /v1/stream",
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
    let ready = json!({ "status": "ready", "rate_limiter": { "backend": "in-process" } });
    assert_eq!((res.status, res.body), (StatusCode::OK, ready));
}

/// The API over the database at `url`, connected lazily as in production.
async fn app_on(url: &str) -> TestApp {
    let store = todo_lib::store::connect(url, todo_lib::store::ConnectOptions::default())
        .expect("lazy connect succeeds");
    let auth =
        api::auth::Authenticator::with_secret(&secrecy::SecretString::from(common::SECRET)).expect("secret");
    let state = api::AppState {
        allow_loopback_webhooks: true,
        ..api::AppState::new(store, std::sync::Arc::new(auth))
    };
    let router = todo_lib::serve::with_common_layers(api::app(state), common::settings());
    // `db` is unused by these tests: the store above is the one under test.
    TestApp { router, db: todo_testing::sqlite().await }
}

/// Readiness and a write both answer 503 `unavailable` with `Retry-After`.
async fn assert_unavailable(app: &TestApp, what: &str) {
    let res = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(res.status, StatusCode::OK, "{what}: alive even without a database");
    let res = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {:?}", res.body);
    assert_eq!(res.header("retry-after"), Some("5"), "{what}: readyz says when to retry");
    let res = app.send(Method::POST, "/v1/tasks", Some("alice"), Some(json!({ "title": "t" }))).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {:?}", res.body);
    assert_eq!(res.code(), "unavailable", "{what}");
    assert_eq!(res.header("retry-after"), Some("5"), "{what}");
}

#[tokio::test]
async fn readyz_is_503_and_the_api_503_when_the_database_is_unreachable() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let app = app_on(&format!("postgres://postgres@127.0.0.1:{port}/todo")).await;
    assert_unavailable(&app, "a refused connection").await;
}

#[tokio::test]
async fn a_dropped_database_is_503_with_retry_after() {
    let db = todo_testing::postgres().await;
    let url = db.postgres_url().expect("a PostgreSQL database");
    drop(db); // drops the database for real
    assert_unavailable(&app_on(&url).await, "a dropped database").await;
}

#[tokio::test]
async fn a_database_refusing_connections_is_503_with_retry_after_and_stores_nothing() {
    let db = todo_testing::postgres().await;
    let url = db.postgres_url().expect("a PostgreSQL database");
    let outage = db.break_connections().await;
    assert_unavailable(&app_on(&url).await, "connections not allowed").await;
    outage.heal().await;
    let tasks: i64 = sqlx::query_scalar("select count(*) from tasks")
        .fetch_one(&sqlx::PgPool::connect(&url).await.expect("connects again"))
        .await
        .expect("count");
    assert_eq!(tasks, 0, "nothing half-written");
}

#[tokio::test]
async fn an_unknown_database_role_is_503_with_retry_after() {
    let db = todo_testing::postgres().await;
    let mut url = url::Url::parse(&db.postgres_url().expect("a PostgreSQL database")).expect("a URL");
    url.set_username(&format!("no_such_role_{}", uuid::Uuid::new_v4().simple())).expect("a user name");
    assert_unavailable(&app_on(url.as_str()).await, "an unknown role").await;
}
