//! Publishing outbox events to the broker, after the transaction that wrote them
//! has committed.
//!
//! A publish that fails is logged and left in the outbox; `cron-tick` republishes
//! it later. Nothing here ever fails a user's request, and nothing is lost: an
//! event is marked published only after the broker (through Dapr) accepted it.
//! Republishing may deliver an event twice; consumers are idempotent on its id.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::event::OutboxEvent;
use crate::store::Store;
use uuid::Uuid;

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
        let mut body = response.text().await.unwrap_or_default();
        body.truncate(500);
        Err(PublishError::Refused { status: status.as_u16(), body })
    }
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

/// Publishes `events` in order and marks each one published; stops at the first
/// failure so that one task's events keep their order, and releases the lease of
/// those left, so that a sweep retries them as soon as the broker is back rather
/// than when the lease runs out. Returns how many went out.
pub async fn publish_and_mark(store: &dyn Store, publisher: &dyn Publisher, events: &[OutboxEvent]) -> usize {
    let mut sent = 0;
    for event in events {
        if let Err(err) = publisher.publish(event).await {
            tracing::warn!(event_id = %event.id, topic = %event.topic, error = %crate::telemetry::Chain(&err), "publish failed; left in the outbox");
            release(store, &events[sent..]).await;
            return sent;
        }
        if let Err(err) = store.mark_published(event.id, Utc::now()).await {
            // Published but not marked: the sweeper will publish it again, and
            // consumers drop the duplicate by its id.
            tracing::warn!(event_id = %event.id, error = %crate::telemetry::Chain(&err), "marking an event published failed");
            return sent;
        }
        sent += 1;
    }
    sent
}

async fn release(store: &dyn Store, left: &[OutboxEvent]) {
    let ids: Vec<Uuid> = left.iter().map(|e| e.id).collect();
    if let Err(err) = store.release_unpublished(&ids).await {
        // The leases run out on their own; the events wait that long.
        tracing::warn!(events = ids.len(), error = %crate::telemetry::Chain(&err), "releasing unpublished events failed");
    }
}

/// How long a republisher holds the rows it claimed before another may take them.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// How [`republish_unpublished`] sweeps the outbox.
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    /// An unpublished event younger than this is left to its writer.
    pub min_age: Duration,
    /// How long the sweeper holds the rows it claimed before another may take them.
    pub lease: Duration,
    /// Rows per claim.
    pub batch: i64,
    /// Claims per sweep, so one sweep stays short however large the backlog.
    pub max_batches: usize,
}

/// Republishes events that are still unpublished `min_age` after they were written
/// (their writer's own publish failed, or it crashed), in batches. Stops early when
/// the publisher fails, leaving the rest for the next run. Returns how many were
/// published.
pub async fn republish_unpublished(
    store: &dyn Store,
    publisher: &dyn Publisher,
    sweep: Sweep,
) -> Result<usize, crate::store::StoreError> {
    let mut published = 0;
    for _ in 0..sweep.max_batches {
        let now = Utc::now();
        let cutoff = now - chrono::Duration::from_std(sweep.min_age).unwrap_or_default();
        let claimed = store.claim_unpublished(cutoff, now, sweep.lease, sweep.batch).await?;
        if claimed.is_empty() {
            break;
        }
        let sent = publish_and_mark(store, publisher, &claimed).await;
        published += sent;
        if sent < claimed.len() {
            break;
        }
    }
    Ok(published)
}

/// Publishes in the background, so the caller (a request handler) answers at once.
pub fn spawn_publish(store: Arc<dyn Store>, publisher: Arc<dyn Publisher>, events: Vec<OutboxEvent>) {
    tokio::spawn(async move {
        publish_and_mark(store.as_ref(), publisher.as_ref(), &events).await;
    });
}
