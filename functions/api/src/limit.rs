//! Every request spends from a budget before it runs: a signed-in user's reads
//! or writes (by the request's method, as scopes go), or, without a valid
//! credential, its client address's (401s included; sign-in's code exchange
//! has a budget of its own, each costing a call to the identity provider).
//! Over budget: 429 `rate_limited` with `Retry-After`; every answer carries
//! the `RateLimit-Policy` and `RateLimit` headers of the budget it spent from.
//!
//! A refusal is held for up to [`HOLD`] before it is answered (while fewer
//! than [`MAX_HELD`] are held in the process; past that, at once): a client
//! that ignores `Retry-After` and floods over a kept-alive connection gets
//! one answer a second on it, instead of the process spending its cores on
//! refusing it while others wait. Holding costs a timer, not a core.
//!
//! The caller found here is handed on in the request's extensions, so the
//! route's own extractor does not authenticate again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
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

/// The longest a refusal is held before it is answered.
pub const HOLD: Duration = Duration::from_secs(1);
/// Refusals held at once in a process; more are answered at once.
pub const MAX_HELD: usize = 64;

/// The budgets, whose address a request comes from, and the refusals held.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub limiter: Limiter,
    pub proxies: Arc<TrustedProxies>,
    held: Arc<tokio::sync::Semaphore>,
    hold: Duration,
}

impl RateLimits {
    /// Budgets nobody meets: for tests of other things.
    pub fn unlimited() -> Self {
        Self::new(Limiter::unlimited(), TrustedProxies::default())
    }

    pub fn from_config(config: &RateLimitConfig) -> Result<Self, RateLimitConfigError> {
        Ok(Self::new(
            Limiter::from_config(config)?,
            TrustedProxies::parse(config.trusted_proxies.as_deref())?,
        ))
    }

    fn new(limiter: Limiter, proxies: TrustedProxies) -> Self {
        let held = Arc::new(tokio::sync::Semaphore::new(MAX_HELD));
        Self { limiter, proxies: Arc::new(proxies), held, hold: HOLD }
    }

    /// The same budgets, holding refusals up to `hold`, at most `max` at once.
    #[must_use]
    pub fn holding(self, hold: Duration, max: usize) -> Self {
        Self { held: Arc::new(tokio::sync::Semaphore::new(max)), hold, ..self }
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
    let caller = if request.headers().contains_key(AUTHORIZATION) {
        auth::caller(&state, request.headers()).await.ok()
    } else {
        None
    };
    let (class, key) = match caller {
        Some(caller) => {
            let key = user_key(&caller.user);
            request.extensions_mut().insert(Authenticated(caller));
            (by_method(request.method()), key)
        }
        None => (anonymous(request.uri().path()), state.limits.address_key(&request)),
    };
    enforce(&state.limits, class, &key, request, next).await
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
pub async fn enforce(limits: &RateLimits, class: Class, key: &str, request: Request, next: Next) -> Response {
    match spend(limits, class, key).await {
        Ok(decision) => {
            let mut response = next.run(request).await;
            stamp(response.headers_mut(), &decision);
            response
        }
        Err(refusal) => refusal,
    }
}

/// Spends one unit of `key`'s `class` budget: the decision, for [`stamp`]ing
/// the answer, or the 429 to answer instead (held first, as the module says).
pub async fn spend(limits: &RateLimits, class: Class, key: &str) -> Result<Decision, Response> {
    let decision = limits.limiter.check(class, key).await;
    if decision.allowed {
        return Ok(decision);
    }
    todo_lib::metrics::rate_limited(class.as_str());
    if let Ok(_held) = limits.held.try_acquire() {
        tokio::time::sleep(decision.retry_after.min(limits.hold)).await;
    }
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
    // The error's own answer carries Retry-After.
    ApiError::TooMany { code: "rate_limited", message, retry_after_secs: decision.retry_after_secs() }
        .into_response()
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

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_held_a_while_but_only_so_many_at_once() {
        let config = RateLimitConfig {
            rate_limit_anonymous_burst: 1,
            rate_limit_anonymous_per_minute: 1,
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::from_config(&config).expect("limits").holding(HOLD, 1);
        let start = tokio::time::Instant::now();
        assert!(spend(&limits, Class::Anonymous, "ip:a").await.is_ok());
        assert_eq!(start.elapsed(), Duration::ZERO, "an allowed request is never held");
        let answered = || async {
            let refused = spend(&limits, Class::Anonymous, "ip:a").await.expect_err("over budget");
            assert_eq!(refused.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
            start.elapsed()
        };
        let (mut first, mut second) = tokio::join!(answered(), answered());
        if first > second {
            std::mem::swap(&mut first, &mut second);
        }
        assert_eq!(
            (first, second),
            (Duration::ZERO, HOLD),
            "one held a second, the one past the bound at once"
        );
    }

    #[test]
    fn sign_in_has_its_own_budget_and_everything_else_shares_the_address_one() {
        assert_eq!(anonymous("/auth/token"), Class::SignIn);
        assert_eq!(anonymous("/auth/dev"), Class::SignIn);
        assert_eq!(anonymous("/auth/config"), Class::Anonymous);
        assert_eq!(anonymous("/v1/tasks"), Class::Anonymous);
        assert_eq!(anonymous("/v1/invitations/abc"), Class::Anonymous);
    }
}
