//! The budgets in Redis: one Lua script per check runs the GCRA on Redis's own
//! clock, so every replica spends from the same budget however their clocks
//! drift. A key lives only until its budget is whole again.
//!
//! Redis is never in a request's way: each call is bounded by [`TIMEOUT`];
//! the first that fails marks Redis down, and from then on checks go to the
//! process's own budgets while a probe pings Redis every [`PROBE_EVERY`]
//! until it answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};

use super::{Class, Decision, Policy, RateLimitConfigError};

/// The longest a request waits for Redis.
const TIMEOUT: Duration = Duration::from_millis(200);
/// How often an unreachable Redis is asked again.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// KEYS[1]: the budget; ARGV[1]: one unit's interval and ARGV[2] the burst.
/// Answers {allowed, remaining, reset, retry after}, times in microseconds.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local window = interval * burst
local next_tat = tat + interval
local allowed_at = next_tat - window
if allowed_at > now then
  return {0, 0, tat - now, allowed_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000))
return {1, math.floor((window - (next_tat - now)) / interval), next_tat - now, 0}
";

pub(super) struct Shared {
    connection: ConnectionManager,
    script: redis::Script,
    up: AtomicBool,
    probing: AtomicBool,
    /// Pings Redis did not answer, since start.
    unanswered: AtomicU32,
}

impl std::fmt::Debug for Shared {
    // The connection knows the URL, password and all: none of it is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("up", &self.is_up()).finish_non_exhaustive()
    }
}

impl Shared {
    /// A lazy connection to `url`, not yet trusted: a probe connects at once
    /// and the budgets move to Redis when it answers.
    pub(super) fn connect(url: &SecretString) -> Result<Arc<Self>, RateLimitConfigError> {
        // The parse error's text is the crate's own; it never repeats the URL.
        let client = redis::Client::open(url.expose_secret())
            .map_err(|err| RateLimitConfigError::Redis(format!("{:?}", err.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|err| RateLimitConfigError::Redis(format!("{:?}", err.kind())))?;
        let shared = Arc::new(Self {
            connection,
            script: redis::Script::new(GCRA),
            up: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            unanswered: AtomicU32::new(0),
        });
        metrics::gauge!("todo_rate_limiter_redis_up").set(0.0);
        shared.lost(None);
        Ok(shared)
    }

    pub(super) fn unanswered_pings(&self) -> u32 {
        self.unanswered.load(Ordering::Acquire)
    }

    pub(super) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// The check in Redis; `None` when Redis is down (or goes down now).
    pub(super) async fn check(self: &Arc<Self>, class: Class, policy: Policy, key: &str) -> Option<Decision> {
        if !self.is_up() {
            return None;
        }
        let mut connection = self.connection.clone();
        let interval = u64::try_from(policy.interval().as_micros()).unwrap_or(u64::MAX);
        let mut invocation = self.script.key(format!("todo:rate:{}:{key}", class.as_str()));
        invocation.arg(interval).arg(policy.burst);
        let answer =
            tokio::time::timeout(TIMEOUT, invocation.invoke_async::<(i64, i64, i64, i64)>(&mut connection));
        match answer.await {
            Ok(Ok((allowed, remaining, reset, retry_after))) => Some(Decision {
                class,
                policy,
                allowed: allowed == 1,
                remaining: u32::try_from(remaining).unwrap_or(0),
                reset: micros(reset),
                retry_after: micros(retry_after),
            }),
            Ok(Err(err)) => {
                self.lost(Some(&err.to_string()));
                None
            }
            Err(_) => {
                self.lost(Some("no answer in time"));
                None
            }
        }
    }

    /// Marks Redis down and starts the probe that brings it back, once.
    fn lost(self: &Arc<Self>, why: Option<&str>) {
        if self.up.swap(false, Ordering::AcqRel) {
            metrics::gauge!("todo_rate_limiter_redis_up").set(0.0);
            tracing::warn!(
                reason = why.unwrap_or("unknown"),
                "Redis is unreachable: rate limits are kept in this process until it answers"
            );
        }
        if !self.probing.swap(true, Ordering::AcqRel) {
            tokio::spawn(Arc::clone(self).probe());
        }
    }

    /// Pings until Redis answers, then sends the checks there again.
    async fn probe(self: Arc<Self>) {
        let mut attempt = 0u32;
        loop {
            if attempt > 0 {
                tokio::time::sleep(PROBE_EVERY).await;
            }
            attempt += 1;
            let mut connection = self.connection.clone();
            let ping = redis::cmd("PING");
            if let Ok(Ok(_)) =
                tokio::time::timeout(TIMEOUT, ping.query_async::<String>(&mut connection)).await
            {
                break;
            }
            self.unanswered.fetch_add(1, Ordering::AcqRel);
        }
        self.probing.store(false, Ordering::Release);
        self.up.store(true, Ordering::Release);
        metrics::gauge!("todo_rate_limiter_redis_up").set(1.0);
        tracing::info!(attempts = attempt, "Redis answers: rate limits are shared across replicas");
    }
}

fn micros(value: i64) -> Duration {
    Duration::from_micros(u64::try_from(value).unwrap_or(0))
}
