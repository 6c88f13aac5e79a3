//! Rate limits: a budget per caller and class of request, by the generic cell
//! rate algorithm (GCRA: a sustained rate and a burst), kept in Redis so that
//! every replica spends from the same budget, or in the process when there is
//! no Redis (the local host) and while Redis cannot be reached.
//!
//! - [`config`]: `REDIS_URL`, `TRUSTED_PROXIES` and the budgets.
//! - [`address`]: the client address a request is counted against.
//! - `local`: the in-process budgets (the `governor` crate).
//! - `shared`: the budgets in Redis (one Lua script per check).
//!
//! A check never fails: Redis refusing, timing out or gone only moves the
//! check to the process's own budgets until Redis answers again, which
//! [`Limiter::report`] and `todo_rate_limiter_redis_up` tell.

pub mod address;
pub mod config;
mod local;
mod shared;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

pub use self::config::{Policies, RateLimitConfig, RateLimitConfigError};

/// What a request spends: a signed-in user's reads or writes, an address's
/// requests without a valid credential (sign-in's code exchange apart, which
/// costs a call to the identity provider), or a user's webhook deliveries or mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Read,
    Write,
    Anonymous,
    SignIn,
    Webhooks,
    Mail,
    Push,
}

impl Class {
    pub const ALL: [Self; 7] =
        [Self::Read, Self::Write, Self::Anonymous, Self::SignIn, Self::Webhooks, Self::Mail, Self::Push];

    /// Its name in headers, metrics and Redis keys.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Anonymous => "anonymous",
            Self::SignIn => "sign_in",
            Self::Webhooks => "webhooks",
            Self::Mail => "mail",
            Self::Push => "push",
        }
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// A budget: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub per_minute: u32,
    pub burst: u32,
}

impl Policy {
    const UNLIMITED: Self = Self { per_minute: 6_000_000, burst: 1_000_000 };

    /// The time one unit takes to come back.
    pub fn interval(self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }

    /// How long an empty budget takes to fill again.
    pub fn window(self) -> Duration {
        self.interval() * self.burst.max(1)
    }
}

/// What a check came to, with what the `RateLimit` headers tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub class: Class,
    pub policy: Policy,
    pub allowed: bool,
    /// Requests left in the burst.
    pub remaining: u32,
    /// Until the budget is full again.
    pub reset: Duration,
    /// Until the next request is allowed (zero when this one was).
    pub retry_after: Duration,
}

impl Decision {
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers): the
    /// policy's name, its quota and the window in which it refills.
    pub fn policy_header(&self) -> String {
        format!("\"{}\";q={};w={}", self.class.as_str(), self.policy.burst, ceil_secs(self.policy.window()))
    }

    /// `RateLimit`: what is left of the policy's quota, and in how many
    /// seconds it is whole again.
    pub fn state_header(&self) -> String {
        format!("\"{}\";r={};t={}", self.class.as_str(), self.remaining, ceil_secs(self.reset))
    }

    /// `Retry-After` of a refusal, in whole seconds (at least one).
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.retry_after).max(1)
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The budgets of a process: in Redis when `REDIS_URL` is set, else (and
/// while Redis is unreachable) its own. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Limiter(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    policies: Policies,
    local: local::Local,
    shared: Option<Arc<shared::Shared>>,
}

impl Limiter {
    /// Budgets kept in this process only.
    pub fn in_process(policies: Policies) -> Self {
        Self(Arc::new(Inner { policies, local: local::Local::new(&policies), shared: None }))
    }

    /// Budgets kept in this process, going by `clock` (a test's, which it steps).
    pub fn in_process_with_clock(policies: Policies, clock: Arc<dyn crate::clock::Clock>) -> Self {
        Self(Arc::new(Inner { policies, local: local::Local::with_clock(&policies, clock), shared: None }))
    }

    /// Budgets no caller meets: for tests and benchmarks of something else.
    pub fn unlimited() -> Self {
        Self::in_process(Policies::UNLIMITED)
    }

    /// The budgets `config` sets, in Redis when it names one. Connects lazily:
    /// a Redis that is down at start-up leaves the process serving on its own
    /// budgets until Redis answers.
    pub fn from_config(config: &RateLimitConfig) -> Result<Self, RateLimitConfigError> {
        let policies = config.policies()?;
        let shared = match &config.redis_url {
            Some(url) => Some(shared::Shared::connect(url)?),
            None => None,
        };
        Ok(Self(Arc::new(Inner { policies, local: local::Local::new(&policies), shared })))
    }

    pub fn policies(&self) -> &Policies {
        &self.0.policies
    }

    /// Spends one unit of `key`'s budget of `class` (`key` names the user or
    /// the address), and says whether the request may go on.
    pub async fn check(&self, class: Class, key: &str) -> Decision {
        let policy = self.0.policies.of(class);
        if let Some(shared) = &self.0.shared
            && let Some(decision) = shared.check(class, policy, key).await
        {
            return decision;
        }
        self.0.local.check(class, policy, key)
    }

    /// Whether the budgets are shared through Redis now.
    pub fn shared(&self) -> bool {
        self.0.shared.as_ref().is_some_and(|s| s.is_up())
    }

    /// What `/readyz` says of the limiter: where the budgets are kept now.
    pub fn report(&self) -> Value {
        match &self.0.shared {
            None => json!({ "backend": "in-process" }),
            Some(shared) if shared.is_up() => json!({ "backend": "redis" }),
            Some(shared) => json!({
                "backend": "in-process",
                "degraded": "Redis is unreachable: each replica keeps its own budgets until it answers",
                "unanswered_pings": shared.unanswered_pings(),
            }),
        }
    }
}

