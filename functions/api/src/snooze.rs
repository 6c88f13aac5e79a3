//! Snoozing a reminder: `POST /v1/tasks/{id}/snooze` re-arms it for a later
//! time, by minutes from now or at a time. The task's stored reminder time is
//! what `cron-tick` claims once per value, so however many snoozes race (on any
//! replica), the last one written is the one more `task.due`, and a reminder
//! already in flight for an earlier time is dropped by `task-due` as moved.
//! It is a change like any other: a `task.updated` event, `If-Match` honoured.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use todo_lib::event::EventType;
use todo_lib::task::{SNOOZE_MAX_DAYS, Task};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{IfMatch, JsonBody, TaskId};
use crate::tasks::{change, task_response};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(snooze_task))
}

/// When to be reminded again: `minutes` from now, or `until` a time; one of them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    /// From 1 to a year's worth.
    pub minutes: Option<i64>,
    /// RFC 3339, in the future.
    pub until: Option<DateTime<Utc>>,
}

impl Snooze {
    /// The time it asks for, read at `now`.
    pub fn until(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
        match (self.minutes, self.until) {
            (Some(minutes), None) if (1..=SNOOZE_MAX_DAYS * 24 * 60).contains(&minutes) => {
                Ok(now + Duration::minutes(minutes))
            }
            (Some(_), None) => {
                Err(ApiError::invalid("minutes", format!("must be from 1 to {}", SNOOZE_MAX_DAYS * 24 * 60)))
            }
            (None, Some(until)) => Ok(until),
            _ => Err(ApiError::invalid("minutes", "give either minutes or until (not both)")),
        }
    }
}

/// Snooze the task's reminder: one more reminder at the time asked for.
#[utoipa::path(
    post, path = "/v1/tasks/{id}/snooze", tag = "tasks",
    request_body = Snooze,
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    responses(
        (status = 200, description = "The task, its `remind_at` the new time", body = Task, headers(("ETag" = String))),
        (status = 400, description = "Unreadable body, the id is not a UUID, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Neither or both of minutes and until, a time not in the future or more than a year ahead, or a done task", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn snooze_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
    JsonBody(input): JsonBody<Snooze>,
) -> Result<Response, ApiError> {
    Ok(task_response(StatusCode::OK, &snooze(&state, &user, id, &if_match, &input).await?))
}

/// Re-arms the reminder of task `id` as `input` asks, with its `task.updated` event.
pub async fn snooze(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
    input: &Snooze,
) -> Result<Task, ApiError> {
    let now = Utc::now();
    let until = input.until(now)?;
    change(state, user, id, if_match, |task| Ok(Some((task.snoozed(until, now)?, EventType::Updated)))).await
}
