//! The budgets of one process, with the `governor` crate: a keyed GCRA per
//! class, lock-free, on tokio's clock (so tests drive it with
//! `tokio::time::pause`), or on an injected [`crate::clock::Clock`] (the one
//! the webhook sender's tests step). Keys whose budget is whole again are forgotten once
//! a minute, so a flood of addresses does not grow the process for ever.

use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::{Class, Decision, Policies, Policy};

/// How often budgets that are whole again are dropped.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// Time since the limiter was made.
#[derive(Debug, Clone)]
enum Since {
    /// By tokio's clock: monotonic, and paused in tests.
    Tokio(tokio::time::Instant),
    /// By an injected clock (never less than zero).
    Injected(Arc<dyn crate::clock::Clock>, chrono::DateTime<chrono::Utc>),
}

impl Clock for Since {
    type Instant = Duration;

    fn now(&self) -> Duration {
        match self {
            Self::Tokio(start) => start.elapsed(),
            Self::Injected(clock, start) => (clock.now() - *start).to_std().unwrap_or_default(),
        }
    }
}

type Keyed = RateLimiter<String, DashMapStateStore<String>, Since, StateInformationMiddleware>;

#[derive(Debug)]
pub(super) struct Local {
    clock: Since,
    by_class: Arc<Vec<Keyed>>,
}

impl Local {
    pub(super) fn new(policies: &Policies) -> Self {
        Self::on(policies, Since::Tokio(tokio::time::Instant::now()))
    }

    /// Budgets that go by `clock`.
    pub(super) fn with_clock(policies: &Policies, clock: Arc<dyn crate::clock::Clock>) -> Self {
        let start = clock.now();
        Self::on(policies, Since::Injected(clock, start))
    }

    fn on(policies: &Policies, clock: Since) -> Self {
        let by_class: Arc<Vec<Keyed>> = Arc::new(
            Class::ALL
                .iter()
                .map(|class| {
                    RateLimiter::<String, _, _, governor::middleware::NoOpMiddleware<Duration>>::new(
                        quota(policies.of(*class)),
                        DashMapStateStore::default(),
                        clock.clone(),
                    )
                    .with_middleware::<StateInformationMiddleware>()
                })
                .collect(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // The first round is due a period from now, not from the task's first poll.
            let every = tokio::time::interval_at(tokio::time::Instant::now() + FORGET_EVERY, FORGET_EVERY);
            runtime.spawn(forget_whole_budgets(every, Arc::downgrade(&by_class)));
        }
        Self { clock, by_class }
    }

    pub(super) fn check(&self, class: Class, policy: Policy, key: &str) -> Decision {
        let limiter = &self.by_class[class.index()];
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    class,
                    policy,
                    allowed: true,
                    remaining,
                    reset: policy.interval() * policy.burst.saturating_sub(remaining),
                    retry_after: Duration::ZERO,
                }
            }
            Err(refused) => {
                let retry_after = refused.wait_time_from(self.clock.now());
                Decision {
                    class,
                    policy,
                    allowed: false,
                    remaining: 0,
                    reset: policy.window().saturating_sub(policy.interval()) + retry_after,
                    retry_after,
                }
            }
        }
    }
}

fn quota(policy: Policy) -> Quota {
    let burst = NonZeroU32::new(policy.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(policy.interval())
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(burst)
}

/// Drops the keys whose budget is whole, until the limiter is gone.
async fn forget_whole_budgets(mut every: tokio::time::Interval, by_class: Weak<Vec<Keyed>>) {
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(by_class) = by_class.upgrade() else { return };
        for limiter in by_class.iter() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { per_minute: 60, burst: 3 };

    fn local() -> Local {
        let policies = Policies { write: POLICY, ..Policies::DEFAULT };
        Local::new(&policies)
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_spent_then_refilled_at_the_sustained_rate() {
        let local = local();
        let seen: Vec<_> = (0..4).map(|_| local.check(Class::Write, POLICY, "user:alice")).collect();
        assert_eq!(
            seen.iter().map(|d| (d.allowed, d.remaining)).collect::<Vec<_>>(),
            [(true, 2), (true, 1), (true, 0), (false, 0)]
        );
        assert_eq!(seen[3].retry_after, Duration::from_secs(1));
        assert_eq!(seen[2].reset, Duration::from_secs(3), "three units take three seconds to return");

        // Another user's budget is their own.
        assert!(local.check(Class::Write, POLICY, "user:bob").allowed);

        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(!local.check(Class::Write, POLICY, "user:alice").allowed, "not a whole unit back yet");
        tokio::time::advance(Duration::from_millis(1)).await;
        let back = local.check(Class::Write, POLICY, "user:alice");
        assert!(back.allowed && back.remaining == 0, "{back:?}");

        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(local.check(Class::Write, POLICY, "user:alice").remaining, 2, "whole again");
    }

    #[tokio::test(start_paused = true)]
    async fn classes_are_separate_budgets() {
        let local = local();
        for _ in 0..3 {
            assert!(local.check(Class::Write, POLICY, "user:alice").allowed);
        }
        assert!(!local.check(Class::Write, POLICY, "user:alice").allowed);
        let read = local.check(Class::Read, Policies::DEFAULT.read, "user:alice");
        assert!(read.allowed && read.remaining == Policies::DEFAULT.read.burst - 1);
    }

    #[tokio::test(start_paused = true)]
    async fn whole_budgets_are_forgotten() {
        let local = local();
        for key in ["ip:10.0.0.1", "ip:10.0.0.2"] {
            local.check(Class::Write, POLICY, key);
        }
        assert_eq!(local.by_class[Class::Write.index()].len(), 2);
        tokio::time::advance(FORGET_EVERY * 2).await;
        // Let the janitor run on the paused clock.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(local.by_class[Class::Write.index()].len(), 0);
    }
}
