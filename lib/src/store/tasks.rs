//! Tasks: their rows and tags, the occurrences a series has reserved, and the
//! reminder claims.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::db::{Dialects, Tx, on_pool, on_tx};
use super::list::{self, ListQuery, Page, Param};
use super::members;
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::members::Role;
use crate::task::{Priority, Task};

/// How many tags a user has used, and on how many tasks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TagCount {
    pub tag: String,
    pub count: i64,
}

/// The columns a [`TaskRow`] reads, with the table alias `t`, as a literal
/// for `concat!`.
macro_rules! task_columns {
    () => {
        "t.id, t.user_id, t.list_id, t.assignee_id, t.title, t.description, t.priority, t.tags, \
         t.due_at, t.remind_before_minutes, t.remind_at, t.recurrence, t.time_zone, t.series_id, \
         t.series_start, t.completed, t.completed_at, t.created_at, t.updated_at, t.version, t.parent_id, \
         t.position"
    };
}
pub(super) use task_columns;

/// The columns of a [`TaskRow`], for the list query.
const TASK_COLUMNS: &str = task_columns!();

/// Task $1 if $2 is a member of its list, with their role there.
const SELECT_TASK: &str = concat!(
    "select ",
    task_columns!(),
    ", m.role from tasks t join list_members m on m.list_id = t.list_id and m.user_id = $2 where t.id = $1"
);

/// PostgreSQL only: for each (user, task) of arrays $1 and $2, the task if the
/// user is a member of its list, with its place `n` (from 1) in the arrays.
const SELECT_TASKS_SEEN: &str = concat!(
    "select ",
    task_columns!(),
    ", i.n from unnest($1::text[], $2::uuid[]) with ordinality as i(user_id, task_id, n) \
     join tasks t on t.id = i.task_id join list_members m on m.list_id = t.list_id and m.user_id = i.user_id"
);

/// The head of an insert of a task's 24 columns, bound $1..$24 in this
/// order: see [`bind_task!`].
macro_rules! insert_into_tasks {
    () => {
        "insert into tasks (id, user_id, title, title_key, description, \
         search_text, priority, tags, due_at, remind_before_minutes, remind_at, recurrence, time_zone, \
         series_id, completed, completed_at, created_at, updated_at, version, series_start, list_id, \
         assignee_id, parent_id, position) "
    };
}

/// The 24 binds of [`insert_into_tasks!`].
macro_rules! task_values {
    () => {
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24"
    };
}

const INSERT_TASK: &str = concat!(insert_into_tasks!(), "values (", task_values!(), ")");

/// Whether $25 may add tasks to list $21: an owner or editor of it, and the
/// list not archived.
macro_rules! may_add_to_list {
    () => {
        "select 1 from list_members m join lists l on l.id = m.list_id \
         where m.list_id = $21 and m.user_id = $25 and m.role <> 'viewer' and not l.archived"
    };
}

/// [`INSERT_TASK`] if [`may_add_to_list!`]: the check and the write in one
/// statement. On PostgreSQL it holds the membership until the transaction
/// ends, so a removal that commits meanwhile is either seen (nothing is
/// inserted) or waits for this transaction; SQLite runs one writer at a time.
const INSERT_TASK_BY: Dialects = Dialects {
    postgres: concat!(
        insert_into_tasks!(),
        "select ",
        task_values!(),
        " where exists (",
        may_add_to_list!(),
        " for share of m)"
    ),
    sqlite: concat!(
        insert_into_tasks!(),
        "select ",
        task_values!(),
        " where exists (",
        may_add_to_list!(),
        ")"
    ),
};

/// Same binds as [`INSERT_TASK`], then the expected version as $25.
const UPDATE_TASK: &str = "update tasks set title = $3, title_key = $4, description = $5, \
     search_text = $6, priority = $7, tags = $8, due_at = $9, remind_before_minutes = $10, \
     remind_at = $11, recurrence = $12, time_zone = $13, series_id = $14, completed = $15, \
     completed_at = $16, created_at = $17, updated_at = $18, version = $19, series_start = $20, \
     list_id = $21, assignee_id = $22, parent_id = $23, position = $24 \
     where id = $1 and user_id = $2 and version = $25";

const DELETE_TASK: &str = "delete from tasks where id = $1 and user_id = $2 and version = $3";

const DELETE_TAGS: &str = "delete from task_tags where task_id = $1";

/// The tags of task $1 (of user $2, in list $3), from the JSON array $4: one
/// statement however many there are.
const INSERT_TAGS: Dialects = Dialects {
    postgres: "insert into task_tags (task_id, user_id, list_id, tag) \
         select $1, $2, $3, jsonb_array_elements_text($4)",
    sqlite: "insert into task_tags (task_id, user_id, list_id, tag) select $1, $2, $3, value from json_each($4)",
};

