//! `cron-tick`: fired by a Dapr cron binding (or any POST). Each tick claims the
//! reminders that are due and writes a `task.due` event for each (in the same
//! transaction), publishes them, republishes outbox rows that their writers
//! failed to publish, then sends the webhook deliveries, mails and push messages that are owed
//! (see `todo_lib::sender::Sender`: a tick waits for them at most a second;
//! slower receivers finish in the background). Every `retention.every` it also prunes
//! what has outlived its use (see [`RetentionSettings`]). Safe when ticks overlap
//! or run on several replicas: claims are disjoint (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), and pruning twice is harmless.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::json;
use todo_lib::clock::{Clock, lease_end};
use todo_lib::event::{EventError, EventType, OutboxEvent, task_event};
use todo_lib::mail::{MailConfig, Mailer};
use todo_lib::outbox;
use todo_lib::publish::{self, Publisher};
use todo_lib::push::{PushConfig, Pusher, VapidKeys};
use todo_lib::sender::{Sender, SenderSettings};
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::{Pruned, Retention, Store, StoreError};
use todo_lib::webhook::Deliverer;

/// The function's name: its Dapr app id and the `source` of its events.
pub const NAME: &str = "cron-tick";

/// Claimers republishing a backlog at once: the claim of one overlaps the
/// bulk publish and marking of another (`make bench`'s drain: see the
/// performance chapter).
const SWEEP_WORKERS: usize = 4;

/// How a tick works through its backlog.
#[derive(Debug, Clone)]
pub struct TickSettings {
    /// Rows per claim.
    pub batch: i64,
    /// Claims per tick, so one tick stays short however large the backlog.
    pub max_batches: usize,
    /// An unpublished event younger than this is left to its writer.
    pub republish_after: Duration,
    /// How the outbox backlog is republished: rows per claim (sent through
    /// Dapr's bulk publish, 100 per request), and how long a tick may go on
    /// claiming while claims come back full. A backlog left by a sidecar
    /// outage drains at the sidecar's pace, not a claim per tick.
    pub sweep_batch: i64,
    pub sweep_budget: Duration,
    /// How long a tick holds the reminders and events it claimed: after a crash,
    /// another tick takes them over once this has passed.
    pub lease: Duration,
    /// How owed webhook deliveries are sent.
    pub webhooks: SenderSettings,
    /// How owed mails are sent, and through what (kept, without `SMTP_URL`).
    pub mail: SenderSettings,
    pub mailer: Mailer,
    /// How owed push messages are sent, and signed with what (none can be,
    /// without `VAPID_PRIVATE_KEY`).
    pub push: SenderSettings,
    pub pusher: Pusher,
    pub retention: RetentionSettings,
    /// The time claims, pruning and the webhook sender go by.
    pub clock: Arc<dyn Clock>,
}

/// How long rows that no longer serve a purpose are kept, and how often a tick
/// prunes them.
#[derive(Debug, Clone, Copy)]
pub struct RetentionSettings {
    /// Published outbox rows (kept for inspection; nothing reads them).
    pub outbox: Duration,
    /// Processed event ids: a duplicate older than this would act again, so it
    /// must outlive the broker's redelivery window (the topic's retention).
    pub processed: Duration,
    /// Delivered and failed webhook deliveries and mails (a redelivered event
    /// older than this would be queued again). Links in mails go when they
    /// expire.
    pub webhook_deliveries: Duration,
    /// How often a process prunes (its first tick does).
    pub every: Duration,
    /// Rows of each kind per delete, and deletes per prune.
    pub batch: i64,
    pub max_batches: usize,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        const DAY: Duration = Duration::from_secs(24 * 3600);
        Self {
            outbox: 7 * DAY,
            processed: 30 * DAY,
            webhook_deliveries: 30 * DAY,
            every: Duration::from_secs(10),
            batch: 1000,
            max_batches: 10,
        }
    }
}

impl Default for TickSettings {
    fn default() -> Self {
        Self {
            batch: 100,
            max_batches: 10,
            republish_after: Duration::from_secs(10),
            sweep_batch: 1000,
            sweep_budget: Duration::from_secs(5),
            lease: outbox::CLAIM_LEASE,
            webhooks: SenderSettings::default(),
            // A send walks several SMTP steps of up to 15 s each: a lease of
            // three minutes outlasts the slowest, so no mail goes twice.
            mail: SenderSettings {
                concurrency: 8,
                lease: Duration::from_secs(180),
                ..SenderSettings::default()
            },
            mailer: Mailer::default(),
            push: SenderSettings { concurrency: 16, ..SenderSettings::default() },
            pusher: Pusher::default(),
            retention: RetentionSettings::default(),
            clock: todo_lib::clock::system(),
        }
    }
}

