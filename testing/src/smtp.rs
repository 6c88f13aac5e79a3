//! A real SMTP server for tests: `scripts/smtp-test-server.py` (aiosmtpd, from
//! the project's Python tools) on a loopback port, over TLS from a throwaway
//! CA, demanding AUTH; each mail it accepts is read by Python's own e-mail
//! parser. Recipients steer its answers (`tempfail…@`: one 451 per message,
//! `reject…@`: 550). Stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, ChildStdin};
use std::time::Duration;

use serde_json::Value;

/// How the server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (`smtps://`, port 465's way).
    Implicit,
    /// Plain, then `STARTTLS` before anything else (`smtp://…?tls=required`).
    StartTls,
}

#[derive(Debug)]
pub struct SmtpServer {
    pub port: u16,
    pub tls: SmtpTls,
    dir: PathBuf,
    child: Child,
    /// Closing it stops the server.
    _stdin: ChildStdin,
}

/// The user and password the server accepts.
pub const SMTP_USER: &str = "todo";
pub const SMTP_PASSWORD: &str = "s3cret-smtp-pw";

impl SmtpServer {
    pub fn start(tls: SmtpTls) -> Self {
        Self::start_on(tls, None)
    }

    /// The server on `port` (a free one when `None`), with a CA of its own.
    pub fn start_on(tls: SmtpTls, port: Option<u16>) -> Self {
        let dir = std::env::temp_dir().join(format!("todo-smtp-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a directory for the mail");
        let mode = match tls {
            SmtpTls::Implicit => "smtps",
            SmtpTls::StartTls => "starttls",
        };
        let port = port.map(|p| p.to_string());
        let mut args = vec![dir.as_os_str(), std::ffi::OsStr::new(mode)];
        args.extend(port.as_deref().map(std::ffi::OsStr::new));
        let (child, stdin, port) = crate::start_stand_in("smtp-test-server.py", &args);
        Self { port, tls, dir, child, _stdin: stdin }
    }

    /// `SMTP_URL` for it, with its credentials.
    pub fn url(&self) -> String {
        match self.tls {
            SmtpTls::Implicit => format!("smtps://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{}", self.port),
            SmtpTls::StartTls => {
                format!("smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{}?tls=required", self.port)
            }
        }
    }

    /// The PEM file of the CA its certificate comes from (`SMTP_CA_CERT`).
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The mails it accepted, in order: envelope, headers, text and HTML parts.
    pub fn received(&self) -> Vec<Value> {
        (1..)
            .map(|n| self.dir.join(format!("mail-{n}.json")))
            .map_while(|path| std::fs::read_to_string(path).ok())
            .map(|text| serde_json::from_str(&text).expect("the server writes JSON"))
            .collect()
    }

    /// Every DATA it was sent, accepted or not: `message_id`, `rcpt`, `answer`.
    pub fn attempts(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("attempts.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("the server writes JSON lines"))
            .collect()
    }

    /// Waits until at least `n` mails were accepted, or `within` passed.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        crate::at_least(n, within, || self.received()).await
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
