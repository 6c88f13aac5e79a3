//! Dead letters: events the in-process bus gave up on.

use sqlx::types::Json;
use uuid::Uuid;

use super::db::{on_pool, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::event::DeadLetter;

const INSERT_DEAD_LETTER: &str = "insert into dead_letters (id, event_id, topic, subscriber, reason, \
     payload, created_at) values ($1, $2, $3, $4, $5, $6, $7)";

const SELECT_DEAD_LETTERS: &str = "select id, event_id, topic, subscriber, reason, payload, created_at \
     from dead_letters order by created_at desc, id desc limit $1";

/// A `dead_letters` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
struct DeadLetterRow {
    id: Uuid,
    event_id: Uuid,
    topic: String,
    subscriber: String,
    reason: String,
    payload: Json<serde_json::Value>,
    created_at: Timestamp,
}

impl From<DeadLetterRow> for DeadLetter {
    fn from(row: DeadLetterRow) -> Self {
        Self {
            id: row.id,
            event_id: row.event_id,
            topic: row.topic,
            subscriber: row.subscriber,
            reason: row.reason,
            payload: row.payload.0,
            created_at: row.created_at.into(),
        }
    }
}

impl Store {
    /// Records an event the in-process bus gave up on.
    pub async fn insert_dead_letter(&self, letter: &DeadLetter) -> Result<(), StoreError> {
        on_writer!(self.pool, |c| {
            sqlx::query(INSERT_DEAD_LETTER)
                .bind(letter.id)
                .bind(letter.event_id)
                .bind(letter.topic.as_str())
                .bind(letter.subscriber.as_str())
                .bind(letter.reason.as_str())
                .bind(Json(&letter.payload))
                .bind(Timestamp(letter.created_at))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Dead letters, newest first.
    pub async fn list_dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_DEAD_LETTERS).bind(limit).fetch_all(c).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
