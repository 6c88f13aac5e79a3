//! Personal access tokens, found by the hash of their secret; listed and
//! revoked (deleted) by their user. Making one runs under the user's
//! registration lock ([`Tx::lock_user`] for `"tokens"`), so the per-user limit holds.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::db::{Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::access_tokens::{AccessToken, LAST_USED_RESOLUTION_SECS, scopes_from_text, scopes_to_text};

/// Inserts token ($1..$8) unless user $2 already holds $9 of them.
const INSERT_TOKEN: &str = "insert into access_tokens (id, user_id, token_hash, name, scopes, created_at, \
     expires_at, last_used_at) select $1, $2, $3, $4, $5, $6, $7, $8 \
     where (select count(*) from access_tokens where user_id = $2) < $9";

/// A select of every column of `access_tokens`, then `$rest`.
macro_rules! select_tokens {
    ($rest:literal) => {
        concat!(
            "select id, user_id, token_hash, name, scopes, created_at, expires_at, last_used_at \
             from access_tokens ",
            $rest
        )
    };
}

const SELECT_BY_HASH: &str = select_tokens!("where token_hash = $1");

const SELECT_OF_USER: &str = select_tokens!("where user_id = $1 order by created_at, id");

const DELETE_TOKEN: &str = "delete from access_tokens where id = $1 and user_id = $2";

/// Records that token $1 signed a request in at $2, unless that was recorded
/// after $3 already: one write a minute per token at most.
const TOUCH_TOKEN: &str = "update access_tokens set last_used_at = $2 \
     where id = $1 and (last_used_at is null or last_used_at < $3)";

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    user_id: String,
    token_hash: String,
    name: String,
    scopes: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    last_used_at: Option<Timestamp>,
}

impl TryFrom<TokenRow> for AccessToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        let scopes = scopes_from_text(&row.scopes)
            .ok_or_else(|| StoreError::Corrupt(format!("access token {} has unknown scopes", row.id)))?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            token_hash: row.token_hash,
            name: row.name,
            scopes,
            created_at: row.created_at.into(),
            expires_at: row.expires_at.map(Into::into),
            last_used_at: row.last_used_at.map(Into::into),
        })
    }
}

impl Store {
    /// The token whose secret hashes to `token_hash`, expired or not.
    pub async fn access_token(&self, token_hash: &str) -> Result<Option<AccessToken>, StoreError> {
        let row: Option<TokenRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_BY_HASH).bind(token_hash).fetch_optional(c).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The user's tokens, oldest first.
    pub async fn access_tokens(&self, user_id: &str) -> Result<Vec<AccessToken>, StoreError> {
        let rows: Vec<TokenRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_OF_USER).bind(user_id).fetch_all(c).await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Revokes the user's token `id`; `false` when they have none of that id.
    pub async fn delete_access_token(&self, user_id: &str, id: Uuid) -> Result<bool, StoreError> {
        let deleted = on_writer!(self.pool, |c| {
            sqlx::query(DELETE_TOKEN).bind(id).bind(user_id).execute(c).await?.rows_affected()
        });
        Ok(deleted == 1)
    }

    /// Records that token `id` was used at `now`, at most once a minute.
    pub async fn touch_access_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let since = now - Duration::seconds(LAST_USED_RESOLUTION_SECS);
        on_writer!(self.pool, |c| {
            sqlx::query(TOUCH_TOKEN)
                .bind(id)
                .bind(Timestamp(now))
                .bind(Timestamp(since))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }
}

impl Tx {
    /// Inserts `token` unless its user holds `max_per_user` already (`false` then).
    pub async fn insert_access_token(
        &mut self,
        token: &AccessToken,
        max_per_user: i64,
    ) -> Result<bool, StoreError> {
        let inserted = on_tx!(self, |c| {
            sqlx::query(INSERT_TOKEN)
                .bind(token.id)
                .bind(token.user_id.as_str())
                .bind(token.token_hash.as_str())
                .bind(token.name.as_str())
                .bind(scopes_to_text(&token.scopes))
                .bind(Timestamp(token.created_at))
                .bind(token.expires_at.map(Timestamp))
                .bind(token.last_used_at.map(Timestamp))
                .bind(max_per_user)
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(inserted == 1)
    }
}