impl crate::health::Detail for Limiter {
    fn name(&self) -> &'static str {
        "rate_limiter"
    }

    fn report(&self) -> Value {
        Limiter::report(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_ietf_draft() {
        let decision = Decision {
            class: Class::Write,
            policy: Policy { per_minute: 300, burst: 100 },
            allowed: true,
            remaining: 42,
            reset: Duration::from_millis(11_600),
            retry_after: Duration::ZERO,
        };
        assert_eq!(decision.policy_header(), r#""write";q=100;w=20"#);
        assert_eq!(decision.state_header(), r#""write";r=42;t=12"#);
        assert_eq!(decision.retry_after_secs(), 1, "a refusal always asks for a wait");
    }

    #[test]
    fn a_window_is_the_time_an_empty_budget_takes_to_fill() {
        let policy = Policy { per_minute: 30, burst: 10 };
        assert_eq!(policy.interval(), Duration::from_secs(2));
        assert_eq!(policy.window(), Duration::from_secs(20));
    }
}

/// Against real Redis: the machine's, and a private server stopped mid-test.
#[cfg(test)]
mod redis_tests {
    use std::time::Duration;

    use secrecy::SecretString;
    use todo_testing::{PrivateRedis, redis_url};

    use super::*;

    fn config(url: String) -> RateLimitConfig {
        RateLimitConfig {
            redis_url: Some(SecretString::from(url)),
            rate_limit_write_per_minute: 1,
            rate_limit_write_burst: 3,
            ..RateLimitConfig::default()
        }
    }

    /// Waits (bounded) until the limiter's probe has reached Redis.
    async fn until_shared(limiter: &Limiter, shared: bool) {
        for _ in 0..500 {
            if limiter.shared() == shared {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the limiter never became {}", if shared { "shared" } else { "local" });
    }

    fn fresh_key() -> String {
        format!("user:{}", uuid::Uuid::new_v4())
    }

    #[tokio::test]
    async fn two_replicas_spend_one_budget_through_redis() {
        let a = Limiter::from_config(&config(redis_url())).expect("a");
        let b = Limiter::from_config(&config(redis_url())).expect("b");
        until_shared(&a, true).await;
        until_shared(&b, true).await;
        assert_eq!(a.report()["backend"], "redis");
        let key = fresh_key();
        let mut seen = Vec::new();
        for limiter in [&a, &b, &a, &b] {
            let decision = limiter.check(Class::Write, &key).await;
            seen.push((decision.allowed, decision.remaining));
        }
        assert_eq!(seen, [(true, 2), (true, 1), (true, 0), (false, 0)]);
        let refused = b.check(Class::Write, &key).await;
        // One unit a minute: the next is about a minute away.
        assert!(
            (Duration::from_secs(55)..=Duration::from_secs(60)).contains(&refused.retry_after),
            "{refused:?}"
        );
        assert!(
            refused.reset >= refused.retry_after && refused.reset <= Duration::from_secs(180),
            "{refused:?}"
        );
        // Another user, and another class, are budgets of their own.
        assert!(a.check(Class::Write, &fresh_key()).await.allowed);
        assert_eq!(a.check(Class::Read, &key).await.remaining, Policies::DEFAULT.read.burst - 1);
    }

    #[tokio::test]
    async fn with_redis_gone_checks_go_on_in_the_process_and_come_back() {
        let mut redis = PrivateRedis::start();
        let limiter = Limiter::from_config(&config(redis.url())).expect("limiter");
        until_shared(&limiter, true).await;
        let key = fresh_key();
        assert_eq!(limiter.check(Class::Write, &key).await.remaining, 2);

        redis.stop();
        // Never an error: the first check after the loss already answers from the process.
        for expected in [2, 1, 0] {
            let decision = limiter.check(Class::Write, &key).await;
            assert!(decision.allowed && decision.remaining == expected, "{decision:?}");
        }
        assert!(!limiter.check(Class::Write, &key).await.allowed, "the process keeps a budget too");
        assert!(!limiter.shared());
        assert_eq!(limiter.report()["backend"], "in-process");
        assert!(limiter.report()["degraded"].as_str().is_some_and(|s| s.contains("unreachable")));
        // The probe asks again and again while Redis is away.
        let probe = limiter.0.shared.as_ref().expect("shared");
        for _ in 0..500 {
            if probe.unanswered_pings() >= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(probe.unanswered_pings() >= 1, "the probe never found Redis gone");

        redis.start_server();
        until_shared(&limiter, true).await;
        assert_eq!(limiter.report()["backend"], "redis");
        // The restarted server kept nothing: a whole budget again.
        assert_eq!(limiter.check(Class::Write, &key).await.remaining, 2);
    }

    #[tokio::test]
    async fn redis_down_at_start_is_no_failure() {
        let mut redis = PrivateRedis::start();
        let url = redis.url();
        redis.stop();
        let limiter = Limiter::from_config(&config(url)).expect("starts without Redis");
        assert!(limiter.check(Class::Write, &fresh_key()).await.allowed);
        assert!(!limiter.shared());
        redis.start_server();
        until_shared(&limiter, true).await;
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let _entered = runtime.enter();
        let limiter =
            Limiter::from_config(&config("redis://default:hunter2-pass@127.0.0.1:1".into())).expect("lazy");
        assert!(!format!("{limiter:?}").contains("hunter2"), "{limiter:?}");
    }

    #[test]
    fn a_url_that_is_not_redis_is_refused_without_repeating_it() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let _entered = runtime.enter();
        let err =
            Limiter::from_config(&config("http://user:hunter2-pass@example".into())).expect_err("not Redis");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
