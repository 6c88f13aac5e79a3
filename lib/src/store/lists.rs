//! Task lists, read through the reader's membership (with their role in it).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::db::{Tx, on_pool, on_tx, on_writer};
use super::members;
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::lists::{ListCount, TaskList};
use crate::members::{Member, Role};

/// The lists member $1 belongs to, archived ones too if $2 (else $3 false),
/// in their own order (the position of their membership).
const SELECT_LISTS: &str = "select l.id, l.owner_id, l.name, l.colour, m.position, l.archived, l.inbox, \
     l.created_at, l.updated_at, l.version, m.role from lists l \
     join list_members m on m.list_id = l.id and m.user_id = $1 \
     where ($2 or l.archived = $3) order by m.position, l.created_at, l.id";

/// Member $2's own position of list $1.
const MEMBER_POSITION: &str = "select position from list_members where list_id = $1 and user_id = $2";

/// Sets member $2's own position of list $1 to $3.
const SET_MEMBER_POSITION: &str = "update list_members set position = $3 where list_id = $1 and user_id = $2";

/// The open tasks ($2 false) of each list member $1 belongs to, and how many
/// are due before $3; read from `tasks_list_open_due`, one index range per list.
const OPEN_COUNTS: &str = "select t.list_id, count(*) as open, \
     cast(sum(case when t.due_at < $3 then 1 else 0 end) as bigint) as overdue from tasks t \
     join list_members m on m.list_id = t.list_id and m.user_id = $1 \
     where t.completed = $2 group by t.list_id";

/// List $1 if $2 is a member, at their position.
const SELECT_LIST: &str = "select l.id, l.owner_id, l.name, l.colour, m.position, l.archived, l.inbox, \
     l.created_at, l.updated_at, l.version, m.role from lists l \
     join list_members m on m.list_id = l.id and m.user_id = $2 where l.id = $1";

/// Inserts list $1..$10 unless its owner already has $11 lists.
const INSERT_LIST: &str = "insert into lists (id, owner_id, name, colour, position, archived, inbox, \
     created_at, updated_at, version) select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
     where (select count(*) from lists where owner_id = $2) < $11";

/// Inserts an Inbox ($1..$10) unless the owner has one (`lists_one_inbox`).
const INSERT_INBOX: &str = "insert into lists (id, owner_id, name, colour, position, archived, inbox, \
     created_at, updated_at, version) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict do nothing";

/// The Inbox of $1 ($2 true), with its one member, its owner.
const SELECT_INBOX: &str = "select l.id, l.owner_id, l.name, l.colour, m.position, l.archived, l.inbox, \
     l.created_at, l.updated_at, l.version, m.role from lists l \
     join list_members m on m.list_id = l.id and m.user_id = l.owner_id \
     where l.owner_id = $1 and l.inbox = $2";

/// Makes $1 the owner ($2) of their Inbox ($3 true), whichever insert stored it.
const INSERT_INBOX_OWNER: &str = "insert into list_members (list_id, user_id, role, added_at) \
     select id, owner_id, $2, created_at from lists where owner_id = $1 and inbox = $3 \
     on conflict do nothing";

/// Same binds as [`INSERT_LIST`]'s first ten, then the expected version as $11.
const UPDATE_LIST: &str = "update lists set name = $3, colour = $4, position = $5, archived = $6, \
     inbox = $7, created_at = $8, updated_at = $9, version = $10 \
     where id = $1 and owner_id = $2 and version = $11";

/// Deletes list $1 at version $2, never an Inbox ($3 false); its members go
/// with it (`on delete cascade`).
const DELETE_LIST: &str = "delete from lists where id = $1 and version = $2 and inbox = $3";

/// A `lists` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
struct ListRow {
    id: Uuid,
    owner_id: String,
    name: String,
    colour: Option<String>,
    position: i64,
    archived: bool,
    inbox: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i64,
    role: String,
}

impl TryFrom<ListRow> for TaskList {
    type Error = StoreError;

