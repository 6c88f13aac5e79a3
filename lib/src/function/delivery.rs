//! Turns an HTTP request into a [`Delivery`]: a CloudEvent in structured mode
//! (Dapr's envelope included, with its extra attributes and `data_base64`) or in
//! binary mode (`ce-*` headers, as Knative and curl users send), whose data is a
//! task event or, for `list.member_*`, a membership event; or an entry of a
//! batch, in structured JSON. The body was already bounded by the router's body
//! limit.

use axum::body::Bytes;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use cloudevents::{AttributesReader, Data, Event};

use super::HandleError;
use crate::event::{EventData, EventType, MemberEventData, TaskEventData};

/// An event, checked and decoded, ready for a handler.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The CloudEvent id: the idempotency key.
    pub id: String,
    pub ty: EventType,
    pub source: String,
    pub subject: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub data: EventData,
    /// W3C trace context, from the envelope's extension or the request header.
    pub traceparent: Option<String>,
    /// Whether Dapr delivered it (its envelope names the pub/sub component).
    pub via_dapr: bool,
}

/// An event that cannot be handled, ever.
#[derive(Debug)]
pub(super) struct Rejected {
    pub via_dapr: bool,
    pub reason: String,
}

impl Delivery {
    pub(super) fn parse(headers: &HeaderMap, body: Bytes, accepts: &[EventType]) -> Result<Self, Rejected> {
        // Dapr's envelope is structured JSON with a `pubsubname` attribute; look for
        // it before parsing, so even an unusable event is answered in Dapr's terms.
        let via_dapr = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .is_some_and(|v| v.get("pubsubname").is_some_and(serde_json::Value::is_string));
        let reject = |reason: String| Rejected { via_dapr, reason };

        if body.is_empty() && !headers.contains_key("ce-specversion") {
            return Err(reject("empty body: send a CloudEvent (structured JSON or ce-* headers)".into()));
        }
        let event: Event = cloudevents::binding::http::to_event(headers, body.to_vec())
            .map_err(|e| reject(format!("not a CloudEvent: {}", describe(&e))))?;
        let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
        Self::from_event(&event, traceparent, accepts, via_dapr).map_err(reject)
    }

    /// A CloudEvent in structured JSON (an entry of a batch), delivered by Dapr
    /// or not; why it cannot be handled, when it cannot.
    pub fn from_json(
        value: serde_json::Value,
        accepts: &[EventType],
        via_dapr: bool,
    ) -> Result<Self, String> {
        let event: Event = serde_json::from_value(value).map_err(|e| format!("not a CloudEvent: {e}"))?;
        Self::from_event(&event, None, accepts, via_dapr)
    }

    /// The event, if it is one of `accepts` with valid data; its trace from
    /// its `traceparent` extension, else from `traceparent` (a header).
    fn from_event(
        event: &Event,
        traceparent: Option<&str>,
        accepts: &[EventType],
        via_dapr: bool,
    ) -> Result<Self, String> {
        let ty =
            EventType::parse(event.ty()).ok_or_else(|| format!("unknown event type '{}'", event.ty()))?;
        if !accepts.contains(&ty) {
            let names: Vec<&str> = accepts.iter().map(|t| t.as_str()).collect();
            return Err(format!("this function handles {}, not {}", names.join(", "), ty.as_str()));
        }
        let data = if ty.is_task() {
            decode_data(event).map(|data| EventData::Task(Box::new(data)))
        } else {
            decode_data(event).map(EventData::Member)
        };
        let data = data.map_err(|e| format!("invalid data for {}: {e}", ty.as_str()))?;
        let traceparent = event
            .extension("traceparent")
            .map(ToString::to_string)
            .or_else(|| traceparent.map(str::to_owned))
            .filter(|t| valid_traceparent(t));
        Ok(Self {
            id: event.id().to_owned(),
            ty,
            source: event.source().to_string(),
            subject: event.subject().map(str::to_owned),
            time: event.time().copied(),
            data,
            traceparent,
            via_dapr,
        })
    }

    /// The task event's data; a permanent error for a membership event (which
    /// a function handling task events does not accept anyway).
    pub fn task(&self) -> Result<&TaskEventData, HandleError> {
        match &self.data {
            EventData::Task(data) => Ok(data),
            EventData::Member(_) => {
                Err(HandleError::Permanent(format!("{} is not a task event", self.ty.as_str())))
            }
        }
    }

    /// The membership event's data; a permanent error for a task event.
    pub fn member(&self) -> Result<&MemberEventData, HandleError> {
        match &self.data {
            EventData::Member(data) => Ok(data),
            EventData::Task(_) => {
                Err(HandleError::Permanent(format!("{} is not a membership event", self.ty.as_str())))
            }
        }
    }

    /// The trace id of the W3C `traceparent`, for the log span.
    pub fn trace_id(&self) -> Option<&str> {
        self.traceparent.as_deref().and_then(|t| t.split('-').nth(1))
    }
}

/// The SDK's error, with what to do about it where its words are too terse.
fn describe(err: &cloudevents::message::Error) -> String {
    match err {
        cloudevents::message::Error::WrongEncoding {} => "send it structured (Content-Type: \
            application/cloudevents+json) or in binary mode (ce-specversion, ce-id, ce-source and \
            ce-type headers)"
            .into(),
        other => other.to_string(),
    }
}

fn decode_data<T: serde::de::DeserializeOwned>(event: &Event) -> Result<T, String> {
    match event.data() {
        Some(Data::Json(value)) => serde_json::from_value(value.clone()).map_err(|e| e.to_string()),
        Some(Data::Binary(bytes)) => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Some(Data::String(text)) => serde_json::from_str(text).map_err(|e| e.to_string()),
        None => Err("the event has no data".into()),
    }
}

/// `00-<32 hex>-<16 hex>-<2 hex>`, trace and span ids not all zero.
fn valid_traceparent(t: &str) -> bool {
    let parts: Vec<&str> = t.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0], 2)
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1].bytes().any(|b| b != b'0')
        && parts[2].bytes().any(|b| b != b'0')
}

/// The `traceparent` for an event caused by one carrying `parent`: the same trace,
/// a new span id. A fresh trace when there is no parent.
pub fn child_traceparent(parent: Option<&str>) -> String {
    let span_id = &uuid::Uuid::new_v4().simple().to_string()[..16];
    match parent.filter(|p| valid_traceparent(p)).and_then(|p| p.split('-').nth(1)) {
        Some(trace_id) => format!("00-{trace_id}-{span_id}-01"),
        None => format!("00-{}-{span_id}-01", uuid::Uuid::new_v4().simple()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_keeps_the_trace_and_gets_a_new_span() {
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let child = child_traceparent(Some(parent));
        assert!(valid_traceparent(&child), "{child}");
        assert_eq!(child.split('-').nth(1), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_ne!(child.split('-').nth(2), Some("00f067aa0ba902b7"));
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for bad in
            ["", "00-xyz-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"]
        {
            assert!(!valid_traceparent(bad), "{bad}");
        }
        assert!(valid_traceparent(&child_traceparent(Some("garbage"))));
    }
}
