//! The facts the system emits, as CloudEvents 1.0, and the outbox row that carries
//! each one from the transaction that caused it to the broker.
//!
//! Contract (DESIGN.md, "Events"): `type` is one of [`EventType`]; `source` names the
//! producing function; `subject` is the task id (the list id for a membership
//! event); `id` is the outbox row id, stable across retries and republishes;
//! `data` is [`TaskEventData`] (or, for a membership change of a list,
//! [`MemberEventData`]), versioned by `dataschema` and its `version` field.

use chrono::{DateTime, Utc};
use cloudevents::{EventBuilder, EventBuilderV10};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::members::{Member, Role};
use crate::task::Task;

/// Identifies the shape of `data`; bump with [`DATA_VERSION`] on a breaking change.
/// Version 2 (issue #15): the task names its list (`task.list_id`).
pub const DATA_SCHEMA: &str = "urn:todo:events:task:v2";
pub const DATA_VERSION: u32 = 2;
/// The shape of a membership event's `data` ([`MemberEventData`]).
pub const MEMBER_DATA_SCHEMA: &str = "urn:todo:events:list-member:v1";
pub const MEMBER_DATA_VERSION: u32 = 1;
/// The first version whose task names its list; older events were written
/// before lists, when every task was in what became its owner's Inbox.
pub const LISTS_SINCE_VERSION: u32 = 2;

/// The event types, each published on its own topic so that KEDA's lag for a
/// function counts only its own work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Created,
    Updated,
    Completed,
    Deleted,
    Due,
    /// A user joined a list (added by an owner, or by accepting an invitation).
    MemberAdded,
    /// A user left a list, or an owner removed them.
    MemberRemoved,
}

impl EventType {
    pub const ALL: [Self; 7] = [
        Self::Created,
        Self::Updated,
        Self::Completed,
        Self::Deleted,
        Self::Due,
        Self::MemberAdded,
        Self::MemberRemoved,
    ];

    /// Whether the event is about a task (its data a [`TaskEventData`]) rather
    /// than about a list's members ([`MemberEventData`]).
    pub fn is_task(self) -> bool {
        !matches!(self, Self::MemberAdded | Self::MemberRemoved)
    }

    /// The CloudEvents `type` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "task.created",
            Self::Updated => "task.updated",
            Self::Completed => "task.completed",
            Self::Deleted => "task.deleted",
            Self::Due => "task.due",
            Self::MemberAdded => "list.member_added",
            Self::MemberRemoved => "list.member_removed",
        }
    }

    /// The Kafka topic (and Dapr pub/sub topic) the type is published on.
    pub fn topic(self) -> &'static str {
        match self {
            Self::Created => "task-created",
            Self::Updated => "task-updated",
            Self::Completed => "task-completed",
            Self::Deleted => "task-deleted",
            Self::Due => "task-due",
            Self::MemberAdded => "list-member-added",
            Self::MemberRemoved => "list-member-removed",
        }
    }

    pub fn parse(ty: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == ty)
    }
}

/// The `data` of every task event. Consumers must ignore fields they do not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskEventData {
    pub version: u32,
    /// The task's owner, whom consumers act for (webhooks, notifications).
    pub user_id: String,
    /// The task as it was after the change (for `task.deleted`, as it was last).
    pub task: Task,
    /// For `task.due`: the reminder time that fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_at: Option<DateTime<Utc>>,
    /// For a change that moved the task to another list: the list it left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<Uuid>,
}

/// The `data` of a membership event: who joined or left which list, as what,
/// and who did it. Consumers must ignore fields they do not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberEventData {
    pub version: u32,
    pub list_id: Uuid,
    /// The member who joined or left.
    pub user_id: String,
    /// Their role in the list (when they left: the role they had).
    pub role: Role,
    /// Who made the change: an owner, or the member themselves (accepting an
    /// invitation, leaving).
    pub actor_id: String,
}

/// The data of an event, by its kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    Task(Box<TaskEventData>),
    Member(MemberEventData),
}

impl EventData {
    /// The list whose members the event concerns.
    pub fn list_id(&self) -> Uuid {
        match self {
            Self::Task(data) => data.task.list_id,
            Self::Member(data) => data.list_id,
        }
    }
}

