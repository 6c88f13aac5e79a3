//! Users' webhooks: registration rules, Standard Webhooks signatures, and
//! delivery from a queue of their own, one row per (event, webhook).
//!
//! An event handler only queues the event for the webhooks of the members of
//! the task's list (`crate::function::queue_and_answer`); `cron-tick` sends what is owed
//! (`crate::sender::Sender`, above the store: this module is below it), each row under a lease, with
//! bounded concurrency, so a receiver that hangs holds only its own rows and
//! never an event, a tick or another user's webhooks.
//!
//! Each request carries `webhook-id` (the event id: the receiver's idempotency
//! key), `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256
//! of `id.timestamp.body`), as the Standard Webhooks specification defines; the
//! `standardwebhooks` crate computes it. A 2xx is delivered; a 4xx other than 408
//! and 429 is failed for good (the receiver refuses it; retrying will not help),
//! and so is a URL that resolves or redirects to an address a webhook may not
//! reach (see `reach`); anything else (5xx, timeout, no connection) is retried
//! with backoff ([`Backoff`]) until the schedule runs out.

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use uuid::Uuid;

mod global;
mod reach;

pub(crate) use reach::{PublicOnly, chain, refusal};
pub use reach::{check_url, may_connect};

/// Longest wait for a receiver; a slower one is retried later.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A registered endpoint. The secret never appears in `Debug` output.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub user_id: String,
    pub url: String,
    pub secret: SecretString,
    pub created_at: DateTime<Utc>,
}

/// How a delivery to one webhook went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Owed: not sent yet, or failed transiently and to be retried.
    Pending,
    Delivered,
    /// Refused by the receiver (4xx) or the address rules, or given up on.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A queued delivery a sender has claimed.
#[derive(Debug, Clone)]
pub struct OwedDelivery {
    pub event_id: String,
    pub webhook_id: Uuid,
    /// `None` when the webhook was deleted after the event was queued.
    pub webhook: Option<Webhook>,
    /// The JSON body to send, fixed when the event was queued.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i32,
}

/// How one attempt at a delivery ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub status: DeliveryStatus,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    /// When to try again (`Pending` only; set by the retry schedule).
    pub retry_at: Option<DateTime<Utc>>,
}

impl Attempt {
    /// What a send came to, before the retry schedule is applied.
    pub(crate) fn sent(status: DeliveryStatus, status_code: Option<u16>, error: Option<String>) -> Self {
        Self { status, status_code, error, retry_at: None }
    }
}

impl Webhook {
    /// A new webhook for `user_id` at a URL already checked by [`check_url`], with a
    /// fresh secret.
    pub fn new(user_id: &str, url: &url::Url, now: DateTime<Utc>) -> Result<Self, getrandom::Error> {
        Ok(Self {
            id: Uuid::now_v7(),
            user_id: user_id.to_owned(),
            url: url.to_string(),
            secret: new_secret()?,
            created_at: now.trunc_subsecs(6),
        })
    }
}

/// A Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Result<SecretString, getrandom::Error> {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key)?;
    Ok(SecretString::from(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))))
}

/// Sends events to users' webhooks.
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    allow_loopback: bool,
}

impl Deliverer {
    /// A deliverer that reaches public addresses only, loopback too with
    /// `allow_loopback` (development; see [`check_url`]).
    pub fn new(allow_loopback: bool) -> Result<Self, reqwest::Error> {
        Self::with_timeout(DELIVERY_TIMEOUT, allow_loopback)
    }

    /// A deliverer that gives up on a receiver after `timeout` (tests use a short one).
    pub fn with_timeout(timeout: Duration, allow_loopback: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // A proxy would resolve names itself, past the address check.
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(reach::PublicOnly { allow_loopback }))
            .redirect(reach::redirect_policy(allow_loopback))
            .build()?;
        Ok(Self { client, allow_loopback })
    }

    /// Sends `body` for event `event_id` to `webhook`, signed, once.
    pub(crate) async fn send(&self, webhook: &Webhook, event_id: &str, body: &str) -> Attempt {
        // Registered URLs were checked, but an address literal is never
        // resolved, so it is checked again here (the rules may have tightened).
        if let Err(why) = check_url(&webhook.url, self.allow_loopback) {
            return Attempt::sent(DeliveryStatus::Failed, None, Some(format!("the URL {why}")));
        }
        let timestamp = Utc::now().timestamp();
        let signature = match standardwebhooks::Webhook::new(webhook.secret.expose_secret())
            .and_then(|signer| signer.sign(event_id, timestamp, body.as_bytes()))
        {
            Ok(signature) => signature,
            Err(e) => return Attempt::sent(DeliveryStatus::Failed, None, Some(format!("cannot sign: {e}"))),
        };
        let sent = self
            .client
            .post(&webhook.url)
            .header("content-type", "application/json")
            .header("webhook-id", event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(res) => {
                let code = res.status().as_u16();
                let status = match code {
                    200..=299 => DeliveryStatus::Delivered,
                    408 | 429 => DeliveryStatus::Pending,
                    // A redirect the policy would follow has been followed.
                    300..=499 => DeliveryStatus::Failed,
                    _ => DeliveryStatus::Pending,
                };
                Attempt::sent(status, Some(code), None)
            }
            Err(e) => {
                if let Some(why) = reach::refusal(&e) {
                    tracing::warn!(webhook_id = %webhook.id, error = %why, "webhook refused");
                    return Attempt::sent(DeliveryStatus::Failed, None, Some(why));
                }
                let error = reach::chain(&e);
                tracing::warn!(webhook_id = %webhook.id, %error, "webhook delivery failed");
                Attempt::sent(DeliveryStatus::Pending, None, Some(error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_specification_test_vector() {
        // From the Standard Webhooks specification's examples.
        let signer =
            standardwebhooks::Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let signature =
            signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(signature.expect("signs"), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_are_random_and_well_formed() {
        let (a, b) = (new_secret().expect("random"), new_secret().expect("random"));
        assert!(a.expose_secret().starts_with("whsec_"));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(standardwebhooks::Webhook::new(a.expose_secret()).is_ok());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let url = url::Url::parse("https://hooks.example.com").expect("url");
        let hook = Webhook::new("alice", &url, Utc::now()).expect("random");
        let shown = format!("{hook:?}");
        assert!(!shown.contains(hook.secret.expose_secret()), "{shown}");
    }
}
