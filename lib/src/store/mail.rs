//! The mail queue (`mail_deliveries`: one row per event and recipient, sent by
//! `cron-tick` under a lease, like webhook deliveries) and the links mails
//! carry (`mail_links`, found by the hash of their token).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Dialects, Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::clock::lease_end;
use crate::mail::{LinkPurpose, MailLink, Message, NewMail, OwedMail, QueuedMail};
use crate::webhook::Attempt;

/// Queues mail $1..$6 due at $7, unless its event was mailed to its user
/// already; returns its id when queued.
const QUEUE_MAIL: &str = "insert into mail_deliveries (id, event_id, user_id, address, message, status, \
     attempts, next_attempt_at, created_at, updated_at) values ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $7) \
     on conflict (event_id, user_id) do nothing returning id";

const INSERT_LINK: &str = "insert into mail_links (token_hash, purpose, user_id, address, task_id, expires_at, \
     used_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)";

const SELECT_LINK: &str = "select token_hash, purpose, user_id, address, task_id, expires_at, used_at, created_at \
     from mail_links where token_hash = $1";

/// Marks link $1 used at $2, once.
const USE_LINK: &str = "update mail_links set used_at = $2 where token_hash = $1 and used_at is null";

/// Leases owed mail: $1 lease end, $2 now, $3 limit; soonest due first.
const CLAIM_MAIL: Dialects = Dialects {
    postgres: "update mail_deliveries set lease_until = $1 where id in (select id from mail_deliveries \
         where status = 'pending' and next_attempt_at <= $2 and (lease_until is null or lease_until < $2) \
         order by next_attempt_at, id limit $3 for update skip locked) \
         returning id, event_id, user_id, address, message, attempts",
    sqlite: "update mail_deliveries set lease_until = $1 where id in (select id from mail_deliveries \
         where status = 'pending' and next_attempt_at <= $2 and (lease_until is null or lease_until < $2) \
         order by next_attempt_at, id limit $3) returning id, event_id, user_id, address, message, attempts",
};

/// Records an attempt at mail $1: status $2, error $3 at $4, next attempt $5
/// (pending only). A final row is never changed again.
const RECORD_ATTEMPT: &str = "update mail_deliveries set status = $2, attempts = attempts + 1, last_error = $3, \
     updated_at = $4, next_attempt_at = coalesce($5, next_attempt_at), lease_until = null \
     where id = $1 and status = 'pending'";

/// A claimed mail $1 put back, unattempted, until $2.
const POSTPONE_MAIL: &str = "update mail_deliveries set next_attempt_at = $2, lease_until = null \
     where id = $1 and status = 'pending'";

/// The newest $1 mails.
const SELECT_RECENT: &str = "select id, event_id, address, message, status, attempts, next_attempt_at, created_at \
     from mail_deliveries order by created_at desc, id desc limit $1";

#[derive(Debug, sqlx::FromRow)]
struct LinkRow {
    token_hash: String,
    purpose: String,
    user_id: String,
    address: Option<String>,
    task_id: Option<Uuid>,
    expires_at: Timestamp,
    used_at: Option<Timestamp>,
    created_at: Timestamp,
}

#[derive(Debug, sqlx::FromRow)]
struct ClaimedRow {
    id: Uuid,
    event_id: String,
    user_id: String,
    address: String,
    message: String,
    attempts: i32,
}

#[derive(Debug, sqlx::FromRow)]
struct RecentRow {
    id: Uuid,
    event_id: String,
    address: String,
    message: String,
    status: String,
    attempts: i32,
    next_attempt_at: Timestamp,
    created_at: Timestamp,
}

fn message(id: Uuid, text: &str) -> Result<Message, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("mail {id} has an unreadable message: {e}")))
}

impl Tx {
    /// Queues `mail` at `now` with its links, unless its event was mailed to
    /// its user already (`false` then, and nothing is written).
    pub async fn queue_mail(&mut self, mail: &NewMail, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let body = serde_json::to_string(&mail.message).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let queued: Option<(Uuid,)> = on_tx!(self, |c| {
            sqlx::query_as(QUEUE_MAIL)
                .bind(mail.id)
                .bind(mail.event_id.as_str())
                .bind(mail.user_id.as_str())
                .bind(mail.address.as_str())
                .bind(body.as_str())
                .bind(Timestamp(mail.not_before))
                .bind(Timestamp(now))
                .fetch_optional(c)
                .await?
        });
        if queued.is_none() {
            return Ok(false);
        }
        for link in &mail.links {
            self.insert_mail_link(link).await?;
        }
        Ok(true)
    }

