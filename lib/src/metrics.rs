//! Prometheus metrics at `GET /metrics`, the same names in every function:
//!
//! - `todo_events_total{function, outcome}`: events handled, by outcome
//!   (`success`, `duplicate`, `dropped`, `retry`);
//! - `todo_event_handler_seconds{function}`: handler latency (histogram);
//! - `todo_outbox_backlog`: unpublished outbox rows, as last seen by `cron-tick`;
//! - `todo_feed_reads_total{by}`: reads of the changes feed for live streams,
//!   by the one reader per process (`hub`) or by a stream catching up on its
//!   own (`stream`);
//! - `todo_relay_overflow_total`: committed events the relay's queue had no
//!   room for, left to `cron-tick`'s sweep (a burst larger than the queue);
//! - `todo_reminder_lateness_seconds`: from a reminder's time to its delivery;
//! - `todo_webhook_backlog`: webhook deliveries owed, as last seen by `cron-tick`;
//! - `todo_webhook_attempts_total{status}`: webhook sends by what they came to
//!   (`delivered`, `failed`, `pending`: to be retried);
//! - `todo_rate_limited_total{route_class}`: requests refused 429 for their
//!   budget (`read`, `write`, `anonymous`, `sign_in`);
//! - `todo_rate_limiter_redis_up`: 1 while the budgets are shared through
//!   Redis, 0 while this process keeps its own (Redis unreachable);
//! - `todo_mail_attempts_total{status}`: mails sent (or kept) by what they came
//!   to (`delivered`, `pending` for a retry, `failed`);
//! - `todo_mail_deferred_total`: mails put back for their user's budget;
//! - `todo_push_attempts_total{status}` and `todo_push_deferred_total`: the
//!   same for push messages;
//! - `todo_webhook_deliveries_deferred_total`: webhook deliveries put back for
//!   their user's per-minute bound, to go out later.
//!
//! The recorder is process-wide, installed on first use; the exposition format is
//! the exporter crate's, not ours.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const LATENESS_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("todo_event_handler_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("todo_reminder_lateness_seconds".into()),
                        LATENESS_BUCKETS,
                    )
                });
            match builder.and_then(PrometheusBuilder::install_recorder) {
                Ok(handle) => Some(handle),
                Err(err) => {
                    tracing::warn!(error = %crate::telemetry::Chain(&err), "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder (idempotent). Call at start-up, before recording.
pub fn init() {
    let _ = handle();
}

/// `GET /metrics` in the Prometheus text format.
pub fn routes() -> Router {
    init();
    Router::new().route(
        "/metrics",
        get(|| async {
            let text = handle().map(PrometheusHandle::render).unwrap_or_default();
            ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
        }),
    )
}

/// Counts one handled event and its handler's latency.
pub fn record_event(function: &'static str, outcome: &'static str, elapsed: Duration) {
    metrics::counter!("todo_events_total", "function" => function, "outcome" => outcome).increment(1);
    metrics::histogram!("todo_event_handler_seconds", "function" => function).record(elapsed.as_secs_f64());
}

pub fn feed_read(by: &'static str) {
    metrics::counter!("todo_feed_reads_total", "by" => by).increment(1);
}

pub fn relay_overflow(events: usize) {
    metrics::counter!("todo_relay_overflow_total").increment(events as u64);
}

pub fn set_outbox_backlog(rows: i64) {
    metrics::gauge!("todo_outbox_backlog").set(rows as f64);
}

pub fn set_webhook_backlog(rows: i64) {
    metrics::gauge!("todo_webhook_backlog").set(rows as f64);
}

pub fn record_webhook_attempt(status: &'static str) {
    metrics::counter!("todo_webhook_attempts_total", "status" => status).increment(1);
}

pub fn record_reminder_lateness(seconds: f64) {
    metrics::histogram!("todo_reminder_lateness_seconds").record(seconds.max(0.0));
}

pub fn rate_limited(route_class: &'static str) {
    metrics::counter!("todo_rate_limited_total", "route_class" => route_class).increment(1);
}

pub fn record_mail_attempt(status: &'static str) {
    metrics::counter!("todo_mail_attempts_total", "status" => status).increment(1);
}

pub fn mail_deferred(mails: usize) {
    metrics::counter!("todo_mail_deferred_total").increment(mails as u64);
}

pub fn record_push_attempt(status: &'static str) {
    metrics::counter!("todo_push_attempts_total", "status" => status).increment(1);
}

pub fn push_deferred(messages: usize) {
    metrics::counter!("todo_push_deferred_total").increment(messages as u64);
}

pub fn webhook_deliveries_deferred(deliveries: usize) {
    metrics::counter!("todo_webhook_deliveries_deferred_total").increment(deliveries as u64);
}
