//! The in-process bus of the embedded default: a [`Publisher`] that hands events
//! straight to the function subscribed to their topic, in batches, as Dapr's
//! bulk subscribe does (one request per topic, an entry per event in Dapr's
//! envelope), and honours the same answers per entry: `SUCCESS` is done,
//! `RETRY` is retried with backoff (only the entries that asked), `DROP` (or
//! retries run out) goes to the dead-letter table. A single event is a batch of
//! one.
//!
//! Durability comes from the outbox, not from the bus: an event is marked
//! published only after `publish` returns, so a crash mid-delivery leaves it in
//! the outbox, and it is delivered again (idempotent consumers make that harmless).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use http_body_util::BodyExt;
use secrecy::{ExposeSecret, SecretString};
use tower::ServiceExt;
use uuid::Uuid;

use todo_lib::event::{DeadLetter, OutboxEvent, dapr_envelope};
use todo_lib::publish::{PublishError, Publisher, Unsent, by_topic};
use todo_lib::store::Store;

/// How often and how patiently a `RETRY` is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Deliveries in all, the first included.
    pub attempts: u32,
    /// Wait before the second delivery; doubled each time up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 5, first_backoff: Duration::from_millis(200), max_backoff: Duration::from_secs(5) }
    }
}

#[derive(Debug, Clone)]
struct Subscriber {
    name: String,
    router: Router,
}

/// Delivers events to in-process function routers by topic.
#[derive(Debug, Clone)]
pub struct InProcessBus {
    store: Store,
    subscribers: HashMap<String, Subscriber>,
    retry: RetryPolicy,
    /// Sent as `dapr-api-token`, as Dapr sends `APP_API_TOKEN` to the app.
    app_token: Option<SecretString>,
}

/// What a subscriber answered.
enum Answer {
    Success,
    Retry(String),
    Drop(String),
}

impl InProcessBus {
    pub fn new(store: Store, retry: RetryPolicy) -> Self {
        Self { store, subscribers: HashMap::new(), retry, app_token: None }
    }

    /// Presents `token` to the subscribers, which refuse calls without it.
    pub fn with_app_token(mut self, token: Option<SecretString>) -> Self {
        self.app_token = token;
        self
    }

    /// The topics that have a subscriber, and who it is.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.subscribers.iter().map(|(topic, s)| (topic.as_str(), s.name.as_str()))
    }

    /// Subscribes function `name` (its router answers `POST /`) to `topic`.
    pub fn subscribe(mut self, topic: &str, name: &str, router: Router) -> Self {
        self.subscribers.insert(topic.to_owned(), Subscriber { name: name.to_owned(), router });
        self
    }

    /// Sends `events` (all on the subscriber's topic) as one bulk request:
    /// each event's answer, in order.
    async fn deliver(&self, subscriber: &Subscriber, events: &[&OutboxEvent]) -> Vec<Answer> {
        let every = |reason: String| events.iter().map(|_| Answer::Retry(reason.clone())).collect();
        let body = bulk_request(events);
        let mut request = Request::post("/").header("content-type", "application/cloudevents-batch+json");
        if let Some(token) = &self.app_token {
            request = request.header(todo_lib::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
        }
        let Ok(request) = request.body(Body::from(body.to_string())) else {
            return events.iter().map(|_| Answer::Drop("the events cannot be sent as HTTP".into())).collect();
        };
        let Ok(response) = subscriber.router.clone().oneshot(request).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if status.as_u16() != 200 {
            return every(format!("the subscriber answered HTTP {}", status.as_u16()));
        }
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let statuses = answer["statuses"].as_array().cloned().unwrap_or_default();
        events
            .iter()
            .map(|event| {
                let id = event.id.to_string();
                let status = statuses.iter().find(|s| s["entryId"].as_str() == Some(&id));
                // An entry left unanswered counts as RETRY, as with Dapr.
                match status.and_then(|s| s["status"].as_str()) {
                    Some("SUCCESS") => Answer::Success,
                    Some("DROP") => Answer::Drop("the subscriber answered DROP".into()),
                    _ => Answer::Retry("the subscriber answered RETRY or left the entry out".into()),
                }
            })
            .collect()
    }

    /// Delivers `events` of one topic to `subscriber`, retrying the entries
    /// answered `RETRY` with backoff; dead-letters what is dropped or runs out
    /// of attempts. Fails only when a dead letter cannot be recorded.
    async fn deliver_all(
        &self,
        subscriber: &Subscriber,
        events: Vec<&OutboxEvent>,
    ) -> Result<(), PublishError> {
        let mut pending = events;
        let mut backoff = self.retry.first_backoff;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            let answers = self.deliver(subscriber, &pending).await;
            let mut retry = Vec::new();
            for (event, answer) in pending.into_iter().zip(answers) {
                match answer {
                    Answer::Success => {}
                    Answer::Drop(reason) => self.dead_letter(event, &subscriber.name, reason).await?,
                    Answer::Retry(reason) if attempt == attempts => {
                        let reason = format!("gave up after {attempts} attempts: {reason}");
                        self.dead_letter(event, &subscriber.name, reason).await?;
                    }
                    Answer::Retry(reason) => {
                        tracing::debug!(event_id = %event.id, attempt, %reason, "retrying");
                        retry.push(event);
                    }
                }
            }
            if retry.is_empty() {
                break;
            }
            pending = retry;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(self.retry.max_backoff);
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        event: &OutboxEvent,
        subscriber: &str,
        reason: String,
    ) -> Result<(), PublishError> {
        tracing::warn!(event_id = %event.id, topic = %event.topic, subscriber, %reason, "dead-lettered");
        let letter = DeadLetter {
            id: Uuid::now_v7(),
            event_id: event.id,
            topic: event.topic.clone(),
            subscriber: subscriber.to_owned(),
            reason,
            payload: event.payload.clone(),
            created_at: chrono::SubsecRound::trunc_subsecs(Utc::now(), 6),
        };
        self.store.insert_dead_letter(&letter).await.map_err(PublishError::Store)
    }
}

