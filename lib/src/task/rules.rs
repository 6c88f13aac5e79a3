//! The task rules: every user-editable field checked and normalised in one
//! place ([`Fields`]), for creation and patching alike, and the errors they
//! report, all at once.

use chrono::{DateTime, Datelike, Duration, SubsecRound, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::text;
use super::{
    DESCRIPTION_MAX_CHARS, DUE_YEARS, Priority, REMINDER_MAX_MINUTES, TAG_MAX_CHARS, TAGS_MAX,
    TITLE_MAX_CHARS,
};
use crate::recurrence::{self, Recurrence};

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every problem found in one input, so the client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.to_owned(), message: message.into() });
    }

    pub(crate) fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// The user-editable fields, checked and normalised. Creation and patching both
/// build one, so one set of rules covers both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fields {
    /// Checked by the caller, who knows which lists the user may write to.
    pub(super) list_id: uuid::Uuid,
    /// Whether they are a member is the caller's to check; here, that it
    /// could be a user id at all.
    pub(super) assignee_id: Option<String>,
    /// That the parent exists, is in the same list and keeps the tree shallow
    /// and acyclic is the caller's to check, with the store.
    pub(super) parent_id: Option<uuid::Uuid>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) priority: Priority,
    pub(super) tags: Vec<String>,
    pub(super) due_at: Option<DateTime<Utc>>,
    pub(super) remind_before_minutes: Option<i64>,
    pub(super) recurrence: Option<String>,
    pub(super) time_zone: Option<String>,
}

impl Fields {
    pub(super) fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();

        self.title = self.title.trim().to_owned();
        let title_chars = self.title.chars().count();
        if title_chars == 0 || title_chars > TITLE_MAX_CHARS {
            errors.add("title", format!("must be 1 to {TITLE_MAX_CHARS} characters after trimming"));
        } else if let Some(problem) = text::title_problem(&self.title) {
            errors.add("title", problem);
        }

        if self.description.chars().count() > DESCRIPTION_MAX_CHARS {
            errors.add("description", format!("must be at most {DESCRIPTION_MAX_CHARS} characters"));
        } else if self.description.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            errors.add("description", "must not contain control characters other than newlines and tabs");
        }

        if let Some(problem) = self.assignee_id.as_deref().and_then(text::user_id_problem) {
            errors.add("assignee_id", problem);
        }

        match normalize_tags(&self.tags) {
            Ok(tags) => self.tags = tags,
            Err(message) => errors.add("tags", message),
        }

        if let Some(due) = self.due_at {
            if !DUE_YEARS.contains(&due.year()) {
                errors.add("due_at", "must be between the years 1900 and 9999");
            }
            // Stored with microsecond precision on both backends; keep what we return
            // equal to what we store.
            self.due_at = Some(due.trunc_subsecs(6));
        }

        if let Some(minutes) = self.remind_before_minutes {
            if !(0..=REMINDER_MAX_MINUTES).contains(&minutes) {
                errors.add("remind_before_minutes", format!("must be between 0 and {REMINDER_MAX_MINUTES}"));
            } else if self.due_at.is_none() {
                errors.add("remind_before_minutes", "requires due_at");
            }
        }

        if let Some(zone) = &self.time_zone
            && let Err(e) = recurrence::parse_time_zone(zone)
        {
            errors.add("time_zone", e.to_string());
        }

        if self.recurrence.is_some() && self.parent_id.is_some() {
            errors.add("recurrence", SUBTASKS_DO_NOT_RECUR);
        } else if let Some(rule) = &self.recurrence {
            match (recurrence::normalize(rule), self.due_at) {
                (Err(e), _) => errors.add("recurrence", e.to_string()),
                (Ok(_), None) => errors.add("recurrence", "requires due_at"),
                (Ok(normalized), Some(due)) => {
                    let zone = self.time_zone.as_deref().filter(|z| recurrence::parse_time_zone(z).is_ok());
                    match Recurrence::new(&normalized, due, zone) {
                        Ok(_) => self.recurrence = Some(normalized),
                        Err(e) => errors.add("recurrence", e.to_string()),
                    }
                }
            }
        }

        errors.into_result().map(|()| self)
    }

    pub(super) fn remind_at(&self) -> Option<DateTime<Utc>> {
        let due = self.due_at?;
        let minutes = self.remind_before_minutes?;
        // Out of range (only a forged event could carry it): no reminder, not a panic.
        due.checked_sub_signed(Duration::try_minutes(minutes)?)
    }
}

/// Why a subtask cannot have its own recurrence: its parent's next occurrence
/// brings fresh copies of it.
pub const SUBTASKS_DO_NOT_RECUR: &str =
    "a subtask repeats with its parent: set the recurrence on the top-level task";

/// Normalizes each tag (see [`text::normalize_tag`]) and de-duplicates them,
/// keeping the first-seen order.
fn normalize_tags(tags: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len().min(TAGS_MAX));
    for tag in tags {
        let tag = text::normalize_tag(tag, TAG_MAX_CHARS)?;
        if !out.contains(&tag) {
            out.push(tag);
        }
        if out.len() > TAGS_MAX {
            return Err(format!("at most {TAGS_MAX} distinct tags"));
        }
    }
    Ok(out)
}

/// Rejects `null` for a field that cannot be empty.
pub(super) fn required<T>(field: &str, value: Option<T>, errors: &mut ValidationErrors) -> Option<T> {
    if value.is_none() {
        errors.add(field, "must not be null");
    }
    value
}
