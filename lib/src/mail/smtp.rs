//! Sending a queued mail: over SMTP with `lettre` (implicit TLS for
//! `smtps://`, STARTTLS for `smtp://…?tls=required`), or, without `SMTP_URL`,
//! keeping it in the queue for the local host's `GET /functions/outbox-mail`.
//!
//! A 2xx reply is delivered; a 5xx reply is failed for good (the server
//! refuses it: retrying will not help); a 4xx reply, a timeout or a lost
//! connection is retried with backoff. Each mail's `Message-ID` is derived from
//! its event and recipient, so a resend (after a lost reply) is recognisable.

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use super::{MailConfig, OwedMail};
use crate::webhook::{Attempt, DeliveryStatus};

/// Longest wait for the SMTP server at each step; a slower one is retried later.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the mail settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(
        "SMTP_URL is not usable: {0} (expected smtps://user:pass@host:465 or smtp://user:pass@host:587?tls=required)"
    )]
    Url(String),
    #[error("MAIL_FROM is not a mailbox (`Todo <todo@example.com>`): {0}")]
    From(String),
    #[error("SMTP_CA_CERT cannot be read as a PEM certificate: {0}")]
    Ca(String),
}

/// How mail leaves this process. Its `Debug` names the server, never the credentials.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// `host:port`, for logs.
    server: String,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("server", &self.server).field("from", &self.from.email).finish()
    }
}

impl Default for Mailer {
    /// One that keeps mail, from the default `MAIL_FROM`.
    fn default() -> Self {
        Self::from_config(&MailConfig::default())
            .unwrap_or_else(|_| unreachable!("the default sender is a mailbox"))
    }
}

impl Mailer {
    /// The mailer `config` describes: SMTP when `SMTP_URL` is set, else one
    /// that keeps mail in the queue.
    pub fn from_config(config: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = config.mail_from.parse().map_err(|e| MailError::From(format!("{e}")))?;
        let Some(url) = &config.smtp_url else {
            return Ok(Self { transport: None, server: "kept (SMTP_URL is unset)".to_owned(), from });
        };
        let url = url.expose_secret();
        // Only the parts that carry no credentials go into errors and logs.
        let parsed = url::Url::parse(url).map_err(|e| MailError::Url(e.to_string()))?;
        let host = parsed.host_str().ok_or_else(|| MailError::Url("it names no host".into()))?.to_owned();
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| MailError::Url(e.to_string()))?;
        if let Some(path) = &config.smtp_ca_cert {
            let pem = std::fs::read(path).map_err(|e| MailError::Ca(format!("{}: {e}", path.display())))?;
            let ca = Certificate::from_pem(&pem).map_err(|e| MailError::Ca(e.to_string()))?;
            let tls = TlsParameters::builder(host.clone())
                .add_root_certificate(ca)
                .build_rustls()
                .map_err(|e| MailError::Ca(e.to_string()))?;
            let starttls = parsed.query_pairs().any(|(k, v)| k == "tls" && v == "required");
            builder = match parsed.scheme() {
                "smtps" => builder.tls(Tls::Wrapper(tls)),
                _ if starttls => builder.tls(Tls::Required(tls)),
                _ => {
                    return Err(MailError::Ca("it applies to smtps:// or smtp://…?tls=required only".into()));
                }
            };
        }
        let transport = builder.timeout(Some(SMTP_TIMEOUT)).build();
        let server =
            format!("{host}:{}", parsed.port().map_or_else(|| "default".to_owned(), |p| p.to_string()));
        Ok(Self { transport: Some(transport), server, from })
    }

    /// Whether it keeps mail rather than sending it.
    pub fn keeps(&self) -> bool {
        self.transport.is_none()
    }

    /// Sends `mail` once; kept mail counts as delivered.
    pub async fn send(&self, mail: &OwedMail) -> Attempt {
        let Some(transport) = &self.transport else {
            return Attempt::sent(DeliveryStatus::Delivered, None, None);
        };
        let message = match self.message(mail) {
            Ok(message) => message,
            Err(error) => return Attempt::sent(DeliveryStatus::Failed, None, Some(error)),
        };
        match transport.send(message).await {
            Ok(response) => Attempt::sent(DeliveryStatus::Delivered, Some(u16::from(response.code())), None),
            Err(err) => {
                let code = err.status().map(u16::from);
                let status =
                    if err.is_permanent() { DeliveryStatus::Failed } else { DeliveryStatus::Pending };
                let error = crate::telemetry::Chain(&err).to_string();
                tracing::info!(mail_id = %mail.id, server = %self.server, %error, ?code, "a mail was not accepted");
                Attempt::sent(status, code, Some(error))
            }
        }
    }

    /// The message `mail` is sent as: text and HTML alternatives, the
    /// event's `Message-ID`, and for a notice RFC 8058's one-click unsubscribe.
    pub fn message(&self, mail: &OwedMail) -> Result<lettre::Message, String> {
        let to: Mailbox = mail.address.parse().map_err(|e| format!("the address is not usable: {e}"))?;
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.message.subject.clone())
            .message_id(Some(message_id(&mail.event_id, &mail.user_id, self.from.email.domain())))
            .header(AutoSubmitted);
        if let Some(url) = &mail.message.unsubscribe_url {
            builder = builder.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                mail.message.text.clone(),
                mail.message.html.clone(),
            ))
            .map_err(|e| format!("the message cannot be built: {e}"))
    }
}

