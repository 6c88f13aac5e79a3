//! Links in mails and push notifications that act without a sign-in: each is
//! a random token for one purpose, one user (and, for a confirmation, one
//! address; for a snooze or a completion, one task), until it expires. The store keeps only the token's SHA-256 (`crate::secret_token`).

use chrono::{DateTime, Duration, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::secret_token;

/// What a link does, and only that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Confirms the address it was mailed to as the user's.
    Confirm,
    /// Stops mail to the user (RFC 8058's one-click unsubscribe).
    Unsubscribe,
    /// Snoozes the reminder of one task, as its user.
    Snooze,
    /// Completes one task, as its user (a push notification's action).
    Complete,
}

impl LinkPurpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Unsubscribe => "unsubscribe",
            Self::Snooze => "snooze",
            Self::Complete => "complete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Confirm, Self::Unsubscribe, Self::Snooze, Self::Complete]
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    /// How long a link lives: a confirmation two days, a snooze or a completion
    /// a week, an unsubscribe link a year (a mail is read long after it was
    /// sent).
    pub fn lifetime(self) -> Duration {
        match self {
            Self::Confirm => Duration::days(2),
            Self::Snooze | Self::Complete => Duration::days(7),
            Self::Unsubscribe => Duration::days(365),
        }
    }

    /// What its token starts with, so that a person can tell links apart.
    const fn prefix(self) -> &'static str {
        match self {
            Self::Confirm => "todo_confirm_",
            Self::Unsubscribe => "todo_unsub_",
            Self::Snooze => "todo_snooze_",
            Self::Complete => "todo_done_",
        }
    }
}

/// A link as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLink {
    pub token_hash: String,
    pub purpose: LinkPurpose,
    pub user_id: String,
    /// The address a confirmation is for.
    pub address: Option<String>,
    /// The task a snooze or a completion is for.
    pub task_id: Option<uuid::Uuid>,
    pub expires_at: DateTime<Utc>,
    /// When it was first followed (following it again changes nothing more).
    pub used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl MailLink {
    /// A new link and its token (to put in the mail; never stored).
    pub fn new(
        purpose: LinkPurpose,
        user_id: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> (Self, SecretString) {
        Self::for_task(purpose, user_id, address, None, now)
    }

    /// [`MailLink::new`] about `task_id`.
    pub fn for_task(
        purpose: LinkPurpose,
        user_id: &str,
        address: Option<&str>,
        task_id: Option<uuid::Uuid>,
        now: DateTime<Utc>,
    ) -> (Self, SecretString) {
        let token = secret_token::generate(purpose.prefix());
        let now = now.trunc_subsecs(6);
        let link = Self {
            token_hash: secret_token::hash(token.expose_secret()),
            purpose,
            user_id: user_id.to_owned(),
            address: address.map(str::to_owned),
            task_id,
            expires_at: now + purpose.lifetime(),
            used_at: None,
            created_at: now,
        };
        (link, token)
    }

    /// Whether it may act at `now` for `purpose`.
    pub fn valid_for(&self, purpose: LinkPurpose, now: DateTime<Utc>) -> bool {
        self.purpose == purpose && now < self.expires_at
    }
}
