//! `task-due`: reacts to `task.due` by delivering the reminder to the task's
//! assignee (unassigned, to its creator) on the channels their settings name
//! (`todo_lib::settings`): as an in-app notification, once per event; as a
//! mail to their confirmed address, queued once per event and held through
//! their quiet hours (`cron-tick` sends it); as a push notice to each browser
//! they turned push on in, queued once per event and browser, held the same
//! way; and by queueing the event for the
//! webhooks of every member of the task's list (once per webhook; members who
//! turned reminders to webhooks off are left out; `cron-tick` sends them,
//! signed). The one reminded
//! must still be a member of the list: an assignee who left hands the reminder
//! to the creator, and when neither is a member nobody is reminded. A reminder
//! whose task was completed, deleted or moved since it was claimed (its stored
//! reminder time is no longer the event's) is skipped: it would only be noise
//! (a moved one is claimed again for its new time). The event is the one
//! `cron-tick` stored (see `todo_lib::function`), so its reminder time is
//! always present.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::json;
use todo_lib::event::{EventType, TaskEventData};
use todo_lib::function::{Delivery, EventHandler, HandleError, Handled, Recorded, Verdicts};
use todo_lib::mail::{MailConfig, NewMail, Reminder};
use todo_lib::notification::Notification;
use todo_lib::push::NewPush;
use todo_lib::serve::{BoxError, Context};
use todo_lib::settings::Settings;
use todo_lib::store::{Store, StoreError};
use todo_lib::task::Task;
use uuid::Uuid;

/// The function's name: its Dapr app id and consumer id.
pub const NAME: &str = "task-due";

/// The event types it handles.
pub const ACCEPTS: &[EventType] = &[EventType::Due];

#[derive(Debug)]
pub struct TaskDue {
    store: Store,
    /// Where links in mails point.
    links: MailConfig,
}

/// Whom each reminder of `batch` is for: the assignee named in the event, else
/// the creator, whichever first still sees the task (it is in a list they are
/// a member of); with the task as it is now (`None` when neither does). One
/// read for the batch.
async fn recipients<'a>(
    store: &Store,
    batch: &'a [&'a TaskEventData],
) -> Result<Vec<(&'a str, Option<Task>)>, StoreError> {
    let candidates = |data: &'a TaskEventData| {
        data.task.assignee_id.iter().map(String::as_str).chain(std::iter::once(data.user_id.as_str()))
    };
    let asks: Vec<(&str, Uuid)> =
        batch.iter().flat_map(|data| candidates(data).map(|user| (user, data.task.id))).collect();
    let mut seen = store.tasks_seen(&asks).await?.into_iter();
    Ok(batch
        .iter()
        .map(|data| {
            let mut chosen = None;
            for (candidate, task) in candidates(data).zip(seen.by_ref()) {
                if chosen.is_none()
                    && let Some(task) = task
                {
                    chosen = Some((candidate, Some(task)));
                }
            }
            chosen.unwrap_or((data.user_id.as_str(), None))
        })
        .collect())
}

/// Why a reminder is not sent, if it is not.
fn skipped(data: &TaskEventData, current: Option<&Task>) -> Option<&'static str> {
    match current {
        None => Some("the task was deleted, or neither its assignee nor its creator is in its list"),
        Some(task) if task.completed => Some("the task was completed"),
        Some(task) if task.remind_at != data.reminder_at => Some("the reminder was moved"),
        Some(_) => None,
    }
}

