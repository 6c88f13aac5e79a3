//! The SQL both backends run, and the one implementation of [`Store`] over it.
//!
//! The statements are portable (`$n` placeholders, which sqlx's SQLite driver
//! accepts as numbered parameters). The implementation is written once, as a
//! macro instantiated for each backend's pool type: sqlx's executor traits make a
//! generic version a thicket of higher-ranked bounds, while the macro keeps every
//! statement in one place with concrete types.
//!
//! [`Store`]: super::Store

use sqlx::types::Json;
use uuid::Uuid;

use super::StoreError;
use super::timestamp::Timestamp;
use crate::task::{Priority, Task};

/// The same columns without the table alias, for `returning`.
pub(crate) const TASK_RETURNING: &str = "id, user_id, title, description, priority, tags, \
     due_at, remind_before_minutes, remind_at, recurrence, time_zone, series_id, series_start, \
     completed, completed_at, created_at, updated_at, version";

pub(crate) const TASK_COLUMNS: &str = "t.id, t.user_id, t.title, t.description, t.priority, t.tags, \
     t.due_at, t.remind_before_minutes, t.remind_at, t.recurrence, t.time_zone, t.series_id, t.series_start, \
     t.completed, t.completed_at, t.created_at, t.updated_at, t.version";

/// Binds $1..$20 in this order: see [`bind_task!`].
pub(crate) const INSERT_TASK: &str = "insert into tasks (id, user_id, title, title_key, description, \
     search_text, priority, tags, due_at, remind_before_minutes, remind_at, recurrence, time_zone, \
     series_id, completed, completed_at, created_at, updated_at, version, series_start) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)";

/// Same binds as [`INSERT_TASK`], then the expected version as $21.
pub(crate) const UPDATE_TASK: &str = "update tasks set title = $3, title_key = $4, description = $5, \
     search_text = $6, priority = $7, tags = $8, due_at = $9, remind_before_minutes = $10, \
     remind_at = $11, recurrence = $12, time_zone = $13, series_id = $14, completed = $15, \
     completed_at = $16, created_at = $17, updated_at = $18, version = $19, series_start = $20 \
     where id = $1 and user_id = $2 and version = $21";

/// Reserves occurrence $2 of series $1 for task $3; affects no row when another
/// task already holds it. This unique key, not a check-then-insert, is what makes
/// rolling a series forward happen exactly once under concurrent deliveries.
pub(crate) const RESERVE_OCCURRENCE: &str = "insert into series_occurrences (series_id, occurs_at, task_id) \
     values ($1, $2, $3) on conflict do nothing";

pub(crate) const DELETE_TASK: &str = "delete from tasks where id = $1 and user_id = $2 and version = $3";

pub(crate) const DELETE_TAGS: &str = "delete from task_tags where task_id = $1";

pub(crate) const INSERT_TAG: &str = "insert into task_tags (task_id, user_id, tag) values ($1, $2, $3)";

/// $6 is the writer's lease: while it lasts, republishers leave the row to the
/// writer, which publishes it right after commit.
pub(crate) const INSERT_OUTBOX: &str = "insert into outbox (id, topic, partition_key, payload, created_at, lease_until) \
     values ($1, $2, $3, $4, $5, $6)";

pub(crate) const SELECT_UNPUBLISHED: &str = "select id, topic, partition_key, payload, created_at \
     from outbox where published_at is null order by created_at, id limit $1";

pub(crate) const SELECT_EVENT: &str =
    "select id, topic, partition_key, payload, created_at from outbox where id = $1";

/// $1 the topic, or null for every topic; $2 the limit.
pub(crate) const SELECT_RECENT_EVENTS: &str = "select id, topic, partition_key, payload, created_at \
     from outbox where ($1 is null or topic = $1) order by created_at desc, id desc limit $2";

pub(crate) const MARK_PUBLISHED: &str =
    "update outbox set published_at = $2, lease_until = null where id = $1 and published_at is null";

pub(crate) const RELEASE_UNPUBLISHED: &str =
    "update outbox set lease_until = null where id = $1 and published_at is null";

/// Leases unpublished rows: $1 lease end, $2 created before, $3 now, $4 limit. The
/// backend appends its row-locking clause (`for update skip locked` on
/// PostgreSQL; SQLite has a single writer) and the closing parenthesis.
pub(crate) const CLAIM_UNPUBLISHED_HEAD: &str = "update outbox set lease_until = $1, attempts = attempts + 1 \
     where id in (select id from outbox where published_at is null and created_at < $2 \
     and (lease_until is null or lease_until < $3) order by created_at, id limit $4";

pub(crate) const CLAIM_UNPUBLISHED_TAIL: &str = ") returning id, topic, partition_key, payload, created_at";

