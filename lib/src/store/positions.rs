//! A list's own order: the positions of its tasks, read and spread out under
//! the list's order lock, which every move in the list takes.

use uuid::Uuid;

use super::StoreError;
use super::db::{Dialects, Tx, on_tx};

/// Task $2's position, if it is in list $1.
const POSITION_IN: &str = "select position from tasks where list_id = $1 and id = $2";

/// The position of the first task of list $1 after ($2, $3) in the list's
/// order, other than $4: a range of `tasks_list_position`.
const POSITION_AFTER: &str = "select position from tasks where list_id = $1 and id <> $4 \
     and (position, id) > ($2, $3) order by position, id limit 1";

/// The position of the first task of list $1 other than $2.
const FIRST_POSITION: &str =
    "select position from tasks where list_id = $1 and id <> $2 order by position, id limit 1";

/// How many tasks list $1 holds, and the lowest position among them.
const POSITION_RANGE: &str = "select count(*), min(position) from tasks where list_id = $1";

/// The tasks of list $1, in the list's order, at positions $2 + $3, $2 + 2 × $3, ...
const SPREAD: Dialects = Dialects {
    postgres: "update tasks t set position = $2 + r.n * $3 from (select id, row_number() over \
         (order by position, id) as n from tasks where list_id = $1) r where t.id = r.id",
    sqlite: "update tasks set position = $2 + r.n * $3 from (select id, row_number() over \
         (order by position, id) as n from tasks where list_id = $1) as r where tasks.id = r.id",
};

impl Tx {
    /// Takes list `list`'s order lock until the transaction ends: moves in
    /// one list read their neighbours and write one at a time.
    pub async fn lock_order(&mut self, list: Uuid) -> Result<(), StoreError> {
        self.lock_user("order", &list.to_string()).await
    }

    /// Task `id`'s position, if it is in `list`.
    pub async fn position_in(&mut self, list: Uuid, id: Uuid) -> Result<Option<i64>, StoreError> {
        Ok(on_tx!(self, |c| sqlx::query_scalar(POSITION_IN).bind(list).bind(id).fetch_optional(c).await?))
    }

    /// The position of the task that comes next in `list` after the task at
    /// (`position`, `id`), or of the first task with `None`, leaving out
    /// `moving` (the task about to go between them); `None` at the end.
    pub async fn position_after(
        &mut self,
        list: Uuid,
        after: Option<(i64, Uuid)>,
        moving: Uuid,
    ) -> Result<Option<i64>, StoreError> {
        Ok(match after {
            Some((position, id)) => on_tx!(self, |c| sqlx::query_scalar(POSITION_AFTER)
                .bind(list)
                .bind(position)
                .bind(id)
                .bind(moving)
                .fetch_optional(c)
                .await?),
            None => on_tx!(self, |c| sqlx::query_scalar(FIRST_POSITION)
                .bind(list)
                .bind(moving)
                .fetch_optional(c)
                .await?),
        })
    }

    /// How many tasks `list` holds, and its lowest position (`None` when empty).
    pub async fn position_range(&mut self, list: Uuid) -> Result<(i64, Option<i64>), StoreError> {
        Ok(on_tx!(self, |c| sqlx::query_as(POSITION_RANGE).bind(list).fetch_one(c).await?))
    }

    /// Puts `list`'s tasks, in their order, at `base + step`, `base + 2 ×
    /// step`, ...: room between every two of them again. Positions are not
    /// versioned, so no task's version changes.
    pub async fn spread_positions(&mut self, list: Uuid, base: i64, step: i64) -> Result<(), StoreError> {
        let statement = SPREAD.of(self.backend());
        on_tx!(self, |c| sqlx::query(statement)
            .bind(list)
            .bind(base)
            .bind(step)
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}
