//! Users' webhooks: registration rules, Standard Webhooks signatures, and
//! delivery with one record per (event, webhook).
//!
//! Each request carries `webhook-id` (the event id: the receiver's idempotency
//! key), `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256
//! of `id.timestamp.body`), as the Standard Webhooks specification defines; the
//! `standardwebhooks` crate computes it. A 2xx is delivered; a 4xx other than 408
//! and 429 is failed for good (the receiver refuses it; retrying will not help),
//! and so is a URL that resolves or redirects to an address a webhook may not
//! reach (see `reach`); anything else (5xx, timeout, no connection) is retried
//! with the event.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::event::{EventType, TaskEventData};
use crate::store::{Store, StoreError};

mod reach;

pub use reach::{check_url, may_connect};

/// Webhooks a user may register.
pub const MAX_PER_USER: i64 = 10;
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
    Delivered,
    /// Refused by the receiver (4xx): not retried.
    Failed,
    /// A transient failure: retried with the event.
    Retrying,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Retrying => "retrying",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            "retrying" => Self::Retrying,
            _ => return None,
        })
    }

    /// Whether the event still has to be sent to this webhook.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Failed)
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

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Report {
    pub delivered: usize,
    pub failed: usize,
    pub retrying: usize,
    /// Already delivered or failed in an earlier round.
    pub skipped: usize,
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

    /// Sends the event to each of the user's webhooks that has not had it yet.
    pub async fn deliver(
        &self,
        store: &dyn Store,
        event_id: &str,
        ty: EventType,
        data: &TaskEventData,
    ) -> Result<Report, StoreError> {
        let webhooks = store.list_webhooks(&data.user_id).await?;
        if webhooks.is_empty() {
            return Ok(Report::default());
        }
        let done = store.webhook_delivery_statuses(event_id).await?;
        let body: Arc<str> =
            json!({ "type": ty.as_str(), "timestamp": Utc::now(), "data": data }).to_string().into();
        let mut report = Report::default();
        // All owed webhooks at once, so that one slow receiver does not hold up
        // the others (each is bounded by the timeout; a user has at most 10).
        let mut sends = tokio::task::JoinSet::new();
        for webhook in webhooks {
            if done.iter().any(|(id, status)| *id == webhook.id && status.is_final()) {
                report.skipped += 1;
                continue;
            }
            let (this, event_id, body) = (self.clone(), event_id.to_owned(), Arc::clone(&body));
            sends.spawn(async move {
                let outcome = this.send(&webhook, &event_id, &body).await;
                (webhook.id, outcome)
            });
        }
        while let Some(sent) = sends.join_next().await {
            let Ok((webhook_id, (status, code, error))) = sent else {
                // The send panicked: nothing was recorded, so it is owed again.
                report.retrying += 1;
                continue;
            };
            store.record_webhook_delivery(event_id, webhook_id, status, code, error.as_deref()).await?;
            match status {
                DeliveryStatus::Delivered => report.delivered += 1,
                DeliveryStatus::Failed => report.failed += 1,
                DeliveryStatus::Retrying => report.retrying += 1,
            }
        }
        Ok(report)
    }

    async fn send(
        &self,
        webhook: &Webhook,
        event_id: &str,
        body: &str,
    ) -> (DeliveryStatus, Option<u16>, Option<String>) {
        // Registered URLs were checked, but an address literal is never
        // resolved, so it is checked again here (the rules may have tightened).
        if let Err(why) = check_url(&webhook.url, self.allow_loopback) {
            return (DeliveryStatus::Failed, None, Some(format!("the URL {why}")));
        }
        let timestamp = Utc::now().timestamp();
        let signature = match standardwebhooks::Webhook::new(webhook.secret.expose_secret())
            .and_then(|signer| signer.sign(event_id, timestamp, body.as_bytes()))
        {
            Ok(signature) => signature,
            Err(e) => return (DeliveryStatus::Failed, None, Some(format!("cannot sign: {e}"))),
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
                    408 | 429 => DeliveryStatus::Retrying,
                    // A redirect the policy would follow has been followed.
                    300..=499 => DeliveryStatus::Failed,
                    _ => DeliveryStatus::Retrying,
                };
                (status, Some(code), None)
            }
            Err(e) => {
                if let Some(why) = reach::refusal(&e) {
                    tracing::warn!(webhook_id = %webhook.id, error = %why, "webhook refused");
                    return (DeliveryStatus::Failed, None, Some(why));
                }
                let error = reach::chain(&e);
                tracing::warn!(webhook_id = %webhook.id, %error, "webhook delivery failed");
                (DeliveryStatus::Retrying, None, Some(error))
            }
        }
    }
}

/// The outcome of an event handler that recorded its own effect (`recorded` is
/// false for a duplicate) and then ran a webhook round: transient failures make
/// the whole event retried (only the webhooks still owed are sent again).
pub fn handled(
    recorded: bool,
    report: Report,
    mut summary: serde_json::Value,
) -> Result<crate::function::Handled, crate::function::HandleError> {
    use crate::function::{HandleError, Handled};
    if report.retrying > 0 {
        return Err(HandleError::Transient(format!("{} webhook(s) to retry", report.retrying)));
    }
    if !recorded && report.delivered + report.failed == 0 {
        return Ok(Handled::Duplicate);
    }
    if let Some(fields) = summary.as_object_mut() {
        fields.insert("webhooks".into(), json!(report));
    }
    Ok(Handled::Done(summary))
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
