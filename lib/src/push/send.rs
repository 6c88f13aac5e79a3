//! Sending a queued push message (RFC 8030): the notice encrypted for the
//! subscription (RFC 8291, `aes128gcm`, by the `web-push-native` crate) and
//! signed with the server's VAPID key, `POST`ed to its endpoint with a `TTL`
//! of a day, `Urgency: high` and the task as its `Topic` (a push service that
//! still holds an older notice of the task replaces it).
//!
//! A 2xx is delivered. A 404 or 410 says the subscription is gone: the message
//! fails and the subscription is deleted. A 429 or a 5xx is retried no sooner
//! than its `Retry-After` (and the schedule); other 4xx answers fail for good.
//! Endpoints are held to the webhook address rules (`crate::webhook::check_url`),
//! at registration and again on every connection: no redirects.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::{OwedPush, VapidKeys};
use crate::webhook::{Attempt, DeliveryStatus, PublicOnly, chain, check_url, refusal};

/// Longest wait for a push service; a slower one is retried later.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a push service keeps a message for a browser that is offline.
const TTL_SECONDS: u32 = 24 * 3600;

/// Sends push messages, signed with `keys` (without them, none can be sent).
#[derive(Debug, Clone)]
pub struct Pusher {
    client: reqwest::Client,
    keys: Option<VapidKeys>,
    allow_loopback: bool,
}

impl Default for Pusher {
    /// One without keys, reaching public addresses only.
    fn default() -> Self {
        Self::new(None, false).unwrap_or_else(|e| unreachable!("a default client builds: {e}"))
    }
}

impl Pusher {
    /// A pusher signing with `keys` that reaches public addresses only,
    /// loopback too with `allow_loopback` (development and tests).
    pub fn new(keys: Option<VapidKeys>, allow_loopback: bool) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(PUSH_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(PublicOnly { allow_loopback }))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, keys, allow_loopback })
    }

    /// Whether it can send (`VAPID_PRIVATE_KEY` is set).
    pub fn configured(&self) -> bool {
        self.keys.is_some()
    }

    /// Sends `owed` once at `now`, saying how that went.
    pub async fn send(&self, owed: &OwedPush, now: DateTime<Utc>) -> Attempt {
        let Some(keys) = &self.keys else {
            return Attempt::sent(DeliveryStatus::Pending, None, Some("VAPID_PRIVATE_KEY is not set".into()));
        };
        let subscription = &owed.subscription;
        let endpoint = match check_url(&subscription.endpoint, self.allow_loopback) {
            Ok(url) => url,
            Err(why) => {
                return Attempt::sent(DeliveryStatus::Failed, None, Some(format!("the endpoint {why}")));
            }
        };
        let body = match encrypt(owed) {
            Ok(body) => body,
            Err(why) => return Attempt::sent(DeliveryStatus::Failed, None, Some(why)),
        };
        let authorization = match keys.authorization(&endpoint, now) {
            Ok(header) => header,
            Err(why) => return Attempt::sent(DeliveryStatus::Pending, None, Some(why.to_string())),
        };
        let topic = topic(owed);
        let sent = self
            .client
            .post(endpoint)
            .header("ttl", TTL_SECONDS)
            .header("urgency", "high")
            .header("topic", topic)
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("authorization", authorization)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(res) => {
                let code = res.status().as_u16();
                let status = match code {
                    200..=299 => DeliveryStatus::Delivered,
                    429 | 500..=599 => DeliveryStatus::Pending,
                    _ => DeliveryStatus::Failed,
                };
                let mut attempt = Attempt::sent(
                    status,
                    Some(code),
                    (status != DeliveryStatus::Delivered)
                        .then(|| format!("the push service answered {code}")),
                );
                if status == DeliveryStatus::Pending {
                    attempt.retry_at = retry_after(res.headers(), now);
                }
                attempt
            }
            Err(e) => {
                if let Some(why) = refusal(&e) {
                    return Attempt::sent(DeliveryStatus::Failed, None, Some(why));
                }
                let error = chain(&e);
                tracing::warn!(subscription = %subscription.id, %error, "push failed");
                Attempt::sent(DeliveryStatus::Pending, None, Some(error))
            }
        }
    }
}

/// Whether an answer says the subscription is gone for good (RFC 8030 §7.3).
pub fn gone(attempt: &Attempt) -> bool {
    matches!(attempt.status_code, Some(404 | 410))
}

/// The notice encrypted for the subscription's keys.
fn encrypt(owed: &OwedPush) -> Result<Vec<u8>, String> {
    let key = URL_SAFE_NO_PAD.decode(&owed.subscription.p256dh).ok();
    let key = key
        .and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok())
        .ok_or("the subscription's key is unusable")?;
    let auth = URL_SAFE_NO_PAD.decode(&owed.subscription.auth).ok();
    let auth: [u8; 16] =
        auth.and_then(|a| a.try_into().ok()).ok_or("the subscription's auth secret is unusable")?;
    web_push_native::encrypt(owed.payload.clone().into_bytes(), &key, &web_push_native::Auth::from(auth))
        .map_err(|e| format!("cannot encrypt the message: {e}"))
}

/// The message's `Topic`: at most 32 base64url characters, the same for every
/// notice of one task (its tag).
fn topic(owed: &OwedPush) -> String {
    let tag = serde_json::from_str::<super::Notice>(&owed.payload).map(|n| n.tag).unwrap_or_default();
    tag.chars().filter(|c| c.is_ascii_alphanumeric()).take(32).collect()
}

/// When `Retry-After` (seconds, or an HTTP date) allows the next attempt.
fn retry_after(headers: &reqwest::header::HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(i64::from(seconds)));
    }
    DateTime::parse_from_rfc2822(value).ok().map(|at| at.to_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").expect("time").to_utc();
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(now + chrono::Duration::seconds(120)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Mon, 07 Dec 2026 10:05:00 GMT"));
        assert_eq!(retry_after(&headers, now), Some(now + chrono::Duration::minutes(5)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
