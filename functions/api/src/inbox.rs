//! What the event functions produced for the user: in-app notifications (from
//! `task-due`) and the activity history (from every function) of the lists the
//! user is a member of.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::Utc;
use serde::Serialize;
use todo_lib::activity::Activity;
use todo_lib::notification::Notification;
use todo_lib::task::FieldError;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::TaskId;

const LIMIT_MAX: i64 = 200;
const LIMIT_DEFAULT: i64 = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(read_notification))
        .routes(routes!(list_activity))
        .routes(routes!(task_activity))
        .routes(routes!(list_activity_in))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<Notification>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub items: Vec<Activity>,
}

/// Parses `limit` (and `unread` where allowed); anything else is refused.
pub fn parse_query(raw: Option<&str>, allow_unread: bool) -> Result<(i64, bool), ApiError> {
    let (mut limit, mut unread) = (LIMIT_DEFAULT, false);
    let mut errors = Vec::new();
    for (key, value) in crate::extract::query_pairs(raw)? {
        match (key.as_ref(), value.as_ref()) {
            ("limit", v) => match v.parse::<i64>() {
                Ok(n) if (1..=LIMIT_MAX).contains(&n) => limit = n,
                _ => errors.push(FieldError {
                    field: "limit".into(),
                    message: format!("must be a whole number from 1 to {LIMIT_MAX}"),
                }),
            },
            ("unread", "true") if allow_unread => unread = true,
            ("unread", "false") if allow_unread => unread = false,
            ("unread", _) if allow_unread => {
                errors.push(FieldError { field: "unread".into(), message: "must be true or false".into() })
            }
            (other, _) => {
                errors.push(FieldError { field: other.to_owned(), message: "unknown parameter".into() })
            }
        }
    }
    ApiError::unless_invalid_query((limit, unread), errors)
}

/// The caller's notifications, newest first.
#[utoipa::path(
    get, path = "/v1/notifications", tag = "notifications",
    params(
        ("unread" = Option<bool>, Query, description = "true: only unread ones"),
        ("limit" = Option<i64>, Query, description = "1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "Notifications", body = NotificationList),
        (status = 400, description = "Invalid query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_notifications(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<NotificationList>, ApiError> {
    let (limit, unread) = parse_query(raw.as_deref(), true)?;
    Ok(Json(NotificationList { items: state.store.list_notifications(&user, unread, limit).await? }))
}

/// Mark a notification read. Marking it again keeps the first read time.
#[utoipa::path(
    post, path = "/v1/notifications/{id}/read", tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    responses(
        (status = 200, description = "The notification, read", body = Notification),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such notification for this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn read_notification(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<Notification>, ApiError> {
    let id: Uuid = raw.parse().map_err(|_| {
        ApiError::bad_request("invalid_path", format!("notification id '{raw}' is not a UUID"))
    })?;
    let read = state.store.mark_notification_read(&user, id, Utc::now()).await?;
    read.map(Json).ok_or(ApiError::NotFound("notification"))
}

/// The activity of every list the caller is a member of, newest first.
#[utoipa::path(
    get, path = "/v1/activity", tag = "activity",
    params(("limit" = Option<i64>, Query, description = "1 to 200 (default 50)")),
    responses(
        (status = 200, description = "Activity", body = ActivityList),
        (status = 400, description = "Invalid query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_activity(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<ActivityList>, ApiError> {
    let (limit, _) = parse_query(raw.as_deref(), false)?;
    Ok(Json(ActivityList { items: state.store.list_activity(&user, None, limit).await? }))
}

/// One task's activity in the lists the caller is a member of, newest first
/// (kept after the task is deleted).
#[utoipa::path(
    get, path = "/v1/tasks/{id}/activity", tag = "activity",
    params(
        ("id" = Uuid, Path, description = "Task id"),
        ("limit" = Option<i64>, Query, description = "1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "Activity", body = ActivityList),
        (status = 400, description = "Invalid id or query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn task_activity(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    RawQuery(raw): RawQuery,
) -> Result<Json<ActivityList>, ApiError> {
    let (limit, _) = parse_query(raw.as_deref(), false)?;
    Ok(Json(ActivityList { items: state.store.list_activity(&user, Some(id), limit).await? }))
}

/// One list's activity, newest first: what happened to its tasks while they
/// were in it, for every member to see.
#[utoipa::path(
    get, path = "/v1/lists/{id}/activity", tag = "activity",
    params(
        ("id" = Uuid, Path, description = "List id"),
        ("limit" = Option<i64>, Query, description = "1 to 200 (default 50)"),
    ),
    responses(
        (status = 200, description = "Activity", body = ActivityList),
        (status = 400, description = "Invalid id or query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_activity_in(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ActivityList>, ApiError> {
    let list = crate::lists::visible(&state, &user, &raw).await?;
    let (limit, _) = parse_query(query.as_deref(), false)?;
    Ok(Json(ActivityList { items: state.store.list_activity_in(&user, list.id, limit).await? }))
}
