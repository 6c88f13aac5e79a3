//! How much one user or one list may hold, read once from `QUOTA_*`: a write
//! past a quota is refused (422 `quota_exceeded`, the quota named) and stores
//! nothing. The caps on open live streams are the API's `STREAM_MAX_*`.

use serde::Deserialize;

/// One quota, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    TasksPerUser,
    ListsPerUser,
    MembersPerList,
    WebhooksPerUser,
    OpenInvitationsPerList,
    TokensPerUser,
    PushSubscriptionsPerUser,
}

impl Quota {
    /// The variable that sets it, which is also how a refusal names it.
    pub const fn variable(self) -> &'static str {
        match self {
            Self::TasksPerUser => "QUOTA_TASKS_PER_USER",
            Self::ListsPerUser => "QUOTA_LISTS_PER_USER",
            Self::MembersPerList => "QUOTA_MEMBERS_PER_LIST",
            Self::WebhooksPerUser => "QUOTA_WEBHOOKS_PER_USER",
            Self::OpenInvitationsPerList => "QUOTA_OPEN_INVITATIONS_PER_LIST",
            Self::TokensPerUser => "QUOTA_TOKENS_PER_USER",
            Self::PushSubscriptionsPerUser => "QUOTA_PUSH_SUBSCRIPTIONS_PER_USER",
        }
    }

    /// "at most 200 lists per user", in the refusal's words.
    pub fn sentence(self, limit: i64) -> String {
        let what = match self {
            Self::TasksPerUser => "tasks per user (done ones included)",
            Self::ListsPerUser => "lists per user",
            Self::MembersPerList => "members per list",
            Self::WebhooksPerUser => "webhooks per user",
            Self::OpenInvitationsPerList => "open invitations per list",
            Self::TokensPerUser => "personal access tokens per user",
            Self::PushSubscriptionsPerUser => "browsers with push per user",
        };
        format!("at most {limit} {what}")
    }
}

/// Every quota's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Quotas {
    #[serde(rename = "quota_tasks_per_user", default = "tasks_per_user")]
    pub tasks_per_user: i64,
    #[serde(rename = "quota_lists_per_user", default = "lists_per_user")]
    pub lists_per_user: i64,
    #[serde(rename = "quota_members_per_list", default = "members_per_list")]
    pub members_per_list: i64,
    #[serde(rename = "quota_webhooks_per_user", default = "webhooks_per_user")]
    pub webhooks_per_user: i64,
    #[serde(rename = "quota_open_invitations_per_list", default = "open_invitations_per_list")]
    pub open_invitations_per_list: i64,
    #[serde(rename = "quota_tokens_per_user", default = "tokens_per_user")]
    pub tokens_per_user: i64,
    #[serde(rename = "quota_push_subscriptions_per_user", default = "push_subscriptions_per_user")]
    pub push_subscriptions_per_user: i64,
}

impl Quotas {
    /// The defaults: far above what a person uses (Todoist allows 300 tasks
    /// a project), well below what fills a disk.
    pub const DEFAULT: Self = Self {
        tasks_per_user: 20_000,
        lists_per_user: 200,
        members_per_list: 100,
        webhooks_per_user: 10,
        open_invitations_per_list: 50,
        tokens_per_user: 50,
        push_subscriptions_per_user: 20,
    };

    pub fn limit(&self, quota: Quota) -> i64 {
        match quota {
            Quota::TasksPerUser => self.tasks_per_user,
            Quota::ListsPerUser => self.lists_per_user,
            Quota::MembersPerList => self.members_per_list,
            Quota::WebhooksPerUser => self.webhooks_per_user,
            Quota::OpenInvitationsPerList => self.open_invitations_per_list,
            Quota::TokensPerUser => self.tokens_per_user,
            Quota::PushSubscriptionsPerUser => self.push_subscriptions_per_user,
        }
    }
}

impl Default for Quotas {
    fn default() -> Self {
        Self::DEFAULT
    }
}

fn tasks_per_user() -> i64 {
    Quotas::DEFAULT.tasks_per_user
}
fn lists_per_user() -> i64 {
    Quotas::DEFAULT.lists_per_user
}
fn members_per_list() -> i64 {
    Quotas::DEFAULT.members_per_list
}
fn webhooks_per_user() -> i64 {
    Quotas::DEFAULT.webhooks_per_user
}
fn open_invitations_per_list() -> i64 {
    Quotas::DEFAULT.open_invitations_per_list
}
fn tokens_per_user() -> i64 {
    Quotas::DEFAULT.tokens_per_user
}
fn push_subscriptions_per_user() -> i64 {
    Quotas::DEFAULT.push_subscriptions_per_user
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{from_iter, variables};

    #[test]
    fn each_quota_is_set_by_the_variable_that_names_it() {
        let all = [
            Quota::TasksPerUser,
            Quota::ListsPerUser,
            Quota::MembersPerList,
            Quota::WebhooksPerUser,
            Quota::OpenInvitationsPerList,
            Quota::TokensPerUser,
            Quota::PushSubscriptionsPerUser,
        ];
        let mut read = variables::<Quotas>();
        read.sort();
        let mut named: Vec<_> = all.iter().map(|q| q.variable().to_owned()).collect();
        named.sort();
        assert_eq!(read, named);
        for (n, quota) in all.into_iter().enumerate() {
            let set: Quotas = from_iter([(quota.variable().to_owned(), (n + 1).to_string())]).expect("reads");
            assert_eq!(set.limit(quota), (n + 1) as i64);
        }
        assert_eq!(from_iter::<Quotas, _>(Vec::new()).expect("defaults"), Quotas::DEFAULT);
    }
}
