//! In-app notifications (reminders).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Pool, Tx, on_pool, on_tx, on_writer};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::notification::Notification;

const INSERT_NOTIFICATION: &str = "insert into notifications (id, user_id, task_id, event_id, title, \
     due_at, reminder_at, created_at, read_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// PostgreSQL only: claims each event for consumer $9 at $10 and writes the
/// notifications of those not claimed before, in one statement; the columns
/// but `read_at` (null) as arrays $1..$8, of distinct events. The event ids
/// whose notifications were written.
const RECORD_NOTIFICATIONS_ONCE: &str = "with input as (select * from unnest($1::uuid[], $2::text[], \
     $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[]) \
     as i(id, user_id, task_id, event_id, title, due_at, reminder_at, created_at)), \
     claimed as (insert into processed_events (consumer, event_id, processed_at) \
     select $9, event_id, $10 from input on conflict do nothing returning event_id) \
     insert into notifications (id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at) \
     select i.id, i.user_id, i.task_id, i.event_id, i.title, i.due_at, i.reminder_at, i.created_at, null \
     from input i join claimed c on c.event_id = i.event_id returning event_id";

/// $1 user, $2 unread only, $3 limit; newest first.
const SELECT_NOTIFICATIONS: &str = "select id, user_id, task_id, event_id, title, due_at, reminder_at, \
     created_at, read_at from notifications where user_id = $1 and ($2 = false or read_at is null) \
     order by created_at desc, id desc limit $3";

/// $1 id, $2 user, $3 time; keeps the first read time.
const MARK_READ: &str = "update notifications set read_at = coalesce(read_at, $3) where id = $1 and user_id = $2 \
     returning id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at";

/// A `notifications` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: Uuid,
    user_id: String,
    task_id: Uuid,
    event_id: String,
    title: String,
    due_at: Option<Timestamp>,
    reminder_at: Option<Timestamp>,
    created_at: Timestamp,
    read_at: Option<Timestamp>,
}

impl From<NotificationRow> for Notification {
    fn from(row: NotificationRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            task_id: row.task_id,
            event_id: row.event_id,
            title: row.title,
            due_at: row.due_at.map(Into::into),
            reminder_at: row.reminder_at.map(Into::into),
            created_at: row.created_at.into(),
            read_at: row.read_at.map(Into::into),
        }
    }
}

/// Binds a notification's 9 columns in [`INSERT_NOTIFICATION`] order.
macro_rules! bind_notification {
    ($query:expr, $notification:expr) => {{
        let notification: &Notification = $notification;
        $query
            .bind(notification.id)
            .bind(notification.user_id.as_str())
            .bind(notification.task_id)
            .bind(notification.event_id.as_str())
            .bind(notification.title.as_str())
            .bind(notification.due_at.map(Timestamp))
            .bind(notification.reminder_at.map(Timestamp))
            .bind(Timestamp(notification.created_at))
            .bind(notification.read_at.map(Timestamp))
    }};
}

impl Tx {
    pub async fn insert_notification(&mut self, notification: &Notification) -> Result<(), StoreError> {
        on_tx!(self, |c| bind_notification!(sqlx::query(INSERT_NOTIFICATION), notification)
            .execute(c)
            .await
            .map(drop)?);
        self.mark_changed();
        Ok(())
    }
}

impl Store {
    /// Records `notification` for `consumer` once per event id, claimed at
    /// `at`: `false` (and no change) for a duplicate.
    pub async fn record_notification_once(
        &self,
        consumer: &str,
        notification: &Notification,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let written =
            self.record_notifications_once(consumer, std::slice::from_ref(notification), at).await?;
        Ok(written.first() == Some(&true))
    }

    /// Records each of `notifications` (unread, of distinct events) for
    /// `consumer` once per event id, claimed at `at`: whether each was written
    /// (`false` for a duplicate), in order. One statement on PostgreSQL; one
    /// transaction on SQLite.
    pub async fn record_notifications_once(
        &self,
        consumer: &str,
        notifications: &[Notification],
        at: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        let written = if let Pool::Postgres(pool) = &self.pool {
            let column = |f: fn(&Notification) -> String| notifications.iter().map(f).collect::<Vec<_>>();
            let times = |f: fn(&Notification) -> Option<DateTime<Utc>>| {
                notifications.iter().map(f).collect::<Vec<_>>()
            };
            let written: Vec<(String,)> = sqlx::query_as(RECORD_NOTIFICATIONS_ONCE)
                .bind(notifications.iter().map(|n| n.id).collect::<Vec<_>>())
                .bind(column(|n| n.user_id.clone()))
                .bind(notifications.iter().map(|n| n.task_id).collect::<Vec<_>>())
                .bind(column(|n| n.event_id.clone()))
                .bind(column(|n| n.title.clone()))
                .bind(times(|n| n.due_at))
                .bind(times(|n| n.reminder_at))
                .bind(notifications.iter().map(|n| n.created_at).collect::<Vec<_>>())
                .bind(consumer)
                .bind(Timestamp(at))
                .fetch_all(pool)
                .await?;
            let written: std::collections::HashSet<String> = written.into_iter().map(|(id,)| id).collect();
            notifications.iter().map(|n| written.contains(&n.event_id)).collect()
        } else {
            let mut tx = self.begin().await?;
            let mut written = Vec::with_capacity(notifications.len());
            for notification in notifications {
                let claimed = tx.claim_event(consumer, &notification.event_id, at).await?;
                if claimed {
                    tx.insert_notification(notification).await?;
                }
                written.push(claimed);
            }
            tx.commit().await?;
            written
        };
        if written.contains(&true) {
            self.signal.wake();
        }
        Ok(written)
    }

    /// The user's notifications, newest first.
    pub async fn list_notifications(
        &self,
        user_id: &str,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<NotificationRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_NOTIFICATIONS)
                .bind(user_id)
                .bind(unread_only)
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Marks the user's notification read (keeping the first read time); `None`
    /// when it is not theirs or does not exist.
    pub async fn mark_notification_read(
        &self,
        user_id: &str,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Notification>, StoreError> {
        let row: Option<NotificationRow> = on_writer!(self.pool, |c| {
            sqlx::query_as(MARK_READ).bind(id).bind(user_id).bind(Timestamp(at)).fetch_optional(c).await?
        });
        Ok(row.map(Into::into))
    }
}
