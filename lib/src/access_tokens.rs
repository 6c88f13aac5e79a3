//! Personal access tokens: a credential a user makes and revokes without an
//! identity provider, for an assistant's configuration or a script. Each has a
//! name, scopes and an optional expiry; the secret is shown once, when it is
//! made, and the store keeps only its SHA-256, so a leaked database signs
//! nobody in. Revoking deletes it, which takes effect on the next request.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::secret_token;
use crate::task::ValidationErrors;

/// Every token starts with this, so that logs, scanners and the
/// authenticator can tell one from a JWT.
pub const TOKEN_PREFIX: &str = "todo_pat_";
/// The longest a name may be, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// The longest a token may live: a year.
pub const EXPIRY_MAX_DAYS: i64 = 366;
/// `last_used_at` is written at most this often per token, so that a busy
/// assistant does not turn every read into a write.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// What a token may do. A JWT may do everything; a token only what it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// Read tasks, lists, tags, notifications, activity and webhooks.
    #[serde(rename = "tasks:read")]
    TasksRead,
    /// Create, change and delete them.
    #[serde(rename = "tasks:write")]
    TasksWrite,
}

impl Scope {
    pub const ALL: [Self; 2] = [Self::TasksRead, Self::TasksWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TasksRead => "tasks:read",
            Self::TasksWrite => "tasks:write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

/// A token as stored and listed (its secret only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccessToken {
    pub id: Uuid,
    /// Whose it is: it acts as this user.
    #[serde(skip)]
    pub user_id: String,
    /// What the user called it ("Claude on my laptop").
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    /// `null`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last signed a request in (to the minute); `null` if never.
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub token_hash: String,
}

/// The body of `POST /v1/tokens`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccessToken {
    /// Required: 1 to 100 characters.
    pub name: Option<String>,
    /// Required: one or both of `tasks:read`, `tasks:write`.
    pub scopes: Option<Vec<Scope>>,
    /// 1 to 366; absent: the token does not expire.
    pub expires_in_days: Option<i64>,
}

impl AccessToken {
    /// A new token of `user_id` made at `now`, and its secret.
    pub fn create(
        user_id: &str,
        input: NewAccessToken,
        now: DateTime<Utc>,
    ) -> Result<(Self, SecretString), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = input.name.as_deref().map(str::trim).unwrap_or_default().to_owned();
        if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
            errors
                .add("name", format!("is required: 1 to {NAME_MAX_CHARS} characters, no control characters"));
        }
        let mut scopes = input.scopes.unwrap_or_default();
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        if scopes.is_empty() {
            errors.add("scopes", "is required: tasks:read, tasks:write or both");
        }
        if let Some(days) = input.expires_in_days
            && !(1..=EXPIRY_MAX_DAYS).contains(&days)
        {
            errors
                .add("expires_in_days", format!("must be 1 to {EXPIRY_MAX_DAYS}, or left out for no expiry"));
        }
        errors.into_result()?;
        let secret = secret_token::generate(TOKEN_PREFIX);
        let now = now.trunc_subsecs(6);
        let token = Self {
            id: Uuid::now_v7(),
            user_id: user_id.to_owned(),
            name,
            scopes,
            created_at: now,
            expires_at: input.expires_in_days.map(|days| now + Duration::days(days)),
            last_used_at: None,
            token_hash: secret_token::hash(secret.expose_secret()),
        };
        Ok((token, secret))
    }

    /// Whether it signs requests in at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Whether `bearer` is meant as a personal access token rather than a JWT.
pub fn is_access_token(bearer: &str) -> bool {
    bearer.starts_with(TOKEN_PREFIX)
}

/// The scopes in their stored form: space-separated, as OAuth writes them.
pub fn scopes_to_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// The stored form read back; `None` names a scope this build does not know.
pub fn scopes_from_text(text: &str) -> Option<Vec<Scope>> {
    text.split_whitespace().map(Scope::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, scopes: &[Scope], days: Option<i64>) -> NewAccessToken {
        NewAccessToken { name: Some(name.into()), scopes: Some(scopes.to_vec()), expires_in_days: days }
    }

    #[test]
    fn a_token_is_random_prefixed_and_kept_only_as_its_hash() {
        let now = Utc::now();
        let (a, secret_a) =
            AccessToken::create("alice", input("cli", &[Scope::TasksRead], None), now).expect("valid");
        let (_, secret_b) =
            AccessToken::create("alice", input("cli", &[Scope::TasksRead], None), now).expect("valid");
        assert_ne!(secret_a.expose_secret(), secret_b.expose_secret());
        assert!(is_access_token(secret_a.expose_secret()));
        assert_eq!(a.token_hash, secret_token::hash(secret_a.expose_secret()));
        assert!(!format!("{a:?}").contains(secret_a.expose_secret()));
        assert!(!serde_json::to_string(&a).expect("serializes").contains(&a.token_hash));
        assert_eq!(a.expires_at, None);
        assert!(a.is_live(now + Duration::days(10_000)));
    }

    #[test]
    fn name_scopes_and_expiry_are_checked() {
        let now = Utc::now();
        let fields = |input: NewAccessToken| -> Vec<String> {
            let err = AccessToken::create("a", input, now).expect_err("invalid");
            err.0.into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(input(" ", &[], Some(0))), ["name", "scopes", "expires_in_days"]);
        assert_eq!(
            fields(input(&"x".repeat(101), &[Scope::TasksRead], Some(367))),
            ["name", "expires_in_days"]
        );
        assert_eq!(fields(NewAccessToken::default()), ["name", "scopes"]);
    }

    #[test]
    fn scopes_are_deduplicated_ordered_and_round_trip_as_text() {
        let scopes = [Scope::TasksWrite, Scope::TasksRead, Scope::TasksWrite];
        let (token, _) = AccessToken::create("a", input("x", &scopes, Some(1)), Utc::now()).expect("valid");
        assert_eq!(token.scopes, [Scope::TasksRead, Scope::TasksWrite]);
        assert_eq!(scopes_to_text(&token.scopes), "tasks:read tasks:write");
        assert_eq!(scopes_from_text("tasks:read tasks:write"), Some(token.scopes.clone()));
        assert_eq!(scopes_from_text("tasks:read admin"), None);
        assert!(!token.is_live(token.created_at + Duration::days(1)));
        assert!(token.is_live(token.created_at + Duration::hours(23)));
    }
}
