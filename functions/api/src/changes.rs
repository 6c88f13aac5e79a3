//! `GET /v1/changes`: the changes feed, paged by cursor (see
//! [`todo_lib::changes`]). Without a cursor it answers where the feed is now,
//! for a client that is about to load everything and then follow.

use axum::Json;
use axum::extract::{RawQuery, State};
use todo_lib::changes::{ChangeCursor, ChangePage};
use todo_lib::task::FieldError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};

pub const LIMIT_DEFAULT: usize = 100;
pub const LIMIT_MAX: usize = 500;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_changes))
}

/// The refusal of a cursor behind what retention has deleted.
pub fn expired() -> ApiError {
    ApiError::Gone {
        code: "cursor_expired",
        message: "changes after this cursor are no longer kept: load everything again, then follow the \
                  cursor of GET /v1/changes without one",
    }
}

/// Up to `limit` changes `user` can see after `after`; refused when some of
/// them have been pruned.
pub async fn page(
    state: &AppState,
    user: &str,
    after: ChangeCursor,
    limit: usize,
) -> Result<ChangePage, ApiError> {
    let rows = state.store.changes_after(user, after, limit as i64 + 1).await?;
    // Read after the rows: a prune that ran before them is seen here.
    if after < state.store.changes_pruned().await? {
        return Err(expired());
    }
    Ok(rows.into_page(after, limit))
}

/// Parses a cursor a client sent back.
pub fn cursor(raw: &str, field: &str) -> Result<ChangeCursor, ApiError> {
    ChangeCursor::decode(raw).map_err(|err| ApiError::BadRequest {
        code: "invalid_cursor",
        message: err.to_string(),
        details: vec![FieldError { field: field.into(), message: err.to_string() }],
    })
}

/// Every change to what the caller can see after `cursor`, oldest first:
/// tasks created, updated, completed and deleted (the last as tombstones) in
/// the lists they are a member of, members joining and leaving those lists,
/// and their reminders. Without `cursor`: no changes, and the cursor of now.
/// Apply a task change only when its `version` is newer than the one held.
#[utoipa::path(
    get, path = "/v1/changes", tag = "changes",
    params(
        ("cursor" = Option<String>, Query, description = "Where to resume: a cursor this feed or the stream returned"),
        ("limit" = Option<usize>, Query, description = "1 to 500 (default 100)"),
    ),
    responses(
        (status = 200, description = "Changes after the cursor", body = ChangePage),
        (status = 400, description = "Invalid cursor or query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 410, description = "The cursor is older than the changes kept (7 days): load everything again", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_changes(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<ChangePage>, ApiError> {
    let (mut after, mut limit, mut errors) = (None, LIMIT_DEFAULT, Vec::new());
    for (key, value) in crate::extract::query_pairs(raw.as_deref())? {
        match key.as_str() {
            "cursor" => match ChangeCursor::decode(&value) {
                Ok(cursor) => after = Some(cursor),
                Err(err) => errors.push(FieldError { field: key, message: err.to_string() }),
            },
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=LIMIT_MAX).contains(&n) => limit = n,
                _ => errors.push(FieldError {
                    field: key,
                    message: format!("must be a whole number from 1 to {LIMIT_MAX}"),
                }),
            },
            _ => errors.push(FieldError { field: key, message: "unknown parameter".into() }),
        }
    }
    let after = ApiError::unless_invalid_query(after, errors)?;
    let page = match after {
        Some(after) => page(&state, &user, after, limit).await?,
        None => {
            let head = state.store.changes_head().await?;
            ChangePage { changes: Vec::new(), cursor: head, has_more: false }
        }
    };
    Ok(Json(page))
}