/// Claims (consumer $1, event $2) at $3; affects no row when already claimed.
pub(crate) const MARK_PROCESSED: &str = "insert into processed_events (consumer, event_id, processed_at) \
     values ($1, $2, $3) on conflict do nothing";

pub(crate) const INSERT_ACTIVITY: &str = "insert into activity (id, user_id, task_id, kind, event_id, summary, \
     occurred_at) values ($1, $2, $3, $4, $5, $6, $7)";

/// $1 user, $2 task (or null for all tasks), $3 limit; newest first.
pub(crate) const SELECT_ACTIVITY: &str = "select id, user_id, task_id, kind, event_id, summary, occurred_at \
     from activity where user_id = $1 and ($2 is null or task_id = $2) order by occurred_at desc, id desc limit $3";

/// Claims due reminders: $1 now, $2 limit. The backend inserts its row-locking
/// clause between head and tail, as for the outbox. Claiming writes first, so
/// that on SQLite the transaction takes the write lock at once.
pub(crate) const CLAIM_REMINDERS_HEAD: &str = "update tasks set reminded_at = remind_at \
     where id in (select id from tasks where completed = $3 and remind_at is not null and remind_at <= $1 \
     and (reminded_at is null or reminded_at <> remind_at) order by remind_at, id limit $2";

/// PostgreSQL only: claims (consumer $8, event $5) at $9 and writes the activity
/// entry in one statement, one round trip instead of four (begin, claim, insert,
/// commit); no row is written when the event was already claimed.
pub(crate) const RECORD_ACTIVITY_ONCE: &str = "with claimed as (insert into processed_events \
     (consumer, event_id, processed_at) values ($8, $5, $9) on conflict do nothing returning 1) \
     insert into activity (id, user_id, task_id, kind, event_id, summary, occurred_at) \
     select $1, $2, $3, $4, $5, $6, $7 where exists (select 1 from claimed)";

/// PostgreSQL only: the same for a notification; consumer $10, event $4, at $11.
pub(crate) const RECORD_NOTIFICATION_ONCE: &str = "with claimed as (insert into processed_events \
     (consumer, event_id, processed_at) values ($10, $4, $11) on conflict do nothing returning 1) \
     insert into notifications (id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at) \
     select $1, $2, $3, $4, $5, $6, $7, $8, $9 where exists (select 1 from claimed)";

pub(crate) const INSERT_NOTIFICATION: &str = "insert into notifications (id, user_id, task_id, event_id, title, \
     due_at, reminder_at, created_at, read_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const NOTIFICATION_COLUMNS: &str =
    "id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at";

/// $1 user, $2 unread only, $3 limit; newest first.
pub(crate) fn select_notifications() -> String {
    format!(
        "select {NOTIFICATION_COLUMNS} from notifications where user_id = $1 \
         and ($2 = false or read_at is null) order by created_at desc, id desc limit $3"
    )
}

/// $1 id, $2 user, $3 time; keeps the first read time.
pub(crate) fn mark_notification_read() -> String {
    format!(
        "update notifications set read_at = coalesce(read_at, $3) where id = $1 and user_id = $2 \
         returning {NOTIFICATION_COLUMNS}"
    )
}

/// Inserts webhook ($1..$5) unless the user already has $6 of them.
pub(crate) const INSERT_WEBHOOK: &str = "insert into webhooks (id, user_id, url, secret, created_at) \
     select $1, $2, $3, $4, $5 where (select count(*) from webhooks where user_id = $2) < $6";

/// PostgreSQL only: a lock on user $1's webhook registrations until the
/// transaction ends (keyed apart from any other advisory lock by its prefix).
pub(crate) const LOCK_WEBHOOKS_OF_USER: &str =
    "select pg_advisory_xact_lock(hashtextextended('webhooks of ' || $1, 0))";

pub(crate) const SELECT_WEBHOOKS: &str =
    "select id, user_id, url, secret, created_at from webhooks where user_id = $1 order by created_at, id";

pub(crate) const DELETE_WEBHOOK: &str = "delete from webhooks where id = $1 and user_id = $2";

pub(crate) const SELECT_DELIVERY_STATUSES: &str =
    "select webhook_id, status from webhook_deliveries where event_id = $1";

/// Queues body $3 for each webhook of user $2 that does not have event $1 yet, due
/// at $4. A row the previous design left owed without a body gets this one.
pub(crate) const QUEUE_DELIVERIES: &str = "insert into webhook_deliveries (event_id, webhook_id, status, \
     attempts, body, next_attempt_at, updated_at) select $1, id, 'pending', 0, $3, $4, $4 from webhooks \
     where user_id = $2 on conflict (event_id, webhook_id) do update set body = excluded.body, \
     next_attempt_at = excluded.next_attempt_at \
     where webhook_deliveries.status = 'pending' and webhook_deliveries.body is null";

