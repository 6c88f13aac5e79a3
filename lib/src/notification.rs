//! In-app notifications: the reminder as the user sees it in the app.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::event::TaskEventData;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: String,
    pub task_id: Uuid,
    /// The `task.due` event that caused it.
    pub event_id: String,
    /// The task's title when the reminder fired.
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub reminder_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the user marked it read; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    /// The notification to `recipient` of the reminder in a `task.due` event,
    /// created at `now`.
    pub fn reminder(event_id: &str, data: &TaskEventData, recipient: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            user_id: recipient.to_owned(),
            task_id: data.task.id,
            event_id: event_id.to_owned(),
            title: data.task.title.clone(),
            due_at: data.task.due_at,
            reminder_at: data.reminder_at,
            created_at: now.trunc_subsecs(6),
            read_at: None,
        }
    }
}
