//! The task: its fields and the pure state changes (create, patch, complete,
//! reopen, next occurrence) that the API and the functions share; the rules its
//! input must follow are in `task/rules.rs`, text checks in `task/text.rs`.
//!
//! Every change takes `now` as a parameter, so tests state exactly what time it is.

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::recurrence::Recurrence;

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
pub const TAGS_MAX: usize = 20;
pub const TAG_MAX_CHARS: usize = 40;
/// One year: a reminder further ahead than that is almost surely a mistake.
pub const REMINDER_MAX_MINUTES: i64 = 525_600;
/// The furthest ahead a reminder may be snoozed, in days.
pub const SNOOZE_MAX_DAYS: i64 = 366;
/// How many levels a tree of tasks may have: a top-level task, its subtasks,
/// theirs, and theirs (as deep as Todoist lets subtasks go).
pub const TREE_DEPTH_MAX: usize = 4;
/// How many subtasks a top-level task may have beneath it, at every level:
/// completing, moving or deleting it changes them all in one transaction.
pub const SUBTASKS_MAX: usize = 200;
/// Due times outside these years are refused (PostgreSQL and JSON clients cope with
/// them, but no person means them, and the calendar maths should not either).
const DUE_YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// How urgent a task is. Ordered, so that sorting by priority is meaningful.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    /// The stored, sortable form (0 = low … 3 = urgent).
    pub fn rank(self) -> i32 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
            Self::Urgent => 3,
        }
    }

    pub fn from_rank(rank: i32) -> Option<Self> {
        Some(match rank {
            0 => Self::Low,
            1 => Self::Medium,
            2 => Self::High,
            3 => Self::Urgent,
            _ => return None,
        })
    }

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "urgent" => Self::Urgent,
            _ => return None,
        })
    }
}

/// A task as stored and as shown to its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    /// The owner: the `sub` of the JWT that created it. Never shown to clients.
    #[serde(skip)]
    pub user_id: String,
    /// The list the task is in. Always present, except in task events of data
    /// version 1 (written before lists), whose task was in its owner's Inbox;
    /// there it reads as nil until the function machinery names that Inbox.
    #[serde(default)]
    pub list_id: Uuid,
    /// The member of its list who is to do it (their user id), if anyone.
    #[serde(default)]
    pub assignee_id: Option<String>,
    /// The task this one is a subtask of (in the same list), if any.
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    /// Lower-case, de-duplicated, in the order first given.
    pub tags: Vec<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// Remind this many minutes before `due_at`.
    pub remind_before_minutes: Option<i64>,
    /// When the reminder fires: `due_at - remind_before_minutes`, or the time
    /// it was snoozed to (until the due time or the offset changes). Stored so
    /// that the cron function can find due reminders with an index.
    pub remind_at: Option<DateTime<Utc>>,
    /// An RFC 5545 RRULE (without `DTSTART`, which is `due_at`).
    pub recurrence: Option<String>,
    /// IANA time zone in which the recurrence keeps its local time (UTC if unset).
    pub time_zone: Option<String>,
    /// Links the occurrences of a recurring task; the first occurrence's id.
    pub series_id: Option<Uuid>,
    /// The recurrence's `DTSTART`: the due time of the series' first occurrence,
    /// so that COUNT and UNTIL count from the start, not from each occurrence.
    pub series_start: Option<DateTime<Utc>>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped on every change; the `ETag`, checked against `If-Match`.
    pub version: i64,
    /// Where the task stands in its list's own order (`sort=manual`),
    /// ascending, ties broken by id. A new task, or one moved in from another
    /// list, goes last; `POST /v1/tasks/{id}/move` puts it elsewhere. Only the
    /// order means anything: the numbers of a list's tasks may all change at
    /// once when a move finds no room between two of them.
    #[serde(default)]
    pub position: i64,
}

