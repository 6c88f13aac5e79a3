//! A stand-in of the AWS Lambda Runtime API on loopback (no Lambda can run
//! here): it hands a function binary one invocation and reports what the
//! binary sent back, on the paths and with the headers of the documented
//! runtime contract (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`,
//! `…/{id}/error`, `/init/error`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The invocation's request id, which the binary must answer under.
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

#[derive(Clone)]
struct Runtime {
    event: Arc<Mutex<Option<Value>>>,
    calls: mpsc::UnboundedSender<(String, Value)>,
}

/// The running stand-in: its address (for `AWS_LAMBDA_RUNTIME_API`) and what
/// the binary called it with.
#[derive(Debug)]
pub struct LambdaRuntime {
    pub addr: SocketAddr,
    calls: mpsc::UnboundedReceiver<(String, Value)>,
}

impl LambdaRuntime {
    /// Serves `event` as the one invocation.
    pub async fn start(event: Value) -> Self {
        let (tx, calls) = mpsc::unbounded_channel();
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
        Self { addr, calls }
    }

    /// Runs function binary `bin` (named `name`) under this runtime, with only
    /// `env` and the variables AWS Lambda sets, until it answers the invocation
    /// (at most 30 s); then stops it. Its answer, as [`Self::answer`] gives it.
    pub async fn invoke(&mut self, bin: &str, name: &str, env: &[(&str, &str)]) -> Option<(String, Value)> {
        let mut child = std::process::Command::new(bin)
            .env_clear()
            .envs(env.iter().copied())
            .env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the function binary starts");
        let answer = self.answer(Duration::from_secs(30)).await;
        let _ = child.kill();
        let _ = child.wait();
        answer
    }

    /// The binary's first call after the invocation: `("response <id>", body)`,
    /// `("error <id>", body)` or `("init error", body)`; `None` if none came
    /// within `within`.
    pub async fn answer(&mut self, within: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(within, self.calls.recv()).await.ok().flatten()
    }
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
                "arn:aws:lambda:eu-west-1:123456789012:function:todo".parse().expect("header"),
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

fn record(rt: &Runtime, what: String, body: &[u8]) -> StatusCode {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let _ = rt.calls.send((what, body));
    StatusCode::ACCEPTED
}

async fn response(State(rt): State<Runtime>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    record(&rt, format!("response {id}"), &body)
}

async fn error(State(rt): State<Runtime>, Path(id): Path<String>, body: axum::body::Bytes) -> StatusCode {
    record(&rt, format!("error {id}"), &body)
}

async fn init_error(State(rt): State<Runtime>, body: axum::body::Bytes) -> StatusCode {
    record(&rt, "init error".into(), &body)
}

/// A Function URL request (API Gateway HTTP API payload 2.0) to
/// `abc.lambda-url.eu-west-1.on.aws`, with `headers` besides `host`.
pub fn function_url_event(method: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> Value {
    let mut all = serde_json::Map::new();
    all.insert("host".into(), "abc.lambda-url.eu-west-1.on.aws".into());
    for (name, value) in headers {
        all.insert((*name).into(), (*value).into());
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all,
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

/// A self-managed Kafka event as Lambda's event source mapping delivers it
/// (`eventSource` `SelfManagedKafka`, records grouped by `topic-partition`),
/// holding `events` as the relay publishes them: each record's `value` is
/// base64 of the structured CloudEvent, its `key` base64 of the partition key.
/// Record `i` is on partition `i % 2` of `topic`, at offset `100 + i`.
pub fn kafka_event(topic: &str, events: &[&todo_lib::event::OutboxEvent]) -> Value {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut records = serde_json::Map::new();
    for (i, event) in events.iter().enumerate() {
        let partition = i % 2;
        let record = json!({
            "topic": topic,
            "partition": partition,
            "offset": 100 + i,
            "timestamp": 1_795_766_400_000_i64,
            "timestampType": "CREATE_TIME",
            "key": b64(event.partition_key.as_bytes()),
            "value": b64(event.payload.to_string().as_bytes()),
            "headers": [{ "content-type": b"application/cloudevents+json".to_vec() }],
        });
        let key = format!("{topic}-{partition}");
        records.entry(key).or_insert_with(|| json!([])).as_array_mut().expect("a list").push(record);
    }
    json!({
        "eventSource": "SelfManagedKafka",
        "bootstrapServers": "b-1.example.com:9092,b-2.example.com:9092",
        "records": records,
    })
}

/// The same records as an Amazon MSK event (`eventSource` `aws:kafka`).
pub fn msk_event(topic: &str, events: &[&todo_lib::event::OutboxEvent]) -> Value {
    let mut event = kafka_event(topic, events);
    event["eventSource"] = json!("aws:kafka");
    event["eventSourceArn"] = json!("arn:aws:kafka:eu-west-1:123456789012:cluster/todo/abcd1234");
    event
}

/// An SQS event as Lambda's event source mapping delivers it, one message per
/// event (its body the structured CloudEvent), message `i` with id `msg-i`.
pub fn sqs_event(events: &[&todo_lib::event::OutboxEvent]) -> Value {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            json!({
                "messageId": format!("msg-{i}"),
                "receiptHandle": format!("receipt-{i}"),
                "body": event.payload.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795766400000",
                    "SenderId": "123456789012",
                    "ApproximateFirstReceiveTimestamp": "1795766400001"
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:task-created",
                "awsRegion": "eu-west-1"
            })
        })
        .collect();
    json!({ "Records": records })
}
