//! The sidecar's side of Dapr's bulk subscribe, for tests: builds bulk
//! requests as Dapr sends them to an app and checks the app's answer against
//! the documented contract (Dapr's pub/sub API reference, "Bulk subscribe").
//!
//! The request: `{"entries": [...], "id", "metadata": {"pubsubName"},
//! "pubsubname", "topic", "type": "com.dapr.event.sent.bulk"}`; each entry
//! `{"entryId", "event", "contentType", "metadata"}`. A CloudEvent entry carries
//! the event as an object in Dapr's envelope (`application/cloudevents+json`);
//! a raw one (`metadata.rawPayload`) the message bytes, which Dapr's JSON
//! encoding turns into a base64 string.
//!
//! The answer: 200, `{"statuses": [{"entryId", "status"}]}` with `status` one of
//! `SUCCESS`, `RETRY`, `DROP`. Dapr treats an entry left out as `RETRY`; the
//! check here demands every entry answered exactly once, and nothing else.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Value, json};
use todo_lib::event::OutboxEvent;

/// The content type of a bulk request as Dapr posts it to the app.
pub const CONTENT_TYPE: &str = "application/cloudevents-batch+json";

/// A bulk request being built.
#[derive(Debug, Clone, Default)]
pub struct BulkRequest {
    topic: String,
    entries: Vec<Value>,
}

impl BulkRequest {
    /// An empty request on `topic`.
    pub fn on(topic: &str) -> Self {
        Self { topic: topic.to_owned(), entries: Vec::new() }
    }

    /// Adds `event` as a CloudEvent entry (Dapr's envelope); returns its entry id.
    pub fn cloud_event(&mut self, event: &OutboxEvent) -> String {
        self.push(crate::dapr_envelope(event), "application/cloudevents+json", json!({}))
    }

    /// Adds `event` as a raw entry: the message bytes, base64-encoded as
    /// Dapr's JSON encoding of a byte slice gives them.
    pub fn raw(&mut self, event: &OutboxEvent) -> String {
        let bytes = event.payload.to_string();
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.push(Value::String(encoded), "application/json", json!({ "rawPayload": "true" }))
    }

    /// Adds any `event` value with `content_type`; returns its entry id.
    pub fn push(&mut self, event: Value, content_type: &str, metadata: Value) -> String {
        let entry_id = uuid::Uuid::new_v4().to_string();
        self.entries.push(json!({
            "entryId": entry_id,
            "event": event,
            "contentType": content_type,
            "metadata": metadata,
        }));
        entry_id
    }

    /// The request body.
    pub fn body(&self) -> Value {
        json!({
            "entries": self.entries,
            "id": uuid::Uuid::new_v4().to_string(),
            "metadata": { "pubsubName": todo_lib::config::DEFAULT_PUBSUB_NAME },
            "pubsubname": todo_lib::config::DEFAULT_PUBSUB_NAME,
            "topic": self.topic,
            "type": "com.dapr.event.sent.bulk",
        })
    }

    /// The ids of its entries, in order.
    pub fn entry_ids(&self) -> Vec<String> {
        self.entries.iter().filter_map(|e| e["entryId"].as_str().map(str::to_owned)).collect()
    }

    /// Checks `status` and `body`, the app's answer to this request, against
    /// the contract: each entry id's status, or every way it departs from it.
    pub fn statuses(&self, status: u16, body: &Value) -> Result<HashMap<String, String>, Vec<String>> {
        let mut problems = Vec::new();
        if status != 200 {
            problems.push(format!("HTTP {status}, not 200"));
        }
        let Some(statuses) = body.get("statuses").and_then(Value::as_array) else {
            problems.push(format!("no statuses array in {body}"));
            return Err(problems);
        };
        let expected = self.entry_ids();
        let mut seen: HashMap<String, String> = HashMap::new();
        for entry in statuses {
            let (Some(id), Some(word)) = (entry["entryId"].as_str(), entry["status"].as_str()) else {
                problems.push(format!("a status without a string entryId and status: {entry}"));
                continue;
            };
            if !["SUCCESS", "RETRY", "DROP"].contains(&word) {
                problems.push(format!("entry {id}: status {word:?} is not SUCCESS, RETRY or DROP"));
            }
            if !expected.iter().any(|e| e == id) {
                problems.push(format!("entry {id} was not in the request"));
            }
            if seen.insert(id.to_owned(), word.to_owned()).is_some() {
                problems.push(format!("entry {id} answered twice"));
            }
        }
        for id in &expected {
            if !seen.contains_key(id) {
                problems.push(format!("entry {id} left unanswered (Dapr retries it)"));
            }
        }
        if problems.is_empty() { Ok(seen) } else { Err(problems) }
    }

    /// Sends the request to `router` and checks the answer: each entry's
    /// status, in the order of the entries. Panics on any departure from the
    /// contract.
    pub async fn send(&self, router: &axum::Router) -> Vec<String> {
        let request = axum::http::Request::post("/")
            .header("content-type", CONTENT_TYPE)
            .body(axum::body::Body::from(self.body().to_string()))
            .expect("a valid request");
        let (status, body) = crate::call(router, request).await;
        match self.statuses(status.as_u16(), &body) {
            Ok(statuses) => self.entry_ids().iter().map(|id| statuses[id].clone()).collect(),
            Err(problems) => panic!("the bulk answer breaks Dapr's contract: {problems:?}\n{body}"),
        }
    }
}
