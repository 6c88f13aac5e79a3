//! The activity history: one entry per thing that happened to a task, written by
//! the event functions, read by the API. An entry belongs to the list its task
//! was in when it happened, and every member of that list sees it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::event::{EventType, TaskEventData};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: String,
    pub task_id: Uuid,
    /// The list the task was in when it happened.
    pub list_id: Uuid,
    /// The event type that caused it, e.g. `task.created`.
    pub kind: String,
    /// The causing event's id.
    pub event_id: String,
    /// A short description for people, e.g. the task's title at the time.
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
}

impl Activity {
    /// The entry for a task event that happened at `at`.
    pub fn of_event(ty: EventType, event_id: &str, data: &TaskEventData, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            user_id: data.user_id.clone(),
            task_id: data.task.id,
            list_id: data.task.list_id,
            kind: ty.as_str().to_owned(),
            event_id: event_id.to_owned(),
            summary: data.task.title.clone(),
            occurred_at: chrono::SubsecRound::trunc_subsecs(at, 6),
        }
    }
}
