//! A list's own order: `POST /v1/tasks/{id}/move` puts a task after another
//! of its list (or first), and `GET /v1/tasks?sort=manual` reads the list in
//! that order. A move writes one row, the task moved, with its position
//! halfway between its new neighbours' and a `task.updated` event like any
//! change, so that every member's page shows the new order live. Moves in one
//! list take turns (the list's order lock); when two neighbours have no room
//! between them, the list's positions are spread out again first.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use todo_lib::event::{EventType, task_event};
use todo_lib::store::Tx;
use todo_lib::task::{Task, position_at};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{IfMatch, JsonBody, TaskId};
use crate::tasks::{WRITE_ATTEMPTS, task_response, writable};

/// The room a task put first leaves before the one that was first.
const ROOM: i64 = 1 << 20;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(move_task))
}

/// Where to put the task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The task it is to follow: one of the same list with the same parent
    /// (top-level with top-level, a subtask with its siblings); `null` puts
    /// it first. Required.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Uuid>, required = true)]
    pub after: Option<Option<Uuid>>,
}

/// Tells a `null` (given) from a missing field.
fn given<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(d).map(Some)
}

/// Move a task within its list's own order.
#[utoipa::path(
    post, path = "/v1/tasks/{id}/move", tag = "tasks",
    request_body = Move,
    params(
        ("id" = Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    responses(
        (status = 200, description = "The task, at its new `position`", body = Task, headers(("ETag" = String))),
        (status = 400, description = "Unreadable body, the id is not a UUID, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "`after` missing, the task itself, or not a task of the same list with the same parent", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn move_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
    JsonBody(input): JsonBody<Move>,
) -> Result<Response, ApiError> {
    let Some(after) = input.after else {
        return Err(ApiError::invalid(
            "after",
            "is required: the id of the task to follow, or null for first",
        ));
    };
    Ok(task_response(StatusCode::OK, &move_after(&state, &user, id, after, &if_match).await?))
}

/// Puts task `id` right after task `after` in its list's order (first with
/// `None`), with its `task.updated` event; a task already there stays as it is.
pub async fn move_after(
    state: &AppState,
    user: &str,
    id: Uuid,
    after: Option<Uuid>,
    if_match: &IfMatch,
) -> Result<Task, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let current = writable(state.store.task_and_role(user, id).await?)?;
        if_match.check(current.version)?;
        if let Some(other) = after {
            check_neighbour(state, user, &current, other).await?;
        }
        let now = Utc::now();
        let written = async {
            let mut tx = state.store.begin().await?;
            tx.lock_order(current.list_id).await?;
            let Some(position) = place(&mut tx, &current, after, now).await? else {
                // The task it was to follow left the list meanwhile.
                return Err(ApiError::Conflict);
            };
            let Some(next) = current.placed(position, now) else { return Ok(None) };
            tx.update_task(&next, current.version).await?;
            let event = task_event(EventType::Updated, &next, state.source, next.updated_at, None)?;
            tx.write_event(&event, None).await?;
            tx.commit().await?;
            Ok::<_, ApiError>(Some((next, event)))
        };
        match written.await {
            Ok(None) => return Ok(current),
            Ok(Some((next, event))) => {
                tracing::info!(task_id = %id, position = next.position, "task moved");
                state.publish(vec![event]);
                return Ok(next);
            }
            Err(ApiError::Conflict) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::Conflict)
}

/// Refuses (422) a task `after` that `task` cannot follow.
async fn check_neighbour(state: &AppState, user: &str, task: &Task, after: Uuid) -> Result<(), ApiError> {
    let refusal = if after == task.id {
        "is the task itself"
    } else {
        match state.store.get_task(user, after).await? {
            None => "names no task you can see",
            Some(other) if other.list_id != task.list_id => "is in another list: move the task there first",
            Some(other) if other.parent_id != task.parent_id => {
                "has another parent task: a task follows one beside it, not above or beneath it"
            }
            Some(_) => return Ok(()),
        }
    };
    Err(ApiError::invalid("after", refusal))
}

/// The position that puts `task` right after `after` (first with `None`) in
/// its list, read under the list's order lock, the list's positions spread
/// out first when its new neighbours have no room between them; `None` when
/// `after` is no longer in the list.
async fn place(
    tx: &mut Tx,
    task: &Task,
    after: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, ApiError> {
    let list = task.list_id;
    for spread in [false, true] {
        if spread {
            let (count, lowest) = tx.position_range(list).await?;
            let base = lowest.unwrap_or(0).saturating_sub(ROOM);
            // Below the positions of tasks made from now on, which go last.
            let step = ((position_at(now) - base) / (count + 1)).max(2);
            tx.spread_positions(list, base, step).await?;
        }
        let before = match after {
            None => None,
            Some(other) => match tx.position_in(list, other).await? {
                Some(position) => Some((position, other)),
                None => return Ok(None),
            },
        };
        let next = tx.position_after(list, before, task.id).await?;
        let previous = before.map(|(p, _)| p);
        // Read again: a spread moves it too.
        let Some(now_at) = tx.position_in(list, task.id).await? else { return Ok(None) };
        if previous < Some(now_at) && next.is_none_or(|next| now_at < next) {
            // There already: its own position, which writes nothing.
            return Ok(Some(task.position));
        }
        if let Some(position) = between(before.map(|(p, _)| p), next, position_at(now)) {
            return Ok(Some(position));
        }
    }
    // Spread out, every two neighbours have room between them.
    Err(ApiError::Conflict)
}

/// A position after `before` and before `next` (either may be absent), or
/// `None` when there is no room between them. Last goes at `now`, where a
/// task made now would go.
fn between(before: Option<i64>, next: Option<i64>, now: i64) -> Option<i64> {
    match (before, next) {
        (None, None) => Some(now),
        (Some(before), None) => Some(now.max(before.checked_add(1)?)),
        (None, Some(next)) => next.checked_sub(ROOM),
        (Some(before), Some(next)) => {
            let middle = (i128::from(before) + i128::from(next)) / 2;
            let middle = i64::try_from(middle).ok()?;
            (before < middle && middle < next).then_some(middle)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_finds_room_or_says_there_is_none() {
        assert_eq!(between(None, None, 500), Some(500));
        assert_eq!(between(Some(10), None, 500), Some(500), "last: where a new task would go");
        assert_eq!(between(Some(900), None, 500), Some(901), "after a task placed later than now");
        assert_eq!(between(None, Some(10), 500), Some(10 - ROOM));
        assert_eq!(between(Some(10), Some(20), 500), Some(15));
        assert_eq!(between(Some(10), Some(12), 500), Some(11));
        assert_eq!(between(Some(10), Some(11), 500), None, "no room");
        assert_eq!(between(Some(10), Some(10), 500), None, "tied neighbours");
        assert_eq!(between(Some(i64::MAX - 1), Some(i64::MAX), 0), None);
        assert_eq!(between(Some(i64::MAX), None, 0), None);
        assert_eq!(between(None, Some(i64::MIN + 5), 0), None);
    }
}
