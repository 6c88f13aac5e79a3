//! Publishing events to the broker: the [`Publisher`] interface and its Dapr
//! sidecar implementation, one event per call or a backlog through Dapr's bulk
//! publish. The outbox relay (`crate::outbox`) decides what to publish and when.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::event::OutboxEvent;

/// Sends events to their topics.
#[async_trait]
pub trait Publisher: Send + Sync + std::fmt::Debug + 'static {
    /// Sends one event to its topic.
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError>;

    /// Sends `events` in as few calls as the broker takes: those it did not
    /// accept, each with why (none when all went out). By default one by one,
    /// stopping at the first failure (the rest are reported as not sent).
    async fn publish_batch(&self, events: &[OutboxEvent]) -> Vec<Unsent> {
        for (sent, event) in events.iter().enumerate() {
            if let Err(err) = self.publish(event).await {
                let reason = crate::telemetry::Chain(&err).to_string();
                return events[sent..].iter().map(|e| Unsent { id: e.id, reason: reason.clone() }).collect();
            }
        }
        Vec::new()
    }
}

/// `events` grouped by topic, topics in the order they first appear and each
/// topic's events in their order: what a bulk request per topic carries.
pub fn by_topic(events: &[OutboxEvent]) -> Vec<(&str, Vec<&OutboxEvent>)> {
    let mut topics: Vec<(&str, Vec<&OutboxEvent>)> = Vec::new();
    for event in events {
        match topics.iter_mut().find(|(topic, _)| *topic == event.topic) {
            Some((_, group)) => group.push(event),
            None => topics.push((event.topic.as_str(), vec![event])),
        }
    }
    topics
}

/// An event a batch publish did not send, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsent {
    pub id: uuid::Uuid,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The sidecar could not be reached or did not answer in time.
    #[error("publish request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The sidecar answered, but not with success.
    #[error("the sidecar answered {status}: {body}")]
    Refused { status: u16, body: String },
    /// The in-process bus could not record a dead letter.
    #[error("recording a dead letter failed")]
    Store(#[source] crate::store::StoreError),
    /// The in-process bus is not wired to its subscribers yet.
    #[error("the in-process bus is not ready")]
    NotReady,
}

/// Publishes through the Dapr sidecar's HTTP API:
/// `POST /v1.0/publish/{pubsub}/{topic}?metadata.partitionKey={task id}` with the
/// structured CloudEvent as body (`Content-Type: application/cloudevents+json`),
/// so Dapr keeps our `id` instead of wrapping the event in one of its own.
#[derive(Debug, Clone)]
pub struct DaprPublisher {
    client: reqwest::Client,
    base_url: String,
    pubsub: String,
    api_token: Option<SecretString>,
}

/// Longest wait for the sidecar; a publish that takes longer is left for the sweeper.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(5);

/// Entries per bulk publish request: the sweeper's batch of 1,000 rows in ten
/// requests of about 1 MB at most (a task event is under 1 KB, bounded by the
/// API's limits), under Kafka's default 1 MB per record batch per partition
/// once spread over partitions, and well under the sidecar's 4 MB body limit.
pub const BULK_ENTRIES: usize = 100;

impl DaprPublisher {
    /// `base_url` is the sidecar, e.g. `http://127.0.0.1:3500`.
    pub fn new(base_url: &str, pubsub: &str, api_token: Option<SecretString>) -> Result<Self, PublishError> {
        let client = reqwest::Client::builder().timeout(PUBLISH_TIMEOUT).build()?;
        Ok(Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            pubsub: pubsub.to_owned(),
            api_token,
        })
    }
}

#[async_trait]
impl Publisher for DaprPublisher {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        let url = format!("{}/v1.0/publish/{}/{}", self.base_url, self.pubsub, event.topic);
        let mut request = self
            .client
            .post(url)
            .query(&[("metadata.partitionKey", event.partition_key.as_str())])
            .header(reqwest::header::CONTENT_TYPE, "application/cloudevents+json")
            .body(event.payload.to_string());
        if let Some(token) = &self.api_token {
            request = request.header(crate::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
        }
        let response = request.send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(PublishError::Refused { status: status.as_u16(), body: shortened(body, 500) })
    }

