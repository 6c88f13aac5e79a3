//! `local`: the embedded default. The API, the MCP server and every event function in one
//! process on one port, wired together by an in-process bus that speaks Dapr's
//! envelope and answers, with an in-process cron ticking `cron-tick`.
//!
//! Routes: the API at the root (`/v1/…`, `/healthz`, `/openapi.json`); the MCP
//! server at `/mcp` (with `/.well-known/oauth-protected-resource`); each
//! function under `/functions/<name>/` exactly as it answers alone (`POST /`,
//! `/healthz`, …); `GET /functions` lists them; `GET /functions/dead-letters`
//! shows what the bus gave up on. Function and operator routes demand
//! `APP_API_TOKEN` (as `dapr-api-token`) when it is set.
//!
//! The outbox is the durable queue: an event is marked published only once its
//! subscriber answered, so after a crash the cron's sweep delivers what was left,
//! and the functions' idempotency keeps each effect single.

pub mod asyncapi;
pub mod bus;
pub mod config;
mod cron;
pub mod dev_sign_in;
pub mod facts;
pub mod host_guard;
mod late_bus;
mod operator;

use std::sync::Arc;

use crate::bus::{InProcessBus, RetryPolicy};
use axum::Router;
use todo_lib::publish::Publisher;
use todo_lib::serve::{BoxError, Context};
use todo_lib::webhook::Deliverer;
use tower_http::normalize_path::NormalizePath;

use crate::config::LocalConfig;
use crate::facts::{Trigger, Wiring};
use crate::late_bus::LateBus;

/// The binary's name, in its logs.
pub const NAME: &str = "local";

/// Where function `name` is mounted.
pub fn function_path(name: &str) -> String {
    format!("/functions/{name}")
}

/// Builds the whole system from the process's configuration; what `main` passes
/// to `serve`. Applies the migrations and starts the cron before answering.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let local: LocalConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let every = local.cron_interval()?;
    let sign_in = match (local.dev_sign_in, &local.jwt_secret) {
        (false, _) => None,
        (true, Some(secret)) if ctx.config.host.is_loopback() && !ctx.lambda => Some(secret.clone()),
        (true, Some(_)) => return Err("DEV_SIGN_IN signs anyone in: it is served on loopback only".into()),
        (true, None) => return Err("DEV_SIGN_IN needs JWT_SECRET to sign its tokens with".into()),
    };
    // Before anything is touched: refuse to start exposed without a token.
    let token = ctx.event_route_token()?;
    ctx.store.migrate().await?;
    tracing::info!("migrations applied");

    let store = ctx.store.clone();
    let bus = Arc::new(LateBus::default());
    let publisher: Arc<dyn Publisher> = bus.clone();

    let allow_loopback = ctx.config.webhook_allow_loopback;
    let mcp: mcp::McpConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let mail: todo_lib::mail::MailConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    let mailer = todo_lib::mail::Mailer::from_config(&mail)?;
    if mailer.keeps() {
        tracing::info!("SMTP_URL is not set: mails are kept and shown at /functions/outbox-mail");
    }
    // On loopback, only this machine's names (see `host_guard`).
    let hosts = ctx.config.host.is_loopback().then(|| host_guard::Hosts::new(mcp.hosts()));
    let api =
        api::AppState { dev_sign_in: sign_in.is_some(), ..api::state(ctx, Some(Arc::clone(&publisher)))? };
    // One set of budgets for the process: the senders' per-user bounds spend
    // from the same limiter as the API's requests.
    let mut tick = local.tick_settings();
    tick.webhooks.per_user = api.limits.limiter.clone();
    tick.mail.per_user = api.limits.limiter.clone();
    tick.mailer = mailer;
    tick.push.per_user = api.limits.limiter.clone();
    // The keys browsers subscribe with are the ones messages are signed with.
    tick.pusher = todo_lib::push::Pusher::new(api.push.clone(), allow_loopback)?;
    let wiring = Wiring {
        api,
        mcp,
        store: store.clone(),
        publisher,
        token: token.clone(),
        tick,
        deliverer: Deliverer::new(allow_loopback)?,
        mail,
    };

    // Every function from the registry: built, mounted, and subscribed to its topics.
    let mut wired = InProcessBus::new(store.clone(), RetryPolicy::default()).with_app_token(token.clone());
    let mut router = Router::new();
    for function in facts::functions() {
        let app = (function.build)(&wiring);
        for ty in function.accepts {
            wired = wired.subscribe(ty.topic(), function.name, app.clone());
        }
        if function.trigger == Trigger::Cron {
            cron::spawn(app.clone(), every, token.clone());
            tracing::info!(every_ms = every.as_millis() as u64, "in-process cron started");
        }
        router = match function.path() {
            Some(path) => router.nest(&path, app),
            None => router.merge(app),
        };
    }
    bus.wire(wired);
    let mut router = router.merge(operator::routes(store, token));
    if let Some(secret) = sign_in {
        tracing::warn!("DEV_SIGN_IN: POST /auth/dev signs anyone on this machine in as dev-user");
        router = router.merge(dev_sign_in::routes(secret));
    }
    if let Some(hosts) = hosts {
        router = router.layer(axum::middleware::from_fn(move |request, next| {
            host_guard::guard(hosts.clone(), request, next)
        }));
    }
    // `/functions/task-due/` is `/functions/task-due`, as a developer expects.
    Ok(Router::new().fallback_service(NormalizePath::trim_trailing_slash(router)))
}
