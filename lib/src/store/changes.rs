//! The changes feed's reads: outbox events and notifications after a cursor,
//! below the horizon of what has surely committed (see the migration
//! `changes`), and the signal that wakes the feed's readers.

use sqlx::types::Json;
use tokio::sync::watch;

use super::db::{Dialects, Pool, on_pool};
use super::notifications::NotificationRow;
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use std::collections::HashMap;

use crate::changes::{ChangeCursor, ChangeRows, EventChange, FeedBatch};

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

/// The events after ($2, $3) below the horizon ($4, $5), at most $6, each
/// with every reader of the JSON array $1 who sees it (as [`EVENTS_AFTER`]
/// decides for one), or once with no reader when none does: so the last row
/// says how far the read reached. Who sees an event is found from its list's
/// members, not by asking for each reader.
macro_rules! events_for_readers {
    ($readers:literal) => {
        concat!(
            "with o as (select xid, seq, payload, created_at, list_id, member_id, moved_from from outbox \
             where (xid, seq) > ($2, $3) and xid < $4 and seq <= $5 and topic <> 'task-due' \
             order by xid, seq limit $6), \
             r as (",
            $readers,
            "), \
             seen as (select o.xid, o.seq, m.user_id as reader from o join list_members m on m.list_id = o.list_id \
             and (o.xid, o.seq) >= (m.joined_xid, m.joined_seq) \
             union select o.xid, o.seq, o.member_id from o where o.member_id is not null \
             union select o.xid, o.seq, f.user_id from o join list_members f on f.list_id = o.moved_from \
             and (o.xid, o.seq) >= (f.joined_xid, f.joined_seq)) \
             select o.xid, o.seq, s.reader, o.payload, o.created_at, (m.list_id is not null) as member from o \
             left join (select seen.* from seen join r on r.reader = seen.reader) s on s.xid = o.xid and s.seq = o.seq \
             left join list_members m on m.list_id = o.list_id and m.user_id = s.reader \
             and (o.xid, o.seq) >= (m.joined_xid, m.joined_seq) \
             order by o.xid, o.seq"
        )
    };
}

const EVENTS_FOR_READERS: Dialects = Dialects {
    postgres: events_for_readers!("select jsonb_array_elements_text($1) as reader"),
    sqlite: events_for_readers!("select value as reader from json_each($1)"),
};

/// The notifications of the readers $1 after ($2, $3) below the horizon ($4,
/// $5), at most $6.
const NOTIFICATIONS_FOR_READERS: Dialects = Dialects {
    postgres: "select xid, seq, id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at \
         from notifications where (xid, seq) > ($2, $3) and xid < $4 and seq <= $5 \
         and user_id in (select jsonb_array_elements_text($1)) order by xid, seq limit $6",
    sqlite: "select xid, seq, id, user_id, task_id, event_id, title, due_at, reminder_at, created_at, read_at \
         from notifications where (xid, seq) > ($2, $3) and xid < $4 and seq <= $5 \
         and user_id in (select value from json_each($1)) order by xid, seq limit $6",
};

/// Binds the six parameters every read of the feed takes, in order: who
/// reads ($1), the cursor ($2, $3), the horizon ($4, $5) and the limit ($6).
macro_rules! bind_feed {
    ($query:expr, $who:expr, $after:expr, $horizon:expr, $limit:expr) => {
        $query.bind($who).bind($after.xid).bind($after.seq).bind($horizon.0).bind($horizon.1).bind($limit)
    };
}

