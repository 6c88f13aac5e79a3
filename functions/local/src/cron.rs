//! The in-process cron: what Dapr's cron binding does in production, a `POST /`
//! to `cron-tick` on a fixed interval. Ticks never overlap: the next one waits
//! for the last to finish.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::MissedTickBehavior;
use tower::ServiceExt;

/// Ticks `cron_tick` (its router) every `every` until the process ends.
pub(crate) fn spawn(cron_tick: Router, every: Duration, token: Option<SecretString>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let mut request = Request::post("/");
            if let Some(token) = &token {
                request = request.header(todo_lib::config::DAPR_API_TOKEN_HEADER, token.expose_secret());
            }
            let Ok(request) = request.body(Body::empty()) else { continue };
            let Ok(response) = cron_tick.clone().oneshot(request).await;
            if !response.status().is_success() {
                tracing::warn!(status = %response.status(), "cron tick failed; the next one retries");
            }
        }
    });
}
