//! A browser's push subscription: where its push service takes messages for
//! it, and the keys they are encrypted for. What `PushSubscription.toJSON()`
//! gives in the browser is what `POST /v1/push/subscriptions` takes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::task::ValidationErrors;

/// A stored subscription. Its `Debug` leaves out the auth secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: Uuid,
    pub user_id: String,
    /// The push service's URL for this browser (a capability: never shown
    /// whole to anyone but its push service).
    pub endpoint: String,
    /// The browser's P-256 public key (uncompressed point), base64url.
    pub p256dh: String,
    /// The browser's 16-byte auth secret, base64url.
    pub auth: String,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("service", &self.service())
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// The push service's host (`fcm.googleapis.com`, `updates.push.services.mozilla.com`):
    /// which browser family it is, without the capability.
    pub fn service(&self) -> String {
        url::Url::parse(&self.endpoint).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
    }
}

/// A subscription as the browser hands it over.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// The push service's URL for this browser; https.
    pub endpoint: String,
    /// When the push service will end it, if it says (milliseconds since the
    /// epoch); read and ignored: a message to an ended one deletes it.
    #[serde(rename = "expirationTime")]
    pub expiration_time: Option<f64>,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url (65 bytes).
    pub p256dh: String,
    /// The browser's auth secret, base64url (16 bytes).
    pub auth: String,
}

/// Base64url, with or without padding (browsers leave it out; some libraries add it).
fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim().trim_end_matches('=')).ok()
}

impl SubscriptionInput {
    /// The subscription of `user_id` this describes, each problem named: the
    /// endpoint must be one a webhook could be (`crate::webhook::check_url`),
    /// the keys what RFC 8291 takes.
    pub fn check(
        &self,
        user_id: &str,
        allow_loopback: bool,
        now: DateTime<Utc>,
    ) -> Result<Subscription, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let endpoint = crate::webhook::check_url(self.endpoint.trim(), allow_loopback)
            .map_err(|why| errors.add("endpoint", format!("the endpoint {why}")))
            .ok();
        let p256dh = base64url(&self.keys.p256dh);
        if !p256dh
            .as_deref()
            .is_some_and(|key| key.len() == 65 && p256::PublicKey::from_sec1_bytes(key).is_ok())
        {
            errors.add("keys.p256dh", "must be the browser's P-256 public key: 65 bytes, base64url");
        }
        if base64url(&self.keys.auth).is_none_or(|auth| auth.len() != 16) {
            errors.add("keys.auth", "must be the browser's auth secret: 16 bytes, base64url");
        }
        errors.into_result()?;
        Ok(Subscription {
            id: Uuid::now_v7(),
            user_id: user_id.to_owned(),
            endpoint: endpoint.map(String::from).unwrap_or_default(),
            p256dh: URL_SAFE_NO_PAD.encode(p256dh.unwrap_or_default()),
            auth: URL_SAFE_NO_PAD.encode(base64url(&self.keys.auth).unwrap_or_default()),
            created_at: now.trunc_subsecs(6),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    fn browser_key() -> String {
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).expect("scalar");
        URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes())
    }

    fn input(endpoint: &str, p256dh: &str, auth: &str) -> SubscriptionInput {
        SubscriptionInput {
            endpoint: endpoint.into(),
            expiration_time: None,
            keys: SubscriptionKeys { p256dh: p256dh.into(), auth: auth.into() },
        }
    }

    #[test]
    fn a_browsers_subscription_is_taken_padded_or_not() {
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let sub = input("https://fcm.googleapis.com/fcm/send/abc", &browser_key(), &format!("{auth}=="))
            .check("alice", false, Utc::now())
            .expect("valid");
        assert_eq!((sub.auth.as_str(), sub.service().as_str()), (auth.as_str(), "fcm.googleapis.com"));
        assert!(!format!("{sub:?}").contains(&sub.auth));
        assert!(!format!("{sub:?}").contains("/fcm/send/abc"));
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let errors = input("http://10.0.0.1/push", "AAAA", "short")
            .check("alice", false, Utc::now())
            .expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["endpoint", "keys.p256dh", "keys.auth"]);
        // A point not on the curve is refused too.
        let mut off_curve = URL_SAFE_NO_PAD.decode(browser_key()).expect("b64");
        off_curve[64] ^= 1;
        let auth = URL_SAFE_NO_PAD.encode([1u8; 16]);
        let errors = input("https://push.example.com/x", &URL_SAFE_NO_PAD.encode(off_curve), &auth)
            .check("alice", false, Utc::now())
            .expect_err("invalid");
        assert_eq!(errors.0[0].field, "keys.p256dh");
    }
}
