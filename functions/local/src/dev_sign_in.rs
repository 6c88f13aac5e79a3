//! The development sign-in: one click in the web app signs in as `dev-user`.
//! Only the local host has it, only when `make dev` runs it with the
//! checkout's own development secret (`DEV_SIGN_IN`, set by
//! scripts/lib/dev-secret.sh), and only on loopback; the `api` binary never
//! serves it. `GET /auth/dev` says it is there; `POST /auth/dev` mints a token.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use jsonwebtoken::{EncodingKey, Header, encode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

/// Whom the development sign-in signs in.
pub const DEV_USER: &str = "dev-user";
/// How long its token lasts.
const HOURS: i64 = 8;

/// The routes, signing with `secret`.
pub fn routes(secret: SecretString) -> Router {
    let key = EncodingKey::from_secret(secret.expose_secret().as_bytes());
    Router::new().route(
        "/auth/dev",
        get(|| async { Json(json!({ "user": DEV_USER })) }).post(move || {
            let key = key.clone();
            async move {
                let now = chrono::Utc::now().timestamp();
                let claims = json!({ "sub": DEV_USER, "iat": now, "exp": now + HOURS * 3600 });
                match encode(&Header::default(), &claims, &key) {
                    Ok(token) => Json(json!({ "token": token, "user": DEV_USER })).into_response(),
                    Err(err) => {
                        tracing::error!(error = %err, "minting the development token failed");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }),
    )
}
