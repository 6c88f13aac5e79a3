//! Web Push: reminders shown by the browser's notifications, even with no tab
//! open. A browser subscribes with its push service and hands us where to
//! send (RFC 8030's endpoint) and its keys ([`Subscription`]); `task-due`
//! queues one [`Notice`] per reminder for each of its recipient's
//! subscriptions (`push_deliveries`, held through quiet hours), and `cron-tick`
//! sends them ([`Pusher`], `crate::sender::push`), each encrypted for its
//! browser (RFC 8291) and signed with the server's key (VAPID, RFC 8292,
//! [`VapidKeys`]).
//!
//! The web app's service worker (`web/sw.js`) shows the notice with its two
//! actions, which act without a sign-in through links like a mail's (a token
//! each, for one task, `crate::mail::links`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::mail::{LinkPurpose, MailLink, Reminder};

mod send;
mod subscription;
mod vapid;

pub use send::{Pusher, gone};
pub use subscription::{Subscription, SubscriptionInput};
pub use vapid::{PushConfig, VapidError, VapidKeys};

/// A title longer than this is cut (with `…`): a push message carries at most
/// 4 KiB once encrypted.
const TITLE_CHARS: usize = 300;

/// What a notification shows and does, as the service worker reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The task's title.
    pub title: String,
    /// `Due Tue 8 Dec 2026, 15:00 (Europe/Berlin)`.
    pub body: String,
    /// The task's id: a later notice of the task replaces this one.
    pub tag: String,
    /// Where a click on the notification opens the app (a path).
    pub url: String,
    pub actions: Actions,
}

/// The notice's buttons: paths, with their one-task tokens, that the service
/// worker `POST`s to (`/mail/complete`, `/mail/snooze` with `minutes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub complete: String,
    pub snooze: String,
}

/// A notice to queue for every subscription of `user_id`.
#[derive(Debug, Clone)]
pub struct NewPush {
    /// The `task.due` event it tells of.
    pub event_id: String,
    pub user_id: String,
    pub notice: Notice,
    /// Stored only if the notice is queued for some subscription.
    pub links: Vec<MailLink>,
    /// Not sent before this (quiet hours).
    pub not_before: DateTime<Utc>,
}

/// A claimed push message, to send.
#[derive(Debug, Clone)]
pub struct OwedPush {
    pub id: Uuid,
    pub event_id: String,
    pub user_id: String,
    pub subscription: Subscription,
    /// The notice, as JSON.
    pub payload: String,
    pub attempts: i32,
}

impl NewPush {
    /// The reminder's notice for `user_id`, with fresh complete and snooze
    /// links, held until `not_before`.
    pub fn reminder(
        user_id: &str,
        reminder: &Reminder<'_>,
        now: DateTime<Utc>,
        not_before: DateTime<Utc>,
    ) -> Self {
        let task = Some(reminder.task_id);
        let (complete, complete_token) = MailLink::for_task(LinkPurpose::Complete, user_id, None, task, now);
        let (snooze, snooze_token) = MailLink::for_task(LinkPurpose::Snooze, user_id, None, task, now);
        let path = |page: &str, token: &secrecy::SecretString| {
            format!("/mail/{page}?token={}", secrecy::ExposeSecret::expose_secret(token))
        };
        let body = reminder
            .due_at
            .map(|at| format!("Due {}", crate::mail::local_time(at, reminder.time_zone)))
            .unwrap_or_else(|| "Reminder".to_owned());
        let notice = Notice {
            title: cut(reminder.title, TITLE_CHARS),
            body,
            tag: reminder.task_id.to_string(),
            url: format!("/?task={}", reminder.task_id),
            actions: Actions {
                complete: path("complete", &complete_token),
                snooze: path("snooze", &snooze_token),
            },
        };
        Self {
            event_id: reminder.event_id.to_owned(),
            user_id: user_id.to_owned(),
            notice,
            links: vec![complete, snooze],
            not_before,
        }
    }
}

/// `text` in at most `max` characters, the last an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_names_the_task_its_due_time_and_one_task_links() {
        let now = Utc::now();
        let task_id = Uuid::now_v7();
        let due = chrono::DateTime::parse_from_rfc3339("2026-12-08T14:00:00Z").expect("time").to_utc();
        let reminder = Reminder {
            event_id: "ev-1",
            task_id,
            title: &"x".repeat(400),
            due_at: Some(due),
            time_zone: chrono_tz::Europe::Berlin,
        };
        let push = NewPush::reminder("alice", &reminder, now, now);
        assert_eq!(push.notice.title.chars().count(), TITLE_CHARS);
        assert!(push.notice.title.ends_with('…'));
        assert_eq!(push.notice.body, "Due Tue 8 Dec 2026, 15:00 (Europe/Berlin)");
        assert_eq!(push.notice.tag, task_id.to_string());
        assert!(push.notice.actions.complete.starts_with("/mail/complete?token=todo_done_"));
        assert!(push.notice.actions.snooze.starts_with("/mail/snooze?token=todo_snooze_"));
        let purposes: Vec<_> = push.links.iter().map(|l| (l.purpose, l.task_id)).collect();
        assert_eq!(purposes, [(LinkPurpose::Complete, Some(task_id)), (LinkPurpose::Snooze, Some(task_id))]);
    }
}
