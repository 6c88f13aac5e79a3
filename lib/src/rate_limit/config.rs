//! `REDIS_URL`, `TRUSTED_PROXIES` and each budget's sustained rate and burst,
//! read once from the environment.

use secrecy::SecretString;
use serde::Deserialize;

use super::{Class, Policy};

/// The rate limits' settings; every budget has a default that a person using
/// the web app or a well-behaved script never meets.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitConfig {
    /// `redis://` or `rediss://` (TLS), with the password in the URL: where the
    /// budgets are kept so that every replica shares them. Unset, each process
    /// keeps its own. Hidden from `Debug`.
    pub redis_url: Option<SecretString>,
    /// Peers whose `X-Forwarded-For` is believed (comma-separated addresses
    /// or networks); unset, a request's address is its connection's.
    pub trusted_proxies: Option<String>,
    #[serde(default = "read_per_minute")]
    pub rate_limit_read_per_minute: u32,
    #[serde(default = "read_burst")]
    pub rate_limit_read_burst: u32,
    #[serde(default = "write_per_minute")]
    pub rate_limit_write_per_minute: u32,
    #[serde(default = "write_burst")]
    pub rate_limit_write_burst: u32,
    #[serde(default = "anonymous_per_minute")]
    pub rate_limit_anonymous_per_minute: u32,
    #[serde(default = "anonymous_burst")]
    pub rate_limit_anonymous_burst: u32,
    #[serde(default = "sign_in_per_minute")]
    pub rate_limit_sign_in_per_minute: u32,
    #[serde(default = "sign_in_burst")]
    pub rate_limit_sign_in_burst: u32,
    /// Webhook deliveries per user per minute; more wait in the queue.
    #[serde(default = "webhooks_per_minute")]
    pub webhook_deliveries_per_minute: u32,
    /// Mails per user per minute, after a burst of `MAIL_BURST`; more wait in
    /// the queue.
    #[serde(default = "mail_per_minute")]
    pub mail_per_minute: u32,
    #[serde(default = "mail_burst")]
    pub mail_burst: u32,
    /// Push messages per user per minute, after a burst of `PUSH_BURST`;
    /// more wait in the queue.
    #[serde(default = "push_per_minute")]
    pub push_per_minute: u32,
    #[serde(default = "push_burst")]
    pub push_burst: u32,
}

fn read_per_minute() -> u32 {
    Policies::DEFAULT.read.per_minute
}
fn read_burst() -> u32 {
    Policies::DEFAULT.read.burst
}
fn write_per_minute() -> u32 {
    Policies::DEFAULT.write.per_minute
}
fn write_burst() -> u32 {
    Policies::DEFAULT.write.burst
}
fn anonymous_per_minute() -> u32 {
    Policies::DEFAULT.anonymous.per_minute
}
fn anonymous_burst() -> u32 {
    Policies::DEFAULT.anonymous.burst
}
fn sign_in_per_minute() -> u32 {
    Policies::DEFAULT.sign_in.per_minute
}
fn sign_in_burst() -> u32 {
    Policies::DEFAULT.sign_in.burst
}
fn webhooks_per_minute() -> u32 {
    Policies::DEFAULT.webhooks.per_minute
}

fn mail_per_minute() -> u32 {
    Policies::DEFAULT.mail.per_minute
}
fn mail_burst() -> u32 {
    Policies::DEFAULT.mail.burst
}
fn push_per_minute() -> u32 {
    Policies::DEFAULT.push.per_minute
}
fn push_burst() -> u32 {
    Policies::DEFAULT.push.burst
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        // Every field has a default: an empty environment reads.
        crate::config::from_iter(Vec::new()).unwrap_or_else(|_| unreachable!("defaults always read"))
    }
}

/// What went wrong reading the settings.
#[derive(Debug, thiserror::Error)]
pub enum RateLimitConfigError {
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("TRUSTED_PROXIES: '{0}' is neither an address nor a network (10.0.0.0/8)")]
    Proxy(String),
    #[error("REDIS_URL is not a Redis URL: {0}")]
    Redis(String),
}

/// Each class's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    pub read: Policy,
    pub write: Policy,
    pub anonymous: Policy,
    pub sign_in: Policy,
    pub webhooks: Policy,
    pub mail: Policy,
    pub push: Policy,
}