    /// Through Dapr's bulk publish, `BULK_ENTRIES` at a time per topic (a
    /// topic with one event takes the single-event call). Dapr's bulk publish
    /// is not transactional: the entries it reports as failed (by `entryId`,
    /// the event id) are the ones not sent; when its answer names none, every
    /// entry of the request counts as not sent.
    async fn publish_batch(&self, events: &[OutboxEvent]) -> Vec<Unsent> {
        let mut unsent = Vec::new();
        for (topic, group) in by_topic(events) {
            if let [event] = group.as_slice() {
                if let Err(err) = self.publish(event).await {
                    unsent.push(Unsent { id: event.id, reason: crate::telemetry::Chain(&err).to_string() });
                }
                continue;
            }
            for chunk in group.chunks(BULK_ENTRIES) {
                unsent.extend(self.bulk_publish(topic, chunk).await);
            }
        }
        unsent
    }
}

impl DaprPublisher {
    /// `POST /v1.0/publish/bulk/{pubsub}/{topic}`: a JSON array of entries
    /// `{entryId, event, contentType, metadata}`, each the structured CloudEvent
    /// with its own `partitionKey`. 204 when all went out; otherwise (500)
    /// `{"failedEntries": [{"entryId", "error"}], "errorCode"}`.
    async fn bulk_publish(&self, topic: &str, events: &[&OutboxEvent]) -> Vec<Unsent> {
        let entries: Vec<serde_json::Value> = events
            .iter()
            .map(|event| {
                serde_json::json!({
                    "entryId": event.id.to_string(),
                    "event": event.payload,
                    "contentType": "application/cloudevents+json",
                    "metadata": { "partitionKey": event.partition_key },
                })
            })
            .collect();
        let url = format!("{}/v1.0/publish/bulk/{}/{topic}", self.base_url, self.pubsub);
        let mut request = self.client.post(url).json(&entries);
        if let Some(token) = &self.api_token {
            request = request.header(crate::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
        }
        let every =
            |reason: String| events.iter().map(|e| Unsent { id: e.id, reason: reason.clone() }).collect();
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                return every(format!("bulk publish request failed: {}", crate::telemetry::Chain(&err)));
            }
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let failed: Vec<(String, String)> = answer["failedEntries"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| {
                        let id = e["entryId"].as_str()?.to_owned();
                        Some((id, e["error"].as_str().unwrap_or("failed").to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if status.is_success() && failed.is_empty() {
            return Vec::new();
        }
        if failed.is_empty() {
            return every(format!("the sidecar answered {status}: {}", shortened(body, 500)));
        }
        events
            .iter()
            .filter_map(|event| {
                let id = event.id.to_string();
                let (_, reason) = failed.iter().find(|(failed, _)| *failed == id)?;
                Some(Unsent {
                    id: event.id,
                    reason: format!("the sidecar failed it: {}", shortened(reason.clone(), 200)),
                })
            })
            .collect()
    }
}

/// At most `max` bytes of `text`, cut at a character boundary: a sidecar's
/// reply is logged, not trusted to be short or ASCII.
fn shortened(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The publisher the environment asks for: Dapr when `DAPR_HTTP_PORT` is set
/// (Dapr sets it beside the app), otherwise none, and events wait in the outbox.
pub fn from_config(config: &crate::config::Config) -> Result<Option<Arc<dyn Publisher>>, PublishError> {
    let Some(port) = config.dapr_http_port else { return Ok(None) };
    let publisher = DaprPublisher::new(
        &format!("http://127.0.0.1:{port}"),
        &config.pubsub_name,
        config.dapr_api_token.clone(),
    )?;
    Ok(Some(Arc::new(publisher)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sidecar that answers every publish with `status` and `body`.
    async fn sidecar(status: axum::http::StatusCode, body: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new().fallback(move || {
            let body = body.clone();
            async move { (status, body) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    fn event() -> OutboxEvent {
        OutboxEvent {
            id: uuid::Uuid::now_v7(),
            topic: "task-created".into(),
            partition_key: "k".into(),
            payload: serde_json::json!({}),
            created_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_refusal_whose_body_is_cut_inside_a_character_is_reported_not_panicked_on() {
        // Byte 500 falls inside the second byte of an "é".
        let reply = format!("a{}", "é".repeat(400));
        let url = sidecar(axum::http::StatusCode::INTERNAL_SERVER_ERROR, reply.clone()).await;
        let publisher = DaprPublisher::new(&url, "pubsub", None).expect("client");
        match publisher.publish(&event()).await {
            Err(PublishError::Refused { status: 500, body }) => {
                assert_eq!(body.len(), 499, "cut at the last whole character");
                assert!(reply.starts_with(&body));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn shortened_keeps_short_text_whole() {
        assert_eq!(shortened("naïve".into(), 500), "naïve");
        assert_eq!(shortened("🙂🙂".into(), 5), "🙂");
    }
}
