//! Invitations by link: an owner shares a list with someone whose user id
//! they do not know. The token is shown once, to the owner; the store keeps
//! only its SHA-256, so a leaked database lets nobody join. An invitation is
//! accepted once, before it expires or is revoked, with the role it names.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::members::Role;
use crate::task::ValidationErrors;

/// How long an invitation is valid when the owner does not say.
pub const TTL_DEFAULT_HOURS: i64 = 72;
/// The longest an invitation may be valid: 30 days.
pub const TTL_MAX_HOURS: i64 = 720;
/// Every token starts with this, so that logs and scanners can tell one.
pub const TOKEN_PREFIX: &str = "inv_";

/// An invitation as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub list_id: Uuid,
    /// The role the invitee gets.
    pub role: Role,
    /// The owner who made it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Who accepted it; `null` while it is open.
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// When an owner revoked it; `null` unless revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub token_hash: String,
}

/// The body of `POST /v1/lists/{id}/invitations`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Required.
    pub role: Option<Role>,
    /// 1 to 720 (default 72).
    pub expires_in_hours: Option<i64>,
}

/// Why an invitation cannot be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    Used,
    Revoked,
    Expired,
}

impl Invitation {
    /// A new invitation to `list_id` made by `by` at `now`, and its token.
    pub fn create(
        list_id: Uuid,
        by: &str,
        input: NewInvitation,
        now: DateTime<Utc>,
    ) -> Result<(Self, SecretString), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let role = input.role.unwrap_or_else(|| {
            errors.add("role", "is required: owner, editor or viewer");
            Role::Viewer
        });
        let hours = input.expires_in_hours.unwrap_or(TTL_DEFAULT_HOURS);
        if !(1..=TTL_MAX_HOURS).contains(&hours) {
            errors.add("expires_in_hours", format!("must be 1 to {TTL_MAX_HOURS}"));
        }
        errors.into_result()?;
        let token = new_token();
        let now = now.trunc_subsecs(6);
        let invitation = Self {
            id: Uuid::now_v7(),
            list_id,
            role,
            created_by: by.to_owned(),
            created_at: now,
            expires_at: now + Duration::hours(hours),
            accepted_by: None,
            accepted_at: None,
            revoked_at: None,
            token_hash: token_hash(token.expose_secret()),
        };
        Ok((invitation, token))
    }

    /// Why it cannot be accepted at `now`, if it cannot.
    pub fn closed(&self, now: DateTime<Utc>) -> Option<Closed> {
        if self.accepted_by.is_some() {
            Some(Closed::Used)
        } else if self.revoked_at.is_some() {
            Some(Closed::Revoked)
        } else if self.expires_at <= now {
            Some(Closed::Expired)
        } else {
            None
        }
    }
}

/// The stored form of a token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    crate::secret_token::hash(token)
}

/// `inv_` and 32 random bytes, base64url.
fn new_token() -> SecretString {
    crate::secret_token::generate(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let input = || NewInvitation { role: Some(Role::Editor), expires_in_hours: None };
        let now = Utc::now();
        let (a, token_a) = Invitation::create(Uuid::now_v7(), "alice", input(), now).expect("valid");
        let (b, token_b) = Invitation::create(Uuid::now_v7(), "alice", input(), now).expect("valid");
        assert_ne!(token_a.expose_secret(), token_b.expose_secret());
        assert!(token_a.expose_secret().starts_with(TOKEN_PREFIX) && token_a.expose_secret().len() == 47);
        assert_eq!(a.token_hash, token_hash(token_a.expose_secret()));
        assert_ne!(a.token_hash, b.token_hash);
        assert!(!format!("{a:?}").contains(token_a.expose_secret()));
        assert_eq!(a.expires_at, a.created_at + Duration::hours(TTL_DEFAULT_HOURS));
    }

    #[test]
    fn an_invitation_needs_a_role_and_a_sensible_lifetime_and_closes() {
        let now = Utc::now();
        let fields = |input: NewInvitation| -> Vec<String> {
            let err = Invitation::create(Uuid::now_v7(), "a", input, now).expect_err("invalid");
            err.0.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(
            fields(NewInvitation { role: None, expires_in_hours: Some(0) }),
            ["role", "expires_in_hours"]
        );
        assert_eq!(
            fields(NewInvitation { role: Some(Role::Viewer), expires_in_hours: Some(721) }),
            ["expires_in_hours"]
        );
        let input = NewInvitation { role: Some(Role::Viewer), expires_in_hours: Some(1) };
        let (mut open, _) = Invitation::create(Uuid::now_v7(), "a", input, now).expect("valid");
        assert_eq!(open.closed(now), None);
        assert_eq!(open.closed(now + Duration::hours(1)), Some(Closed::Expired));
        open.revoked_at = Some(now);
        assert_eq!(open.closed(now), Some(Closed::Revoked));
        open.accepted_by = Some("bob".into());
        assert_eq!(open.closed(now), Some(Closed::Used));
    }
}
