//! A stand-in for the Dapr sidecar's publish API, on loopback. It checks every
//! request against the documented contract and records what it accepted and what
//! it refused, and it can fail on demand, like a sidecar whose broker is down,
//! or go down itself (connections refused) and come back on the same port.
//!
//! The contract (DESIGN.md, "Events"; Dapr's publish API reference):
//! `POST /v1.0/publish/{pubsubname}/{topic}`, `Content-Type:
//! application/cloudevents+json`, the body a valid CloudEvents 1.0 structured
//! event whose type belongs on that topic, `metadata.partitionKey` equal to the
//! event's subject (the task id), `dapr-api-token` when the sidecar has one.
//! Success is 204.
//!
//! Bulk publish (Dapr's pub/sub API reference, "Publish multiple messages"):
//! `POST /v1.0/publish/bulk/{pubsubname}/{topic}`, a JSON array of entries
//! `{entryId, event, contentType, metadata}`, entry ids unique, each event
//! checked as above with its entry's `metadata.partitionKey`. 204 when every
//! entry went out; otherwise 500 with `{"failedEntries": [{"entryId",
//! "error"}], "errorCode": "ERR_PUBSUB_PUBLISH_MESSAGE"}`.
//!
//! Every event must also carry the CloudEvents `partitionkey` extension equal
//! to its subject (our contract, for brokers that key on it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cloudevents::AttributesReader;
use serde_json::Value;

use todo_lib::event::EventType;

#[derive(Debug, Default)]
struct Inner {
    pubsub: String,
    token: Option<String>,
    failing: AtomicBool,
    /// Event ids whose bulk entries fail, as when their partition is down.
    failing_events: Mutex<std::collections::HashSet<String>>,
    accepted: Mutex<Vec<Value>>,
    bulk_requests: Mutex<usize>,
    violations: Mutex<Vec<String>>,
    failed: Mutex<usize>,
}

/// The server task while the stand-in is up, and how to stop it.
#[derive(Debug)]
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// A running stand-in; dropped with the test's runtime.
#[derive(Debug, Clone)]
pub struct DaprStandIn {
    /// `http://127.0.0.1:<port>`, the sidecar's base URL.
    pub url: String,
    inner: Arc<Inner>,
    running: Arc<tokio::sync::Mutex<Option<Running>>>,
}

impl DaprStandIn {
    /// Starts a stand-in for pub/sub component `pubsub`, demanding `token` if given.
    pub async fn start(pubsub: &str, token: Option<&str>) -> Self {
        let inner = Arc::new(Inner {
            pubsub: pubsub.to_owned(),
            token: token.map(str::to_owned),
            ..Inner::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the Dapr stand-in");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let running = Some(serve(listener, Arc::clone(&inner)));
        Self { url, inner, running: Arc::new(tokio::sync::Mutex::new(running)) }
    }

    /// Goes down as a stopped sidecar does: the port is closed, idle connections
    /// are closed, publishes in flight are finished.
    pub async fn go_down(&self) {
        if let Some(running) = self.running.lock().await.take() {
            let _ = running.stop.send(());
            let _ = running.task.await;
        }
    }

    /// Comes back up on the same port.
    pub async fn come_up(&self) {
        let mut running = self.running.lock().await;
        if running.is_some() {
            return;
        }
        let addr = self.url.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match tokio::net::TcpListener::bind(&addr).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "the stand-in's port is not free yet");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("the Dapr stand-in cannot bind {addr} again: {e}"),
            }
        };
        *running = Some(serve(listener, Arc::clone(&self.inner)));
    }

    /// While failing, every publish is answered 500, as when the broker is down.
    pub fn set_failing(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// While set, the bulk entries of these event ids fail (the rest of their
    /// requests go out).
    pub fn fail_events(&self, ids: &[String]) {
        if let Ok(mut failing) = self.inner.failing_events.lock() {
            *failing = ids.iter().cloned().collect();
        }
    }

    /// How many bulk publish requests arrived.
    pub fn bulk_requests(&self) -> usize {
        self.inner.bulk_requests.lock().map(|n| *n).unwrap_or_default()
    }

    /// The events accepted so far, in arrival order.
    pub fn accepted(&self) -> Vec<Value> {
        self.inner.accepted.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Every request that broke the contract, described.
    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// How many publishes were answered 500 on purpose.
    pub fn failed(&self) -> usize {
        self.inner.failed.lock().map(|f| *f).unwrap_or_default()
    }

    /// Waits until at least `n` events were accepted, or `within` passed.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        crate::at_least(n, within, || self.accepted()).await
    }
}

fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) -> Running {
    let router = Router::new()
        .route("/v1.0/publish/{pubsub}/{topic}", post(publish))
        .route("/v1.0/publish/bulk/{pubsub}/{topic}", post(publish_bulk))
        .with_state(inner);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Running { stop, task }
}