impl Policies {
    /// The defaults: a person in the web app stays far below them; a script
    /// may import a hundred tasks at once, then five a second.
    pub const DEFAULT: Self = Self {
        read: Policy { per_minute: 600, burst: 300 },
        write: Policy { per_minute: 300, burst: 100 },
        anonymous: Policy { per_minute: 600, burst: 120 },
        sign_in: Policy { per_minute: 30, burst: 10 },
        webhooks: Policy { per_minute: 120, burst: 120 },
        mail: Policy { per_minute: 1, burst: 20 },
        push: Policy { per_minute: 10, burst: 30 },
    };

    /// Budgets no test or benchmark meets: for callers that measure something else.
    pub const UNLIMITED: Self = Self {
        read: Policy::UNLIMITED,
        write: Policy::UNLIMITED,
        anonymous: Policy::UNLIMITED,
        sign_in: Policy::UNLIMITED,
        webhooks: Policy::UNLIMITED,
        mail: Policy::UNLIMITED,
        push: Policy::UNLIMITED,
    };

    pub fn of(&self, class: Class) -> Policy {
        match class {
            Class::Read => self.read,
            Class::Write => self.write,
            Class::Anonymous => self.anonymous,
            Class::SignIn => self.sign_in,
            Class::Webhooks => self.webhooks,
            Class::Mail => self.mail,
            Class::Push => self.push,
        }
    }
}

impl RateLimitConfig {
    /// The budgets, each checked to allow something.
    pub fn policies(&self) -> Result<Policies, RateLimitConfigError> {
        let policy = |per_minute: u32, burst: u32, name: &'static str| {
            if per_minute == 0 {
                return Err(RateLimitConfigError::Zero(name));
            }
            if burst == 0 {
                return Err(RateLimitConfigError::Zero("every RATE_LIMIT_*_BURST"));
            }
            Ok(Policy { per_minute, burst })
        };
        Ok(Policies {
            read: policy(
                self.rate_limit_read_per_minute,
                self.rate_limit_read_burst,
                "RATE_LIMIT_READ_PER_MINUTE",
            )?,
            write: policy(
                self.rate_limit_write_per_minute,
                self.rate_limit_write_burst,
                "RATE_LIMIT_WRITE_PER_MINUTE",
            )?,
            anonymous: policy(
                self.rate_limit_anonymous_per_minute,
                self.rate_limit_anonymous_burst,
                "RATE_LIMIT_ANONYMOUS_PER_MINUTE",
            )?,
            sign_in: policy(
                self.rate_limit_sign_in_per_minute,
                self.rate_limit_sign_in_burst,
                "RATE_LIMIT_SIGN_IN_PER_MINUTE",
            )?,
            webhooks: policy(
                self.webhook_deliveries_per_minute,
                self.webhook_deliveries_per_minute,
                "WEBHOOK_DELIVERIES_PER_MINUTE",
            )?,
            mail: policy(self.mail_per_minute, self.mail_burst, "MAIL_PER_MINUTE")?,
            push: policy(self.push_per_minute, self.push_burst, "PUSH_PER_MINUTE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;
    use crate::config::from_iter;

    fn read(vars: &[(&str, &str)]) -> RateLimitConfig {
        from_iter(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))).expect("reads")
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let config = read(&[]);
        assert!(config.redis_url.is_none() && config.trusted_proxies.is_none());
        assert_eq!(config.policies().expect("valid"), Policies::DEFAULT);
    }

    #[test]
    fn each_budget_is_read_and_the_redis_password_is_hidden() {
        let config = read(&[
            ("REDIS_URL", "rediss://default:hunter2-pass@redis.example:25061"),
            ("RATE_LIMIT_WRITE_PER_MINUTE", "60"),
            ("RATE_LIMIT_WRITE_BURST", "5"),
            ("WEBHOOK_DELIVERIES_PER_MINUTE", "30"),
        ]);
        let policies = config.policies().expect("valid");
        assert_eq!(policies.write, Policy { per_minute: 60, burst: 5 });
        assert_eq!(policies.webhooks, Policy { per_minute: 30, burst: 30 });
        assert_eq!(policies.read, Policies::DEFAULT.read);
        assert!(!format!("{config:?}").contains("hunter2"));
        assert!(config.redis_url.expect("set").expose_secret().contains("hunter2"));
    }

    #[test]
    fn a_budget_of_nothing_is_refused() {
        let err = read(&[("RATE_LIMIT_READ_PER_MINUTE", "0")]).policies().expect_err("zero");
        assert!(err.to_string().contains("RATE_LIMIT_READ_PER_MINUTE"), "{err}");
        let err = read(&[("RATE_LIMIT_SIGN_IN_BURST", "0")]).policies().expect_err("zero");
        assert!(err.to_string().contains("BURST"), "{err}");
    }
}