/// The tags of the tasks in the lists $1 is a member of.
const TAG_COUNTS: &str = "select g.tag, count(*) as count from task_tags g \
     join tasks t on t.id = g.task_id join list_members m on m.list_id = t.list_id and m.user_id = $1 \
     group by g.tag order by count desc, g.tag asc";

/// The tasks of list $1 assigned to $2.
const ASSIGNED_TASKS: &str = concat!(
    "select ",
    task_columns!(),
    " from tasks t where t.list_id = $1 and t.assignee_id = $2 order by t.id"
);

/// Reserves occurrence $2 of series $1 for task $3; affects no row when another
/// task already holds it. This unique key, not a check-then-insert, is what makes
/// rolling a series forward happen exactly once under concurrent deliveries.
const RESERVE_OCCURRENCE: &str = "insert into series_occurrences (series_id, occurs_at, task_id) \
     values ($1, $2, $3) on conflict do nothing";

/// The first occurrence of series $1 reserved after $2: the one a
/// completion at $2 rolled forward to, and the task that holds it.
const NEXT_RESERVED: &str = "select occurs_at, task_id from series_occurrences \
     where series_id = $1 and occurs_at > $2 order by occurs_at limit 1";

/// Gives back occurrence $2 of series $1, so that a later completion may
/// roll the series forward to it again.
const RELEASE_OCCURRENCE: &str = "delete from series_occurrences where series_id = $1 and occurs_at = $2";

/// Claims due reminders: $1 now, $2 limit. Claiming writes first, so that on
/// SQLite the transaction takes the write lock at once. Overlapping ticks on
/// PostgreSQL skip rows another holds instead of waiting. The conditions are
/// those of the index `tasks_due_reminders`, written out as it is so that
/// both planners use it: a claimed reminder leaves it.
const CLAIM_REMINDERS: Dialects = Dialects {
    postgres: "update tasks set reminded_at = remind_at where id in (select id from tasks \
         where not completed and remind_at is not null and remind_at <= $1 \
         and (reminded_at is null or reminded_at <> remind_at) order by remind_at, id limit $2 \
         for update skip locked) \
         returning id, user_id, list_id, assignee_id, title, description, priority, tags, due_at, remind_before_minutes, \
         remind_at, recurrence, time_zone, series_id, series_start, completed, completed_at, \
         created_at, updated_at, version, parent_id, position",
    sqlite: "update tasks set reminded_at = remind_at where id in (select id from tasks \
         where completed = 0 and remind_at is not null and remind_at <= $1 \
         and (reminded_at is null or reminded_at <> remind_at) order by remind_at, id limit $2) \
         returning id, user_id, list_id, assignee_id, title, description, priority, tags, due_at, remind_before_minutes, \
         remind_at, recurrence, time_zone, series_id, series_start, completed, completed_at, \
         created_at, updated_at, version, parent_id, position",
};

/// A `tasks` row as read by either backend.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TaskRow {
    id: Uuid,
    user_id: String,
    list_id: Uuid,
    assignee_id: Option<String>,
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
    parent_id: Option<Uuid>,
    position: i64,
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        let priority = Priority::from_rank(i32::from(row.priority))
            .ok_or_else(|| StoreError::Corrupt(format!("task {} has priority {}", row.id, row.priority)))?;
        Ok(Self {
            id: row.id,
            user_id: row.user_id,
            list_id: row.list_id,
            assignee_id: row.assignee_id,
            parent_id: row.parent_id,
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
            position: row.position,
        })
    }
}

/// A task with its place in the question ([`SELECT_TASKS_SEEN`]).
#[derive(Debug, sqlx::FromRow)]
struct SeenRow {
    #[sqlx(flatten)]
    task: TaskRow,
    n: i64,
}

/// A task with the reader's role in its list.
#[derive(Debug, sqlx::FromRow)]
struct TaskRoleRow {
    #[sqlx(flatten)]
    task: TaskRow,
    role: String,
}

pub(super) fn tasks(rows: Vec<TaskRow>) -> Result<Vec<Task>, StoreError> {
    rows.into_iter().map(Task::try_from).collect()
}

/// Binds a task's 24 columns in [`INSERT_TASK`] order.
macro_rules! bind_task {
    ($query:expr, $task:expr) => {{
        let task: &Task = $task;
        $query
            .bind(task.id)
            .bind(task.user_id.as_str())
            .bind(task.title.as_str())
            .bind(list::title_key(&task.title))
            .bind(task.description.as_str())
            .bind(list::search_text(task))
            .bind(task.priority.rank() as i16)
            .bind(Json(&task.tags))
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
            .bind(task.list_id)
            .bind(task.assignee_id.as_deref())
            .bind(task.parent_id)
            .bind(task.position)
    }};
}