    /// Stores `link` (its token only as the hash it holds).
    pub(super) async fn insert_mail_link(&mut self, link: &MailLink) -> Result<(), StoreError> {
        on_tx!(self, |c| {
            sqlx::query(INSERT_LINK)
                .bind(link.token_hash.as_str())
                .bind(link.purpose.as_str())
                .bind(link.user_id.as_str())
                .bind(link.address.as_deref())
                .bind(link.task_id)
                .bind(Timestamp(link.expires_at))
                .bind(link.used_at.map(Timestamp))
                .bind(Timestamp(link.created_at))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Marks the link used at `at`; `false` when it was used already.
    pub async fn use_mail_link(&mut self, token_hash: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let changed = on_tx!(self, |c| {
            sqlx::query(USE_LINK).bind(token_hash).bind(Timestamp(at)).execute(c).await?.rows_affected()
        });
        Ok(changed == 1)
    }

    /// Puts a claimed mail back, unattempted, until `until`.
    pub async fn postpone_mail(&mut self, id: Uuid, until: DateTime<Utc>) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(POSTPONE_MAIL)
            .bind(id)
            .bind(Timestamp(until))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}

impl Store {
    /// Queues each of `mails` at `now` (with its links) unless its event was
    /// mailed to its user already, in one transaction: the ids of those queued.
    pub async fn queue_mails(
        &self,
        mails: &[NewMail],
        now: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<Uuid>, StoreError> {
        let mut queued = std::collections::HashSet::new();
        if mails.is_empty() {
            return Ok(queued);
        }
        let mut tx = self.begin().await?;
        for mail in mails {
            if tx.queue_mail(mail, now).await? {
                queued.insert(mail.id);
            }
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// The link whose token hashes to `token_hash`, expired or not.
    pub async fn mail_link(&self, token_hash: &str) -> Result<Option<MailLink>, StoreError> {
        let row: Option<LinkRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_LINK).bind(token_hash).fetch_optional(c).await?);
        row.map(|row| {
            let purpose = LinkPurpose::parse(&row.purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("a mail link has purpose {}", row.purpose)))?;
            Ok(MailLink {
                token_hash: row.token_hash,
                purpose,
                user_id: row.user_id,
                address: row.address,
                task_id: row.task_id,
                expires_at: row.expires_at.into(),
                used_at: row.used_at.map(Into::into),
                created_at: row.created_at.into(),
            })
        })
        .transpose()
    }

    /// Leases up to `limit` owed mails due at `now` for `lease`, soonest first;
    /// concurrent callers get disjoint mails.
    pub async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<OwedMail>, StoreError> {
        let statement = CLAIM_MAIL.of(self.backend());
        let rows: Vec<ClaimedRow> = on_writer!(self.pool, |c| {
            sqlx::query_as(statement)
                .bind(Timestamp(lease_end(now, lease)))
                .bind(Timestamp(now))
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(OwedMail {
                    message: message(row.id, &row.message)?,
                    id: row.id,
                    event_id: row.event_id,
                    user_id: row.user_id,
                    address: row.address,
                    attempts: row.attempts,
                })
            })
            .collect()
    }

    /// Records how an attempt at a claimed mail ended at `now`, and ends its lease.
    pub async fn record_mail_attempt(
        &self,
        id: Uuid,
        attempt: &Attempt,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_writer!(self.pool, |c| {
            sqlx::query(RECORD_ATTEMPT)
                .bind(id)
                .bind(attempt.status.as_str())
                .bind(attempt.error.as_deref())
                .bind(Timestamp(now))
                .bind(attempt.retry_at.map(Timestamp))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// The newest `limit` mails, whatever became of them.
    pub async fn recent_mail(&self, limit: i64) -> Result<Vec<QueuedMail>, StoreError> {
        let rows: Vec<RecentRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_RECENT).bind(limit).fetch_all(c).await?);
        rows.into_iter()
            .map(|row| {
                let Message { subject, text, html, unsubscribe_url } = message(row.id, &row.message)?;
                Ok(QueuedMail {
                    id: row.id,
                    event_id: row.event_id,
                    address: row.address,
                    subject,
                    text,
                    html,
                    unsubscribe_url,
                    status: row.status,
                    attempts: row.attempts,
                    next_attempt_at: row.next_attempt_at.into(),
                    created_at: row.created_at.into(),
                })
            })
            .collect()
    }
}
