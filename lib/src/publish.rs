//! Publishing one event to the broker: the [`Publisher`] interface and its Dapr
//! sidecar implementation. The outbox relay (`crate::outbox`) decides what to
//! publish and when.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::event::OutboxEvent;

/// Sends one event to its topic.
#[async_trait]
pub trait Publisher: Send + Sync + std::fmt::Debug + 'static {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError>;
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