    fn try_from(row: ListRow) -> Result<Self, StoreError> {
        let role = members::role(&row.role, row.id)?;
        Ok(Self {
            id: row.id,
            owner_id: row.owner_id,
            name: row.name,
            colour: row.colour,
            position: row.position,
            archived: row.archived,
            inbox: row.inbox,
            created_at: row.created_at.into(),
            updated_at: row.updated_at.into(),
            version: row.version,
            role,
        })
    }
}

/// Binds a list's 10 columns in [`INSERT_LIST`] order.
macro_rules! bind_list {
    ($query:expr, $list:expr) => {{
        let list: &TaskList = $list;
        $query
            .bind(list.id)
            .bind(list.owner_id.as_str())
            .bind(list.name.as_str())
            .bind(list.colour.as_deref())
            .bind(list.position)
            .bind(list.archived)
            .bind(list.inbox)
            .bind(Timestamp(list.created_at))
            .bind(Timestamp(list.updated_at))
            .bind(list.version)
    }};
}

/// Users' Inbox ids as this store has read them. An Inbox is made once and
/// never deleted or replaced, so an id read once stays right, and the write
/// path ([`Store::inbox_id`]) needs no read for it. Bounded: when full it is
/// emptied, and ids are read again as they are needed.
#[derive(Debug, Default)]
pub(super) struct InboxIds(std::sync::Mutex<std::collections::HashMap<String, Uuid>>);

/// Users whose Inbox ids a store keeps (about 100 bytes each).
const INBOX_IDS_MAX: usize = 100_000;

impl InboxIds {
    fn get(&self, owner_id: &str) -> Option<Uuid> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(owner_id).copied()
    }

    fn remember(&self, owner_id: &str, id: Uuid) {
        let mut ids = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if ids.len() >= INBOX_IDS_MAX {
            ids.clear();
        }
        ids.insert(owner_id.to_owned(), id);
    }
}

