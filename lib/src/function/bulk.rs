//! Dapr's bulk subscribe (stable since Dapr 1.17): with `bulkSubscribe`
//! enabled on a subscription, the sidecar posts up to `maxMessagesCount` events
//! in one request, and the app answers a status for each `entryId`.
//!
//! The request (Dapr's pub/sub API reference, "Bulk subscribe"): a JSON object
//! with `id`, `topic`, `pubsubname`, `type` (`com.dapr.event.sent.bulk`),
//! `metadata`, and `entries`, each with `entryId`, `event`, `contentType` and
//! `metadata`. An entry's `event` is the CloudEvent as an object, or, for a raw
//! payload (`metadata.rawPayload`), the message itself: our CloudEvent in JSON,
//! as an object or a string, or base64 of it.
//!
//! The answer: 200 with `{"statuses": [{"entryId", "status"}]}`, `status` one
//! of `SUCCESS`, `RETRY`, `DROP`; an entry left out counts as `RETRY`, so every
//! entry is answered.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Delivery, HandleError, Handled, reply};
use crate::event::EventType;

/// A bulk request as Dapr sends it (the attributes this app reads).
#[derive(Debug, Deserialize)]
pub(super) struct BulkRequest {
    entries: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    #[serde(rename = "entryId")]
    entry_id: String,
    event: Value,
}

/// One entry: its id, and its event or why it is not one.
#[derive(Debug)]
pub(super) struct Entry {
    pub entry_id: String,
    pub delivery: Result<Delivery, String>,
}

impl BulkRequest {
    /// The bulk request in `body`: `None` when the body is not one (a single
    /// event), `Some(Err)` when it looks like one but is malformed.
    pub fn parse(body: &[u8]) -> Option<Result<Self, String>> {
        let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !object || !contains(body, b"\"entries\"") {
            return None;
        }
        let value: Value = serde_json::from_slice(body).ok()?;
        if !value.get("entries").is_some_and(Value::is_array) {
            return None;
        }
        Some(serde_json::from_value(value).map_err(|e| {
            format!("a bulk request's entries each need an entryId (a string) and an event: {e}")
        }))
    }

    /// Its entries, each decoded into an event of a type in `accepts` if it can be.
    pub fn entries(self, accepts: &[EventType]) -> Vec<Entry> {
        self.entries
            .into_iter()
            .map(|raw| Entry { entry_id: raw.entry_id, delivery: decode(raw.event, accepts) })
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An entry's event: a CloudEvent object, or a raw payload holding one (JSON
/// text, or base64 of it).
fn decode(event: Value, accepts: &[EventType]) -> Result<Delivery, String> {
    let event = match event {
        Value::Object(_) => event,
        Value::String(raw) => serde_json::from_str(&raw)
            .or_else(|_| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(raw.trim()).map_err(|_| ())?;
                serde_json::from_slice(&bytes).map_err(|_| ())
            })
            .map_err(|()| {
                "the entry's raw payload is neither a CloudEvent in JSON nor base64 of one".to_owned()
            })?,
        _ => return Err("the entry's event is neither a CloudEvent nor a raw payload".into()),
    };
    Delivery::from_json(event, accepts, true)
}

/// Dapr's answer to a bulk request: a status for every entry.
pub(super) fn answer(entry_ids: &[String], verdicts: &[Result<Handled, HandleError>]) -> Response {
    let statuses: Vec<Value> = entry_ids
        .iter()
        .zip(verdicts)
        .map(|(entry_id, verdict)| json!({ "entryId": entry_id, "status": reply::dapr_status(verdict) }))
        .collect();
    (StatusCode::OK, Json(json!({ "statuses": statuses }))).into_response()
}

/// The answer to a malformed bulk request: Dapr retries every entry (none is
/// answered), so the fault shows in its log rather than losing events.
pub(super) fn malformed(reason: &str) -> Response {
    reply::error(StatusCode::BAD_REQUEST, "invalid_bulk_request", reason)
}