/// Leases owed deliveries: $1 lease end, $2 now, $3 limit; soonest due first. The
/// backend appends its row-locking clause and the closing parenthesis, as for the
/// outbox.
pub(crate) const CLAIM_DELIVERIES_HEAD: &str = "update webhook_deliveries set lease_until = $1 \
     where (event_id, webhook_id) in (select event_id, webhook_id from webhook_deliveries \
     where status = 'pending' and body is not null and next_attempt_at <= $2 \
     and (lease_until is null or lease_until < $2) order by next_attempt_at, event_id limit $3";

pub(crate) const CLAIM_DELIVERIES_TAIL: &str = ") returning event_id, webhook_id, body, attempts";

pub(crate) const SELECT_WEBHOOK: &str =
    "select id, user_id, url, secret, created_at from webhooks where id = $1";

/// Records an attempt at (event $1, webhook $2): status $3, code $4, error $5 at
/// $6, next attempt $7 (pending only). A final row drops its body, and is never
/// changed again (a sender that outlived its lease cannot undo a delivery).
pub(crate) const RECORD_ATTEMPT: &str = "update webhook_deliveries set status = $3, attempts = attempts + 1, \
     last_status_code = $4, last_error = $5, updated_at = $6, next_attempt_at = $7, lease_until = null, \
     body = case when $3 = 'pending' then body else null end \
     where event_id = $1 and webhook_id = $2 and status = 'pending'";

/// Webhook $1's other owed rows wait until $2 too (its receiver is failing),
/// except those leased at $3 (being sent).
pub(crate) const DEFER_WEBHOOK: &str = "update webhook_deliveries set next_attempt_at = $2 \
     where webhook_id = $1 and status = 'pending' and next_attempt_at < $2 \
     and (lease_until is null or lease_until < $3)";

pub(crate) const COUNT_OWED_DELIVERIES: &str =
    "select count(*) from webhook_deliveries where status = 'pending'";

/// Retention: each deletes at most $2 rows older than $1, oldest first.
pub(crate) const PRUNE_OUTBOX: &str = "delete from outbox where id in (select id from outbox \
     where published_at is not null and published_at < $1 order by published_at limit $2)";

pub(crate) const PRUNE_PROCESSED: &str = "delete from processed_events where (consumer, event_id) in \
     (select consumer, event_id from processed_events where processed_at < $1 order by processed_at limit $2)";

pub(crate) const PRUNE_DELIVERIES: &str = "delete from webhook_deliveries where (event_id, webhook_id) in \
     (select event_id, webhook_id from webhook_deliveries where status <> 'pending' and updated_at < $1 \
     order by updated_at limit $2)";

pub(crate) const INSERT_DEAD_LETTER: &str = "insert into dead_letters (id, event_id, topic, subscriber, reason, \
     payload, created_at) values ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const SELECT_DEAD_LETTERS: &str = "select id, event_id, topic, subscriber, reason, payload, created_at \
     from dead_letters order by created_at desc, id desc limit $1";

pub(crate) const TAG_COUNTS: &str = "select tag, count(*) as count from task_tags \
     where user_id = $1 group by tag order by count desc, tag asc";

/// A `tasks` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: Uuid,
    user_id: String,
    title: String,
    description: String,
    priority: i16,
    tags: Json<Vec<String>>,
    due_at: Option<Timestamp>,
    remind_before_minutes: Option<i64>,
    remind_at: Option<Timestamp>,
    recurrence: Option<String>,
    time_zone: Option<String>,
    series_id: Option<Uuid>,
    series_start: Option<Timestamp>,
    completed: bool,
    completed_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        let priority = Priority::from_rank(i32::from(row.priority))
            .ok_or_else(|| StoreError::Corrupt(format!("task {} has priority {}", row.id, row.priority)))?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            title: row.title,
            description: row.description,
            priority,
            tags: row.tags.0,
            due_at: row.due_at.map(Into::into),
            remind_before_minutes: row.remind_before_minutes,
            remind_at: row.remind_at.map(Into::into),
            recurrence: row.recurrence,
            time_zone: row.time_zone,
            series_id: row.series_id,
            series_start: row.series_start.map(Into::into),
            completed: row.completed,
            completed_at: row.completed_at.map(Into::into),
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            version: row.version,
        })
    }
}

/// An `outbox` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub id: Uuid,
    pub topic: String,
    pub partition_key: String,
    pub payload: Json<serde_json::Value>,
    pub created_at: Timestamp,
}

impl From<OutboxRow> for crate::event::OutboxEvent {
    fn from(row: OutboxRow) -> Self {
        Self {
            id: row.id,
            topic: row.topic,
            partition_key: row.partition_key,
            payload: row.payload.0,
            created_at: row.created_at.into(),
        }
    }
}

