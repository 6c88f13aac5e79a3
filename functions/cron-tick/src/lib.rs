//! `cron-tick`: fired by a Dapr cron binding (or any POST). Each tick claims the
//! reminders that are due and writes a `task.due` event for each (in the same
//! transaction), publishes them, republishes outbox rows that their writers
//! failed to publish, then sends the webhook deliveries that are owed (see
//! `todo_lib::webhook::Sender`: a tick waits for them at most a second; slower
//! receivers finish in the background). Safe when ticks overlap or run on several
//! replicas: claims are disjoint (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use todo_lib::publish::{self, Publisher};
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::{Store, StoreError};
use todo_lib::webhook::{Deliverer, Sender, SenderSettings};

/// The function's name: its Dapr app id and the `source` of its events.
pub const NAME: &str = "cron-tick";

/// How a tick works through its backlog.
#[derive(Debug, Clone)]
pub struct TickSettings {
    /// Rows per claim.
    pub batch: i64,
    /// Claims per tick, so one tick stays short however large the backlog.
    pub max_batches: usize,
    /// An unpublished event younger than this is left to its writer.
    pub republish_after: Duration,
    /// How long a tick holds the reminders and events it claimed: after a crash,
    /// another tick takes them over once this has passed.
    pub lease: Duration,
    /// How owed webhook deliveries are sent.
    pub webhooks: SenderSettings,
}

impl Default for TickSettings {
    fn default() -> Self {
        Self {
            batch: 100,
            max_batches: 10,
            republish_after: Duration::from_secs(10),
            lease: publish::CLAIM_LEASE,
            webhooks: SenderSettings::default(),
        }
    }
}

#[derive(Debug, Clone)]
struct Tick {
    store: Arc<dyn Store>,
    publisher: Option<Arc<dyn Publisher>>,
    settings: Arc<TickSettings>,
    webhooks: Sender,
}

/// The function's router, sending webhooks through `deliverer`.
pub fn app(
    store: Arc<dyn Store>,
    publisher: Option<Arc<dyn Publisher>>,
    settings: TickSettings,
    app_token: Option<secrecy::SecretString>,
    deliverer: Deliverer,
) -> Router {
    let webhooks = Sender::new(deliverer, settings.webhooks.clone());
    let tick = Tick { store: Arc::clone(&store), publisher, settings: Arc::new(settings), webhooks };
    // Dapr probes a binding's route with OPTIONS at start-up.
    let routes =
        Router::new().route("/", post(run_tick).options(|| async { StatusCode::OK })).with_state(tick);
    todo_lib::function::protect(routes, app_token)
        .merge(todo_lib::health::routes(store))
        .merge(todo_lib::metrics::routes())
        .fallback(|| async { todo_lib::function::not_found() })
        .method_not_allowed_fallback(|| async { todo_lib::function::method_not_allowed() })
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let publisher = publish::from_config(&ctx.config)?;
    if publisher.is_none() {
        tracing::warn!(
            "DAPR_HTTP_PORT is not set: due reminders are written to the outbox but not published"
        );
    }
    let deliverer = Deliverer::new(ctx.config.webhook_allow_loopback)?;
    Ok(app(ctx.store, publisher, TickSettings::default(), ctx.config.app_api_token, deliverer))
}

async fn run_tick(State(tick): State<Tick>) -> Response {
    match tick.run().await {
        Ok(counts) => (StatusCode::OK, Json(counts)).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "tick failed; the next one retries");
            todo_lib::function::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "temporary failure; retry later",
            )
        }
    }
}

impl Tick {
    async fn run(&self) -> Result<serde_json::Value, StoreError> {
        let now = chrono::Utc::now();
        let (mut reminders, mut published) = (0, 0);
        for _ in 0..self.settings.max_batches {
            let events =
                self.store.claim_due_reminders(now, self.settings.batch, NAME, self.settings.lease).await?;
            reminders += events.len();
            if let Some(publisher) = &self.publisher {
                published +=
                    publish::publish_and_mark(self.store.as_ref(), publisher.as_ref(), &events).await;
            }
            if (events.len() as i64) < self.settings.batch {
                break;
            }
        }
        let republished = match &self.publisher {
            Some(publisher) => {
                let sweep = publish::Sweep {
                    min_age: self.settings.republish_after,
                    lease: self.settings.lease,
                    batch: self.settings.batch,
                    max_batches: self.settings.max_batches,
                };
                publish::republish_unpublished(self.store.as_ref(), publisher.as_ref(), sweep).await?
            }
            None => 0,
        };
        todo_lib::metrics::set_outbox_backlog(self.store.count_unpublished().await?);
        let webhooks = self.webhooks.round(&self.store).await?;
        todo_lib::metrics::set_webhook_backlog(self.store.count_owed_webhook_deliveries().await?);
        if reminders + republished + webhooks.delivered + webhooks.failed + webhooks.retrying > 0 {
            tracing::info!(reminders, published, republished, ?webhooks, "tick");
        }
        Ok(json!({
            "reminders": reminders,
            "published": published,
            "republished": republished,
            "webhooks": webhooks,
        }))
    }
}
