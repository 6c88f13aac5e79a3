//! Who may do what in a list: its members and their roles. Every list has at
//! least one owner; the Inbox has exactly one, its user, and is never shared.
//! The rules of the input live here; the store persists members, and the API
//! decides each request by the caller's role.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::task::{ValidationErrors, text};

/// What a member may do, ordered by rights: each role may do everything the
/// one before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the list and its tasks.
    Viewer,
    /// Also creates, changes, completes, moves and deletes tasks.
    Editor,
    /// Also renames, archives and deletes the list, and manages its members.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Owner => "owner",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Viewer, Self::Editor, Self::Owner].into_iter().find(|r| r.as_str() == name)
    }

    /// Whether the role may write tasks of the list.
    pub fn writes_tasks(self) -> bool {
        self >= Self::Editor
    }

    /// Whether the role may change the list itself and its members.
    pub fn manages(self) -> bool {
        self == Self::Owner
    }
}

/// A user's membership of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Member {
    #[serde(skip)]
    pub list_id: Uuid,
    /// The member's JWT `sub`.
    pub user_id: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

/// The body of `POST /v1/lists/{id}/members`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// The user's id (their JWT `sub`); required.
    #[schema(required = true)]
    pub user_id: Option<String>,
    /// Required.
    #[schema(required = true)]
    pub role: Option<Role>,
}

/// The body of `PATCH /v1/lists/{id}/members/{user_id}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// Required.
    pub role: Option<Role>,
}

impl Member {
    /// `user_id` in `list_id` with `role`, from `at`.
    pub fn new(list_id: Uuid, user_id: &str, role: Role, at: DateTime<Utc>) -> Self {
        Self { list_id, user_id: user_id.to_owned(), role, added_at: at.trunc_subsecs(6) }
    }

    /// The creator of a list, its first owner.
    pub fn owner(list_id: Uuid, user_id: &str, at: DateTime<Utc>) -> Self {
        Self::new(list_id, user_id, Role::Owner, at)
    }

    /// A new member of `list_id` from `input`, checked.
    pub fn create(list_id: Uuid, input: NewMember, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let user_id = match input.user_id {
            Some(id) => {
                if let Some(problem) = text::user_id_problem(&id) {
                    errors.add("user_id", problem);
                }
                id
            }
            None => {
                errors.add("user_id", "is required");
                String::new()
            }
        };
        let role = input.role.unwrap_or_else(|| {
            errors.add("role", "is required: owner, editor or viewer");
            Role::Viewer
        });
        errors.into_result()?;
        Ok(Self { list_id, user_id, role, added_at: now.trunc_subsecs(6) })
    }
}

impl MemberPatch {
    /// The role the patch asks for, or why it cannot be read.
    pub fn role(&self) -> Result<Role, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match self.role {
            Some(role) => Ok(role),
            None => {
                errors.add("role", "is required: owner, editor or viewer");
                Err(errors)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_rights_and_round_trip_their_names() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Owner);
        for role in [Role::Viewer, Role::Editor, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("admin"), None);
        assert_eq!(
            [Role::Viewer, Role::Editor, Role::Owner].map(|r| (r.writes_tasks(), r.manages())),
            [(false, false), (true, false), (true, true)]
        );
    }

    #[test]
    fn a_new_member_needs_a_plausible_user_id_and_a_role() {
        let list = Uuid::now_v7();
        let ok = NewMember { user_id: Some("bob".into()), role: Some(Role::Editor) };
        assert_eq!(Member::create(list, ok, Utc::now()).expect("valid").role, Role::Editor);
        let fields = |input: NewMember| -> Vec<String> {
            Member::create(list, input, Utc::now())
                .expect_err("invalid")
                .0
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(fields(NewMember::default()), ["user_id", "role"]);
        for bad in ["", " bob", "bo\nb", &"x".repeat(256)] {
            let input = NewMember { user_id: Some(bad.into()), role: Some(Role::Viewer) };
            assert_eq!(fields(input), ["user_id"], "{bad:?}");
        }
    }
}
