//! The words of each mail, as plain text and as HTML (the same words; every
//! user-written string escaped).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Message, Reminder};

/// `Tue 8 Dec 2026, 15:00 (Europe/Berlin)`: in the user's zone, named.
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    format!("{} ({})", at.with_timezone(&zone).format("%a %-d %b %Y, %H:%M"), zone.name())
}

/// The links a reminder carries.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    pub task: &'a str,
    pub snooze: &'a str,
    pub complete: &'a str,
    pub unsubscribe: &'a str,
}

pub fn reminder(reminder: &Reminder<'_>, links: &Links<'_>) -> Message {
    let Links { task: task_url, snooze: snooze_url, complete: complete_url, unsubscribe: unsubscribe_url } =
        *links;
    let title = reminder.title;
    let due = reminder.due_at.map(|at| local_time(at, reminder.time_zone));
    let due_line = due.as_deref().map(|d| format!("Due {d}")).unwrap_or_else(|| "No due time".to_owned());
    let text = format!(
        "Reminder: {title}\n{due_line}\n\nOpen the task: {task_url}\nSnooze it: {snooze_url}\n\
         Mark it done: {complete_url}\n\n--\n\
         You get this because reminders by e-mail are on in your settings.\n\
         Stop these e-mails: {unsubscribe_url}\n"
    );
    let html = page(&format!(
        "<h1 style=\"font-size:20px;margin:0 0 8px\">{}</h1>\n<p style=\"margin:0 0 16px;color:#444\">{}</p>\n\
         <p><a href=\"{}\" style=\"background:#2563eb;color:#fff;padding:10px 16px;border-radius:6px;\
         text-decoration:none\">Open the task</a> &nbsp; <a href=\"{}\">Snooze</a> &nbsp; \
         <a href=\"{}\">Mark it done</a></p>\n\
         <p style=\"font-size:12px;color:#666;margin-top:32px\">You get this because reminders by e-mail are on \
         in your settings. <a href=\"{}\">Stop these e-mails</a>.</p>",
        escape(title),
        escape(&due_line),
        escape(task_url),
        escape(snooze_url),
        escape(complete_url),
        escape(unsubscribe_url),
    ));
    Message {
        subject: format!("Reminder: {}", one_line(title)),
        text,
        html,
        unsubscribe_url: Some(unsubscribe_url.to_owned()),
    }
}

pub fn confirmation(address: &str, url: &str) -> Message {
    let text = format!(
        "Confirm your e-mail address\n\nSomeone (we hope you) asked for Todo's reminders to go to {address}.\n\
         Confirm it here, within two days: {url}\n\nIf it was not you, ignore this mail: nothing else will be sent.\n"
    );
    let html = page(&format!(
        "<h1 style=\"font-size:20px;margin:0 0 8px\">Confirm your e-mail address</h1>\n\
         <p>Someone (we hope you) asked for Todo's reminders to go to <strong>{}</strong>.</p>\n\
         <p><a href=\"{}\" style=\"background:#2563eb;color:#fff;padding:10px 16px;border-radius:6px;\
         text-decoration:none\">Confirm this address</a></p>\n\
         <p style=\"font-size:12px;color:#666\">The link works for two days. If it was not you, ignore this \
         mail: nothing else will be sent.</p>",
        escape(address),
        escape(url),
    ));
    Message { subject: "Confirm your e-mail address for Todo".to_owned(), text, html, unsubscribe_url: None }
}

fn page(body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family:system-ui,sans-serif;max-width:560px;margin:24px auto;padding:0 16px\">\n{body}\n</body></html>\n"
    )
}

/// A subject stays one line, whatever the title holds.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_names_its_task_in_the_users_zone_and_escapes_it() {
        let reminder = Reminder {
            event_id: "e",
            task_id: uuid::Uuid::nil(),
            title: "Pay <b>rent</b> & \"fees\"\nnow",
            due_at: Some("2026-12-08T14:00:00Z".parse().expect("instant")),
            time_zone: "Europe/Berlin".parse().expect("zone"),
        };
        let links = Links {
            task: "https://todo.example/?task=1",
            snooze: "https://todo.example/s?t=y",
            complete: "https://todo.example/c?t=z",
            unsubscribe: "https://todo.example/u?t=x",
        };
        let message = super::reminder(&reminder, &links);
        assert!(message.text.contains("Snooze it: https://todo.example/s?t=y"));
        assert!(message.html.contains("href=\"https://todo.example/s?t=y\""));
        assert!(message.text.contains("Mark it done: https://todo.example/c?t=z"));
        assert!(message.html.contains("href=\"https://todo.example/c?t=z\""));
        assert_eq!(message.subject, "Reminder: Pay <b>rent</b> & \"fees\" now");
        assert!(message.text.contains("Due Tue 8 Dec 2026, 15:00 (Europe/Berlin)"));
        assert!(message.html.contains("Pay &lt;b&gt;rent&lt;/b&gt; &amp; &quot;fees&quot;"));
        assert!(!message.html.contains("<b>rent"));
        assert_eq!(message.unsubscribe_url.as_deref(), Some("https://todo.example/u?t=x"));
    }
}
