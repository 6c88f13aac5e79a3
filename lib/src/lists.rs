//! Task lists: a user's named lists, ordered by position, with the one `Inbox`
//! every user has and cannot delete. The rules of their fields live here; the
//! store persists them.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::members::Role;
use crate::task::{ValidationErrors, text};

/// Longest list name, in characters after trimming.
pub const NAME_MAX_CHARS: usize = 100;
/// The name of the list every user has.
pub const INBOX_NAME: &str = "Inbox";

/// A list of tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskList {
    pub id: Uuid,
    /// The JWT `sub` of the user who made it (its first owner; the owner of
    /// an Inbox). Who may do what is in its members.
    pub owner_id: String,
    pub name: String,
    /// `#rrggbb`, lower case; `null` for none.
    pub colour: Option<String>,
    /// Where the list stands in the caller's own order of their lists
    /// (their membership's, not the list's: each member orders the lists
    /// shared with them as they like); lists are shown by ascending
    /// position, then by creation. A list shared with someone comes last in
    /// theirs.
    pub position: i64,
    pub archived: bool,
    /// The user's default list: it cannot be deleted, renamed or archived.
    pub inbox: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// The caller's role in the list: not a column of the list but of their
    /// membership, read with it.
    pub role: Role,
}

/// How many open tasks a list holds, and how many of them are past due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ListCount {
    pub list_id: Uuid,
    pub open: i64,
    pub overdue: i64,
}

/// The body of a create request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewList {
    /// Required; 1 to 100 characters after trimming. (An `Option`, so that
    /// its absence is a 422 naming it rather than a parse error; required in
    /// the schema, which clients and assistants read.)
    #[schema(required = true)]
    pub name: Option<String>,
    pub colour: Option<String>,
    pub position: Option<i64>,
}

/// The body of a PATCH: absent fields stay as they are; `colour: null` clears it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::task::present")]
    #[schema(value_type = Option<String>)]
    pub colour: Option<Option<String>>,
    /// The caller's own place for the list in their order of their lists:
    /// any member may set it, alone; it changes no one else's order.
    pub position: Option<i64>,
    pub archived: Option<bool>,
}

impl TaskList {
    /// The Inbox of `owner`, as created on first need.
    pub fn inbox(owner: &str, now: DateTime<Utc>) -> Self {
        let now = now.trunc_subsecs(6);
        Self {
            id: Uuid::now_v7(),
            owner_id: owner.to_owned(),
            name: INBOX_NAME.to_owned(),
            colour: None,
            position: 0,
            archived: false,
            inbox: true,
            created_at: now,
            updated_at: now,
            version: 1,
            role: Role::Owner,
        }
    }

    /// A new list of `owner` from `input`, checked.
    pub fn create(owner: &str, input: NewList, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = match input.name {
            Some(name) => checked_name(&name, &mut errors),
            None => {
                errors.add("name", "is required");
                String::new()
            }
        };
        let colour = input.colour.and_then(|c| checked_colour(&c, &mut errors));
        errors.into_result()?;
        let now = now.trunc_subsecs(6);
        Ok(Self {
            id: Uuid::now_v7(),
            owner_id: owner.to_owned(),
            name,
            colour,
            position: input.position.unwrap_or(0),
            archived: false,
            inbox: false,
            created_at: now,
            updated_at: now,
            version: 1,
            role: Role::Owner,
        })
    }

    /// This list with `patch` applied at `now`; `None` when nothing changes.
    pub fn patched(&self, patch: ListPatch, now: DateTime<Utc>) -> Result<Option<Self>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut next = self.clone();
        if let Some(name) = patch.name {
            next.name = checked_name(&name, &mut errors);
            if self.inbox && next.name != self.name {
                errors.add("name", "the Inbox cannot be renamed");
            }
        }
        if let Some(colour) = patch.colour {
            next.colour = colour.and_then(|c| checked_colour(&c, &mut errors));
        }
        if let Some(position) = patch.position {
            next.position = position;
        }
        if let Some(archived) = patch.archived {
            if self.inbox && archived {
                errors.add("archived", "the Inbox cannot be archived");
            }
            next.archived = archived;
        }
        errors.into_result()?;
        if next == *self {
            return Ok(None);
        }
        next.updated_at = now.trunc_subsecs(6).max(self.updated_at);
        next.version = self.version + 1;
        Ok(Some(next))
    }
}

fn checked_name(name: &str, errors: &mut ValidationErrors) -> String {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_MAX_CHARS {
        errors.add("name", format!("must be 1 to {NAME_MAX_CHARS} characters after trimming"));
    } else if let Some(problem) = text::title_problem(name) {
        errors.add("name", problem);
    }
    name.to_owned()
}

fn checked_colour(colour: &str, errors: &mut ValidationErrors) -> Option<String> {
    let hex = colour.strip_prefix('#').filter(|h| h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
    if hex.is_none() {
        errors.add("colour", "must be a colour as #rrggbb");
        return None;
    }
    Some(colour.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str) -> NewList {
        NewList { name: Some(name.into()), ..NewList::default() }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        let now = Utc::now();
        assert_eq!(TaskList::create("u", named("  Home "), now).expect("valid").name, "Home");
        for bad in ["", "   ", &"x".repeat(NAME_MAX_CHARS + 1)] {
            let err = TaskList::create("u", named(bad), now).expect_err("invalid");
            assert_eq!(err.0[0].field, "name", "{bad:?}");
        }
        assert!(
            TaskList::create("u", named(&"é".repeat(NAME_MAX_CHARS)), now).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(
            TaskList::create("u", NewList::default(), now).expect_err("missing").0[0].message,
            "is required"
        );
    }

    #[test]
    fn colours_are_hex_triplets() {
        let now = Utc::now();
        let input = NewList { colour: Some("#A0B1C2".into()), ..named("a") };
        assert_eq!(TaskList::create("u", input, now).expect("valid").colour.as_deref(), Some("#a0b1c2"));
        for bad in ["red", "#12345", "#1234567", "#12345g", "123456"] {
            let input = NewList { colour: Some(bad.into()), ..named("a") };
            assert_eq!(TaskList::create("u", input, now).expect_err(bad).0[0].field, "colour");
        }
    }

    #[test]
    fn the_inbox_keeps_its_name_and_stays_active() {
        let inbox = TaskList::inbox("u", Utc::now());
        let rename = ListPatch { name: Some("Other".into()), ..ListPatch::default() };
        assert_eq!(inbox.patched(rename, Utc::now()).expect_err("refused").0[0].field, "name");
        let archive = ListPatch { archived: Some(true), ..ListPatch::default() };
        assert_eq!(inbox.patched(archive, Utc::now()).expect_err("refused").0[0].field, "archived");
        let colour = ListPatch { colour: Some(Some("#00ff00".into())), ..ListPatch::default() };
        let coloured = inbox.patched(colour, Utc::now()).expect("valid").expect("changed");
        assert_eq!((coloured.colour.as_deref(), coloured.version), (Some("#00ff00"), 2));
    }

    #[test]
    fn a_patch_that_changes_nothing_is_none() {
        let list = TaskList::create("u", named("a"), Utc::now()).expect("valid");
        let same = ListPatch { name: Some(" a ".into()), position: Some(0), ..ListPatch::default() };
        assert_eq!(list.patched(same, Utc::now()), Ok(None));
    }
}
