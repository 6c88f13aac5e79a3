//! `api`: the REST API of the Todo backend, an HTTP function.
//!
//! Authenticated users manage their tasks; every change is written with its
//! CloudEvent in the outbox (see `todo_lib::store`).
//!
//! # Layout
//!
//! - [`auth`]: bearer authentication: JWTs (HS256 secret, or a JWKS URL) and
//!   personal access tokens, with their scopes.
//! - [`tasks`]: the task and tag endpoints.
//! - [`quick_add`]: one line of text read into a new task's fields, before it is saved.
//! - [`recurrence`]: the due times a rule gives, previewed before a task is saved.
//! - [`series`]: reopening a task of a series takes back the occurrence it made.
//! - [`snooze`]: a task's reminder re-armed for later.
//! - [`subtasks`]: a task's subtasks, and the rules that keep trees of tasks whole.
//! - [`inbox`]: notifications and the activity history.
//! - [`webhooks`]: webhook registration.
//! - [`settings`]: the user's notification settings; [`mail_links`]: the pages
//!   links in mails open (confirm an address, unsubscribe).
//! - [`changes`]: the changes feed, paged by cursor; [`stream`]: the same, pushed
//!   as Server-Sent Events.
//! - [`tokens`]: personal access tokens, made, listed and revoked by a signed-in user.
//! - [`oidc`]: the web app's sign-in with OpenID Connect (authorization code with PKCE).
//! - [`web`]: the web app, embedded and served at `/` with a strict Content-Security-Policy.
//! - [`limit`]: every request spends from its caller's budget (rate limits).
//! - [`extract`]: request extractors that answer in the API's error shape.
//! - [`error`]: the error type and its JSON shape.
//! - [`openapi`]: the OpenAPI 3.1 document, generated from the routes.
//! - [`config`]: the API's own environment variables.

pub mod auth;
pub mod changes;
pub mod config;
pub mod error;
pub mod extract;
pub mod inbox;
pub mod invitations;
pub mod limit;
pub mod lists;
pub mod mail_links;
pub mod members;
pub mod oidc;
pub mod openapi;
pub mod order;
pub mod push;
pub mod quick_add;
pub mod recurrence;
pub mod series;
pub mod settings;
pub mod snooze;
pub mod stream;
pub mod subtasks;
pub mod tasks;
pub mod tokens;
pub mod web;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use todo_lib::event::OutboxEvent;
use todo_lib::function::Fallbacks;
use todo_lib::publish::{self, Publisher};
use todo_lib::relay::Relay;
use todo_lib::serve::{BoxError, Context};
use todo_lib::store::Store;

use crate::auth::Authenticator;
use crate::config::ApiConfig;
use crate::error::ApiError;

/// The CloudEvents `source` of events this function produces.
pub const SOURCE: &str = "api";

/// Shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Authenticator>,
    /// Sends committed events on; `None` leaves them in the outbox for `cron-tick`.
    pub publisher: Option<Relay>,
    /// `WEBHOOK_ALLOW_LOOPBACK`: development only.
    pub allow_loopback_webhooks: bool,
    /// How `/v1/stream` keeps its connections.
    pub stream: stream::Settings,
    /// The streams open in this process, bounded by `stream`'s caps.
    pub streams: Arc<stream::slots::Slots>,
    /// The one reader of the changes feed for every stream in this process.
    pub hub: Arc<stream::hub::Hub>,
    /// Whether the local host offers its one-click development sign-in
    /// (`POST /auth/dev`), as `GET /auth/config` tells the web app.
    pub dev_sign_in: bool,
    /// The CloudEvents `source` of the events written through this front
    /// door: [`SOURCE`] here, `mcp` in the MCP server.
    pub source: &'static str,
    /// Each caller's budget of requests.
    pub limits: limit::RateLimits,
    /// How much one user or list may hold.
    pub quotas: todo_lib::quota::Quotas,
    /// Where links in mails point (`PUBLIC_URL`).
    pub mail: todo_lib::mail::MailConfig,
    /// The VAPID keys browsers subscribe to push with; `None`: push is off.
    pub push: Option<todo_lib::push::VapidKeys>,
}

impl AppState {
    /// The state over `store` checking tokens with `auth`: no publisher (events
    /// wait in the outbox), the default stream settings and quotas, source
    /// [`SOURCE`], and no rate limit (tests set one where they test it).
    pub fn new(store: Store, auth: Arc<Authenticator>) -> Self {
        let stream = stream::Settings::default();
        let streams = stream::slots::Slots::new(stream.caps(todo_lib::config::DEFAULT_MAX_CONNECTIONS));
        Self {
            store,
            auth,
            publisher: None,
            allow_loopback_webhooks: false,
            stream,
            streams,
            hub: Arc::default(),
            dev_sign_in: false,
            source: SOURCE,
            limits: limit::RateLimits::unlimited(),
            quotas: todo_lib::quota::Quotas::default(),
            mail: todo_lib::mail::MailConfig::default(),
            push: None,
        }
    }