#[async_trait]
impl Publisher for InProcessBus {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        match self.publish_batch(std::slice::from_ref(event)).await.pop() {
            None => Ok(()),
            Some(unsent) => Err(PublishError::Refused { status: 500, body: unsent.reason }),
        }
    }

    /// One bulk request per topic. An event counts as published once its
    /// subscriber took it or it was dead-lettered; only an event whose dead
    /// letter could not be recorded stays unpublished.
    async fn publish_batch(&self, events: &[OutboxEvent]) -> Vec<Unsent> {
        let mut unsent = Vec::new();
        for (topic, group) in by_topic(events) {
            // Like a topic nobody consumes: published, and nothing happens.
            let Some(subscriber) = self.subscribers.get(topic) else { continue };
            for request in requests(group) {
                let ids: Vec<Uuid> = request.iter().map(|e| e.id).collect();
                if let Err(err) = self.deliver_all(subscriber, request).await {
                    let reason = todo_lib::telemetry::Chain(&err).to_string();
                    unsent.extend(ids.into_iter().map(|id| Unsent { id, reason: reason.clone() }));
                }
            }
        }
        unsent
    }
}

/// Entries per bulk request, as the subscriptions' `maxMessagesCount`.
const BULK_ENTRIES: usize = 100;

/// Bytes of events per bulk request at most, well under the 2 MB a function
/// router reads in process (a request of one larger event still goes alone).
const BULK_BYTES: usize = 1024 * 1024;

/// `events` of one topic in bulk requests of at most [`BULK_ENTRIES`] and
/// about [`BULK_BYTES`].
fn requests(events: Vec<&OutboxEvent>) -> Vec<Vec<&OutboxEvent>> {
    let mut requests: Vec<Vec<&OutboxEvent>> = Vec::new();
    let mut bytes = 0;
    for event in events {
        let size = event.payload.to_string().len();
        match requests.last_mut() {
            Some(last) if last.len() < BULK_ENTRIES && bytes + size <= BULK_BYTES => {
                bytes += size;
                last.push(event);
            }
            _ => {
                bytes = size;
                requests.push(vec![event]);
            }
        }
    }
    requests
}

/// The bulk request Dapr would send for `events` (one topic): each in its
/// envelope, its event id as its entry id.
fn bulk_request(events: &[&OutboxEvent]) -> serde_json::Value {
    let pubsub = todo_lib::config::DEFAULT_PUBSUB_NAME;
    let entries: Vec<serde_json::Value> = events
        .iter()
        .map(|event| {
            serde_json::json!({
                "entryId": event.id.to_string(),
                "event": dapr_envelope(event, pubsub),
                "contentType": "application/cloudevents+json",
                "metadata": {},
            })
        })
        .collect();
    serde_json::json!({
        "entries": entries,
        "id": Uuid::new_v4().to_string(),
        "metadata": { "pubsubName": pubsub },
        "pubsubname": pubsub,
        "topic": events.first().map(|e| e.topic.as_str()).unwrap_or_default(),
        "type": "com.dapr.event.sent.bulk",
    })
}