async fn publish(
    State(inner): State<Arc<Inner>>,
    Path((pubsub, topic)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    match check(&inner, &pubsub, &topic, &query, &headers, &body) {
        Err(problem) => violation(&inner, problem),
        Ok(_) if inner.failing.load(Ordering::SeqCst) => {
            if let Ok(mut f) = inner.failed.lock() {
                *f += 1;
            }
            (StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE"}"#.to_owned())
        }
        Ok(event) => {
            if let Ok(mut a) = inner.accepted.lock() {
                a.push(event);
            }
            (StatusCode::NO_CONTENT, String::new())
        }
    }
}

fn violation(inner: &Inner, violation: String) -> (StatusCode, String) {
    if let Ok(mut v) = inner.violations.lock() {
        v.push(violation.clone());
    }
    (StatusCode::BAD_REQUEST, violation)
}

async fn publish_bulk(
    State(inner): State<Arc<Inner>>,
    Path((pubsub, topic)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Ok(mut n) = inner.bulk_requests.lock() {
        *n += 1;
    }
    let entries = match check_bulk(&inner, &pubsub, &topic, &headers, &body) {
        Ok(entries) => entries,
        Err(problem) => return violation(&inner, problem),
    };
    let failing_all = inner.failing.load(Ordering::SeqCst);
    let failing: std::collections::HashSet<String> =
        inner.failing_events.lock().map(|f| f.clone()).unwrap_or_default();
    let mut failed = Vec::new();
    for (entry_id, event) in entries {
        let id = event["id"].as_str().unwrap_or_default().to_owned();
        if failing_all || failing.contains(&id) {
            failed.push(serde_json::json!({ "entryId": entry_id, "error": "the broker is unavailable" }));
        } else if let Ok(mut a) = inner.accepted.lock() {
            a.push(event);
        }
    }
    if failed.is_empty() {
        return (StatusCode::NO_CONTENT, String::new());
    }
    if let Ok(mut f) = inner.failed.lock() {
        *f += failed.len();
    }
    let answer = serde_json::json!({ "failedEntries": failed, "errorCode": "ERR_PUBSUB_PUBLISH_MESSAGE" });
    (StatusCode::INTERNAL_SERVER_ERROR, answer.to_string())
}

/// The bulk request's entries (entry id, event) if it keeps the contract.
fn check_bulk(
    inner: &Inner,
    pubsub: &str,
    topic: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, Value)>, String> {
    check_caller(inner, pubsub, headers)?;
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type != "application/json" {
        return Err(format!("bulk content type '{content_type}', expected application/json"));
    }
    let entries: Vec<Value> = serde_json::from_slice(body)
        .map_err(|e| format!("a bulk body must be a JSON array of entries: {e}"))?;
    if entries.is_empty() {
        return Err("a bulk request with no entries".into());
    }
    let mut seen = std::collections::HashSet::new();
    let mut checked = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry_id = entry["entryId"].as_str().ok_or("an entry without a string entryId")?.to_owned();
        if !seen.insert(entry_id.clone()) {
            return Err(format!("entryId {entry_id} appears twice"));
        }
        if entry["contentType"].as_str() != Some("application/cloudevents+json") {
            return Err(format!(
                "entry {entry_id}: contentType {}, expected application/cloudevents+json",
                entry["contentType"]
            ));
        }
        let key = entry["metadata"]["partitionKey"].as_str();
        let body = serde_json::to_vec(&entry["event"]).map_err(|e| e.to_string())?;
        let event = check_event(topic, key, &body).map_err(|e| format!("entry {entry_id}: {e}"))?;
        checked.push((entry_id, event));
    }
    Ok(checked)
}

/// The component and the token.
fn check_caller(inner: &Inner, pubsub: &str, headers: &HeaderMap) -> Result<(), String> {
    if pubsub != inner.pubsub {
        return Err(format!("unknown pub/sub component '{pubsub}'"));
    }
    if let Some(token) = &inner.token
        && headers.get(todo_lib::config::DAPR_API_TOKEN_HEADER).and_then(|v| v.to_str().ok())
            != Some(token.as_str())
    {
        return Err("missing or wrong dapr-api-token".into());
    }
    Ok(())
}

fn check(
    inner: &Inner,
    pubsub: &str,
    topic: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, String> {
    check_caller(inner, pubsub, headers)?;
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type != "application/cloudevents+json" {
        return Err(format!("content type '{content_type}', expected application/cloudevents+json"));
    }
    check_event(topic, query.get("metadata.partitionKey").map(String::as_str), body)
}

/// A structured CloudEvent of ours on `topic`, keyed by `partition_key`.
fn check_event(topic: &str, partition_key: Option<&str>, body: &[u8]) -> Result<Value, String> {
    let event: cloudevents::Event =
        serde_json::from_slice(body).map_err(|e| format!("body is not a structured CloudEvent: {e}"))?;
    if event.specversion().as_str() != "1.0" {
        return Err("specversion is not 1.0".into());
    }
    let ty = EventType::parse(event.ty()).ok_or_else(|| format!("unknown event type '{}'", event.ty()))?;
    if ty.topic() != topic {
        return Err(format!("event type {} published on topic '{topic}'", event.ty()));
    }
    if uuid::Uuid::parse_str(event.id()).is_err() {
        return Err(format!("event id '{}' is not a UUID", event.id()));
    }
    let subject = event.subject().ok_or("event has no subject")?;
    if partition_key != Some(subject) {
        return Err(format!("partitionKey {partition_key:?} is not the subject {subject}"));
    }
    let extension = event.extension("partitionkey").map(ToString::to_string);
    if extension.as_deref() != Some(subject) {
        return Err(format!("the partitionkey extension {extension:?} is not the subject {subject}"));
    }
    if event.datacontenttype() != Some("application/json") {
        return Err("datacontenttype is not application/json".into());
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}
