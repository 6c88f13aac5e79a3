//! The changes feed's reads: outbox events and notifications after a cursor,
//! below the horizon of what has surely committed (see the migration
//! `changes`), and the signal that wakes the feed's readers.

use sqlx::types::Json;
use tokio::sync::watch;

use super::db::{Dialects, Pool, on_pool};
use super::notifications::NotificationRow;
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::changes::{ChangeCursor, ChangeRows, EventChange};

/// Where a reader may read up to: rows with `xid` below the first number and
/// `seq` up to the second have all committed, and no row can commit there
/// later. PostgreSQL: its snapshot's xmin; SQLite (one writer, numbering in
/// commit order): the last number handed out.
const HORIZON: Dialects = Dialects {
    postgres: "select pg_snapshot_xmin(pg_current_snapshot())::text::bigint, 9223372036854775807",
    sqlite: "select 9223372036854775807, last from change_seq",
};

const SELECT_PRUNED: &str = "select xid, seq from changes_pruned where id = 1";

/// $1 the user, ($2, $3) the cursor, ($4, $5) the horizon, $6 the limit: the
/// events of the lists the user is a member of, from when they joined (a
/// member sees a list's changes, not its history: what its tasks were before
/// is what a first page shows), their own joining or leaving, and tasks
/// moving out of their lists (`member` false: the user does not see the list
/// the task went to). A reminder firing reaches the feed as its notification.
const EVENTS_AFTER: &str = "select o.xid, o.seq, o.payload, o.created_at, (m.list_id is not null) as member \
     from outbox o \
     left join list_members m on m.list_id = o.list_id and m.user_id = $1 \
     and (o.xid, o.seq) >= (m.joined_xid, m.joined_seq) \
     left join list_members f on f.list_id = o.moved_from and f.user_id = $1 \
     and (o.xid, o.seq) >= (f.joined_xid, f.joined_seq) \
     where (o.xid, o.seq) > ($2, $3) and o.xid < $4 and o.seq <= $5 and o.topic <> 'task-due' \
     and (m.list_id is not null or o.member_id = $1 or f.list_id is not null) \
     order by o.xid, o.seq limit $6";

/// As [`EVENTS_AFTER`], for the user's notifications.
const NOTIFICATIONS_AFTER: &str = "select xid, seq, id, user_id, task_id, event_id, title, due_at, \
     reminder_at, created_at, read_at from notifications \
     where user_id = $1 and (xid, seq) > ($2, $3) and xid < $4 and seq <= $5 \
     order by xid, seq limit $6";

#[derive(Debug, sqlx::FromRow)]
struct EventRow {
    xid: i64,
    seq: i64,
    payload: Json<serde_json::Value>,
    created_at: Timestamp,
    /// Null for an event written before lists.
    member: Option<bool>,
}

#[derive(Debug, sqlx::FromRow)]
struct NotificationChangeRow {
    xid: i64,
    seq: i64,
    #[sqlx(flatten)]
    notification: NotificationRow,
}

impl Store {
    /// The position after every change that has surely committed: where a
    /// client that has just loaded everything starts following the feed. A
    /// change committed just before may come again after it.
    pub async fn changes_head(&self) -> Result<ChangeCursor, StoreError> {
        let (xid, seq) = self.changes_horizon().await?;
        Ok(match self.backend() {
            super::Backend::Postgres => ChangeCursor { xid: xid - 1, seq: i64::MAX },
            super::Backend::Sqlite => ChangeCursor { xid: 0, seq },
        })
    }

    /// Up to `limit` of each kind of change `user_id` can see after `after`,
    /// every one below one horizon, so that the two kinds merge into one order.
    pub async fn changes_after(
        &self,
        user_id: &str,
        after: ChangeCursor,
        limit: i64,
    ) -> Result<ChangeRows, StoreError> {
        let (below_xid, up_to_seq) = self.changes_horizon().await?;
        // Both statements take the same six parameters, in this order.
        macro_rules! bind_after {
            ($query:expr) => {
                $query
                    .bind(user_id)
                    .bind(after.xid)
                    .bind(after.seq)
                    .bind(below_xid)
                    .bind(up_to_seq)
                    .bind(limit)
            };
        }
        let (events, notifications): (Vec<EventRow>, Vec<NotificationChangeRow>) = on_pool!(self.pool, |c| {
            let events = bind_after!(sqlx::query_as(EVENTS_AFTER)).fetch_all(c).await?;
            let notifications = bind_after!(sqlx::query_as(NOTIFICATIONS_AFTER)).fetch_all(c).await?;
            (events, notifications)
        });
        Ok(ChangeRows {
            events: events
                .into_iter()
                .map(|row| EventChange {
                    cursor: ChangeCursor { xid: row.xid, seq: row.seq },
                    payload: row.payload.0,
                    time: row.created_at.into(),
                    sees_list: row.member.unwrap_or(false),
                })
                .collect(),
            notifications: notifications
                .into_iter()
                .map(|row| (ChangeCursor { xid: row.xid, seq: row.seq }, row.notification.into()))
                .collect(),
        })
    }

    /// The newest position whose event retention has deleted: a client
    /// behind it has missed changes.
    pub async fn changes_pruned(&self) -> Result<ChangeCursor, StoreError> {
        let (xid, seq): (i64, i64) =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_PRUNED).fetch_one(c).await?);
        Ok(ChangeCursor { xid, seq })
    }

    /// A receiver that changes whenever a change may have committed, in this
    /// process or (PostgreSQL) any other.
    pub fn watch_changes(&self) -> watch::Receiver<u64> {
        let pool = match &self.pool {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite { .. } => None,
        };
        self.signal.subscribe(pool)
    }

    async fn changes_horizon(&self) -> Result<(i64, i64), StoreError> {
        let statement = HORIZON.of(self.backend());
        Ok(on_pool!(self.pool, |c| sqlx::query_as(statement).fetch_one(c).await?))
    }
}
