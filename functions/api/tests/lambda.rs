//! The same `api` binary under AWS Lambda: with `AWS_LAMBDA_RUNTIME_API` set it
//! serves through `lambda_http`. A stand-in of the Lambda Runtime API on loopback
//! hands it one Function URL event (payload format 2.0) and checks the calls it
//! makes against the documented runtime contract.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_api");
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<Value>>>,
    calls: mpsc::UnboundedSender<(String, Value)>,
}

/// `GET …/invocation/next`: the event once, then nothing (a real runtime would
/// freeze the process between invocations).
async fn next(State(rt): State<Runtime>) -> axum::response::Response {
    let event = rt.event.lock().ok().and_then(|mut e| e.take());
    match event {
        Some(event) => {
            let deadline = (chrono::Utc::now().timestamp_millis() + 30_000).to_string();
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", REQUEST_ID.parse().expect("header"));
            headers.insert("lambda-runtime-deadline-ms", deadline.parse().expect("header"));
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:api".parse().expect("header"),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700".parse().expect("header"),
            );
            (StatusCode::OK, headers, axum::Json(event)).into_response()
        }
        None => std::future::pending().await,
    }
}

async fn response(State(rt): State<Runtime>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = rt.calls.send((format!("response {id}"), body));
    StatusCode::ACCEPTED
}

async fn error(State(rt): State<Runtime>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = rt.calls.send((format!("error {id}"), body));
    StatusCode::ACCEPTED
}

async fn init_error(State(rt): State<Runtime>, body: axum::body::Bytes) -> StatusCode {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = rt.calls.send(("init error".into(), body));
    StatusCode::ACCEPTED
}

/// A Function URL request (API Gateway HTTP API payload 2.0).
fn function_url_event(method: &str, path: &str, token: &str, body: &Value) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "authorization": format!("Bearer {token}"),
            "content-type": "application/json",
            "host": "abc.lambda-url.eu-west-1.on.aws"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test" },
            "requestId": REQUEST_ID,
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1_795_766_400_000_i64
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    })
}

#[tokio::test]
async fn the_binary_answers_a_function_url_event_under_the_lambda_runtime() {
    let dir = std::env::temp_dir().join(format!("todo-lambda-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/todo.db", dir.display());
    let migrated =
        Command::new(BIN).env_clear().env("DATABASE_URL", &url).arg("migrate").output().expect("migrate");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));

    let event =
        function_url_event("POST", "/v1/tasks", &common::token("alice"), &json!({ "title": "from lambda" }));
    let (tx, mut calls) = mpsc::unbounded_channel();
    let runtime = Runtime { event: Arc::new(Mutex::new(Some(event))), calls: tx };
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut child = Command::new(BIN)
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("JWT_SECRET", common::SECRET)
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("api starts");

    let call = tokio::time::timeout(Duration::from_secs(30), calls.recv()).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let (what, body) = call.expect("the function answered in time").expect("a call");
    assert_eq!(what, format!("response {REQUEST_ID}"), "{body}");
    assert_eq!(body["statusCode"], 201, "{body}");
    let task: Value = serde_json::from_str(body["body"].as_str().expect("a text body")).expect("JSON body");
    assert_eq!(task["title"], "from lambda");
}
