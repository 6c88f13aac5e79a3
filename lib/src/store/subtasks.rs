//! Subtasks: the tree beneath a task and the chain above it, read with
//! recursive queries that both backends accept. What a tree may look like
//! (how deep, how large, no cycles) is the caller's rule; these reads are
//! what it checks against, inside the transaction that writes the change.

use uuid::Uuid;

use super::StoreError;
use super::db::{Tx, on_tx};
use super::tasks::{TaskRow, task_columns, tasks};
use crate::task::Task;

/// How far the recursive reads follow parent links. Trees are kept far
/// shallower; the bound only guarantees that a cycle (which the API never
/// writes) could not make a query run forever.
const LINKS_MAX: i64 = 16;

/// The tasks beneath $1 at every level, each parent before its children.
const SUBTREE: &str = concat!(
    "with recursive sub (id, depth) as (select id, 1 from tasks where parent_id = $1 \
     union all select c.id, s.depth + 1 from tasks c join sub s on c.parent_id = s.id where s.depth < $2) \
     select ",
    task_columns!(),
    " from sub s join tasks t on t.id = s.id order by s.depth, t.created_at, t.id"
);

/// $1 and the tasks above it, nearest first: its parent, theirs, … the top.
const ANCESTRY: &str = "with recursive up (id, parent_id, depth) as (select id, parent_id, 0 from tasks \
     where id = $1 union all select p.id, p.parent_id, u.depth + 1 from tasks p join up u on p.id = u.parent_id \
     where u.depth < $2) select id from up order by depth";

/// Task $1, whoever may see it: for checks whose caller already knows the
/// reader may see the list the task must be in.
const SELECT_ANY_TASK: &str = concat!("select ", task_columns!(), " from tasks t where t.id = $1");

impl Tx {
    /// The subtasks of `task_id`, theirs and so on, each parent before its
    /// children.
    pub async fn subtree(&mut self, task_id: Uuid) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<TaskRow> =
            on_tx!(self, |c| sqlx::query_as(SUBTREE).bind(task_id).bind(LINKS_MAX).fetch_all(c).await?);
        tasks(rows)
    }

    /// `task_id` and the ids of the tasks above it, nearest first; empty when
    /// there is no such task.
    pub async fn ancestry(&mut self, task_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let rows: Vec<(Uuid,)> =
            on_tx!(self, |c| sqlx::query_as(ANCESTRY).bind(task_id).bind(LINKS_MAX).fetch_all(c).await?);
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The task with this id, in whichever list.
    pub async fn task_by_id(&mut self, task_id: Uuid) -> Result<Option<Task>, StoreError> {
        let row: Option<TaskRow> =
            on_tx!(self, |c| sqlx::query_as(SELECT_ANY_TASK).bind(task_id).fetch_optional(c).await?);
        row.map(Task::try_from).transpose()
    }
}
