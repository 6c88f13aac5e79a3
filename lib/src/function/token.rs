//! The `APP_API_TOKEN` check: when configured, Dapr sends it as `dapr-api-token`
//! on every call to the app, and anything without it is refused. Compared in
//! constant time so the token cannot be guessed byte by byte from timings.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Wraps `router` so that, when `token` is set, every request must carry it.
pub fn protect(router: Router, token: Option<SecretString>) -> Router {
    match token {
        None => router,
        Some(token) => router.layer(middleware::from_fn(move |req: Request, next: Next| {
            let allowed = presented_matches(&req, &token);
            async move { if allowed { next.run(req).await } else { unauthorized() } }
        })),
    }
}

fn presented_matches(req: &Request, token: &SecretString) -> bool {
    let presented =
        req.headers().get(crate::config::DAPR_API_TOKEN_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    bool::from(presented.ct_eq(token.expose_secret().as_bytes()))
}

fn unauthorized() -> Response {
    super::reply::error(StatusCode::UNAUTHORIZED, "unauthorized", "missing or wrong dapr-api-token")
}
