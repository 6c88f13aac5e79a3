//! Bearer-token authentication: JWTs signed with HS256 and a shared secret, or with
//! RS256/ES256/EdDSA keys published at an identity provider's JWKS URL; and the
//! user's personal access tokens (`todo_pat_…`), found by their hash.
//!
//! The user id is the token's `sub` (a personal access token's owner). `exp` is
//! required. Every failure is a 401 with a `WWW-Authenticate` challenge; the
//! reason goes to the debug log only. A JWT may do everything; a personal access
//! token only what its scopes name: `tasks:read` for reading (GET), `tasks:write`
//! for the rest, checked here, for every route, by the request's method.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use todo_lib::access_tokens::{LAST_USED_RESOLUTION_SECS, Scope, is_access_token};
use todo_lib::secret_token;
use tokio::sync::{Mutex, RwLock};

use crate::AppState;
use crate::config::ApiConfig;
use crate::error::ApiError;

/// Tolerated clock skew between us and the token issuer.
const LEEWAY_SECS: u64 = 30;
/// How long fetched keys are trusted before they are fetched again.
const JWKS_TTL: Duration = Duration::from_secs(600);
/// A token with an unknown `kid` triggers a refetch at most this often, so that
/// garbage tokens cannot make us hammer the identity provider.
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);
/// Shorter secrets are refused at start-up: HS256 needs 256 bits of key.
pub const HS256_SECRET_MIN_BYTES: usize = 32;

/// The authenticated caller, when the route's method is within their scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub String);

/// Who is calling, and what their credential allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: String,
    /// The personal access token they came with; `None` for a JWT, which may
    /// do everything.
    pub token: Option<Grant>,
    /// When the credential stops being accepted (a JWT's `exp`, a token's
    /// expiry): what outlives the request (a live stream) ends then.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a personal access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: uuid::Uuid,
    pub scopes: Vec<Scope>,
    /// Its hash, by which it is found again to see whether it still lives.
    pub hash: String,
}

impl Caller {
    /// 403 `insufficient_scope` unless the credential allows `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.token {
            Some(grant) if !grant.scopes.contains(&scope) => Err(ApiError::InsufficientScope(scope)),
            _ => Ok(()),
        }
    }

    /// 403 when the caller came with a personal access token: managing tokens
    /// takes a sign-in, so that a leaked token cannot mint more.
    pub fn require_sign_in(&self) -> Result<(), ApiError> {
        match self.token {
            Some(_) => Err(ApiError::Forbidden(
                "personal access tokens cannot manage tokens: sign in (a JWT) to do this",
            )),
            None => Ok(()),
        }
    }
}

/// The scope a request needs: reading for the safe methods, writing otherwise.
pub fn scope_for(method: &Method) -> Scope {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Scope::TasksRead
    } else {
        Scope::TasksWrite
    }
}

/// The caller named by the request's `Authorization: Bearer <token>`: a JWT
/// verified as [`Authenticator::verify`] does, or a live personal access token.
/// A token's use is recorded (to the minute) for its owner's list.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    caller_for(state, headers, state.auth.audience()).await
}

/// [`caller`], with a JWT required to be issued for `audience` (RFC 8707:
/// the MCP server asks for its own resource) when one is given. A personal
/// access token is this system's own and has no audience.
pub async fn caller_for(
    state: &AppState,
    headers: &HeaderMap,
    audience: Option<&str>,
) -> Result<Caller, ApiError> {
    let token = bearer(headers)?;
    if !is_access_token(token) {
        let (AuthUser(user), expires_at) = state.auth.verify_for(token, audience).await?;
        return Ok(Caller { user, token: None, expires_at: Some(expires_at) });
    }
    let now = chrono::Utc::now();
    let hash = secret_token::hash(token);
    let found = state.store.access_token(&hash).await?;
    let Some(found) = found.filter(|t| t.is_live(now)) else {
        return Err(ApiError::InvalidToken("no live personal access token matches".into()));
    };
    // Written at most once a minute: the read tells when it was last written,
    // so most requests write nothing (the statement re-checks, for races).
    let stale = chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS);
    if found.last_used_at.is_none_or(|at| now - at >= stale)
        && let Err(err) = state.store.touch_access_token(found.id, now).await
    {
        // Bookkeeping: the request goes on without it.
        tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "recording a token's last use failed");
    }
    Ok(Caller {
        user: found.user_id,
        token: Some(Grant { id: found.id, scopes: found.scopes, hash }),
        expires_at: found.expires_at,
    })
}

