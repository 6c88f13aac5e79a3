//! The in-process bus of the embedded default: a [`Publisher`] that hands each
//! event straight to the function subscribed to its topic, in the envelope Dapr
//! would use, and honours the same answers: `SUCCESS` is done, `RETRY` is retried
//! with backoff, `DROP` (or retries run out) goes to the dead-letter table.
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
use todo_lib::publish::{PublishError, Publisher};
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

    async fn deliver(&self, subscriber: &Subscriber, body: &str) -> Answer {
        let mut request = Request::post("/").header("content-type", "application/cloudevents+json");
        if let Some(token) = &self.app_token {
            request = request.header(todo_lib::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
        }
        let request = request.body(Body::from(body.to_owned()));
        let Ok(request) = request else { return Answer::Drop("the event cannot be sent as HTTP".into()) };
        let Ok(response) = subscriber.router.clone().oneshot(request).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        match (status.as_u16(), answer["status"].as_str()) {
            (200, Some("SUCCESS")) => Answer::Success,
            (200, Some("DROP")) => Answer::Drop("the subscriber answered DROP".into()),
            (200, Some("RETRY")) => Answer::Retry("the subscriber answered RETRY".into()),
            (code, _) => Answer::Retry(format!("the subscriber answered HTTP {code}")),
        }
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
        // Like a topic nobody consumes: published, and nothing happens.
        let Some(subscriber) = self.subscribers.get(&event.topic) else { return Ok(()) };
        let body = dapr_envelope(event, todo_lib::config::DEFAULT_PUBSUB_NAME).to_string();
        let mut backoff = self.retry.first_backoff;
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts.max(1) {
            match self.deliver(subscriber, &body).await {
                Answer::Success => return Ok(()),
                Answer::Drop(reason) => return self.dead_letter(event, &subscriber.name, reason).await,
                Answer::Retry(reason) => {
                    tracing::debug!(event_id = %event.id, attempt, %reason, "retrying");
                    last = reason;
                }
            }
            if attempt < self.retry.attempts {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(self.retry.max_backoff);
            }
        }
        let reason = format!("gave up after {} attempts: {last}", self.retry.attempts);
        self.dead_letter(event, &subscriber.name, reason).await
    }
}
