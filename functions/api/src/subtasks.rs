//! Subtasks: the route that lists a task's subtasks, and the rules that keep
//! each list's trees whole.
//!
//! A change that shapes a tree (a subtask created, a new parent, a move to
//! another list) or reaches beneath a task (completing or deleting one that
//! may have subtasks) runs in a transaction that holds the tree lock of each
//! list it touches, and checks the tree there, so that no other change
//! interleaves between its checks and its writes: no cycle, no tree deeper
//! than [`TREE_DEPTH_MAX`] levels or holding more than [`SUBTASKS_MAX`]
//! subtasks, no subtask in another list than its parent. Completing a task
//! completes its open subtasks, moving it moves them, deleting it deletes
//! them: each with its own event.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, Utc};
use todo_lib::event::EventType;
use todo_lib::store::{ParentFilter, StoreError, Tx};
use todo_lib::task::{FieldError, SUBTASKS_MAX, TREE_DEPTH_MAX, Task, ValidationErrors};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{TaskId, list_query};
use crate::tasks::{self, TaskPage};
use crate::{AppState, members};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_subtasks))
}

/// List a task's direct subtasks, with the filters, sort and pages of
/// `GET /v1/tasks` (except `list` and `parent`, which the task fixes).
#[utoipa::path(
    get, path = "/v1/tasks/{id}/subtasks", tag = "tasks",
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("status" = Option<String>, Query, description = "open, done or all (default all)"),
        ("sort" = Option<String>, Query, description = "As for GET /v1/tasks"),
        ("order" = Option<String>, Query, description = "asc or desc"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page of the task's subtasks", body = TaskPage),
        (status = 400, description = "The id is not a UUID, or invalid query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_subtasks(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    RawQuery(raw): RawQuery,
) -> Result<Json<TaskPage>, ApiError> {
    let mut query = list_query(raw.as_deref(), Utc::now())?;
    let task = state.store.get_task(&user, id).await?.ok_or(ApiError::NotFound("task"))?;
    let fixed: Vec<FieldError> = [("list", query.list.is_some()), ("parent", query.parent.is_some())]
        .into_iter()
        .filter(|(_, given)| *given)
        .map(|(field, _)| FieldError {
            field: field.into(),
            message: "is the task's, named by the path".into(),
        })
        .collect();
    ApiError::unless_invalid_query((), fixed)?;
    query.list = Some(task.list_id);
    query.parent = Some(ParentFilter::Of(task.id));
    tasks::page(&state, &user, query).await.map(Json)
}

/// A subtask's change that follows its ancestor's: the task as it becomes,
/// the version it replaces, and the event it emits.
#[derive(Debug)]
pub(crate) struct Follower {
    pub task: Task,
    pub replaces: i64,
    pub ty: EventType,
}

/// What else changes, inside `tx`, when `current` (`None` for a new task)
/// becomes `next`: the subtasks that complete or move with it. Refuses (422)
/// a parent that would break the tree. Takes the tree locks first when the
/// change shapes or reaches into a tree; otherwise reads and locks nothing.
pub(crate) async fn follow(
    tx: &mut Tx,
    current: Option<&Task>,
    next: &Task,
    now: DateTime<Utc>,
) -> Result<Vec<Follower>, ApiError> {
    let moves = current.is_some_and(|c| c.list_id != next.list_id);
    let completes = current.is_some_and(|c| !c.completed) && next.completed;
    let reparents =
        next.parent_id.is_some() && (moves || current.map(|c| c.parent_id) != Some(next.parent_id));
    if !(moves || completes || reparents) {
        return Ok(Vec::new());
    }
    let lists: Vec<Uuid> = current.map(|c| c.list_id).into_iter().chain([next.list_id]).collect();
    lock(tx, &lists).await?;
    let beneath = match current {
        Some(current) => tx.subtree(current.id).await?,
        None => Vec::new(),
    };
    if reparents && let Some(message) = parent_problem(tx, next, &beneath).await? {
        return Err(ValidationErrors(vec![FieldError { message, ..no_such_parent() }]).into());
    }
    if completes {
        // Completion goes through its own route, never with a move.
        let done = beneath.iter().filter_map(|task| {
            let replaces = task.version;
            task.completed(now).map(|task| Follower { task, replaces, ty: EventType::Completed })
        });
        return Ok(done.collect());
    }
    if moves {
        return Ok(moved_along(tx, &beneath, next.list_id, now).await?);
    }
    Ok(Vec::new())
}

/// The subtasks in `beneath` moved to `list` with the task above them, each
/// unassigned whose assignee is no member there (read under the list's member
/// lock, so it stays so until `tx` ends).
async fn moved_along(
    tx: &mut Tx,
    beneath: &[Task],
    list: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Follower>, StoreError> {
    members::lock(tx, list).await?;
    let mut member: HashMap<&str, bool> = HashMap::new();
    let mut followers = Vec::new();
    for task in beneath {
        let keeps = match task.assignee_id.as_deref() {
            None => true,
            Some(assignee) => match member.get(assignee) {
                Some(known) => *known,
                None => {
                    let is = tx.member(list, assignee).await?.is_some();
                    *member.entry(assignee).or_insert(is)
                }
            },
        };
        if let Some(moved) = task.moved_along(list, keeps, now) {
            followers.push(Follower { replaces: task.version, task: moved, ty: EventType::Updated });
        }
    }
    Ok(followers)
}

/// Everything beneath `task`, deepest first, to delete before it; read under
/// the tree lock of its list.
pub(crate) async fn beneath_for_deletion(tx: &mut Tx, task: &Task) -> Result<Vec<Task>, StoreError> {
    lock(tx, &[task.list_id]).await?;
    let mut beneath = tx.subtree(task.id).await?;
    beneath.reverse();
    Ok(beneath)
}

/// Takes the tree lock of each of `lists`, once each and in one order, so
/// that two transactions never wait on each other.
async fn lock(tx: &mut Tx, lists: &[Uuid]) -> Result<(), StoreError> {
    let mut lists = lists.to_vec();
    lists.sort_unstable();
    lists.dedup();
    for list in lists {
        tx.lock_user("task trees", &list.to_string()).await?;
    }
    Ok(())
}

const NOT_IN_LIST: &str = "must be a task in the task's list";
/// The refusal of a `parent_id` that names no task the caller can see.
pub(crate) fn no_such_parent() -> FieldError {
    FieldError { field: "parent_id".into(), message: NOT_IN_LIST.into() }
}

const CYCLE: &str = "must not be the task itself or one of its subtasks";

/// Why `next` cannot have its parent, with `beneath` (its subtree) coming
/// along: a parent the caller cannot see is "not in the list", exactly as
/// one that does not exist.
async fn parent_problem(tx: &mut Tx, next: &Task, beneath: &[Task]) -> Result<Option<String>, StoreError> {
    let Some(parent_id) = next.parent_id else { return Ok(None) };
    let parent = tx.task_by_id(parent_id).await?.filter(|p| p.list_id == next.list_id);
    if parent.is_none() {
        return Ok(Some(NOT_IN_LIST.into()));
    }
    let above = tx.ancestry(parent_id).await?;
    if above.contains(&next.id) {
        return Ok(Some(CYCLE.into()));
    }
    if above.len() + 1 + height(next.id, beneath) > TREE_DEPTH_MAX {
        return Ok(Some(format!("would nest tasks more than {TREE_DEPTH_MAX} levels deep")));
    }
    let top = *above.last().unwrap_or(&parent_id);
    let moving: HashSet<Uuid> = beneath.iter().map(|t| t.id).chain([next.id]).collect();
    let staying = tx.subtree(top).await?.iter().filter(|t| !moving.contains(&t.id)).count();
    if staying + moving.len() > SUBTASKS_MAX {
        return Ok(Some(format!("a top-level task holds at most {SUBTASKS_MAX} subtasks beneath it")));
    }
    Ok(None)
}

/// How many levels lie beneath `top` in `beneath` (its subtree, each parent
/// before its children): 0 when it has no subtasks.
fn height(top: Uuid, beneath: &[Task]) -> usize {
    let mut depth: HashMap<Uuid, usize> = HashMap::from([(top, 0)]);
    for task in beneath {
        let level = task.parent_id.and_then(|p| depth.get(&p)).map_or(1, |d| d + 1);
        depth.insert(task.id, level);
    }
    depth.into_values().max().unwrap_or(0)
}
