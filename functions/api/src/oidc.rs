//! Sign-in to the web app with OpenID Connect: the authorization code flow
//! with PKCE (RFC 7636), as a public client (`OIDC_CLIENT_ID`), against the
//! issuer the API already trusts (`JWT_ISSUER`).
//!
//! The browser makes the code verifier, sends the user to the provider's
//! authorization endpoint and comes back to `/` with a one-time code. It then
//! posts the code and its verifier to `POST /auth/token`, which redeems them at
//! the provider's token endpoint and answers the access token: the page keeps
//! its `connect-src 'self'` policy, and needs no CORS from the provider. The
//! token goes to the page's session storage, never into a URL or a cookie;
//! the API verifies it like any other (JWKS, `iss`, `aud`). The endpoints come
//! from the issuer's discovery document, fetched once and kept.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use todo_lib::task::FieldError;
use tokio::sync::RwLock;

use crate::AppState;
use crate::config::ApiConfig;
use crate::error::ApiError;
use crate::extract::JsonBody;

/// The longest code, verifier or redirect URI taken.
const FIELD_MAX: usize = 2048;

/// The web app's OpenID Connect client. Built only with `OIDC_CLIENT_ID`.
#[derive(Debug)]
pub struct Oidc {
    issuer: String,
    client_id: String,
    scope: String,
    /// `JWT_AUDIENCE`: asked for as the token's resource (RFC 8707) and audience.
    audience: Option<String>,
    client: reqwest::Client,
    endpoints: RwLock<Option<Endpoints>>,
}

/// What the discovery document says, of what the flow needs.
#[derive(Debug, Clone, Deserialize)]
struct Endpoints {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum OidcConfigError {
    #[error("OIDC_CLIENT_ID needs JWT_ISSUER, the provider to sign in with")]
    NoIssuer,
    #[error("JWT_ISSUER must be an https URL (http only on loopback) for OIDC_CLIENT_ID: {0}")]
    Insecure(String),
    #[error("building the HTTP client for OpenID Connect failed: {0}")]
    Client(#[from] reqwest::Error),
}

impl Oidc {
    /// `None` when `OIDC_CLIENT_ID` is unset: no sign-in with a provider.
    pub fn new(config: &ApiConfig) -> Result<Option<Self>, OidcConfigError> {
        let Some(client_id) = config.oidc_client_id.clone() else { return Ok(None) };
        let issuer = config.jwt_issuer.clone().ok_or(OidcConfigError::NoIssuer)?;
        if !is_secure(&issuer) {
            return Err(OidcConfigError::Insecure(issuer));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Some(Self {
            issuer,
            client_id,
            scope: config.oidc_scopes.clone().unwrap_or_else(|| "openid".into()),
            audience: config.jwt_audience.clone(),
            client,
            endpoints: RwLock::new(None),
        }))
    }

