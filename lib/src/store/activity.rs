//! Activity history entries.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Pool, Tx, on_pool, on_tx};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::activity::Activity;

const INSERT_ACTIVITY: &str = "insert into activity (id, user_id, task_id, list_id, kind, event_id, \
     summary, occurred_at) values ($1, $2, $3, $4, $5, $6, $7, $8)";

/// PostgreSQL only: claims each event for consumer $9 at $10 and writes the
/// entries of those not claimed before, in one statement; the columns as
/// arrays $1..$8, of distinct events. The event ids whose entries were written.
const RECORD_ACTIVITIES_ONCE: &str = "with input as (select * from unnest($1::uuid[], $2::text[], \
     $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[]) \
     as i(id, user_id, task_id, list_id, kind, event_id, summary, occurred_at)), \
     claimed as (insert into processed_events (consumer, event_id, processed_at) \
     select $9, event_id, $10 from input on conflict do nothing returning event_id) \
     insert into activity (id, user_id, task_id, list_id, kind, event_id, summary, occurred_at) \
     select i.id, i.user_id, i.task_id, i.list_id, i.kind, i.event_id, i.summary, i.occurred_at \
     from input i join claimed c on c.event_id = i.event_id returning event_id";

/// The entries of the lists user $1 is a member of, of task $2 and of list $3
/// (each null for all), at most $4; newest first.
const SELECT_ACTIVITY: &str = "select id, user_id, task_id, list_id, kind, event_id, summary, occurred_at \
     from activity where list_id in (select m.list_id from list_members m where m.user_id = $1) \
     and ($2 is null or task_id = $2) and ($3 is null or list_id = $3) \
     order by occurred_at desc, id desc limit $4";

/// An `activity` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
struct ActivityRow {
    id: Uuid,
    user_id: String,
    task_id: Option<Uuid>,
    list_id: Uuid,
    kind: String,
    event_id: String,
    summary: String,
    occurred_at: Timestamp,
}

impl From<ActivityRow> for Activity {
    fn from(row: ActivityRow) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            task_id: row.task_id,
            list_id: row.list_id,
            kind: row.kind,
            event_id: row.event_id,
            summary: row.summary,
            occurred_at: row.occurred_at.into(),
        }
    }
}

/// Binds an activity entry's 8 columns in [`INSERT_ACTIVITY`] order.
macro_rules! bind_activity {
    ($query:expr, $activity:expr) => {{
        let activity: &Activity = $activity;
        $query
            .bind(activity.id)
            .bind(activity.user_id.as_str())
            .bind(activity.task_id)
            .bind(activity.list_id)
            .bind(activity.kind.as_str())
            .bind(activity.event_id.as_str())
            .bind(activity.summary.as_str())
            .bind(Timestamp(activity.occurred_at))
    }};
}

impl Tx {
    pub async fn insert_activity(&mut self, activity: &Activity) -> Result<(), StoreError> {
        on_tx!(self, |c| bind_activity!(sqlx::query(INSERT_ACTIVITY), activity)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}

impl Store {
    /// Records `activity` for `consumer` once per event id, claimed at `at`:
    /// `false` (and no change) when this consumer already handled that event.
    pub async fn record_activity_once(
        &self,
        consumer: &str,
        activity: &Activity,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let written = self.record_activities_once(consumer, std::slice::from_ref(activity), at).await?;
        Ok(written.first() == Some(&true))
    }

    /// Records each of `activities` (of distinct events) for `consumer` once
    /// per event id, claimed at `at`: whether each was written, in order. One statement on
    /// PostgreSQL; one transaction on SQLite.
    pub async fn record_activities_once(
        &self,
        consumer: &str,
        activities: &[Activity],
        at: DateTime<Utc>,
    ) -> Result<Vec<bool>, StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            let column = |f: fn(&Activity) -> String| activities.iter().map(f).collect::<Vec<_>>();
            let written: Vec<(String,)> = sqlx::query_as(RECORD_ACTIVITIES_ONCE)
                .bind(activities.iter().map(|a| a.id).collect::<Vec<_>>())
                .bind(column(|a| a.user_id.clone()))
                .bind(activities.iter().map(|a| a.task_id).collect::<Vec<_>>())
                .bind(activities.iter().map(|a| a.list_id).collect::<Vec<_>>())
                .bind(column(|a| a.kind.clone()))
                .bind(column(|a| a.event_id.clone()))
                .bind(column(|a| a.summary.clone()))
                .bind(activities.iter().map(|a| a.occurred_at).collect::<Vec<_>>())
                .bind(consumer)
                .bind(Timestamp(at))
                .fetch_all(pool)
                .await?;
            let written: std::collections::HashSet<String> = written.into_iter().map(|(id,)| id).collect();
            return Ok(activities.iter().map(|a| written.contains(&a.event_id)).collect());
        }
        let mut tx = self.begin().await?;
        let mut written = Vec::with_capacity(activities.len());
        for activity in activities {
            let claimed = tx.claim_event(consumer, &activity.event_id, at).await?;
            if claimed {
                tx.insert_activity(activity).await?;
            }
            written.push(claimed);
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The activity of the lists the user is a member of, newest first, for
    /// one task or all of them.
    pub async fn list_activity(
        &self,
        user_id: &str,
        task_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Activity>, StoreError> {
        self.select_activity(user_id, task_id, None, limit).await
    }

    /// The activity of one list, newest first, if the user is a member of it
    /// (else none).
    pub async fn list_activity_in(
        &self,
        user_id: &str,
        list_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Activity>, StoreError> {
        self.select_activity(user_id, None, Some(list_id), limit).await
    }

    async fn select_activity(
        &self,
        user_id: &str,
        task_id: Option<Uuid>,
        list_id: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Activity>, StoreError> {
        let rows: Vec<ActivityRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_ACTIVITY)
                .bind(user_id)
                .bind(task_id)
                .bind(list_id)
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