impl TickSettings {
    /// The settings with each user's webhook deliveries, mails and push
    /// messages bounded as `limits` say (`WEBHOOK_DELIVERIES_PER_MINUTE`,
    /// `MAIL_PER_MINUTE`, `PUSH_PER_MINUTE`, kept in Redis when `REDIS_URL`
    /// names one).
    pub fn with_delivery_limits(
        mut self,
        limits: &todo_lib::rate_limit::RateLimitConfig,
    ) -> Result<Self, todo_lib::rate_limit::RateLimitConfigError> {
        let limiter = todo_lib::rate_limit::Limiter::from_config(limits)?;
        self.webhooks.per_user = limiter.clone();
        self.mail.per_user = limiter.clone();
        self.push.per_user = limiter;
        Ok(self)
    }
}

#[derive(Debug, Clone)]
struct Tick {
    store: Store,
    publisher: Option<Arc<dyn Publisher>>,
    settings: Arc<TickSettings>,
    webhooks: Sender<Deliverer>,
    mail: Sender<Mailer>,
    push: Sender<Pusher>,
    /// When this process last pruned.
    pruned_at: Arc<Mutex<Option<Instant>>>,
}

/// The function's router, sending webhooks through `deliverer`.
pub fn app(
    store: Store,
    publisher: Option<Arc<dyn Publisher>>,
    settings: TickSettings,
    app_token: Option<secrecy::SecretString>,
    deliverer: Deliverer,
) -> Router {
    let webhooks = Sender::new(deliverer, settings.webhooks.clone()).with_clock(Arc::clone(&settings.clock));
    let mail =
        Sender::new(settings.mailer.clone(), settings.mail.clone()).with_clock(Arc::clone(&settings.clock));
    let push =
        Sender::new(settings.pusher.clone(), settings.push.clone()).with_clock(Arc::clone(&settings.clock));
    let tick = Tick {
        store: store.clone(),
        publisher,
        settings: Arc::new(settings),
        webhooks,
        mail,
        push,
        pruned_at: Arc::default(),
    };
    // Dapr probes a binding's route with OPTIONS at start-up.
    let routes =
        Router::new().route("/", post(run_tick).options(|| async { StatusCode::OK })).with_state(tick);
    todo_lib::function::assemble(routes, app_token, store, todo_lib::function::Fallbacks::EVENTS)
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
    let token = ctx.event_route_token()?;
    let limits: todo_lib::rate_limit::RateLimitConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let mail: MailConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let mailer = Mailer::from_config(&mail)?;
    if mailer.keeps() {
        tracing::warn!("SMTP_URL is not set: reminder mails are kept in the queue, not sent");
    }
    let push: PushConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let keys = VapidKeys::from_config(&push, mail.public_url())?;
    if keys.is_none() {
        tracing::warn!("VAPID_PRIVATE_KEY is not set: push messages wait in the queue, unsent");
    }
    let pusher = Pusher::new(keys, ctx.config.webhook_allow_loopback)?;
    let settings =
        TickSettings { mailer, pusher, ..TickSettings::default() }.with_delivery_limits(&limits)?;
    Ok(app(ctx.store, publisher, settings, token, deliverer))
}

async fn run_tick(State(tick): State<Tick>) -> Response {
    match tick.run().await {
        Ok(counts) => (StatusCode::OK, Json(counts)).into_response(),
        Err(err) => {
            tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "tick failed; the next one retries");
            todo_lib::function::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "temporary failure; retry later",
            )
        }
    }
}

/// Why a tick stopped short; the next one retries.
#[derive(Debug, thiserror::Error)]
enum TickError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `task.due` event could not be built: a bug, and nothing was claimed.
    #[error("a task.due event could not be built")]
    Event(#[from] EventError),
}