impl Store {
    /// The id of `owner_id`'s Inbox, made now if they have none: from memory
    /// after the first time.
    pub async fn inbox_id(
        &self,
        owner_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Uuid, StoreError> {
        if let Some(id) = self.inboxes.get(owner_id) {
            return Ok(id);
        }
        Ok(self.inbox_or_insert(&TaskList::inbox(owner_id, now)).await?.id)
    }

    /// The lists `user_id` is a member of, by position, with their role in
    /// each; archived ones only if asked for.
    pub async fn lists(&self, user_id: &str, with_archived: bool) -> Result<Vec<TaskList>, StoreError> {
        let rows: Vec<ListRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_LISTS).bind(user_id).bind(with_archived).bind(false).fetch_all(c).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// How many open tasks each list of `user_id` holds, and how many of them
    /// are due before `now`; a list with none is left out.
    pub async fn open_counts(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<ListCount>, StoreError> {
        let rows: Vec<(Uuid, i64, i64)> = on_pool!(self.pool, |c| sqlx::query_as(OPEN_COUNTS)
            .bind(user_id)
            .bind(false)
            .bind(Timestamp(now))
            .fetch_all(c)
            .await?);
        Ok(rows.into_iter().map(|(list_id, open, overdue)| ListCount { list_id, open, overdue }).collect())
    }

    /// The list with this id, with the role `user_id` has in it; `None` for a
    /// missing list and for one they are not a member of alike.
    pub async fn get_list(&self, user_id: &str, id: Uuid) -> Result<Option<TaskList>, StoreError> {
        let row: Option<ListRow> = on_pool!(self.pool, |c| sqlx::query_as(SELECT_LIST)
            .bind(id)
            .bind(user_id)
            .fetch_optional(c)
            .await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The owner's Inbox, stored as `inbox` (with its owner as its one member)
    /// unless they have one already: the stored one either way. Concurrent
    /// callers all get the same one; only the first request of a user writes.
    pub async fn inbox_or_insert(&self, inbox: &TaskList) -> Result<TaskList, StoreError> {
        if let Some(found) = self.inbox_of(&inbox.owner_id).await? {
            self.inboxes.remember(&found.owner_id, found.id);
            return Ok(found);
        }
        let mut tx = self.begin().await?;
        on_tx!(tx, |c| bind_list!(sqlx::query(INSERT_INBOX), inbox).execute(c).await.map(drop)?);
        on_tx!(tx, |c| sqlx::query(INSERT_INBOX_OWNER)
            .bind(inbox.owner_id.as_str())
            .bind(Role::Owner.as_str())
            .bind(true)
            .execute(c)
            .await
            .map(drop)?);
        tx.commit().await?;
        let stored = self.inbox_of(&inbox.owner_id).await?;
        let stored = stored
            .ok_or_else(|| StoreError::Corrupt(format!("no Inbox for {} after insert", inbox.owner_id)))?;
        self.inboxes.remember(&stored.owner_id, stored.id);
        Ok(stored)
    }

    /// Whether `user_id` has an account here: they have signed in and used
    /// the app, which gave them their Inbox. A list is shared only with such
    /// a user, so that a mistyped id shares nothing with whoever gets it later.
    pub async fn has_account(&self, user_id: &str) -> Result<bool, StoreError> {
        Ok(self.inbox_of(user_id).await?.is_some())
    }

    async fn inbox_of(&self, owner_id: &str) -> Result<Option<TaskList>, StoreError> {
        let row: Option<ListRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_INBOX).bind(owner_id).bind(true).fetch_optional(c).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// Deletes `list` (as last read, version included) unless it is an Inbox;
    /// [`StoreError::VersionConflict`] if it changed or vanished meanwhile, or
    /// is an Inbox; [`StoreError::ListNotEmpty`] while tasks are in it. The
    /// tasks' foreign key decides, so a task added concurrently either lands
    /// before (and the deletion is refused) or finds no list.
    pub async fn delete_list(&self, list: &TaskList) -> Result<(), StoreError> {
        let deleted = on_writer!(self.pool, |c| {
            sqlx::query(DELETE_LIST)
                .bind(list.id)
                .bind(list.version)
                .bind(false)
                .execute(c)
                .await
                .map_err(StoreError::list_not_empty)?
                .rows_affected()
        });
        StoreError::unless_conflict(deleted)
    }
}

impl Tx {
    /// Stores a new list, with its maker as its owner (last in their order of
    /// their lists), unless they already
    /// made `max_per_user`; `false` then. Under [`Tx::lock_user`] for
    /// `"lists"` the limit holds.
    pub async fn insert_list(&mut self, list: &TaskList, max_per_user: i64) -> Result<bool, StoreError> {
        let inserted = on_tx!(self, |c| {
            bind_list!(sqlx::query(INSERT_LIST), list).bind(max_per_user).execute(c).await?.rows_affected()
        });
        if inserted == 1 {
            self.insert_member(&Member::owner(list.id, &list.owner_id, list.created_at)).await?;
        }
        Ok(inserted == 1)
    }

    /// Where list `list` stands in `user_id`'s own order; `None` when they
    /// are not a member.
    pub async fn member_position(&mut self, list: Uuid, user_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(on_tx!(self, |c| sqlx::query_scalar(MEMBER_POSITION)
            .bind(list)
            .bind(user_id)
            .fetch_optional(c)
            .await?))
    }

    /// Puts list `list` at `position` in `user_id`'s own order of their
    /// lists; `false` when they are not a member.
    pub async fn set_member_position(
        &mut self,
        list: Uuid,
        user_id: &str,
        position: i64,
    ) -> Result<bool, StoreError> {
        let updated = on_tx!(self, |c| sqlx::query(SET_MEMBER_POSITION)
            .bind(list)
            .bind(user_id)
            .bind(position)
            .execute(c)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Replaces the stored list with `list`, provided the stored version is
    /// still `expected_version`; otherwise [`StoreError::VersionConflict`].
    pub async fn update_list(&mut self, list: &TaskList, expected_version: i64) -> Result<(), StoreError> {
        let updated = on_tx!(self, |c| {
            bind_list!(sqlx::query(UPDATE_LIST), list)
                .bind(expected_version)
                .execute(c)
                .await?
                .rows_affected()
        });
        StoreError::unless_conflict(updated)
    }
}