impl Store {
    /// The task with this id if `user_id` is a member of its list; `None` for
    /// a missing task and for one in another's list alike.
    pub async fn get_task(&self, user_id: &str, id: Uuid) -> Result<Option<Task>, StoreError> {
        Ok(self.task_and_role(user_id, id).await?.map(|(task, _)| task))
    }

    /// [`Store::get_task`] for each (user, task id) of `asks`, in order: one
    /// statement on PostgreSQL; on SQLite, in this process, one lookup each.
    pub async fn tasks_seen(&self, asks: &[(&str, Uuid)]) -> Result<Vec<Option<Task>>, StoreError> {
        let super::db::Pool::Postgres(pool) = &self.pool else {
            let mut seen = Vec::with_capacity(asks.len());
            for (user_id, id) in asks {
                seen.push(self.get_task(user_id, *id).await?);
            }
            return Ok(seen);
        };
        let rows: Vec<SeenRow> = sqlx::query_as(SELECT_TASKS_SEEN)
            .bind(asks.iter().map(|(user, _)| *user).collect::<Vec<_>>())
            .bind(asks.iter().map(|(_, id)| *id).collect::<Vec<_>>())
            .fetch_all(pool)
            .await?;
        let mut seen: Vec<Option<Task>> = asks.iter().map(|_| None).collect();
        for row in rows {
            let place = usize::try_from(row.n - 1).ok().and_then(|i| seen.get_mut(i));
            let place =
                place.ok_or_else(|| StoreError::Corrupt(format!("a place {} out of the question", row.n)))?;
            *place = Some(Task::try_from(row.task)?);
        }
        Ok(seen)
    }

    /// [`Store::get_task`], with the role `user_id` has in the task's list.
    pub async fn task_and_role(&self, user_id: &str, id: Uuid) -> Result<Option<(Task, Role)>, StoreError> {
        let row: Option<TaskRoleRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_TASK).bind(id).bind(user_id).fetch_optional(c).await?
        });
        let Some(row) = row else { return Ok(None) };
        let role = members::role(&row.role, row.task.list_id)?;
        Ok(Some((Task::try_from(row.task)?, role)))
    }

    /// One page of the tasks in the lists the user is a member of, filtered and sorted as asked: the one
    /// statement assembled from parts ([`list::plan`]).
    pub async fn list_tasks(&self, user_id: &str, query: &ListQuery) -> Result<Page, StoreError> {
        let plan = list::plan(TASK_COLUMNS, user_id, query, self.backend());
        let rows: Vec<TaskRow> = on_pool!(self.pool, |c| {
            let mut q = sqlx::query_as(&plan.sql).persistent(!plan.per_values);
            for param in &plan.params {
                q = match param {
                    Param::Text(v) => q.bind(v.as_str()),
                    Param::Int(v) => q.bind(*v),
                    Param::Bool(v) => q.bind(*v),
                    Param::Time(v) => q.bind(Timestamp(*v)),
                    Param::Uuid(v) => q.bind(*v),
                };
            }
            q.fetch_all(c).await?
        });
        Ok(list::into_page(tasks(rows)?, query))
    }

    /// The tags of the tasks the user can see, with the number of tasks
    /// carrying each, most used first.
    pub async fn tag_counts(&self, user_id: &str) -> Result<Vec<TagCount>, StoreError> {
        let rows: Vec<(String, i64)> =
            on_pool!(self.pool, |c| sqlx::query_as(TAG_COUNTS).bind(user_id).fetch_all(c).await?);
        Ok(rows.into_iter().map(|(tag, count)| TagCount { tag, count }).collect())
    }
}

impl Tx {
    /// Inserts a new task with its tags; [`StoreError::NoSuchList`] when its
    /// list does not exist (deleted since it was checked, say).
    #[tracing::instrument(skip_all, fields(task_id = %task.id))]
    pub async fn insert_task(&mut self, task: &Task) -> Result<(), StoreError> {
        on_tx!(self, |c| bind_task!(sqlx::query(INSERT_TASK), task)
            .execute(c)
            .await
            .map_err(StoreError::no_such_list)
            .map(drop)?);
        self.insert_tags(task).await
    }

    /// Inserts a new task with its tags if `writer` may add tasks to its list
    /// (an owner or editor, the list not archived), deciding in the insert
    /// itself; `false`, with nothing written, if not (or if the list is gone);
    /// [`StoreError::Duplicate`] if a task with its id exists.
    #[tracing::instrument(skip_all, fields(task_id = %task.id))]
    pub async fn insert_task_by(&mut self, task: &Task, writer: &str) -> Result<bool, StoreError> {
        let statement = INSERT_TASK_BY.of(self.backend());
        let inserted = on_tx!(self, |c| bind_task!(sqlx::query(statement), task)
            .bind(writer)
            .execute(c)
            .await
            .map_err(StoreError::duplicate)?
            .rows_affected());
        if inserted == 0 {
            return Ok(false);
        }
        self.insert_tags(task).await?;
        Ok(true)
    }