/// The position that puts a task made or moved in at `at` after every task
/// placed before then: its time in microseconds, which only grows.
pub fn position_at(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// The body of a create request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// A UUID the client chose for the task (any but the nil UUID), so that a
    /// new task sent again (its answer lost, or an offline queue sent once
    /// more) is made once: a task the caller made with this id is the answer,
    /// as it is now, with 200 rather than 201. The server chooses one when
    /// it is absent.
    pub id: Option<Uuid>,
    /// The list to put it in (one the caller may add to); the caller's Inbox
    /// when absent.
    pub list_id: Option<Uuid>,
    /// A member of the task's list.
    pub assignee_id: Option<String>,
    /// Makes it a subtask of this task, which it joins in its list (`list_id`
    /// may be left out, or must name the same list).
    pub parent_id: Option<Uuid>,
    /// Required; 1 to 200 characters after trimming. (An `Option`, so that
    /// its absence is a 422 naming it; required in the schema.)
    #[schema(required = true)]
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<Priority>,
    pub tags: Option<Vec<String>>,
    pub due_at: Option<DateTime<Utc>>,
    pub remind_before_minutes: Option<i64>,
    pub recurrence: Option<String>,
    pub time_zone: Option<String>,
}

/// The body of a PATCH: absent fields stay as they are; `null` clears a field that
/// may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// Moves the task to this list (one the caller may add to).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub list_id: Option<Option<Uuid>>,
    /// A member of the task's list; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee_id: Option<Option<String>>,
    /// Makes it a subtask of this task (in the list it is or moves to);
    /// `null` makes it a top-level task. A subtask moved to another list
    /// without a new parent becomes top-level there.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub remind_before_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub recurrence: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
}