/// An event waiting in the outbox, written in the same transaction as its cause.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Also the CloudEvent `id`.
    pub id: Uuid,
    pub topic: String,
    /// The Kafka record key: the task id, so one task's events stay ordered.
    pub partition_key: String,
    /// The whole CloudEvent in structured JSON form, ready to publish.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// An event delivery gave up on (the local bus, after its retries or a
/// `DROP`), kept with its payload.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: Uuid,
    pub event_id: Uuid,
    pub topic: String,
    /// The function that refused it or kept failing.
    pub subscriber: String,
    pub reason: String,
    /// The CloudEvent as published.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The event could not be built; a bug, never the user's fault.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("building the CloudEvent failed: {0}")]
    Build(#[from] cloudevents::event::EventBuilderError),
    #[error("serializing the CloudEvent failed: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Builds the outbox row for a change of `task` made by `source` at `now`.
pub fn task_event(
    ty: EventType,
    task: &Task,
    source: &str,
    now: DateTime<Utc>,
    reminder_at: Option<DateTime<Utc>>,
) -> Result<OutboxEvent, EventError> {
    let data = TaskEventData {
        version: DATA_VERSION,
        user_id: task.user_id.clone(),
        task: task.clone(),
        reminder_at,
        moved_from: None,
    };
    outbox_event(ty, &task.id.to_string(), DATA_SCHEMA, serde_json::to_value(&data)?, source, now)
}

/// Builds the outbox row for `member` having joined (`list.member_added`) or
/// left (`list.member_removed`) their list by `actor`'s doing, written by
/// `source` at `now`; the list is its subject and its record key, so one
/// list's membership events stay ordered.
pub fn member_event(
    ty: EventType,
    member: &Member,
    actor: &str,
    source: &str,
    now: DateTime<Utc>,
) -> Result<OutboxEvent, EventError> {
    let data = MemberEventData {
        version: MEMBER_DATA_VERSION,
        list_id: member.list_id,
        user_id: member.user_id.clone(),
        role: member.role,
        actor_id: actor.to_owned(),
    };
    let subject = data.list_id.to_string();
    outbox_event(ty, &subject, MEMBER_DATA_SCHEMA, serde_json::to_value(&data)?, source, now)
}

fn outbox_event(
    ty: EventType,
    subject: &str,
    schema: &str,
    data: serde_json::Value,
    source: &str,
    now: DateTime<Utc>,
) -> Result<OutboxEvent, EventError> {
    let id = Uuid::now_v7();
    let event = EventBuilderV10::new()
        .id(id.to_string())
        .ty(ty.as_str())
        .source(source)
        .subject(subject)
        .time(now)
        // CloudEvents' Partitioning extension: brokers that key records on it
        // (Knative's Kafka broker) keep one task's (or list's) events in order,
        // as Dapr's `partitionKey` metadata does.
        .extension("partitionkey", subject)
        .data_with_schema("application/json", schema, data)
        .build()?;
    Ok(OutboxEvent {
        id,
        topic: ty.topic().to_owned(),
        partition_key: subject.to_owned(),
        payload: serde_json::to_value(&event)?,
        created_at: now,
    })
}

/// The envelope in which Dapr delivers `event` through pub/sub component
/// `pubsub`: our structured CloudEvent plus the attributes Dapr adds.
pub fn dapr_envelope(event: &OutboxEvent, pubsub: &str) -> serde_json::Value {
    let mut envelope = event.payload.clone();
    if let Some(fields) = envelope.as_object_mut() {
        fields.insert("pubsubname".into(), pubsub.into());
        fields.insert("topic".into(), event.topic.clone().into());
    }
    envelope
}

impl OutboxEvent {
    /// The list whose members see this event in their changes feed: the
    /// task's list, or the list a membership event is about. `None` for an
    /// event written before lists.
    pub fn list_id(&self) -> Option<Uuid> {
        let data = &self.payload["data"];
        let id = data["task"]["list_id"].as_str().or_else(|| data["list_id"].as_str())?;
        id.parse().ok()
    }

    /// For a task moved to another list by this change, the list it left: its
    /// members see the task leave in their changes feed.
    pub fn moved_from(&self) -> Option<Uuid> {
        self.payload["data"]["moved_from"].as_str()?.parse().ok()
    }

    /// Records that the change moved the task out of `list`.
    pub fn set_moved_from(&mut self, list: Uuid) {
        if let Some(data) = self.payload.get_mut("data").and_then(|d| d.as_object_mut()) {
            data.insert("moved_from".into(), list.to_string().into());
        }
    }

    /// For a membership event, the member who joined or left: they see it in
    /// their feed even when they are no longer a member.
    pub fn member_id(&self) -> Option<&str> {
        let ty = EventType::parse(self.payload["type"].as_str()?)?;
        if ty.is_task() { None } else { self.payload["data"]["user_id"].as_str() }
    }

    /// Sets the W3C `traceparent` extension, so the trace of the event that caused
    /// this one continues through it.
    pub fn set_traceparent(&mut self, traceparent: &str) {
        if let Some(fields) = self.payload.as_object_mut() {
            fields.insert("traceparent".into(), traceparent.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::NewTask;

    #[test]
    fn every_type_round_trips_through_its_name() {
        for ty in EventType::ALL {
            assert_eq!(EventType::parse(ty.as_str()), Some(ty));
            assert_eq!(ty.topic(), ty.as_str().replace(['.', '_'], "-"));
        }
        assert_eq!(EventType::parse("task.exploded"), None);
    }

    #[test]
    fn task_event_follows_the_contract() {
        let now = Utc::now();
        let input = NewTask { title: Some("t".into()), ..NewTask::default() };
        let task = Task::create("alice", Uuid::now_v7(), input, now).expect("valid");
        let row = task_event(EventType::Created, &task, "api", now, None).expect("builds");

        let ce = &row.payload;
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["type"], "task.created");
        assert_eq!(ce["source"], "api");
        assert_eq!(ce["id"], row.id.to_string());
        assert_eq!(ce["subject"], task.id.to_string());
        assert_eq!(ce["dataschema"], DATA_SCHEMA);
        assert_eq!(ce["datacontenttype"], "application/json");
        assert_eq!(row.topic, "task-created");
        assert_eq!(row.partition_key, task.id.to_string());

        let data: TaskEventData = serde_json::from_value(ce["data"].clone()).expect("data parses");
        assert_eq!(data.user_id, "alice");
        assert_eq!(data.task.id, task.id);
        assert_eq!(data.version, DATA_VERSION);
        assert_eq!((row.list_id(), row.member_id(), row.moved_from()), (Some(task.list_id), None, None));
        let mut moved = row.clone();
        let left = Uuid::now_v7();
        moved.set_moved_from(left);
        assert_eq!(moved.moved_from(), Some(left));
        let data: TaskEventData =
            serde_json::from_value(moved.payload["data"].clone()).expect("still parses");
        assert_eq!(data.task.id, task.id);
    }

    #[test]
    fn member_event_follows_the_contract() {
        let now = Utc::now();
        let list = Uuid::now_v7();
        let data = MemberEventData {
            version: MEMBER_DATA_VERSION,
            list_id: list,
            user_id: "bob".into(),
            role: Role::Editor,
            actor_id: "alice".into(),
        };
        let bob = Member::new(list, "bob", Role::Editor, now);
        let row = member_event(EventType::MemberAdded, &bob, "alice", "api", now).expect("builds");
        let ce = &row.payload;
        assert_eq!(
            (ce["type"].as_str(), ce["subject"].as_str()),
            (Some("list.member_added"), Some(&*list.to_string()))
        );
        assert_eq!(ce["dataschema"], MEMBER_DATA_SCHEMA);
        assert_eq!((row.topic.as_str(), row.partition_key.clone()), ("list-member-added", list.to_string()));
        assert_eq!(ce["data"]["role"], "editor");
        let back: MemberEventData = serde_json::from_value(ce["data"].clone()).expect("data parses");
        assert_eq!(back, data);
        assert!(!EventType::MemberAdded.is_task() && EventType::Due.is_task());
        assert_eq!((row.list_id(), row.member_id()), (Some(list), Some("bob")));
    }
}