#[async_trait]
impl EventHandler for TaskDue {
    fn name(&self) -> &'static str {
        NAME
    }

    fn accepts(&self) -> &'static [EventType] {
        ACCEPTS
    }

    async fn handle(&self, batch: &[Delivery]) -> Result<Verdicts, HandleError> {
        let data: Vec<&TaskEventData> = batch.iter().map(Delivery::task).collect::<Result<_, _>>()?;
        let recipients = recipients(&self.store, &data).await?;
        let users: Vec<&str> = recipients.iter().map(|(user, _)| *user).collect();
        let settings = self.store.settings_of(&users).await?;
        let now = chrono::Utc::now();
        let mut verdicts: Vec<Option<Result<Handled, HandleError>>> = Vec::with_capacity(batch.len());
        let (mut due, mut notifications, mut mails, mut pushes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((delivery, data), (recipient, current)) in batch.iter().zip(&data).zip(&recipients) {
            if let Some(reason) = skipped(data, current.as_ref()) {
                verdicts.push(Some(Ok(Handled::Done(json!({ "skipped": reason })))));
                continue;
            }
            let wants = settings.get(*recipient).map_or_else(|| Settings::defaults(recipient), Clone::clone);
            verdicts.push(None);
            let notification = Notification::reminder(&delivery.id, data, recipient, now);
            let mail = self.mail(&wants, &delivery.id, data, now);
            let push = push(&wants, &delivery.id, data, now);
            due.push((
                delivery,
                notification.id,
                mail.as_ref().map(|m| m.id),
                push.is_some().then_some(pushes.len()),
            ));
            if wants.channels.reminders.in_app {
                notifications.push(notification);
            }
            mails.extend(mail);
            pushes.extend(push);
        }
        let written = self.store.record_notifications_once(NAME, &notifications, now).await?;
        let written: std::collections::HashMap<&str, bool> =
            notifications.iter().map(|n| n.event_id.as_str()).zip(written).collect();
        let mailed = self.store.queue_mails(&mails, now).await?;
        let pushed = self.store.queue_pushes(&pushes, now).await?;
        let mut recorded = Vec::with_capacity(due.len());
        for (delivery, notification_id, mail_id, push) in due {
            let shown = written.get(delivery.id.as_str()).copied();
            if shown == Some(true)
                && let Some(reminder_at) = delivery.task().ok().and_then(|d| d.reminder_at)
            {
                todo_lib::metrics::record_reminder_lateness((now - reminder_at).as_seconds_f64());
            }
            let queued = mail_id.is_some_and(|id| mailed.contains(&id));
            let pushed = push.and_then(|i| pushed.get(i).copied()).unwrap_or(0);
            let summary = json!({
                "notification_id": shown.map(|_| notification_id),
                "mail_id": mail_id,
                "pushed": pushed,
            });
            recorded.push(Recorded {
                delivery,
                recorded: shown == Some(true) || queued || pushed > 0,
                summary,
            });
        }
        let mut answered = todo_lib::function::queue_and_answer(&self.store, recorded).await?.into_iter();
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or_else(|| answered.next().unwrap_or(Ok(Handled::Duplicate))))
            .collect())
    }
}

impl TaskDue {
    /// The reminder mail `wants` asks for, if any: to their confirmed
    /// address, held through their quiet hours.
    fn mail(
        &self,
        wants: &Settings,
        event_id: &str,
        data: &TaskEventData,
        now: DateTime<Utc>,
    ) -> Option<NewMail> {
        let address = wants.verified_email().filter(|_| wants.channels.reminders.email)?;
        let reminder = reminder(wants, event_id, data);
        Some(NewMail::reminder(&self.links, &wants.user_id, address, &reminder, now, wants.release_at(now)))
    }
}

/// The push notice `wants` asks for, if any: for each browser they turned
/// push on in (the store finds them), held through their quiet hours.
fn push(wants: &Settings, event_id: &str, data: &TaskEventData, now: DateTime<Utc>) -> Option<NewPush> {
    if !wants.channels.reminders.push {
        return None;
    }
    Some(NewPush::reminder(&wants.user_id, &reminder(wants, event_id, data), now, wants.release_at(now)))
}

/// What a mail or a push notice tells of the reminder `data` carries, in the
/// recipient's zone.
fn reminder<'a>(wants: &Settings, event_id: &'a str, data: &'a TaskEventData) -> Reminder<'a> {
    Reminder {
        event_id,
        task_id: data.task.id,
        title: &data.task.title,
        due_at: data.task.due_at,
        time_zone: wants.time_zone,
    }
}

/// The function's router over `store`, with links in mails to the default
/// `PUBLIC_URL`.
pub fn app(store: Store, app_token: Option<secrecy::SecretString>) -> Router {
    app_with_links(store, app_token, MailConfig::default())
}

/// The function's router over `store`, with links in mails as `links` says.
pub fn app_with_links(store: Store, app_token: Option<secrecy::SecretString>, links: MailConfig) -> Router {
    let handler = Arc::new(TaskDue { store: store.clone(), links });
    todo_lib::function::router(handler, store, app_token)
}

/// Builds the function from the process's configuration; what `main` passes to `serve`.
pub async fn build(ctx: Context) -> Result<Router, BoxError> {
    let token = ctx.event_route_token()?;
    let links: MailConfig = todo_lib::config::from_iter(ctx.vars.clone())?;
    Ok(app_with_links(ctx.store, token, links))
}
