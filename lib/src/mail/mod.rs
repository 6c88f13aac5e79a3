//! Mail: reminders to the users who want them by e-mail, and the confirmation
//! of an address, rendered when queued (one row per event and recipient in
//! `mail_deliveries`) and sent by `cron-tick` through SMTP
//! ([`Mailer`], `crate::sender::mail`), or kept and shown on the local host
//! when `SMTP_URL` is unset.
//!
//! Links in a mail act without a sign-in, each for one purpose ([`links`]):
//! confirming the address, and unsubscribing in one click (RFC 8058).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod config;
pub mod links;
mod render;
pub mod smtp;

pub use config::MailConfig;
pub use links::{LinkPurpose, MailLink};
pub use render::{escape, local_time};
pub use smtp::Mailer;

/// What is sent, fixed when it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`), for notices; a
    /// confirmation has none.
    pub unsubscribe_url: Option<String>,
}

/// A mail to queue: to `address` for `user_id` about `event_id` (a `task.due`
/// event, or `confirm.<link id>`), with the links it carries.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub id: Uuid,
    pub event_id: String,
    pub user_id: String,
    pub address: String,
    pub message: Message,
    /// Stored only if the mail is queued (not for a redelivered event).
    pub links: Vec<MailLink>,
    /// Not sent before this (quiet hours).
    pub not_before: DateTime<Utc>,
}

/// A claimed mail, to send.
#[derive(Debug, Clone)]
pub struct OwedMail {
    pub id: Uuid,
    pub event_id: String,
    pub user_id: String,
    pub address: String,
    pub message: Message,
    pub attempts: i32,
}

/// A mail as `GET /functions/outbox-mail` shows it on the local host.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedMail {
    pub id: Uuid,
    pub event_id: String,
    pub address: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe_url: Option<String>,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The task a reminder mail is about, as the event had it.
#[derive(Debug, Clone)]
pub struct Reminder<'a> {
    pub event_id: &'a str,
    pub task_id: Uuid,
    pub title: &'a str,
    pub due_at: Option<DateTime<Utc>>,
    pub time_zone: Tz,
}

impl NewMail {
    /// The reminder mail to `address`, with fresh snooze, completion and
    /// unsubscribe links, held until `not_before`.
    pub fn reminder(
        config: &MailConfig,
        user_id: &str,
        address: &str,
        reminder: &Reminder<'_>,
        now: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> Self {
        let (unsubscribe, token) = MailLink::new(LinkPurpose::Unsubscribe, user_id, None, now);
        let unsubscribe_url = config.link("mail/unsubscribe", &token);
        let (snooze, token) =
            MailLink::for_task(LinkPurpose::Snooze, user_id, None, Some(reminder.task_id), now);
        let snooze_url = config.link("mail/snooze", &token);
        let (complete, token) =
            MailLink::for_task(LinkPurpose::Complete, user_id, None, Some(reminder.task_id), now);
        let complete_url = config.link("mail/complete", &token);
        let task_url = format!("{}/?task={}", config.public_url(), reminder.task_id);
        let links = render::Links {
            task: &task_url,
            snooze: &snooze_url,
            complete: &complete_url,
            unsubscribe: &unsubscribe_url,
        };
        let message = render::reminder(reminder, &links);
        Self {
            id: Uuid::now_v7(),
            event_id: reminder.event_id.to_owned(),
            user_id: user_id.to_owned(),
            address: address.to_owned(),
            message,
            links: vec![unsubscribe, snooze, complete],
            not_before,
        }
    }

    /// The mail asking the user to confirm `address`, sent at once.
    pub fn confirmation(config: &MailConfig, user_id: &str, address: &str, now: DateTime<Utc>) -> Self {
        let (link, token) = MailLink::new(LinkPurpose::Confirm, user_id, Some(address), now);
        let url = config.link("mail/confirm", &token);
        Self {
            id: Uuid::now_v7(),
            event_id: format!("confirm.{}", Uuid::now_v7()),
            user_id: user_id.to_owned(),
            address: address.to_owned(),
            message: render::confirmation(address, &url),
            links: vec![link],
            not_before: now,
        }
    }
}
