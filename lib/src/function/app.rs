//! The one router builder: a process's own routes, behind the `APP_API_TOKEN`
//! guard when a token is given, with what every process serves beside them
//! (`/healthz`, `/readyz`, `/metrics`, open to probes and scrapers) and its
//! answers for paths and methods it does not serve.

use axum::Router;
use axum::response::Response;
use secrecy::SecretString;

use super::{reply, token};
use crate::health::Probe;

/// A process's answers for an unknown path and for a method a route does not take.
#[derive(Debug, Clone, Copy)]
pub struct Fallbacks {
    pub not_found: fn() -> Response,
    pub method_not_allowed: fn() -> Response,
}

impl Fallbacks {
    /// An event function's (and `cron-tick`'s): events are accepted at `POST /`.
    pub const EVENTS: Self =
        Self { not_found: reply::not_found, method_not_allowed: reply::method_not_allowed };
}

/// `routes` guarded by `app_token` (when set), with the probes, the metrics and
/// `fallbacks`; the probes answer on `probe` (a store, or a store with details).
pub fn assemble(
    routes: Router,
    app_token: Option<SecretString>,
    probe: impl Into<Probe>,
    fallbacks: Fallbacks,
) -> Router {
    let Fallbacks { not_found, method_not_allowed } = fallbacks;
    token::protect(routes, app_token)
        .merge(crate::health::routes(probe))
        .merge(crate::metrics::routes())
        .fallback(move || async move { not_found() })
        .method_not_allowed_fallback(move || async move { method_not_allowed() })
}
