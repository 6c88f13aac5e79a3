//! The activity history: one entry per thing that happened to a task or to a
//! list's members, written by the event functions, read by the API. An entry
//! belongs to the list its task was in when it happened (or whose members
//! changed), and every member of that list sees it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::event::{EventData, EventType, MemberEventData, TaskEventData};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Activity {
    pub id: Uuid,
    #[serde(skip)]
    pub user_id: String,
    /// The task it happened to; `null` for a membership change.
    pub task_id: Option<Uuid>,
    /// The list the task was in when it happened, or whose members changed.
    pub list_id: Uuid,
    /// The event type that caused it, e.g. `task.created`.
    pub kind: String,
    /// The causing event's id.
    pub event_id: String,
    /// A short description for people: the task's title at the time, or who
    /// joined or left as what.
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
}

impl Activity {
    /// The entry for a task event that happened at `at`.
    pub fn of_event(ty: EventType, event_id: &str, data: &TaskEventData, at: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::now_v7(),
            user_id: data.user_id.clone(),
            task_id: Some(data.task.id),
            list_id: data.task.list_id,
            kind: ty.as_str().to_owned(),
            event_id: event_id.to_owned(),
            summary: data.task.title.clone(),
            occurred_at: chrono::SubsecRound::trunc_subsecs(at, 6),
        }
    }

    /// The entry for a membership event that happened at `at`, made by its actor.
    pub fn of_member_event(ty: EventType, event_id: &str, data: &MemberEventData, at: DateTime<Utc>) -> Self {
        let (who, role) = (&data.user_id, data.role.as_str());
        let summary = match ty {
            EventType::MemberAdded if data.actor_id == *who => format!("{who} joined as {role}"),
            EventType::MemberAdded => format!("{} added {who} as {role}", data.actor_id),
            _ if data.actor_id == *who => format!("{who} left"),
            _ => format!("{} removed {who}", data.actor_id),
        };
        Self {
            id: Uuid::now_v7(),
            user_id: data.actor_id.clone(),
            task_id: None,
            list_id: data.list_id,
            kind: ty.as_str().to_owned(),
            event_id: event_id.to_owned(),
            summary,
            occurred_at: chrono::SubsecRound::trunc_subsecs(at, 6),
        }
    }

    /// The entry for whichever event `data` belongs to.
    pub fn of_data(ty: EventType, event_id: &str, data: &EventData, at: DateTime<Utc>) -> Self {
        match data {
            EventData::Task(data) => Self::of_event(ty, event_id, data, at),
            EventData::Member(data) => Self::of_member_event(ty, event_id, data, at),
        }
    }
}