/// When a lease of `lease` taken at `from` ends: the one place leases are
/// reckoned (one too long for chrono is taken as the default 60 s).
pub(crate) fn lease_end(
    from: chrono::DateTime<chrono::Utc>,
    lease: std::time::Duration,
) -> chrono::DateTime<chrono::Utc> {
    from + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60))
}

/// An `activity` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ActivityRow {
    id: Uuid,
    user_id: String,
    task_id: Uuid,
    kind: String,
    event_id: String,
    summary: String,
    occurred_at: Timestamp,
}

impl From<ActivityRow> for crate::activity::Activity {
    fn from(row: ActivityRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            task_id: row.task_id,
            kind: row.kind,
            event_id: row.event_id,
            summary: row.summary,
            occurred_at: row.occurred_at.into(),
        }
    }
}

/// A `notifications` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct NotificationRow {
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

impl From<NotificationRow> for crate::notification::Notification {
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

/// A `webhooks` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct WebhookRow {
    id: Uuid,
    user_id: String,
    url: String,
    secret: String,
    created_at: Timestamp,
}

impl From<WebhookRow> for crate::webhook::Webhook {
    fn from(row: WebhookRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            url: row.url,
            secret: secrecy::SecretString::from(row.secret),
            created_at: row.created_at.into(),
        }
    }
}

/// A claimed `webhook_deliveries` row.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClaimedRow {
    pub event_id: String,
    pub webhook_id: Uuid,
    pub body: String,
    pub attempts: i32,
}

/// A `dead_letters` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DeadLetterRow {
    id: Uuid,
    event_id: Uuid,
    topic: String,
    subscriber: String,
    reason: String,
    payload: Json<serde_json::Value>,
    created_at: Timestamp,
}