/// Marks a field as given (even when `null`), so that PATCH can tell "clear" from
/// "leave alone".
pub(crate) fn present<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl Task {
    /// A new open task owned by `user_id` in list `list_id` (which the caller
    /// resolved from `input.list_id` and checked), or every reason the input is
    /// invalid.
    pub fn create(
        user_id: &str,
        list_id: Uuid,
        input: NewTask,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let now = now.trunc_subsecs(6);
        let Some(title) = input.title else {
            let mut errors = ValidationErrors::default();
            errors.add("title", "is required");
            // Report the other fields' problems too.
            let rest = Fields {
                list_id,
                assignee_id: input.assignee_id,
                parent_id: input.parent_id,
                title: "x".into(),
                description: input.description.unwrap_or_default(),
                priority: Priority::default(),
                tags: input.tags.unwrap_or_default(),
                due_at: input.due_at,
                remind_before_minutes: input.remind_before_minutes,
                recurrence: input.recurrence,
                time_zone: input.time_zone,
            };
            if let Err(more) = rest.validate() {
                errors.0.extend(more.0);
            }
            return Err(errors);
        };
        let fields = Fields {
            list_id,
            assignee_id: input.assignee_id,
            parent_id: input.parent_id,
            title,
            description: input.description.unwrap_or_default(),
            priority: input.priority.unwrap_or_default(),
            tags: input.tags.unwrap_or_default(),
            due_at: input.due_at,
            remind_before_minutes: input.remind_before_minutes,
            recurrence: input.recurrence,
            time_zone: input.time_zone,
        }
        .validate()?;
        let id = match input.id {
            Some(id) if id.is_nil() => {
                let mut errors = ValidationErrors::default();
                errors.add("id", "must not be the nil UUID");
                return Err(errors);
            }
            Some(id) => id,
            None => Uuid::now_v7(),
        };
        let mut task = Self {
            id,
            user_id: user_id.to_owned(),
            list_id,
            assignee_id: None,
            parent_id: None,
            title: String::new(),
            description: String::new(),
            priority: Priority::default(),
            tags: Vec::new(),
            due_at: None,
            remind_before_minutes: None,
            remind_at: None,
            recurrence: None,
            time_zone: None,
            series_id: None,
            series_start: None,
            completed: false,
            completed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            position: position_at(now),
        };
        task.set_fields(fields);
        Ok(task)
    }

    /// The task with `patch` applied, or `None` when the patch changes nothing (so
    /// no version is spent and no event emitted).
    pub fn patched(&self, patch: TaskPatch, now: DateTime<Utc>) -> Result<Option<Self>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let current = self.fields();
        let title = match patch.title {
            None => Some(current.title.clone()),
            Some(v) => required("title", v, &mut errors),
        };
        let priority = match patch.priority {
            None => Some(current.priority),
            Some(v) => required("priority", v, &mut errors),
        };
        let list_id = match patch.list_id {
            None => Some(current.list_id),
            Some(v) => required("list_id", v, &mut errors),
        };
        let list_id = list_id.unwrap_or(current.list_id);
        // A subtask moved on its own leaves its parent behind, unless the
        // patch names a parent where it goes.
        let parent_id = match patch.parent_id {
            Some(parent) => parent,
            None if list_id != current.list_id => None,
            None => current.parent_id,
        };
        let fields = Fields {
            list_id,
            assignee_id: patch.assignee_id.unwrap_or(current.assignee_id.clone()),
            parent_id,
            // A null title is already reported; validate the rest against the current one.
            title: title.unwrap_or_else(|| current.title.clone()),
            description: patch.description.map_or(current.description.clone(), Option::unwrap_or_default),
            priority: priority.unwrap_or(current.priority),
            tags: patch.tags.map_or(current.tags.clone(), Option::unwrap_or_default),
            due_at: patch.due_at.unwrap_or(current.due_at),
            remind_before_minutes: patch.remind_before_minutes.unwrap_or(current.remind_before_minutes),
            recurrence: patch.recurrence.unwrap_or(current.recurrence.clone()),
            time_zone: patch.time_zone.unwrap_or(current.time_zone.clone()),
        };
        let fields = match fields.validate() {
            Ok(fields) => {
                errors.into_result()?;
                fields
            }
            Err(more) => {
                errors.0.extend(more.0);
                return Err(errors);
            }
        };
        if fields == current {
            return Ok(None);
        }
        let mut next = self.next_version(now);
        next.set_fields(fields);
        if next.list_id != self.list_id {
            // Last in the list it moves to.
            next.position = position_at(next.updated_at);
        }
        Ok(Some(next))
    }

    /// The task marked done, or `None` if it already was.
    pub fn completed(&self, now: DateTime<Utc>) -> Option<Self> {
        if self.completed {
            return None;
        }
        let mut next = self.next_version(now);
        next.completed = true;
        next.completed_at = Some(next.updated_at);
        Some(next)
    }

    /// The task open again, or `None` if it was open.
    pub fn reopened(&self, now: DateTime<Utc>) -> Option<Self> {
        if !self.completed {
            return None;
        }
        let mut next = self.next_version(now);
        next.completed = false;
        next.completed_at = None;
        Some(next)
    }

    /// The task with its reminder re-armed for `until` (snoozed), at `now`:
    /// one more `task.due` then, whatever fired before. Refused for a done
    /// task, and for a time not after `now` or more than a year ahead.
    pub fn snoozed(&self, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.completed {
            errors.add("task", "is done: reopen it to be reminded again");
        }
        let until = until.trunc_subsecs(6);
        if until <= now {
            errors.add("until", "must be in the future");
        } else if until > now + chrono::Duration::days(SNOOZE_MAX_DAYS) {
            errors.add("until", format!("must be within {SNOOZE_MAX_DAYS} days"));
        }
        errors.into_result()?;
        let mut next = self.next_version(now);
        next.remind_at = Some(until);
        Ok(next)
    }

    /// The task with nobody assigned, or `None` if nobody was.
    pub fn unassigned(&self, now: DateTime<Utc>) -> Option<Self> {
        self.assignee_id.as_ref()?;
        let mut next = self.next_version(now);
        next.assignee_id = None;
        Some(next)
    }

    /// The task moved to `list_id` with the task it is beneath, unassigned when
    /// its assignee (`keeps_assignee` false) is no member there; `None` if it
    /// is in that list already.
    pub fn moved_along(&self, list_id: Uuid, keeps_assignee: bool, now: DateTime<Utc>) -> Option<Self> {
        if self.list_id == list_id {
            return None;
        }
        let mut next = self.next_version(now);
        next.list_id = list_id;
        next.position = position_at(next.updated_at);
        if !keeps_assignee {
            next.assignee_id = None;
        }
        Some(next)
    }

    /// The task at `position` in its list's order, or `None` if it is there already.
    pub fn placed(&self, position: i64, now: DateTime<Utc>) -> Option<Self> {
        if self.position == position {
            return None;
        }
        let mut next = self.next_version(now);
        next.position = position;
        Some(next)
    }

    /// Whether the task is open and its due time has passed.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.completed && self.due_at.is_some_and(|due| due < now)
    }

    fn next_version(&self, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.version += 1;
        // Never let updated_at go backwards, even if clocks disagree between replicas.
        next.updated_at = now.trunc_subsecs(6).max(self.updated_at);
        next
    }

    fn fields(&self) -> Fields {
        Fields {
            list_id: self.list_id,
            assignee_id: self.assignee_id.clone(),
            parent_id: self.parent_id,
            title: self.title.clone(),
            description: self.description.clone(),
            priority: self.priority,
            tags: self.tags.clone(),
            due_at: self.due_at,
            remind_before_minutes: self.remind_before_minutes,
            recurrence: self.recurrence.clone(),
            time_zone: self.time_zone.clone(),
        }
    }

    /// The next occurrence of a recurring task, created at `now`: the first time
    /// the rule yields after both this occurrence's due time and `now`, so a late
    /// completion skips the occurrences already past instead of creating a backlog
    /// of overdue copies. `None` when the task does not recur or the series ended
    /// (COUNT, UNTIL).
    pub fn next_occurrence(&self, now: DateTime<Utc>) -> Option<Self> {
        let rule = self.recurrence.as_deref()?;
        let due = self.due_at?;
        let start = self.series_start.unwrap_or(due);
        let recurrence = Recurrence::new(rule, start, self.time_zone.as_deref()).ok()?;
        let next_due = recurrence.next_after(due.max(now))?;
        let now = now.trunc_subsecs(6);
        let mut next = self.clone();
        next.id = Uuid::now_v7();
        next.due_at = Some(next_due);
        next.remind_at = self.fields_with_due(next_due).remind_at();
        next.completed = false;
        next.completed_at = None;
        next.created_at = now;
        next.updated_at = now;
        next.version = 1;
        Some(next)
    }

    /// A fresh, open copy of this subtask under `parent` (the next occurrence
    /// of its parent's series, or a copy made for one), created at `now` and
    /// due `shift` later than it was, as its parent is.
    pub fn copy_under(&self, parent: &Self, shift: chrono::TimeDelta, now: DateTime<Utc>) -> Self {
        let now = now.trunc_subsecs(6);
        let mut copy = self.clone();
        copy.id = Uuid::now_v7();
        copy.list_id = parent.list_id;
        copy.parent_id = Some(parent.id);
        copy.due_at = self
            .due_at
            .and_then(|due| due.checked_add_signed(shift))
            .filter(|due| DUE_YEARS.contains(&due.year()));
        copy.remind_before_minutes = self.remind_before_minutes.filter(|_| copy.due_at.is_some());
        copy.remind_at = copy.fields().remind_at();
        copy.recurrence = None;
        copy.series_id = None;
        copy.series_start = None;
        copy.completed = false;
        copy.completed_at = None;
        copy.created_at = now;
        copy.updated_at = now;
        copy.version = 1;
        copy
    }

    fn fields_with_due(&self, due: DateTime<Utc>) -> Fields {
        Fields { due_at: Some(due), ..self.fields() }
    }

    /// The one place where the derived fields (`remind_at`, `series_id`,
    /// `series_start`) are computed.
    fn set_fields(&mut self, fields: Fields) {
        // A snoozed reminder stays snoozed until its schedule changes.
        if fields.due_at != self.due_at || fields.remind_before_minutes != self.remind_before_minutes {
            self.remind_at = fields.remind_at();
        }
        self.series_id = match (&fields.recurrence, self.series_id) {
            (Some(_), None) => Some(self.id),
            (_, existing) => existing,
        };
        // A new or changed rule starts its series at this occurrence's due time;
        // moving one occurrence under the same rule keeps the series' start.
        let rule_changed = fields.recurrence != self.recurrence || fields.time_zone != self.time_zone;
        self.series_start = match &fields.recurrence {
            None => None,
            Some(_) if rule_changed || self.series_start.is_none() => fields.due_at,
            Some(_) => self.series_start,
        };
        self.list_id = fields.list_id;
        self.assignee_id = fields.assignee_id;
        self.parent_id = fields.parent_id;
        self.title = fields.title;
        self.description = fields.description;
        self.priority = fields.priority;
        self.tags = fields.tags;
        self.due_at = fields.due_at;
        self.remind_before_minutes = fields.remind_before_minutes;
        self.recurrence = fields.recurrence;
        self.time_zone = fields.time_zone;
    }
}

mod rules;
pub(crate) mod text;

pub use rules::{FieldError, SUBTASKS_DO_NOT_RECUR, ValidationErrors};
use rules::{Fields, required};
pub use text::user_id_problem;

#[cfg(test)]
mod tests;
