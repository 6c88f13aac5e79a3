//! The mail settings, read once from the environment: where links in mails
//! point (`PUBLIC_URL`), and how `cron-tick` sends (`SMTP_URL`, `MAIL_FROM`,
//! `SMTP_CA_CERT`).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Where the web app answers on the local host (`make dev`).
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Clone, Deserialize)]
pub struct MailConfig {
    /// `smtps://user:pass@host:465` (implicit TLS) or
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS). Unset, mails are
    /// kept in the queue and shown at `GET /functions/outbox-mail` (the local
    /// host) instead of sent. Hidden from `Debug`.
    pub smtp_url: Option<SecretString>,
    /// The sender, `Name <address>`.
    #[serde(default = "default_from")]
    pub mail_from: String,
    /// A PEM file of a certificate authority to trust for the SMTP server, as
    /// well as the web's (a private relay's own CA).
    pub smtp_ca_cert: Option<PathBuf>,
    /// The address users reach the web app and API at: links in mails start
    /// with it.
    #[serde(default = "default_public_url")]
    pub public_url: String,
}

fn default_from() -> String {
    "Todo <todo@localhost>".to_owned()
}

fn default_public_url() -> String {
    DEFAULT_PUBLIC_URL.to_owned()
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: default_from(),
            smtp_ca_cert: None,
            public_url: default_public_url(),
        }
    }
}

impl MailConfig {
    /// `PUBLIC_URL` without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// `PUBLIC_URL/path?token=…`.
    pub fn link(&self, path: &str, token: &SecretString) -> String {
        format!("{}/{path}?token={}", self.public_url(), token.expose_secret())
    }
}