impl Tick {
    /// Claims up to a batch of due reminders and writes a `task.due` event for
    /// each, in one transaction. The events are leased to this tick, which
    /// publishes them; only if that fails do republishers take them, after the
    /// lease. Concurrent ticks claim disjoint reminders.
    async fn claim_reminders(&self, now: DateTime<Utc>) -> Result<Vec<OutboxEvent>, TickError> {
        let lease_until = lease_end(now, self.settings.lease);
        let mut tx = self.store.begin().await?;
        let tasks = tx.claim_due_reminders(now, self.settings.batch).await?;
        let mut events = Vec::with_capacity(tasks.len());
        for task in &tasks {
            let event = task_event(EventType::Due, task, NAME, now, task.remind_at)?;
            tx.write_event(&event, Some(lease_until)).await?;
            events.push(event);
        }
        tx.commit().await?;
        Ok(events)
    }

    async fn run(&self) -> Result<serde_json::Value, TickError> {
        let now = self.settings.clock.now();
        let (mut reminders, mut published) = (0, 0);
        for _ in 0..self.settings.max_batches {
            let events = self.claim_reminders(now).await?;
            reminders += events.len();
            if let Some(publisher) = &self.publisher {
                published += outbox::publish_and_mark(&self.store, publisher.as_ref(), &events).await;
            }
            if (events.len() as i64) < self.settings.batch {
                break;
            }
        }
        let republished = match &self.publisher {
            Some(publisher) => {
                let sweep = outbox::Sweep {
                    min_age: self.settings.republish_after,
                    lease: self.settings.lease,
                    batch: self.settings.sweep_batch,
                    max_batches: usize::MAX,
                    budget: self.settings.sweep_budget,
                    workers: SWEEP_WORKERS,
                    clock: Arc::clone(&self.settings.clock),
                };
                outbox::republish_unpublished(&self.store, publisher.as_ref(), sweep).await?
            }
            None => 0,
        };
        todo_lib::metrics::set_outbox_backlog(self.store.count_unpublished().await?);
        let (webhooks, mail, push) = tokio::join!(
            self.webhooks.round(&self.store),
            self.mail.round(&self.store),
            self.push.round(&self.store)
        );
        let (webhooks, mail, push) = (webhooks?, mail?, push?);
        todo_lib::metrics::set_webhook_backlog(self.store.count_owed_webhook_deliveries().await?);
        let pruned = self.prune_if_due().await?;
        let sent = |r: &todo_lib::sender::RoundReport| r.delivered + r.failed + r.retrying;
        if reminders + republished + sent(&webhooks) + sent(&mail) + sent(&push) > 0 {
            tracing::info!(reminders, published, republished, ?webhooks, ?mail, ?push, "tick");
        }
        if pruned != Pruned::default() {
            tracing::info!(?pruned, "pruned");
        }
        Ok(json!({
            "reminders": reminders,
            "published": published,
            "republished": republished,
            "webhooks": webhooks,
            "mail": mail,
            "push": push,
            "pruned": pruned,
        }))
    }

    /// Prunes if this process has not for `retention.every`.
    async fn prune_if_due(&self) -> Result<Pruned, StoreError> {
        let retention = self.settings.retention;
        {
            let Ok(mut last) = self.pruned_at.lock() else { return Ok(Pruned::default()) };
            if last.is_some_and(|at| at.elapsed() < retention.every) {
                return Ok(Pruned::default());
            }
            *last = Some(Instant::now());
        }
        let now = self.settings.clock.now();
        let ago = |d: Duration| {
            chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| now.checked_sub_signed(d))
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        };
        let cutoffs = Retention {
            published_before: ago(retention.outbox),
            processed_before: ago(retention.processed),
            deliveries_before: ago(retention.webhook_deliveries),
            links_expired_before: now,
            limit: retention.batch,
        };
        let mut total = Pruned::default();
        for _ in 0..retention.max_batches {
            let pruned = self.store.prune(&cutoffs).await?;
            total.outbox += pruned.outbox;
            total.processed += pruned.processed;
            total.webhook_deliveries += pruned.webhook_deliveries;
            total.mail += pruned.mail;
            total.mail_links += pruned.mail_links;
            total.push += pruned.push;
            let full = |n: u64| n >= retention.batch as u64;
            let counts = [
                pruned.outbox,
                pruned.processed,
                pruned.webhook_deliveries,
                pruned.mail,
                pruned.mail_links,
                pruned.push,
            ];
            if !counts.into_iter().any(full) {
                break;
            }
        }
        Ok(total)
    }
}
