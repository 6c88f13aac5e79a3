//! Every request spends from a budget before it runs: a signed-in user's reads
//! or writes (by the request's method, as scopes go), or, without a valid
//! credential, its client address's (401s included; sign-in's code exchange
//! has a budget of its own, each costing a call to the identity provider).
//! Over budget: 429 `rate_limited` with `Retry-After`; every answer carries
//! the `RateLimit-Policy` and `RateLimit` headers of the budget it spent from.
//!
//! The caller found here is handed on in the request's extensions, so the
//! route's own extractor does not authenticate again.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use todo_lib::access_tokens::Scope;
use todo_lib::rate_limit::address::{self, TrustedProxies};
use todo_lib::rate_limit::{Class, Decision, Limiter, RateLimitConfig, RateLimitConfigError};

use crate::AppState;
use crate::auth::{self, Caller};
use crate::error::ApiError;

/// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
pub const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`.
pub const STATE: HeaderName = HeaderName::from_static("ratelimit");

/// The budgets and whose address a request comes from.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub limiter: Limiter,
    pub proxies: Arc<TrustedProxies>,
}

impl RateLimits {
    /// Budgets nobody meets: for tests of other things.
    pub fn unlimited() -> Self {
        Self { limiter: Limiter::unlimited(), proxies: Arc::default() }
    }

    pub fn from_config(config: &RateLimitConfig) -> Result<Self, RateLimitConfigError> {
        Ok(Self {
            limiter: Limiter::from_config(config)?,
            proxies: Arc::new(TrustedProxies::parse(config.trusted_proxies.as_deref())?),
        })
    }

    /// The key of the address `request` came from.
    pub fn address_key(&self, request: &Request) -> String {
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        address::key(self.proxies.client(peer, request.headers()))
    }
}

/// The caller [`limit`] authenticated, for the route's extractor.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

/// The API's middleware: finds who is calling and spends from their budget.
pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = match request.headers().contains_key(AUTHORIZATION) {
        true => auth::caller(&state, request.headers()).await.ok(),
        false => None,
    };
    let (class, key) = match caller {
        Some(caller) => {
            let key = user_key(&caller.user);
            request.extensions_mut().insert(Authenticated(caller));
            (by_method(request.method()), key)
        }
        None => (anonymous(request.uri().path()), state.limits.address_key(&request)),
    };
    enforce(&state.limits.limiter, class, &key, request, next).await
}

/// The budget of a signed-in user's request by its method.
pub fn by_method(method: &Method) -> Class {
    by_scope(auth::scope_for(method))
}

/// The budget of a request that needs `scope`.
pub fn by_scope(scope: Scope) -> Class {
    match scope {
        Scope::TasksRead => Class::Read,
        Scope::TasksWrite => Class::Write,
    }
}

/// The budget of a request without a valid credential to `path`.
fn anonymous(path: &str) -> Class {
    if path.starts_with("/auth/") && path != "/auth/config" { Class::SignIn } else { Class::Anonymous }
}

pub fn user_key(user: &str) -> String {
    format!("user:{user}")
}

/// Spends one unit of `key`'s `class` budget: runs the request and stamps the
/// answer with the budget's headers, or answers 429 without running it.
pub async fn enforce(limiter: &Limiter, class: Class, key: &str, request: Request, next: Next) -> Response {
    match spend(limiter, class, key).await {
        Ok(decision) => {
            let mut response = next.run(request).await;
            stamp(response.headers_mut(), &decision);
            response
        }
        Err(refusal) => refusal,
    }
}

/// Spends one unit of `key`'s `class` budget: the decision, for [`stamp`]ing
/// the answer, or the 429 to answer instead.
pub async fn spend(limiter: &Limiter, class: Class, key: &str) -> Result<Decision, Response> {
    let decision = limiter.check(class, key).await;
    if decision.allowed {
        return Ok(decision);
    }
    todo_lib::metrics::rate_limited(class.as_str());
    let mut response = refused(&decision);
    stamp(response.headers_mut(), &decision);
    Err(response)
}

/// 429 `rate_limited` in the one error shape, naming the budget.
fn refused(decision: &Decision) -> Response {
    let policy = decision.policy;
    let message = format!(
        "too many requests: the {} budget allows {} at once and {} a minute; retry in {} s",
        decision.class.as_str().replace('_', "-"),
        policy.burst,
        policy.per_minute,
        decision.retry_after_secs(),
    );
    let retry_after_secs = decision.retry_after_secs();
    let mut response = ApiError::TooMany { code: "rate_limited", message, retry_after_secs }.into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Adds the `RateLimit-Policy` and `RateLimit` headers of `decision`.
pub fn stamp(headers: &mut HeaderMap, decision: &Decision) {
    for (name, value) in [(POLICY, decision.policy_header()), (STATE, decision.state_header())] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_has_its_own_budget_and_everything_else_shares_the_address_one() {
        assert_eq!(anonymous("/auth/token"), Class::SignIn);
        assert_eq!(anonymous("/auth/dev"), Class::SignIn);
        assert_eq!(anonymous("/auth/config"), Class::Anonymous);
        assert_eq!(anonymous("/v1/tasks"), Class::Anonymous);
        assert_eq!(anonymous("/v1/invitations/abc"), Class::Anonymous);
    }
}
