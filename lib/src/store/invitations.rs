//! Invitations to lists, found by the hash of their token and accepted once;
//! listed and revoked by their list's owners. Accepting and revoking run under
//! the list's member lock ([`Tx::lock_user`] for `"members"`).

use uuid::Uuid;

use super::db::{Tx, on_pool, on_tx};
use super::members;
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::invitations::Invitation;

const INSERT_INVITATION: &str = "insert into list_invitations (id, token_hash, list_id, role, created_by, \
     created_at, expires_at, accepted_by, accepted_at, revoked_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A select of every column of `list_invitations`, then `$rest`.
macro_rules! select_invitations {
    ($rest:literal) => {
        concat!(
            "select id, token_hash, list_id, role, created_by, created_at, expires_at, accepted_by, \
             accepted_at, revoked_at from list_invitations ",
            $rest
        )
    };
}

const SELECT_BY_TOKEN: &str = select_invitations!("where token_hash = $1");

const SELECT_IN_LIST: &str = select_invitations!("where id = $1 and list_id = $2");

/// List $1's invitations older than $2 (none: from the newest), only the
/// open ones at $4 when $3, newest first (ids are time-ordered), at most $5.
const SELECT_OF_LIST: &str = select_invitations!(
    "where list_id = $1 and ($2 is null or id < $2) \
     and ($3 = false or (accepted_by is null and revoked_at is null and expires_at > $4)) \
     order by id desc limit $5"
);

/// How many of list $1's invitations are open at $2.
const COUNT_OPEN: &str = "select count(*) from list_invitations \
     where list_id = $1 and accepted_by is null and revoked_at is null and expires_at > $2";

/// Revokes at $3 every open invitation of list $1 that $2 made.
const REVOKE_MADE_BY: &str = "update list_invitations set revoked_at = $3 \
     where list_id = $1 and created_by = $2 and accepted_by is null and revoked_at is null";

/// Accepts invitation $1 for $2 at $3, unless it was accepted, revoked or
/// expired: the one statement that makes an invitation single-use under
/// concurrency.
const ACCEPT_INVITATION: &str = "update list_invitations set accepted_by = $2, accepted_at = $3 \
     where id = $1 and accepted_by is null and revoked_at is null and expires_at > $3";

/// Revokes invitation $1 at $2 unless it was accepted or revoked already.
const REVOKE_INVITATION: &str = "update list_invitations set revoked_at = $2 \
     where id = $1 and accepted_by is null and revoked_at is null";

/// Which of a list's invitations to read: a page of them, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationPage {
    /// Older than this one (the last of the previous page); `None`: from the newest.
    pub before: Option<Uuid>,
    /// Only those still open (not accepted, revoked or expired) at `now`.
    pub open_only: bool,
    pub now: chrono::DateTime<chrono::Utc>,
    pub limit: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct InvitationRow {
    id: Uuid,
    token_hash: String,
    list_id: Uuid,
    role: String,
    created_by: String,
    created_at: Timestamp,
    expires_at: Timestamp,
    accepted_by: Option<String>,
    accepted_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;

    fn try_from(row: InvitationRow) -> Result<Self, StoreError> {
        Ok(Self {
            role: members::role(&row.role, row.list_id)?,
            id: row.id,
            token_hash: row.token_hash,
            list_id: row.list_id,
            created_by: row.created_by,
            created_at: row.created_at.into(),
            expires_at: row.expires_at.into(),
            accepted_by: row.accepted_by,
            accepted_at: row.accepted_at.map(Into::into),
            revoked_at: row.revoked_at.map(Into::into),
        })
    }
}

impl Store {
    /// The invitation whose token hashes to `token_hash`, open or not.
    pub async fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
        let row: Option<InvitationRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_BY_TOKEN).bind(token_hash).fetch_optional(c).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// A page of the list's invitations, newest first.
    pub async fn invitations(
        &self,
        list_id: Uuid,
        page: InvitationPage,
    ) -> Result<Vec<Invitation>, StoreError> {
        let rows: Vec<InvitationRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_OF_LIST)
                .bind(list_id)
                .bind(page.before)
                .bind(page.open_only)
                .bind(Timestamp(page.now))
                .bind(page.limit)
                .fetch_all(c)
                .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl Tx {
    pub async fn insert_invitation(&mut self, invitation: &Invitation) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(INSERT_INVITATION)
            .bind(invitation.id)
            .bind(invitation.token_hash.as_str())
            .bind(invitation.list_id)
            .bind(invitation.role.as_str())
            .bind(invitation.created_by.as_str())
            .bind(Timestamp(invitation.created_at))
            .bind(Timestamp(invitation.expires_at))
            .bind(invitation.accepted_by.as_deref())
            .bind(invitation.accepted_at.map(Timestamp))
            .bind(invitation.revoked_at.map(Timestamp))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// How many of `list_id`'s invitations are open at `now`.
    pub async fn open_invitations(
        &mut self,
        list_id: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StoreError> {
        Ok(on_tx!(self, |c| sqlx::query_scalar(COUNT_OPEN)
            .bind(list_id)
            .bind(Timestamp(now))
            .fetch_one(c)
            .await?))
    }

    /// Revokes at `at` every open invitation of `list_id` that `maker` made:
    /// what a member made stops working when they may no longer make it.
    pub async fn revoke_invitations_made_by(
        &mut self,
        list_id: Uuid,
        maker: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        Ok(on_tx!(self, |c| sqlx::query(REVOKE_MADE_BY)
            .bind(list_id)
            .bind(maker)
            .bind(Timestamp(at))
            .execute(c)
            .await?
            .rows_affected()))
    }

    /// [`Store::invitation`], inside the transaction.
    pub async fn invitation(&mut self, token_hash: &str) -> Result<Option<Invitation>, StoreError> {
        let row: Option<InvitationRow> =
            on_tx!(self, |c| sqlx::query_as(SELECT_BY_TOKEN).bind(token_hash).fetch_optional(c).await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Invitation `id` of list `list_id`, open or not.
    pub async fn invitation_in(&mut self, list_id: Uuid, id: Uuid) -> Result<Option<Invitation>, StoreError> {
        let row: Option<InvitationRow> =
            on_tx!(self, |c| sqlx::query_as(SELECT_IN_LIST).bind(id).bind(list_id).fetch_optional(c).await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Revokes `invitation` at `at`; `false` when it was accepted or revoked
    /// already.
    pub async fn revoke_invitation(
        &mut self,
        invitation: &Invitation,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let revoked = on_tx!(self, |c| sqlx::query(REVOKE_INVITATION)
            .bind(invitation.id)
            .bind(Timestamp(at))
            .execute(c)
            .await?
            .rows_affected());
        Ok(revoked == 1)
    }

    /// Marks `invitation` accepted by `user_id` at `at`; `false` when it was
    /// accepted meanwhile or has expired by then.
    pub async fn accept_invitation(
        &mut self,
        invitation: &Invitation,
        user_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        let accepted = on_tx!(self, |c| sqlx::query(ACCEPT_INVITATION)
            .bind(invitation.id)
            .bind(user_id)
            .bind(Timestamp(at))
            .execute(c)
            .await?
            .rows_affected());
        Ok(accepted == 1)
    }
}
