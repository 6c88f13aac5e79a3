//! Each front door's events say who wrote them, and the registry of functions
//! (and so `docs/asyncapi.json`) says what each really writes: the REST API
//! and the MCP server are driven through every use case that writes, and the
//! outbox tells the source and type of every event they wrote.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::SecretString;
use serde_json::{Value, json};
use todo_testing::TestDb;
use tower::ServiceExt as _;

const SECRET: &str = "front-doors-secret-0123456789abcdef";

todo_testing::on_both_backends!(every_front_door_writes_its_own_source_and_the_types_the_registry_names);

fn token(user: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": user, "iat": now, "exp": now + 3600 });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).expect("token")
}

async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn rest(router: &Router, method: Method, path: &str, user: &str, body: Option<Value>) -> Value {
    let request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header("authorization", format!("Bearer {}", token(user)))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    let (status, body) = call(router, request).await;
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

async fn tool(router: &Router, user: &str, name: &str, arguments: Value) -> Value {
    let protocol = "2026-07-28";
    let params = json!({
        "name": name,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": protocol,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "tests", "version": "1"},
        },
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let request = Request::post("/mcp")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", protocol)
        .header("mcp-method", "tools/call")
        .header("mcp-name", name)
        .header("authorization", format!("Bearer {}", token(user)))
        .body(Body::from(body.to_string()))
        .expect("request");
    let (status, body) = call(router, request).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    let result = &body["result"];
    assert_ne!(result["isError"], true, "{name}: {body}");
    result["structuredContent"].clone()
}

/// (source, type) of every event in the outbox, taken out of it.
async fn written(db: &TestDb) -> BTreeSet<(String, String)> {
    let events = db.store.unpublished_events(10_000).await.expect("outbox");
    for event in &events {
        db.store.mark_published(event.id, chrono::Utc::now()).await.expect("marked");
    }
    events
        .iter()
        .map(|e| {
            let field = |name: &str| e.payload[name].as_str().expect("a CloudEvent attribute").to_owned();
            (field("source"), field("type"))
        })
        .collect()
}

/// What the registry says the function `name` writes.
fn registered(name: &str) -> BTreeSet<(String, String)> {
    let function = local::facts::functions().into_iter().find(|f| f.name == name).expect("registered");
    function.publishes.iter().map(|ty| (name.to_owned(), ty.as_str().to_owned())).collect()
}

async fn every_front_door_writes_its_own_source_and_the_types_the_registry_names(db: TestDb) {
    let auth = api::auth::Authenticator::with_secret(&SecretString::from(SECRET)).expect("secret");
    let state = api::AppState::new(db.store.clone(), Arc::new(auth));
    let api = api::app(state.clone());
    let mcp = mcp::routes(state, mcp::McpConfig::default());
    // Bob has signed in: he has an Inbox, so lists may be shared with him.
    rest(&api, Method::GET, "/v1/lists", "bob", None).await;

    let list = rest(&api, Method::POST, "/v1/lists", "alice", Some(json!({"name": "Team"}))).await;
    let list = list["id"].as_str().expect("id").to_owned();
    let task =
        rest(&api, Method::POST, "/v1/tasks", "alice", Some(json!({"title": "a", "list_id": list}))).await;
    let task = task["id"].as_str().expect("id").to_owned();
    rest(&api, Method::PATCH, &format!("/v1/tasks/{task}"), "alice", Some(json!({"title": "b"}))).await;
    rest(&api, Method::POST, &format!("/v1/tasks/{task}/complete"), "alice", None).await;
    let members = format!("/v1/lists/{list}/members");
    rest(&api, Method::POST, &members, "alice", Some(json!({"user_id": "bob", "role": "editor"}))).await;
    rest(&api, Method::DELETE, &format!("{members}/bob"), "alice", None).await;
    rest(&api, Method::DELETE, &format!("/v1/tasks/{task}"), "alice", None).await;
    assert_eq!(written(&db).await, registered(api::SOURCE), "what the REST API writes");

    let task = tool(&mcp, "alice", "create_task", json!({"title": "c", "list_id": list})).await;
    let task = task["id"].as_str().expect("id").to_owned();
    tool(&mcp, "alice", "update_task", json!({"id": task, "title": "d"})).await;
    tool(&mcp, "alice", "complete_task", json!({"id": task})).await;
    tool(&mcp, "alice", "add_member", json!({"list_id": list, "user_id": "bob", "role": "viewer"})).await;
    tool(&mcp, "alice", "remove_member", json!({"list_id": list, "user_id": "bob"})).await;
    tool(&mcp, "alice", "delete_task", json!({"id": task})).await;
    assert_eq!(written(&db).await, registered(mcp::NAME), "what the MCP server writes");
}