    /// The same state with `settings` for its streams, sized for a process
    /// of `max_connections`.
    #[must_use]
    pub fn with_streams(self, settings: stream::Settings, max_connections: usize) -> Self {
        let streams = stream::slots::Slots::new(settings.caps(max_connections));
        Self { stream: settings, streams, ..self }
    }

    /// Hands committed events to the publisher, in the background: the response
    /// does not wait for the broker, and a failure only delays the events.
    pub fn publish(&self, events: Vec<OutboxEvent>) {
        if let Some(relay) = &self.publisher {
            relay.hand(events);
        }
    }
}

/// The AsyncAPI document of the events, generated from the registry of functions
/// by the local crate's test into `docs/asyncapi.json` and embedded here.
const ASYNCAPI: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/asyncapi.json"));

/// Every documented route.
fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    tasks::routes()
        .merge(subtasks::routes())
        .merge(snooze::routes())
        .merge(order::routes())
        .merge(lists::routes())
        .merge(members::routes())
        .merge(invitations::routes())
        .merge(inbox::routes())
        .merge(webhooks::routes())
        .merge(tokens::routes())
        .merge(settings::routes())
        .merge(push::routes())
        .merge(quick_add::routes())
        .merge(recurrence::routes())
        .merge(changes::routes())
        .merge(stream::routes())
}

/// The OpenAPI document, as `/openapi.json` serves it: what other ways in to
/// the same use cases (the MCP server's tools) take their schemas from.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::split(routes()).1
}

/// The whole API: task routes, health probes, `/openapi.json`, `/asyncapi.json`
/// and the web app at `/`.
pub fn app(state: AppState) -> Router {
    let (router, doc) = openapi::split(routes());
    let doc = Arc::new(doc);
    let router = router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json(doc) }
            }),
        )
        .route(
            "/asyncapi.json",
            axum::routing::get(|| async {
                ([(axum::http::header::CONTENT_TYPE, "application/json")], ASYNCAPI)
            }),
        )
        .merge(mail_links::routes())
        .merge(oidc::routes(state.auth.oidc().is_some()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limit::limit))
        // The web app's files are outside every budget: constant bytes from
        // memory, cheaper to serve than a budget is to check, and a page load
        // asks for twenty of them (an office behind one address would spend
        // its anonymous budget on reloads). MAX_CONNECTIONS still bounds them.
        .merge(web::routes())
        .with_state(state.clone());
    let fallbacks = Fallbacks {
        not_found: || ApiError::RouteNotFound.into_response(),
        method_not_allowed: || ApiError::MethodNotAllowed.into_response(),
    };
    // The API's routes authenticate users themselves; no app token guards them.
    let probe = todo_lib::health::Probe::from(state.store).with(Arc::new(state.limits.limiter));
    todo_lib::function::assemble(router, None, probe, fallbacks)
}

/// Builds the API from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let publisher = publish::from_config(&ctx.config)?;
    if publisher.is_none() {
        tracing::info!("DAPR_HTTP_PORT is not set: events stay in the outbox until cron-tick publishes them");
    }
    Ok(app(state(ctx, publisher)?))
}

/// The API's state from the process's configuration, publishing through `publisher`
/// (the Dapr sidecar, or the local host's in-process bus).
pub fn state(ctx: Context, publisher: Option<Arc<dyn Publisher>>) -> Result<AppState, BoxError> {
    let stream: stream::Settings = todo_lib::config::from_iter(ctx.vars.clone())?;
    let config: ApiConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let limits = limit::RateLimits::from_config(&todo_lib::config::from_iter(ctx.vars.clone())?)?;
    let quotas: todo_lib::quota::Quotas = todo_lib::config::from_iter(ctx.vars.clone())?;
    let mail: todo_lib::mail::MailConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let push_config: todo_lib::push::PushConfig = todo_lib::config::from_iter(ctx.vars)?;
    let push = todo_lib::push::VapidKeys::from_config(&push_config, mail.public_url())?;
    if push.is_none() {
        tracing::info!("VAPID_PRIVATE_KEY is not set: browsers cannot subscribe to push");
    }
    let auth = Authenticator::new(&config)?;
    let allow_loopback_webhooks = ctx.config.webhook_allow_loopback;
    if allow_loopback_webhooks {
        tracing::warn!(
            "WEBHOOK_ALLOW_LOOPBACK is set: webhooks may point at this machine (development only)"
        );
    }
    let max_connections = ctx.config.max_connections;
    let publisher = publisher.map(|publisher| Relay::start(ctx.store.clone(), publisher));
    Ok(AppState {
        publisher,
        allow_loopback_webhooks,
        limits,
        quotas,
        mail,
        push,
        ..AppState::new(ctx.store, Arc::new(auth))
    }
    .with_streams(stream, max_connections))
}