/// Whether `caller`'s credential is still accepted at `now`: not expired and,
/// for a personal access token, not revoked since the request came in.
pub async fn still_valid(
    state: &AppState,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, ApiError> {
    if caller.expires_at.is_some_and(|at| at <= now) {
        return Ok(false);
    }
    let Some(grant) = &caller.token else { return Ok(true) };
    let found = state.store.access_token(&grant.hash).await?;
    Ok(found.is_some_and(|token| token.id == grant.id && token.is_live(now)))
}
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    /// Required and checked by the validation; a number of seconds.
    exp: f64,
}

/// Verifies tokens. Built once at start-up from [`ApiConfig`].
#[derive(Debug)]
pub struct Authenticator {
    hs256: Option<DecodingKey>,
    jwks: Option<Jwks>,
    issuer: Option<String>,
    audience: Option<String>,
    /// Sign-in with the issuer, for the web app (`OIDC_CLIENT_ID`).
    oidc: Option<crate::oidc::Oidc>,
}

/// Why the authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    #[error("set JWT_SECRET (HS256) or JWT_JWKS_URL (RS256/ES256/EdDSA), or both")]
    NoKeys,
    #[error("JWT_SECRET must be at least {HS256_SECRET_MIN_BYTES} bytes")]
    ShortSecret,
    #[error("building the HTTP client for JWT_JWKS_URL failed: {0}")]
    Client(#[from] reqwest::Error),
    #[error(transparent)]
    Oidc(#[from] crate::oidc::OidcConfigError),
}

impl Authenticator {
    pub fn new(config: &ApiConfig) -> Result<Self, AuthConfigError> {
        let hs256 = match &config.jwt_secret {
            Some(secret) if secret.expose_secret().len() < HS256_SECRET_MIN_BYTES => {
                return Err(AuthConfigError::ShortSecret);
            }
            Some(secret) => Some(DecodingKey::from_secret(secret.expose_secret().as_bytes())),
            None => None,
        };
        let jwks = config.jwt_jwks_url.as_deref().map(Jwks::new).transpose()?;
        if hs256.is_none() && jwks.is_none() {
            return Err(AuthConfigError::NoKeys);
        }
        let oidc = crate::oidc::Oidc::new(config)?;
        Ok(Self {
            hs256,
            jwks,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            oidc,
        })
    }

    /// Sign-in with the issuer, when `OIDC_CLIENT_ID` configures it.
    pub fn oidc(&self) -> Option<&crate::oidc::Oidc> {
        self.oidc.as_ref()
    }

    /// Only the HS256 secret, no issuer or audience checks: for tests and `make dev`.
    pub fn with_secret(secret: &SecretString) -> Result<Self, AuthConfigError> {
        Self::new(&ApiConfig { jwt_secret: Some(secret.clone()), ..ApiConfig::default() })
    }

    /// The user id in `token`, if the token is valid.
    pub async fn verify(&self, token: &str) -> Result<AuthUser, ApiError> {
        Ok(self.verify_until(token).await?.0)
    }

    /// `JWT_AUDIENCE`: what the REST API's tokens must be issued for.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The user id in `token`, if the token is valid, and when it expires.
    pub async fn verify_until(
        &self,
        token: &str,
    ) -> Result<(AuthUser, chrono::DateTime<chrono::Utc>), ApiError> {
        self.verify_for(token, self.audience()).await
    }

    /// [`Self::verify_until`] with `audience` (none: any) in place of `JWT_AUDIENCE`.
    pub async fn verify_for(
        &self,
        token: &str,
        audience: Option<&str>,
    ) -> Result<(AuthUser, chrono::DateTime<chrono::Utc>), ApiError> {
        let header = decode_header(token).map_err(|e| ApiError::InvalidToken(format!("malformed: {e}")))?;
        // RFC 7515 §4.1.11: a recipient must refuse extensions it does not
        // understand, and this one understands none.
        if header.crit.is_some() {
            return Err(ApiError::InvalidToken("the crit header names extensions not supported here".into()));
        }
        let key = match header.alg {
            Algorithm::HS256 => self
                .hs256
                .clone()
                .ok_or_else(|| ApiError::InvalidToken("HS256 tokens are not accepted here".into()))?,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA => {
                let jwks = self.jwks.as_ref().ok_or_else(|| {
                    ApiError::InvalidToken(format!("{:?} tokens are not accepted here", header.alg))
                })?;
                jwks.key(header.kid.as_deref(), header.alg).await?
            }
            other => {
                return Err(ApiError::InvalidToken(format!("algorithm {other:?} is not accepted")));
            }
        };

        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        // A token not valid yet is refused, with the same leeway as `exp`.
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);

        let data =
            decode::<Claims>(token, &key, &validation).map_err(|e| ApiError::InvalidToken(e.to_string()))?;
        let sub = data.claims.sub;
        if let Some(problem) = todo_lib::task::user_id_problem(&sub) {
            return Err(ApiError::InvalidToken(format!("the token's sub {problem}")));
        }
        // Past the leeway the token is refused; a stream held open by it ends then.
        let leeway = i64::try_from(LEEWAY_SECS).unwrap_or(0);
        let exp = data.claims.exp.floor() as i64;
        let expires_at = chrono::DateTime::from_timestamp(exp.saturating_add(leeway), 0)
            .ok_or_else(|| ApiError::InvalidToken("exp is out of range".into()))?;
        Ok((AuthUser(sub), expires_at))
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(scope_for(&parts.method))?;
        Ok(Self(caller.user))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// The caller whatever their scopes: for routes that decide themselves.
    /// The rate limit found them already, when it ran.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(crate::limit::Authenticated(caller)) = parts.extensions.get() {
            return Ok(caller.clone());
        }
        caller(state, &parts.headers).await
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(ApiError::MissingToken);
    };
    let value =
        value.to_str().map_err(|_| ApiError::InvalidToken("Authorization header is not ASCII".into()))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::InvalidToken("expected 'Authorization: Bearer <token>'".into())),
    }
}