/// An event and one reader who sees it, if any.
#[derive(Debug, sqlx::FromRow)]
struct ReaderEventRow {
    xid: i64,
    seq: i64,
    reader: Option<String>,
    payload: Json<serde_json::Value>,
    created_at: Timestamp,
    member: Option<bool>,
}

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
        Ok(self.horizon_cursor(xid, seq))
    }

    /// The position up to which every change below the horizon (`below_xid`,
    /// `up_to_seq`) lies.
    fn horizon_cursor(&self, below_xid: i64, up_to_seq: i64) -> ChangeCursor {
        match self.backend() {
            super::Backend::Postgres => ChangeCursor { xid: below_xid - 1, seq: i64::MAX },
            super::Backend::Sqlite => ChangeCursor { xid: 0, seq: up_to_seq },
        }
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
        let horizon = (below_xid, up_to_seq);
        let (events, notifications): (Vec<EventRow>, Vec<NotificationChangeRow>) = on_pool!(self.pool, |c| {
            let events =
                bind_feed!(sqlx::query_as(EVENTS_AFTER), user_id, after, horizon, limit).fetch_all(c).await?;
            let notifications =
                bind_feed!(sqlx::query_as(NOTIFICATIONS_AFTER), user_id, after, horizon, limit)
                    .fetch_all(c)
                    .await?;
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

    /// Every change after `after` that any of `readers` can see, each with
    /// those who see it: one read for all of them, however many they are.
    /// Up to `limit` events and `limit` notifications; [`FeedBatch::to`] says
    /// how far it reached.
    pub async fn changes_for(
        &self,
        readers: &[String],
        after: ChangeCursor,
        limit: i64,
    ) -> Result<FeedBatch, StoreError> {
        let mut readers = readers.to_vec();
        readers.sort_unstable();
        readers.dedup();
        let readers = readers.as_slice();
        let (below_xid, up_to_seq) = self.changes_horizon().await?;
        let (horizon, backend) = ((below_xid, up_to_seq), self.backend());
        let (events, notifications): (Vec<ReaderEventRow>, Vec<NotificationChangeRow>) =
            on_pool!(self.pool, |c| {
                let events = sqlx::query_as(EVENTS_FOR_READERS.of(backend));
                let events = bind_feed!(events, Json(readers), after, horizon, limit).fetch_all(c).await?;
                let notifications = sqlx::query_as(NOTIFICATIONS_FOR_READERS.of(backend));
                let notifications =
                    bind_feed!(notifications, Json(readers), after, horizon, limit).fetch_all(c).await?;
                (events, notifications)
            });
        // Each kind read in full up to the horizon, or up to its last row
        // when it filled its limit: the batch reaches the nearer.
        // A horizon never moves back, but `after` may come from another
        // replica's read: nothing is below it.
        let mut to = self.horizon_cursor(below_xid, up_to_seq).max(after);
        let mut event_positions: Vec<ChangeCursor> =
            events.iter().map(|row| ChangeCursor { xid: row.xid, seq: row.seq }).collect();
        event_positions.dedup();
        let mut has_more = false;
        if event_positions.len() as i64 >= limit
            && let Some(last) = event_positions.last()
        {
            to = to.min(*last);
            has_more = true;
        }
        if notifications.len() as i64 >= limit
            && let Some(last) = notifications.last()
        {
            to = to.min(ChangeCursor { xid: last.xid, seq: last.seq });
            has_more = true;
        }
        let mut rows: HashMap<String, ChangeRows> =
            readers.iter().map(|r| (r.clone(), ChangeRows::default())).collect();
        for row in events {
            let cursor = ChangeCursor { xid: row.xid, seq: row.seq };
            let Some(reader) = row.reader else { continue };
            if cursor > to {
                continue;
            }
            if let Some(mine) = rows.get_mut(&reader) {
                mine.events.push(EventChange {
                    cursor,
                    payload: row.payload.0,
                    time: row.created_at.into(),
                    sees_list: row.member.unwrap_or(false),
                });
            }
        }
        for row in notifications {
            let cursor = ChangeCursor { xid: row.xid, seq: row.seq };
            if cursor > to {
                continue;
            }
            let notification: crate::notification::Notification = row.notification.into();
            if let Some(mine) = rows.get_mut(&notification.user_id) {
                mine.notifications.push((cursor, notification));
            }
        }
        Ok(FeedBatch { after, to, has_more, rows })
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