    /// The provider's endpoints, from its discovery document (fetched once).
    async fn endpoints(&self) -> Result<Endpoints, ApiError> {
        if let Some(known) = self.endpoints.read().await.clone() {
            return Ok(known);
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let found: Endpoints = async { self.client.get(&url).send().await?.error_for_status()?.json().await }
            .await
            .map_err(|err: reqwest::Error| {
                ApiError::Unavailable(format!("the identity provider's discovery document: {err}").into())
            })?;
        // OpenID Connect Discovery §4.3: the document names the issuer it was fetched for.
        if found.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(ApiError::Internal(
                format!("the discovery document names issuer {} instead of JWT_ISSUER", found.issuer).into(),
            ));
        }
        if !is_secure(&found.authorization_endpoint) || !is_secure(&found.token_endpoint) {
            return Err(ApiError::Internal("the provider's endpoints must be https".into()));
        }
        *self.endpoints.write().await = Some(found.clone());
        Ok(found)
    }
}

/// https, or http to a loopback address (development and tests).
fn is_secure(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else { return false };
    match url.scheme() {
        "https" => true,
        "http" => matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

/// `GET /auth/config` always (what sign-ins this server offers, so that the
/// web app asks without an error in the console); `POST /auth/token` only
/// with a provider: without one it is an unknown path, answered 404 before
/// any byte of its body is read.
pub fn routes(configured: bool) -> axum::Router<AppState> {
    let routes = axum::Router::new().route("/auth/config", get(config));
    if configured { routes.route("/auth/token", post(token)) } else { routes }
}

/// The sign-ins this server offers the web app.
#[derive(Debug, Serialize)]
pub struct SignInOptions {
    /// The local host's one-click development sign-in (`POST /auth/dev`).
    pub dev_sign_in: bool,
    /// The provider to sign in with, when there is one.
    pub oidc: Option<SignInConfig>,
}

/// What the page needs to start the flow.
#[derive(Debug, Serialize)]
pub struct SignInConfig {
    pub issuer: String,
    pub client_id: String,
    pub authorization_endpoint: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

fn configured(state: &AppState) -> Result<&Oidc, ApiError> {
    state.auth.oidc().ok_or(ApiError::RouteNotFound)
}

/// `GET /auth/config`: the sign-ins offered; with a provider, the provider
/// and client to sign in with.
async fn config(State(state): State<AppState>) -> Result<Json<SignInOptions>, ApiError> {
    let oidc = match state.auth.oidc() {
        None => None,
        Some(oidc) => {
            let endpoints = oidc.endpoints().await?;
            Some(SignInConfig {
                issuer: oidc.issuer.clone(),
                client_id: oidc.client_id.clone(),
                authorization_endpoint: endpoints.authorization_endpoint,
                scope: oidc.scope.clone(),
                audience: oidc.audience.clone(),
            })
        }
    };
    Ok(Json(SignInOptions { dev_sign_in: state.dev_sign_in, oidc }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redeem {
    code: String,
    code_verifier: String,
    redirect_uri: String,
}

/// Secrets stay out of `Debug` output.
impl std::fmt::Debug for Redeem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redeem").field("redirect_uri", &self.redirect_uri).finish_non_exhaustive()
    }
}

/// Only the access token and its lifetime go back to the page.
#[derive(Serialize, Deserialize)]
pub struct Tokens {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

/// The provider's refusal (RFC 6749 §5.2).
#[derive(Debug, Deserialize)]
struct Refusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// `POST /auth/token {code, code_verifier, redirect_uri}`: redeems the code at
/// the provider; 400 `sign_in_failed` when it refuses, 503 when it is down.
async fn token(
    State(state): State<AppState>,
    JsonBody(input): JsonBody<Redeem>,
) -> Result<Json<Tokens>, ApiError> {
    let oidc = configured(&state)?;
    check(&input)?;
    let endpoints = oidc.endpoints().await?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &input.code),
        ("redirect_uri", &input.redirect_uri),
        ("client_id", &oidc.client_id),
        ("code_verifier", &input.code_verifier),
    ];
    let answer = oidc.client.post(&endpoints.token_endpoint).form(&form).send().await.map_err(|err| {
        ApiError::Unavailable(format!("the identity provider's token endpoint: {err}").into())
    })?;
    let status = answer.status();
    if status.is_server_error() {
        return Err(ApiError::Unavailable(format!("the identity provider answered {status}").into()));
    }
    if !status.is_success() {
        let refusal: Option<Refusal> = answer.json().await.ok();
        let why = refusal.map_or_else(
            || format!("HTTP {status}"),
            |r| format!("{}{}", r.error, r.error_description.map(|d| format!(": {d}")).unwrap_or_default()),
        );
        return Err(ApiError::bad_request(
            "sign_in_failed",
            format!("the identity provider refused the sign-in ({why}); sign in again"),
        ));
    }
    let tokens: Tokens = answer
        .json()
        .await
        .map_err(|err| ApiError::Internal(format!("the token endpoint's answer: {err}").into()))?;
    Ok(Json(tokens))
}

/// RFC 7636 §4.1: a verifier is 43 to 128 unreserved characters.
fn check(input: &Redeem) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let verifier_ok = (43..=128).contains(&input.code_verifier.len())
        && input.code_verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !verifier_ok {
        errors.push(("code_verifier", "must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'"));
    }
    if input.code.is_empty() || input.code.len() > FIELD_MAX {
        errors.push(("code", "must be 1 to 2048 characters"));
    }
    if input.redirect_uri.len() > FIELD_MAX || !is_secure(&input.redirect_uri) {
        errors.push(("redirect_uri", "must be an https URL (http only on loopback)"));
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::from(todo_lib::task::ValidationErrors(
        errors
            .into_iter()
            .map(|(field, message)| FieldError { field: field.into(), message: message.into() })
            .collect(),
    )))
}