impl From<DeadLetterRow> for crate::event::DeadLetter {
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

/// Binds an activity entry's 7 columns in [`INSERT_ACTIVITY`] order.
macro_rules! bind_activity {
    ($query:expr, $activity:expr) => {{
        let activity: &$crate::activity::Activity = $activity;
        $query
            .bind(activity.id)
            .bind(activity.user_id.as_str())
            .bind(activity.task_id)
            .bind(activity.kind.as_str())
            .bind(activity.event_id.as_str())
            .bind(activity.summary.as_str())
            .bind(Timestamp(activity.occurred_at))
    }};
}

/// Binds a notification's 9 columns in [`INSERT_NOTIFICATION`] order.
macro_rules! bind_notification {
    ($query:expr, $notification:expr) => {{
        let notification: &$crate::notification::Notification = $notification;
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

/// Binds a task's 20 columns in [`INSERT_TASK`] order.
macro_rules! bind_task {
    ($query:expr, $task:expr) => {{
        let task: &$crate::task::Task = $task;
        $query
            .bind(task.id)
            .bind(task.user_id.as_str())
            .bind(task.title.as_str())
            .bind($crate::store::list::title_key(&task.title))
            .bind(task.description.as_str())
            .bind($crate::store::list::search_text(task))
            .bind(task.priority.rank() as i16)
            .bind(sqlx::types::Json(&task.tags))
            .bind(task.due_at.map(Timestamp))
            .bind(task.remind_before_minutes)
            .bind(task.remind_at.map(Timestamp))
            .bind(task.recurrence.as_deref())
            .bind(task.time_zone.as_deref())
            .bind(task.series_id)
            .bind(task.completed)
            .bind(task.completed_at.map(Timestamp))
            .bind(Timestamp(task.created_at))
            .bind(Timestamp(task.updated_at))
            .bind(task.version)
            .bind(task.series_start.map(Timestamp))
    }};
}

/// Implements [`Store`](super::Store) for a struct with a `pool` field of the
/// backend's pool type and a `run_migrations` method.
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:expr, lock_rows = $lock_rows:expr) => {
        impl $store {
            async fn write_tags(
                tx: &mut sqlx::Transaction<'_, $db>,
                task: &$crate::task::Task,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(sql::DELETE_TAGS).bind(task.id).execute(&mut **tx).await?;
                for tag in &task.tags {
                    sqlx::query(sql::INSERT_TAG)
                        .bind(task.id)
                        .bind(task.user_id.as_str())
                        .bind(tag.as_str())
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Claims the event for the consumer inside `tx`; `false` if it was
            /// already handled (the caller then rolls back and reports a duplicate).
            async fn claim_event(
                tx: &mut sqlx::Transaction<'_, $db>,
                consumer: &str,
                event_id: &str,
            ) -> Result<bool, sqlx::Error> {
                let claimed = sqlx::query(sql::MARK_PROCESSED)
                    .bind(consumer)
                    .bind(event_id)
                    .bind(Timestamp(chrono::Utc::now()))
                    .execute(&mut **tx)
                    .await?;
                Ok(claimed.rows_affected() == 1)
            }

            async fn write_activity(
                tx: &mut sqlx::Transaction<'_, $db>,
                activity: &$crate::activity::Activity,
            ) -> Result<(), sqlx::Error> {
                bind_activity!(sqlx::query(sql::INSERT_ACTIVITY), activity).execute(&mut **tx).await?;
                Ok(())
            }

            async fn write_event(
                tx: &mut sqlx::Transaction<'_, $db>,
                event: &$crate::event::OutboxEvent,
            ) -> Result<(), sqlx::Error> {
                Self::write_leased_event(tx, event, None).await
            }

            async fn write_leased_event(
                tx: &mut sqlx::Transaction<'_, $db>,
                event: &$crate::event::OutboxEvent,
                lease_until: Option<chrono::DateTime<chrono::Utc>>,
            ) -> Result<(), sqlx::Error> {
                sqlx::query(sql::INSERT_OUTBOX)
                    .bind(event.id)
                    .bind(event.topic.as_str())
                    .bind(event.partition_key.as_str())
                    .bind(sqlx::types::Json(&event.payload))
                    .bind(Timestamp(event.created_at))
                    .bind(lease_until.map(Timestamp))
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn migrate(&self) -> Result<(), StoreError> {
                self.run_migrations().await
            }

            #[tracing::instrument(skip_all, fields(task_id = %task.id))]
            async fn insert_task(
                &self,
                task: &$crate::task::Task,
                event: &$crate::event::OutboxEvent,
            ) -> Result<(), StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                bind_task!(sqlx::query(sql::INSERT_TASK), task).execute(&mut *tx).await?;
                Self::write_tags(&mut tx, task).await?;
                Self::write_event(&mut tx, event).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn get_task(
                &self,
                user_id: &str,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::task::Task>, StoreError> {
                let sql =
                    format!("select {} from tasks t where t.id = $1 and t.user_id = $2", sql::TASK_COLUMNS);
                let row: Option<sql::TaskRow> =
                    sqlx::query_as(&sql).bind(id).bind(user_id).fetch_optional(&self.pool).await?;
                row.map($crate::task::Task::try_from).transpose()
            }

            #[tracing::instrument(skip_all, fields(task_id = %task.id))]
            async fn update_task(
                &self,
                task: &$crate::task::Task,
                expected_version: i64,
                event: &$crate::event::OutboxEvent,
            ) -> Result<(), StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                let updated = bind_task!(sqlx::query(sql::UPDATE_TASK), task)
                    .bind(expected_version)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() != 1 {
                    return Err(StoreError::VersionConflict);
                }
                Self::write_tags(&mut tx, task).await?;
                Self::write_event(&mut tx, event).await?;
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all, fields(task_id = %task.id))]
            async fn delete_task(
                &self,
                task: &$crate::task::Task,
                event: &$crate::event::OutboxEvent,
            ) -> Result<(), StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                sqlx::query(sql::DELETE_TAGS).bind(task.id).execute(&mut *tx).await?;
                let deleted = sqlx::query(sql::DELETE_TASK)
                    .bind(task.id)
                    .bind(task.user_id.as_str())
                    .bind(task.version)
                    .execute(&mut *tx)
                    .await?;
                if deleted.rows_affected() != 1 {
                    return Err(StoreError::VersionConflict);
                }
                Self::write_event(&mut tx, event).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_tasks(
                &self,
                user_id: &str,
                query: &$crate::store::ListQuery,
            ) -> Result<$crate::store::Page, StoreError> {
                let plan = $crate::store::list::plan(sql::TASK_COLUMNS, user_id, query);
                let mut q = sqlx::query_as::<_, sql::TaskRow>(&plan.sql);
                for param in plan.params {
                    q = match param {
                        Param::Text(v) => q.bind(v),
                        Param::Int(v) => q.bind(v),
                        Param::Bool(v) => q.bind(v),
                        Param::Time(v) => q.bind(Timestamp(v)),
                        Param::Uuid(v) => q.bind(v),
                    };
                }
                let rows = q.fetch_all(&self.pool).await?;
                let tasks =
                    rows.into_iter().map($crate::task::Task::try_from).collect::<Result<Vec<_>, _>>()?;
                Ok($crate::store::list::into_page(tasks, query))
            }

            async fn tag_counts(&self, user_id: &str) -> Result<Vec<$crate::store::TagCount>, StoreError> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as(sql::TAG_COUNTS).bind(user_id).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(tag, count)| $crate::store::TagCount { tag, count }).collect())
            }

            async fn record_activity(
                &self,
                consumer: &str,
                activity: &$crate::activity::Activity,
            ) -> Result<bool, StoreError> {
                if $backend == super::Backend::Postgres {
                    let written = bind_activity!(sqlx::query(sql::RECORD_ACTIVITY_ONCE), activity)
                        .bind(consumer)
                        .bind(Timestamp(chrono::Utc::now()))
                        .execute(&self.pool)
                        .await?;
                    return Ok(written.rows_affected() == 1);
                }
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                if !Self::claim_event(&mut tx, consumer, &activity.event_id).await? {
                    return Ok(false);
                }
                Self::write_activity(&mut tx, activity).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn record_completion(
                &self,
                consumer: &str,
                activity: &$crate::activity::Activity,
                next: Option<(&$crate::task::Task, &$crate::event::OutboxEvent)>,
                lease: std::time::Duration,
            ) -> Result<$crate::store::Completion, StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                if !Self::claim_event(&mut tx, consumer, &activity.event_id).await? {
                    return Ok($crate::store::Completion::Duplicate);
                }
                let mut created = false;
                if let Some((task, event)) = next
                    && let (Some(series), Some(due)) = (task.series_id, task.due_at)
                {
                    let reserved = sqlx::query(sql::RESERVE_OCCURRENCE)
                        .bind(series)
                        .bind(Timestamp(due))
                        .bind(task.id)
                        .execute(&mut *tx)
                        .await?;
                    if reserved.rows_affected() == 1 {
                        bind_task!(sqlx::query(sql::INSERT_TASK), task).execute(&mut *tx).await?;
                        Self::write_tags(&mut tx, task).await?;
                        let lease_until = sql::lease_end(event.created_at, lease);
                        Self::write_leased_event(&mut tx, event, Some(lease_until)).await?;
                        created = true;
                    }
                }
                Self::write_activity(&mut tx, activity).await?;
                tx.commit().await?;
                Ok($crate::store::Completion::Recorded { next_created: created })
            }

            async fn record_notification(
                &self,
                consumer: &str,
                notification: &$crate::notification::Notification,
            ) -> Result<bool, StoreError> {
                if $backend == super::Backend::Postgres {
                    let written =
                        bind_notification!(sqlx::query(sql::RECORD_NOTIFICATION_ONCE), notification)
                            .bind(consumer)
                            .bind(Timestamp(chrono::Utc::now()))
                            .execute(&self.pool)
                            .await?;
                    return Ok(written.rows_affected() == 1);
                }
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                if !Self::claim_event(&mut tx, consumer, &notification.event_id).await? {
                    return Ok(false);
                }
                bind_notification!(sqlx::query(sql::INSERT_NOTIFICATION), notification)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn list_notifications(
                &self,
                user_id: &str,
                unread_only: bool,
                limit: i64,
            ) -> Result<Vec<$crate::notification::Notification>, StoreError> {
                let rows: Vec<sql::NotificationRow> = sqlx::query_as(&sql::select_notifications())
                    .bind(user_id)
                    .bind(unread_only)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn mark_notification_read(
                &self,
                user_id: &str,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<$crate::notification::Notification>, StoreError> {
                let _write = self.writer().await;
                let row: Option<sql::NotificationRow> = sqlx::query_as(&sql::mark_notification_read())
                    .bind(id)
                    .bind(user_id)
                    .bind(Timestamp(at))
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn insert_webhook(
                &self,
                webhook: &$crate::webhook::Webhook,
                max_per_user: i64,
            ) -> Result<bool, StoreError> {
                use secrecy::ExposeSecret;
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                // The limit's count and the insert must not interleave with another registration's.
                Self::lock_webhooks_of(&mut tx, webhook.user_id.as_str()).await?;
                let inserted = sqlx::query(sql::INSERT_WEBHOOK)
                    .bind(webhook.id)
                    .bind(webhook.user_id.as_str())
                    .bind(webhook.url.as_str())
                    .bind(webhook.secret.expose_secret())
                    .bind(Timestamp(webhook.created_at))
                    .bind(max_per_user)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn list_webhooks(
                &self,
                user_id: &str,
            ) -> Result<Vec<$crate::webhook::Webhook>, StoreError> {
                let rows: Vec<sql::WebhookRow> =
                    sqlx::query_as(sql::SELECT_WEBHOOKS).bind(user_id).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn delete_webhook(&self, user_id: &str, id: uuid::Uuid) -> Result<bool, StoreError> {
                let _write = self.writer().await;
                let deleted =
                    sqlx::query(sql::DELETE_WEBHOOK).bind(id).bind(user_id).execute(&self.pool).await?;
                Ok(deleted.rows_affected() == 1)
            }

            async fn webhook_delivery_statuses(
                &self,
                event_id: &str,
            ) -> Result<Vec<(uuid::Uuid, $crate::webhook::DeliveryStatus)>, StoreError> {
                let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(sql::SELECT_DELIVERY_STATUSES)
                    .bind(event_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(id, status)| {
                        $crate::webhook::DeliveryStatus::parse(&status)
                            .map(|s| (id, s))
                            .ok_or_else(|| StoreError::Corrupt(format!("delivery status '{status}'")))
                    })
                    .collect()
            }

            async fn queue_webhook_deliveries(
                &self,
                event_id: &str,
                user_id: &str,
                body: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, StoreError> {
                let _write = self.writer().await;
                let queued = sqlx::query(sql::QUEUE_DELIVERIES)
                    .bind(event_id)
                    .bind(user_id)
                    .bind(body)
                    .bind(Timestamp(now))
                    .execute(&self.pool)
                    .await?;
                Ok(queued.rows_affected())
            }

            async fn claim_webhook_deliveries(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease: std::time::Duration,
                limit: i64,
            ) -> Result<Vec<$crate::webhook::OwedDelivery>, StoreError> {
                let lease_until = sql::lease_end(now, lease);
                let sql =
                    format!("{}{}{}", sql::CLAIM_DELIVERIES_HEAD, $lock_rows, sql::CLAIM_DELIVERIES_TAIL);
                let rows: Vec<sql::ClaimedRow> = {
                    let _write = self.writer().await;
                    sqlx::query_as(&sql)
                        .bind(Timestamp(lease_until))
                        .bind(Timestamp(now))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await?
                };
                let mut webhooks: std::collections::HashMap<uuid::Uuid, Option<$crate::webhook::Webhook>> =
                    std::collections::HashMap::new();
                let mut owed = Vec::with_capacity(rows.len());
                for row in rows {
                    let webhook = match webhooks.get(&row.webhook_id) {
                        Some(found) => found.clone(),
                        None => {
                            let found: Option<sql::WebhookRow> = sqlx::query_as(sql::SELECT_WEBHOOK)
                                .bind(row.webhook_id)
                                .fetch_optional(&self.pool)
                                .await?;
                            let found = found.map($crate::webhook::Webhook::from);
                            webhooks.insert(row.webhook_id, found.clone());
                            found
                        }
                    };
                    owed.push($crate::webhook::OwedDelivery {
                        event_id: row.event_id,
                        webhook_id: row.webhook_id,
                        webhook,
                        body: row.body,
                        attempts: row.attempts,
                    });
                }
                Ok(owed)
            }

            async fn record_webhook_attempt(
                &self,
                event_id: &str,
                webhook_id: uuid::Uuid,
                attempt: &$crate::webhook::Attempt,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                sqlx::query(sql::RECORD_ATTEMPT)
                    .bind(event_id)
                    .bind(webhook_id)
                    .bind(attempt.status.as_str())
                    .bind(attempt.status_code.map(i32::from))
                    .bind(attempt.error.as_deref())
                    .bind(Timestamp(now))
                    .bind(attempt.retry_at.map(Timestamp))
                    .execute(&mut *tx)
                    .await?;
                if let Some(retry_at) = attempt.retry_at {
                    sqlx::query(sql::DEFER_WEBHOOK)
                        .bind(webhook_id)
                        .bind(Timestamp(retry_at))
                        .bind(Timestamp(now))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn count_owed_webhook_deliveries(&self) -> Result<i64, StoreError> {
                let (count,): (i64,) =
                    sqlx::query_as(sql::COUNT_OWED_DELIVERIES).fetch_one(&self.pool).await?;
                Ok(count)
            }

            async fn list_activity(
                &self,
                user_id: &str,
                task_id: Option<uuid::Uuid>,
                limit: i64,
            ) -> Result<Vec<$crate::activity::Activity>, StoreError> {
                let rows: Vec<sql::ActivityRow> = sqlx::query_as(sql::SELECT_ACTIVITY)
                    .bind(user_id)
                    .bind(task_id)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn claim_due_reminders(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                limit: i64,
                source: &str,
                lease: std::time::Duration,
            ) -> Result<Vec<$crate::event::OutboxEvent>, StoreError> {
                let lease_until = sql::lease_end(now, lease);
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                let sql =
                    format!("{}{}) returning {}", sql::CLAIM_REMINDERS_HEAD, $lock_rows, sql::TASK_RETURNING);
                let rows: Vec<sql::TaskRow> = sqlx::query_as(&sql)
                    .bind(Timestamp(now))
                    .bind(limit)
                    .bind(false)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut tasks =
                    rows.into_iter().map($crate::task::Task::try_from).collect::<Result<Vec<_>, _>>()?;
                tasks.sort_by_key(|t| (t.remind_at, t.id));
                let mut events = Vec::with_capacity(tasks.len());
                for task in &tasks {
                    let event = $crate::event::task_event(
                        $crate::event::EventType::Due,
                        task,
                        source,
                        now,
                        task.remind_at,
                    )
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Self::write_leased_event(&mut tx, &event, Some(lease_until)).await?;
                    events.push(event);
                }
                tx.commit().await?;
                Ok(events)
            }

            async fn mark_published(
                &self,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                let _write = self.writer().await;
                sqlx::query(sql::MARK_PUBLISHED).bind(id).bind(Timestamp(at)).execute(&self.pool).await?;
                Ok(())
            }

            async fn release_unpublished(&self, ids: &[uuid::Uuid]) -> Result<(), StoreError> {
                let _write = self.writer().await;
                for id in ids {
                    sqlx::query(sql::RELEASE_UNPUBLISHED).bind(id).execute(&self.pool).await?;
                }
                Ok(())
            }

            async fn claim_unpublished(
                &self,
                created_before: chrono::DateTime<chrono::Utc>,
                now: chrono::DateTime<chrono::Utc>,
                lease: std::time::Duration,
                limit: i64,
            ) -> Result<Vec<$crate::event::OutboxEvent>, StoreError> {
                let lease_until = sql::lease_end(now, lease);
                let sql =
                    format!("{}{}{}", sql::CLAIM_UNPUBLISHED_HEAD, $lock_rows, sql::CLAIM_UNPUBLISHED_TAIL);
                let _write = self.writer().await;
                let mut rows: Vec<sql::OutboxRow> = sqlx::query_as(&sql)
                    .bind(Timestamp(lease_until))
                    .bind(Timestamp(created_before))
                    .bind(Timestamp(now))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                // `returning` keeps no order; publish oldest first.
                rows.sort_by_key(|r| (r.created_at, r.id));
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn prune(
                &self,
                cutoffs: &$crate::store::Retention,
            ) -> Result<$crate::store::Pruned, StoreError> {
                let _write = self.writer().await;
                let mut pruned = $crate::store::Pruned::default();
                for (statement, before, count) in [
                    (sql::PRUNE_OUTBOX, cutoffs.published_before, &mut pruned.outbox),
                    (sql::PRUNE_PROCESSED, cutoffs.processed_before, &mut pruned.processed),
                    (sql::PRUNE_DELIVERIES, cutoffs.deliveries_before, &mut pruned.webhook_deliveries),
                ] {
                    let done = sqlx::query(statement)
                        .bind(Timestamp(before))
                        .bind(cutoffs.limit)
                        .execute(&self.pool)
                        .await?;
                    *count = done.rows_affected();
                }
                Ok(pruned)
            }

            async fn insert_dead_letter(&self, letter: &$crate::event::DeadLetter) -> Result<(), StoreError> {
                let _write = self.writer().await;
                sqlx::query(sql::INSERT_DEAD_LETTER)
                    .bind(letter.id)
                    .bind(letter.event_id)
                    .bind(letter.topic.as_str())
                    .bind(letter.subscriber.as_str())
                    .bind(letter.reason.as_str())
                    .bind(sqlx::types::Json(&letter.payload))
                    .bind(Timestamp(letter.created_at))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn list_dead_letters(
                &self,
                limit: i64,
            ) -> Result<Vec<$crate::event::DeadLetter>, StoreError> {
                let rows: Vec<sql::DeadLetterRow> =
                    sqlx::query_as(sql::SELECT_DEAD_LETTERS).bind(limit).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn count_unpublished(&self) -> Result<i64, StoreError> {
                let (count,): (i64,) =
                    sqlx::query_as("select count(*) from outbox where published_at is null")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(count)
            }

            async fn unpublished_events(
                &self,
                limit: i64,
            ) -> Result<Vec<$crate::event::OutboxEvent>, StoreError> {
                let rows: Vec<sql::OutboxRow> =
                    sqlx::query_as(sql::SELECT_UNPUBLISHED).bind(limit).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn get_event(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::event::OutboxEvent>, StoreError> {
                let row: Option<sql::OutboxRow> =
                    sqlx::query_as(sql::SELECT_EVENT).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.map(Into::into))
            }

            async fn write_events(&self, events: &[$crate::event::OutboxEvent]) -> Result<(), StoreError> {
                let _write = self.writer().await;
                let mut tx = self.pool.begin().await?;
                for event in events {
                    Self::write_event(&mut tx, event).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn recent_events(
                &self,
                topic: Option<&str>,
                limit: i64,
            ) -> Result<Vec<$crate::event::OutboxEvent>, StoreError> {
                let rows: Vec<sql::OutboxRow> = sqlx::query_as(sql::SELECT_RECENT_EVENTS)
                    .bind(topic)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }
        }
    };
}

pub(crate) use {bind_activity, bind_notification, bind_task, impl_store};
