//! The changes feed: every change to what a user can see, in commit order,
//! from what the system already writes (the outbox's task and membership
//! events, and the in-app notifications). `GET /v1/changes` pages it;
//! `GET /v1/stream` pushes it, with the same cursor as each event's id.
//!
//! A [`ChangeCursor`] is a position in commit order. The store hands out only
//! positions it can never see a row appear before (see the migration
//! `changes`), so a client that resumes from the last cursor it saw misses
//! nothing. A client applies a task change only when its `version` is newer
//! than the copy it holds: two transactions on one task commit in the order of
//! their versions, but may be numbered the other way round.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::event::{EventType, MemberEventData, TaskEventData};
use crate::notification::Notification;
use crate::task::Task;

/// A position in the feed: the writing transaction's id and the row's number.
/// Opaque to clients, who send back what they were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ChangeCursor {
    pub xid: i64,
    pub seq: i64,
}

/// A cursor that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is malformed; use one the feed returned, or start again without one")]
pub struct MalformedCursor;

impl ChangeCursor {
    pub fn encode(self) -> String {
        format!("{}-{}", self.xid, self.seq)
    }

    pub fn decode(text: &str) -> Result<Self, MalformedCursor> {
        let (xid, seq) = text.split_once('-').ok_or(MalformedCursor)?;
        let number = |s: &str| {
            // Digits only: no sign, no spaces, no leading "+".
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(MalformedCursor);
            }
            s.parse::<i64>().map_err(|_| MalformedCursor)
        };
        Ok(Self { xid: number(xid)?, seq: number(seq)? })
    }
}

impl Serialize for ChangeCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

/// One change, as the feed and the stream show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Change {
    /// Resume after this change by sending it back (`cursor=`, or the
    /// stream's `Last-Event-ID`).
    #[schema(value_type = String, example = "7512-40961")]
    pub cursor: ChangeCursor,
    /// When it happened.
    pub time: DateTime<Utc>,
    #[serde(flatten)]
    pub body: ChangeBody,
}

/// What changed, by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type")]
pub enum ChangeBody {
    /// `task.created`, `task.updated` or `task.completed`: the task as it is
    /// after the change. `task.deleted` is the tombstone: the task as it was
    /// last, to be removed.
    #[serde(rename = "task")]
    Task {
        /// The event type: `task.created`, `task.updated`, `task.completed` or `task.deleted`.
        event: String,
        task: Box<Task>,
    },
    /// `list.member_added` or `list.member_removed`, seen by the list's members
    /// and by the member who joined or left: the list's tasks appear to, or
    /// vanish for, that member.
    #[serde(rename = "member")]
    Member { event: String, member: MemberEventData },
    /// A reminder fired for the user.
    #[serde(rename = "notification")]
    Notification { notification: Notification },
    /// A task moved out of one of the user's lists into one they do not see:
    /// for them, it is gone (its new state is not theirs to see).
    #[serde(rename = "task_moved_out")]
    MovedOut { task_id: Uuid, from_list_id: Uuid },
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Where to resume: the last change's cursor, or the one sent when there
    /// was nothing new.
    #[schema(value_type = String)]
    pub cursor: ChangeCursor,
    /// More changes wait after this page: ask again at once.
    pub has_more: bool,
}

/// What the store read after a cursor, each kind oldest first and each cut
/// at the same limit.
#[derive(Debug, Default)]
pub struct ChangeRows {
    pub events: Vec<EventChange>,
    pub notifications: Vec<(ChangeCursor, Notification)>,
}

impl ChangeRows {
    /// The first `limit` changes of both kinds in one order, after `after`.
    /// Each kind was read up to `limit`, so past the `limit`th of the merge one
    /// kind may be missing rows: the page ends there, and says there is more.
    pub fn into_page(self, after: ChangeCursor, limit: usize) -> ChangePage {
        let mut rows: Vec<(ChangeCursor, Option<Change>)> = self
            .events
            .into_iter()
            .map(|event| (event.cursor, event.into_change()))
            .chain(
                self.notifications
                    .into_iter()
                    .map(|(cursor, n)| (cursor, Some(Change::notification(cursor, n)))),
            )
            .collect();
        rows.sort_by_key(|(cursor, _)| *cursor);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        // A row the feed does not carry still moves the cursor past it.
        let cursor = rows.last().map_or(after, |(cursor, _)| *cursor);
        ChangePage { changes: rows.into_iter().filter_map(|(_, change)| change).collect(), cursor, has_more }
    }
}

/// One read of the feed for several readers at once: every change in
/// (`after`, `to`] that any of them can see, by reader (each reader's rows as
/// [`ChangeRows`], both kinds complete up to `to`).
#[derive(Debug, Default)]
pub struct FeedBatch {
    pub after: ChangeCursor,
    /// How far the read reached: everything up to here was read.
    pub to: ChangeCursor,
    /// It stopped at its limit: more follows `to` now.
    pub has_more: bool,
    /// The readers it was read for, each with their rows (none for some).
    pub rows: std::collections::HashMap<String, ChangeRows>,
}

/// An outbox row in the feed, as the store reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventChange {
    pub cursor: ChangeCursor,
    pub payload: serde_json::Value,
    pub time: DateTime<Utc>,
    /// The reader is a member of the event's list; when not, the event
    /// reached them because the task left one of their lists.
    pub sees_list: bool,
}

impl EventChange {
    /// The change the event stands for; `None` for an event the feed does not
    /// carry (a reminder firing, which reaches the feed as its notification)
    /// or cannot read.
    pub fn into_change(self) -> Option<Change> {
        let ty = EventType::parse(self.payload["type"].as_str()?)?;
        let data = self.payload.get("data")?.clone();
        let event = ty.as_str().to_owned();
        let body = match ty {
            EventType::Due => return None,
            EventType::MemberAdded | EventType::MemberRemoved => {
                ChangeBody::Member { event, member: serde_json::from_value(data).ok()? }
            }
            _ => {
                let data: TaskEventData = serde_json::from_value(data).ok()?;
                match data.moved_from {
                    Some(from_list_id) if !self.sees_list => {
                        ChangeBody::MovedOut { task_id: data.task.id, from_list_id }
                    }
                    _ => ChangeBody::Task { event, task: Box::new(data.task) },
                }
            }
        };
        Some(Change { cursor: self.cursor, time: self.time, body })
    }
}

impl Change {
    pub fn notification(cursor: ChangeCursor, notification: Notification) -> Self {
        Self { cursor, time: notification.created_at, body: ChangeBody::Notification { notification } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_anything_else() {
        let cursor = ChangeCursor { xid: 7512, seq: 40961 };
        assert_eq!(ChangeCursor::decode(&cursor.encode()), Ok(cursor));
        for bad in
            ["", "1", "1-", "-1", "a-1", "1-b", "+1-2", "1--2", "1-2-3", " 1-2", "99999999999999999999-1"]
        {
            assert_eq!(ChangeCursor::decode(bad), Err(MalformedCursor), "{bad:?}");
        }
        assert!(ChangeCursor { xid: 1, seq: 9 } < ChangeCursor { xid: 2, seq: 1 });
    }
}
