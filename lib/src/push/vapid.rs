//! The server's VAPID key pair (RFC 8292): a P-256 key, kept in a Secret as
//! its 32-byte private scalar in base64url (`VAPID_PRIVATE_KEY`, what the
//! `vapid-key` tool prints and what other Web Push libraries generate). The
//! browser subscribes with the public key; every push message carries a JWT
//! signed with the private one (`Authorization: vapid t=…, k=…`), valid for
//! twelve hours, for the endpoint's origin, naming a contact
//! (`VAPID_SUBJECT`, by default `PUBLIC_URL`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// How long a VAPID token is valid (RFC 8292 allows at most 24 hours).
const TOKEN_HOURS: i64 = 12;

/// The push settings, read once from the environment.
#[derive(Clone, Default, Deserialize)]
pub struct PushConfig {
    /// Unset, push is off: the API refuses subscriptions and says why.
    pub vapid_private_key: Option<SecretString>,
    /// `mailto:` or `https:`: who push services can contact about our
    /// messages. By default `PUBLIC_URL`.
    pub vapid_subject: Option<String>,
}

impl std::fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field("vapid_private_key", &self.vapid_private_key.as_ref().map(|_| "[hidden]"))
            .field("vapid_subject", &self.vapid_subject)
            .finish()
    }
}

/// Why the VAPID settings cannot be used (never with the key in it).
#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("VAPID_PRIVATE_KEY is not a P-256 private key (32 bytes in base64url, as `vapid-key` prints)")]
    Key,
    #[error("VAPID_SUBJECT must be a mailto: or https: URL (http: on the local host), not {0:?}")]
    Subject(String),
    #[error("cannot sign a VAPID token: {0}")]
    Sign(String),
}

/// The key pair and contact. Its `Debug` shows the public key only.
#[derive(Clone)]
pub struct VapidKeys {
    signing: EncodingKey,
    /// The uncompressed public point, base64url: the browser's
    /// `applicationServerKey`, and `k=` in every message.
    public: String,
    subject: String,
}

impl std::fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKeys").field("public", &self.public).field("subject", &self.subject).finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl VapidKeys {
    /// The keys `config` names (`None` when push is off), with `public_url` as
    /// the default contact.
    pub fn from_config(config: &PushConfig, public_url: &str) -> Result<Option<Self>, VapidError> {
        let Some(private) = &config.vapid_private_key else { return Ok(None) };
        let subject =
            config.vapid_subject.clone().unwrap_or_else(|| public_url.trim_end_matches('/').to_owned());
        Self::new(private, &subject).map(Some)
    }

    /// The pair of a base64url private scalar, contacting `subject`.
    pub fn new(private: &SecretString, subject: &str) -> Result<Self, VapidError> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https:") || subject.starts_with("http:"))
        {
            return Err(VapidError::Subject(subject.to_owned()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(private.expose_secret().trim().trim_end_matches('='))
            .map_err(|_| VapidError::Key)?;
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|_| VapidError::Key)?;
        let der = secret.to_pkcs8_der().map_err(|_| VapidError::Key)?;
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(Self { signing: EncodingKey::from_ec_der(der.as_bytes()), public, subject: subject.to_owned() })
    }

    /// A new private key, base64url: what `VAPID_PRIVATE_KEY` holds.
    pub fn generate() -> SecretString {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::getrandom(&mut bytes).expect("the operating system provides random bytes");
            // All but about one in 2^32 of 32-byte strings are valid scalars.
            if p256::SecretKey::from_slice(&bytes).is_ok() {
                return SecretString::from(URL_SAFE_NO_PAD.encode(bytes));
            }
        }
    }

    /// The public key, base64url (the browser's `applicationServerKey`).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// `Authorization` for a message to `endpoint` sent at `now`.
    pub fn authorization(&self, endpoint: &url::Url, now: DateTime<Utc>) -> Result<String, VapidError> {
        let audience = endpoint.origin().ascii_serialization();
        let claims = Claims {
            aud: &audience,
            exp: (now + chrono::Duration::hours(TOKEN_HOURS)).timestamp(),
            sub: &self.subject,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &self.signing)
            .map_err(|e| VapidError::Sign(e.to_string()))?;
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_reads_back_and_signs_for_the_origin() {
        let private = VapidKeys::generate();
        let keys = VapidKeys::new(&private, "mailto:ops@example.com").expect("keys");
        assert_eq!(URL_SAFE_NO_PAD.decode(keys.public_key()).expect("base64url").len(), 65);
        let endpoint = url::Url::parse("https://push.example.net:8443/send/abc").expect("url");
        let header = keys.authorization(&endpoint, Utc::now()).expect("signs");
        let token = header.strip_prefix("vapid t=").and_then(|rest| rest.split(", k=").next()).expect("t=");
        let key = jsonwebtoken::DecodingKey::from_ec_components(
            &URL_SAFE_NO_PAD.encode(&URL_SAFE_NO_PAD.decode(keys.public_key()).expect("b64")[1..33]),
            &URL_SAFE_NO_PAD.encode(&URL_SAFE_NO_PAD.decode(keys.public_key()).expect("b64")[33..]),
        )
        .expect("public key");
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://push.example.net:8443"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).expect("verifies");
        assert_eq!(claims.claims["sub"], "mailto:ops@example.com");
        assert!(header.ends_with(&format!(", k={}", keys.public_key())));
    }

    #[test]
    fn bad_keys_and_subjects_are_refused_and_debug_hides_the_key() {
        let bad = SecretString::from("not-a-key".to_owned());
        assert!(matches!(VapidKeys::new(&bad, "mailto:a@b"), Err(VapidError::Key)));
        let zero = SecretString::from(URL_SAFE_NO_PAD.encode([0u8; 32]));
        assert!(matches!(VapidKeys::new(&zero, "mailto:a@b"), Err(VapidError::Key)));
        let private = VapidKeys::generate();
        assert!(matches!(VapidKeys::new(&private, "ops@example.com"), Err(VapidError::Subject(_))));
        let config = PushConfig { vapid_private_key: Some(private.clone()), vapid_subject: None };
        assert!(!format!("{config:?}").contains(private.expose_secret()));
        let keys = VapidKeys::from_config(&config, "https://todo.example.com/").expect("keys").expect("on");
        assert_eq!(keys.subject, "https://todo.example.com");
        assert!(!format!("{keys:?}").contains(private.expose_secret()));
    }
}