/// `<event.recipient@domain>`: the same for every attempt at one mail, so a
/// mail sent twice (a reply lost after the server took it) reads as one.
pub fn message_id(event_id: &str, user_id: &str, domain: &str) -> String {
    let recipient: String =
        Sha256::digest(user_id.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("<{event_id}.{recipient}@{domain}>")
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim_start_matches('<').trim_end_matches('>').to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no vacation replies to reminders.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Message;

    fn config(url: Option<&str>) -> MailConfig {
        MailConfig { smtp_url: url.map(|u| u.to_owned().into()), ..MailConfig::default() }
    }

    #[test]
    fn the_password_stays_out_of_debug_and_errors() {
        let mailer =
            Mailer::from_config(&config(Some("smtps://ada:s3cret-pw@mail.example:465"))).expect("valid");
        assert!(!format!("{mailer:?}").contains("s3cret-pw"));
        assert!(!mailer.keeps());
        let err =
            Mailer::from_config(&config(Some("ftp://ada:s3cret-pw@mail.example"))).expect_err("invalid");
        assert!(!err.to_string().contains("s3cret-pw"), "{err}");
        assert!(Mailer::from_config(&config(None)).expect("keeps").keeps());
    }

    #[test]
    fn a_notice_carries_one_click_unsubscribe_and_a_stable_message_id() {
        let mailer = Mailer::from_config(&config(None)).expect("keeps");
        let mail = OwedMail {
            id: uuid::Uuid::nil(),
            event_id: "0190f0e0-0000-7000-8000-000000000001".into(),
            user_id: "ada".into(),
            address: "ada@example.com".into(),
            message: Message {
                subject: "Reminder: rent".into(),
                text: "text".into(),
                html: "<p>html</p>".into(),
                unsubscribe_url: Some("https://todo.example/mail/unsubscribe?token=t".into()),
            },
            attempts: 0,
        };
        let formatted = String::from_utf8(mailer.message(&mail).expect("builds").formatted()).expect("ascii");
        assert!(formatted.contains("List-Unsubscribe: <https://todo.example/mail/unsubscribe?token=t>"));
        assert!(formatted.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(
            formatted.contains(&format!("Message-ID: {}", message_id(&mail.event_id, "ada", "localhost")))
        );
        assert!(formatted.contains("multipart/alternative"));
    }
}