    /// Replaces the stored task with `task`, provided the stored version is
    /// still `expected_version`; otherwise [`StoreError::VersionConflict`], or
    /// [`StoreError::NoSuchList`] when it moves to a list that does not exist.
    #[tracing::instrument(skip_all, fields(task_id = %task.id))]
    pub async fn update_task(&mut self, task: &Task, expected_version: i64) -> Result<(), StoreError> {
        let updated = on_tx!(self, |c| {
            bind_task!(sqlx::query(UPDATE_TASK), task)
                .bind(expected_version)
                .execute(c)
                .await
                .map_err(StoreError::no_such_list)?
                .rows_affected()
        });
        StoreError::unless_conflict(updated)?;
        self.write_tags(task).await
    }

    /// Deletes `task` (as last read, version included) with its tags;
    /// [`StoreError::VersionConflict`] if it changed or vanished meanwhile.
    #[tracing::instrument(skip_all, fields(task_id = %task.id))]
    pub async fn delete_task(&mut self, task: &Task) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(DELETE_TAGS).bind(task.id).execute(c).await.map(drop)?);
        let deleted = on_tx!(self, |c| {
            sqlx::query(DELETE_TASK)
                .bind(task.id)
                .bind(task.user_id.as_str())
                .bind(task.version)
                .execute(c)
                .await?
                .rows_affected()
        });
        StoreError::unless_conflict(deleted)
    }

    /// Reserves the occurrence at `occurs_at` of `series` for `task_id`: `false`
    /// when another task holds it already (another delivery rolled it forward).
    pub async fn reserve_occurrence(
        &mut self,
        series: Uuid,
        occurs_at: DateTime<Utc>,
        task_id: Uuid,
    ) -> Result<bool, StoreError> {
        let reserved = on_tx!(self, |c| {
            sqlx::query(RESERVE_OCCURRENCE)
                .bind(series)
                .bind(Timestamp(occurs_at))
                .bind(task_id)
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(reserved == 1)
    }

    /// The first occurrence of `series` reserved after `after`, and the task
    /// that holds it.
    pub async fn next_reserved_occurrence(
        &mut self,
        series: Uuid,
        after: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, Uuid)>, StoreError> {
        let row: Option<(Timestamp, Uuid)> = on_tx!(self, |c| {
            sqlx::query_as(NEXT_RESERVED).bind(series).bind(Timestamp(after)).fetch_optional(c).await?
        });
        Ok(row.map(|(at, task)| (at.into(), task)))
    }

    /// Gives back the occurrence at `occurs_at` of `series`.
    pub async fn release_occurrence(
        &mut self,
        series: Uuid,
        occurs_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(RELEASE_OCCURRENCE)
            .bind(series)
            .bind(Timestamp(occurs_at))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Claims up to `limit` reminders that are due at `now` (open task, reminder
    /// time passed, not yet claimed for that time), soonest first. Concurrent
    /// transactions claim disjoint reminders.
    pub async fn claim_due_reminders(
        &mut self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Task>, StoreError> {
        let statement = CLAIM_REMINDERS.of(self.backend());
        let rows: Vec<TaskRow> = on_tx!(self, |c| {
            sqlx::query_as(statement).bind(Timestamp(now)).bind(limit).fetch_all(c).await?
        });
        let mut claimed = tasks(rows)?;
        // `returning` keeps no order.
        claimed.sort_by_key(|t| (t.remind_at, t.id));
        Ok(claimed)
    }

    /// The tasks of `list_id` assigned to `user_id`, to unassign when they leave.
    pub async fn assigned_tasks(&mut self, list_id: Uuid, user_id: &str) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<TaskRow> = on_tx!(self, |c| {
            sqlx::query_as(ASSIGNED_TASKS).bind(list_id).bind(user_id).fetch_all(c).await?
        });
        tasks(rows)
    }

    /// Replaces the stored tags of `task` with its own (and its list, which
    /// the tags are found by).
    async fn write_tags(&mut self, task: &Task) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(DELETE_TAGS).bind(task.id).execute(c).await.map(drop)?);
        self.insert_tags(task).await
    }

    async fn insert_tags(&mut self, task: &Task) -> Result<(), StoreError> {
        if task.tags.is_empty() {
            return Ok(());
        }
        let statement = INSERT_TAGS.of(self.backend());
        on_tx!(self, |c| sqlx::query(statement)
            .bind(task.id)
            .bind(task.user_id.as_str())
            .bind(task.list_id)
            .bind(Json(&task.tags))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}