/// An identity provider's signing keys, fetched on demand and cached.
#[derive(Debug)]
struct Jwks {
    url: String,
    client: reqwest::Client,
    cache: RwLock<Option<Fetched>>,
    /// Serialises fetches so that a burst of requests causes one.
    fetching: Mutex<()>,
}

#[derive(Debug)]
struct Fetched {
    at: Instant,
    keys: Arc<JwkSet>,
}

impl Jwks {
    fn new(url: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self { url: url.to_owned(), client, cache: RwLock::new(None), fetching: Mutex::new(()) })
    }

    /// The key for `kid` (or the only key, when the token names none).
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, ApiError> {
        let cached = self.cache.read().await.as_ref().map(|f| (f.at, Arc::clone(&f.keys)));
        let keys = match cached {
            Some((at, keys)) if at.elapsed() < JWKS_TTL && find(&keys, kid).is_some() => keys,
            Some((at, keys)) if at.elapsed() < JWKS_MIN_REFETCH => keys,
            _ => self.refresh().await?,
        };
        let jwk =
            find(&keys, kid).ok_or_else(|| ApiError::InvalidToken("no matching key in the JWKS".into()))?;
        if let Some(key_alg) = jwk.common.key_algorithm
            && key_alg.to_string() != format!("{alg:?}")
        {
            return Err(ApiError::InvalidToken("token algorithm does not match its key".into()));
        }
        DecodingKey::from_jwk(jwk).map_err(|e| ApiError::InvalidToken(format!("unusable JWKS key: {e}")))
    }

    async fn refresh(&self) -> Result<Arc<JwkSet>, ApiError> {
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(f) = self.cache.read().await.as_ref()
            && f.at.elapsed() < JWKS_MIN_REFETCH
        {
            return Ok(Arc::clone(&f.keys));
        }
        let fetched =
            async { self.client.get(&self.url).send().await?.error_for_status()?.json::<JwkSet>().await }
                .await;
        match fetched {
            Ok(set) => {
                let keys = Arc::new(set);
                *self.cache.write().await = Some(Fetched { at: Instant::now(), keys: Arc::clone(&keys) });
                Ok(keys)
            }
            Err(err) => match self.cache.read().await.as_ref() {
                // Keep verifying with the keys we have while the provider is down.
                Some(f) => {
                    tracing::warn!(error = %todo_lib::telemetry::Chain(&err), "JWKS refresh failed; using cached keys");
                    Ok(Arc::clone(&f.keys))
                }
                None => Err(ApiError::Unavailable(
                    format!("fetching JWKS failed: {}", todo_lib::telemetry::Chain(&err)).into(),
                )),
            },
        }
    }
}

fn find<'a>(keys: &'a JwkSet, kid: Option<&str>) -> Option<&'a Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}
