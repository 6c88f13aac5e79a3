//! The list endpoints: the lists a user is a member of, their own Inbox among
//! them, created on first need and never deleted. Lookups go through the
//! caller's membership: a list they are not a member of is 404; changing or
//! deleting a list takes its owner (403 for other members).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Serialize;
use todo_lib::lists::{ListCount, ListPatch, NewList, TaskList};
use todo_lib::quota::Quota;
use todo_lib::store::StoreError;
use todo_lib::task::FieldError;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{IfMatch, JsonBody, path_id, query_pairs, versioned};

/// How often a change is retried when another writer got there first.
const WRITE_ATTEMPTS: usize = 3;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_list, list_lists))
        .routes(routes!(list_counts))
        .routes(routes!(get_list, update_list, delete_list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListList {
    pub items: Vec<TaskList>,
}

/// The field error for a `list_id` that names no list of the caller.
pub(crate) const NO_SUCH_LIST: &str = "no such list";

/// The caller's Inbox, created if this is the first they need it.
pub(crate) async fn inbox(state: &AppState, user: &str) -> Result<TaskList, ApiError> {
    Ok(state.store.inbox_or_insert(&TaskList::inbox(user, Utc::now())).await?)
}

/// A list with its `ETag`.
fn list_response(status: StatusCode, list: &TaskList) -> Response {
    versioned(status, list, list.version, None)
}

/// Why the caller cannot put tasks into list `id` (`list_id` of a new task or
/// a move): `None` when they can (a member who writes tasks, of a list not
/// archived); 403 for a viewer.
pub async fn refusal_for_tasks(
    state: &AppState,
    user: &str,
    id: Uuid,
) -> Result<Option<FieldError>, ApiError> {
    let message = match state.store.get_list(user, id).await? {
        None => NO_SUCH_LIST,
        Some(list) if !list.role.writes_tasks() => return Err(ApiError::Forbidden(VIEWERS_READ)),
        Some(list) if list.archived => "the list is archived: restore it first",
        Some(_) => return Ok(None),
    };
    Ok(Some(FieldError { field: "list_id".into(), message: message.into() }))
}

/// Why a viewer's write is refused.
pub(crate) const VIEWERS_READ: &str = "a viewer of this list may read its tasks but not change them";

/// The list the path names, if the caller is a member.
pub async fn visible(state: &AppState, user: &str, raw: &str) -> Result<TaskList, ApiError> {
    let id = path_id(raw, "list")?;
    state.store.get_list(user, id).await?.ok_or(ApiError::NotFound("list"))
}

/// The list the path names, if the caller owns it: 404 for a non-member,
/// 403 for a member who does not own it.
pub(crate) async fn managed(state: &AppState, user: &str, raw: &str) -> Result<TaskList, ApiError> {
    let list = visible(state, user, raw).await?;
    if !list.role.manages() {
        return Err(ApiError::Forbidden("only an owner of the list may change it or its members"));
    }
    Ok(list)
}

/// Create a list.
#[utoipa::path(
    post, path = "/v1/lists", tag = "lists",
    request_body = NewList,
    responses(
        (status = 201, description = "Created", body = TaskList,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String))),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, or as many lists as `QUOTA_LISTS_PER_USER` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<NewList>,
) -> Result<Response, ApiError> {
    let list = create(&state, &user, input).await?;
    Ok(versioned(StatusCode::CREATED, &list, list.version, Some(&format!("/v1/lists/{}", list.id))))
}

/// Creates `input` as a list `user` owns: the use case behind `POST /v1/lists`.
pub async fn create(state: &AppState, user: &str, input: NewList) -> Result<TaskList, ApiError> {
    let position = input.position;
    let mut list = TaskList::create(user, input, Utc::now())?;
    inbox(state, user).await?;
    let mut tx = state.store.begin().await?;
    // The limit's count and the insert must not interleave with another creation's.
    tx.lock_user("lists", user).await?;
    let inserted = tx.insert_list(&list, state.quotas.lists_per_user).await?;
    // Last in the maker's order, unless they gave it a place.
    match position {
        Some(position) => {
            tx.set_member_position(list.id, user, position).await?;
        }
        None if inserted => list.position = tx.member_position(list.id, user).await?.unwrap_or_default(),
        None => {}
    }
    tx.commit().await?;
    if !inserted {
        return Err(ApiError::over_quota(
            &state.quotas,
            Quota::ListsPerUser,
            "name",
            "delete or archive one first",
        ));
    }
    tracing::info!(list_id = %list.id, "list created");
    Ok(list)
}

/// The lists the caller is a member of, by position, with their role in
/// each; their Inbox always among them.
#[utoipa::path(
    get, path = "/v1/lists", tag = "lists",
    params(("archived" = Option<bool>, Query, description = "Include archived lists (default false)")),
    responses(
        (status = 200, description = "Lists by position, then creation", body = ListList),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_lists(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListList>, ApiError> {
    let archived = archived_query(raw.as_deref())?;
    Ok(Json(ListList { items: all(&state, &user, archived).await? }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListCounts {
    /// Only the lists holding open tasks: a list not here has none.
    pub items: Vec<ListCount>,
}

/// How many open tasks each of the caller's lists holds, and how many of
/// those are past due: the numbers beside the lists in a sidebar.
#[utoipa::path(
    get, path = "/v1/lists/counts", tag = "lists",
    responses(
        (status = 200, description = "Open and overdue tasks by list", body = ListCounts),
        (status = 400, description = "A query string: this route takes none", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_counts(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<ListCounts>, ApiError> {
    let errors: Vec<FieldError> = query_pairs(raw.as_deref())?
        .into_iter()
        .map(|(field, _)| FieldError { field, message: "is not a parameter of this route".into() })
        .collect();
    ApiError::unless_invalid_query((), errors)?;
    Ok(Json(ListCounts { items: state.store.open_counts(&user, Utc::now()).await? }))
}

/// `GET /v1/lists`'s query: whether to include archived lists.
pub fn archived_query(raw: Option<&str>) -> Result<bool, ApiError> {
    let mut archived = false;
    let mut errors = Vec::new();
    for (key, value) in query_pairs(raw)? {
        match (key.as_str(), value.as_str()) {
            ("archived", "true") => archived = true,
            ("archived", "false") => archived = false,
            ("archived", _) => {
                errors.push(FieldError { field: key, message: "must be true or false".into() })
            }
            _ => errors.push(FieldError { field: key, message: "is not a parameter of this route".into() }),
        }
    }
    ApiError::unless_invalid_query(archived, errors)
}

/// The lists `user` is a member of (archived ones too when asked), their
/// Inbox always among them.
pub async fn all(state: &AppState, user: &str, archived: bool) -> Result<Vec<TaskList>, ApiError> {
    inbox(state, user).await?;
    Ok(state.store.lists(user, archived).await?)
}

/// Get one list.
#[utoipa::path(
    get, path = "/v1/lists/{id}", tag = "lists",
    params(("id" = uuid::Uuid, Path)),
    responses(
        (status = 200, description = "The list", body = TaskList,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    Ok(list_response(StatusCode::OK, &visible(&state, &user, &raw).await?))
}

/// Rename, recolour, reorder, archive or restore a list.
#[utoipa::path(
    patch, path = "/v1/lists/{id}", tag = "lists",
    params(
        ("id" = uuid::Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    request_body = ListPatch,
    responses(
        (status = 200, description = "The list as changed", body = TaskList,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 400, description = "Unreadable body or id, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner (any member sets `position` alone: their own place for the list)", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
        (status = 409, description = "Changed concurrently again and again; retry", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
        (status = 422, description = "Invalid fields (the Inbox keeps its name and stays active)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    if_match: IfMatch,
    JsonBody(patch): JsonBody<ListPatch>,
) -> Result<Response, ApiError> {
    Ok(list_response(StatusCode::OK, &update(&state, &user, &raw, &if_match, patch).await?))
}

/// Applies `patch` to the list `raw` names: the list as it is after. Its
/// name, colour and archiving are its owners' to change; its `position` is
/// the caller's own place for it in their order of their lists, any member's
/// to set, and changes neither the list's version nor anyone else's order.
pub async fn update(
    state: &AppState,
    user: &str,
    raw: &str,
    if_match: &IfMatch,
    mut patch: ListPatch,
) -> Result<TaskList, ApiError> {
    let position = patch.position.take();
    let owners = patch.name.is_some() || patch.colour.is_some() || patch.archived.is_some();
    let mut list = if owners || position.is_none() {
        change(state, user, raw, if_match, patch).await?
    } else {
        let list = visible(state, user, raw).await?;
        if_match.check(list.version)?;
        list
    };
    if let Some(position) = position
        && position != list.position
    {
        let mut tx = state.store.begin().await?;
        if !tx.set_member_position(list.id, user, position).await? {
            return Err(ApiError::NotFound("list"));
        }
        tx.commit().await?;
        list.position = position;
    }
    Ok(list)
}

/// Applies `patch` (no `position`) to the list `raw` names, as its owner.
async fn change(
    state: &AppState,
    user: &str,
    raw: &str,
    if_match: &IfMatch,
    patch: ListPatch,
) -> Result<TaskList, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let current = managed(state, user, raw).await?;
        if_match.check(current.version)?;
        let Some(next) = current.patched(patch.clone(), Utc::now())? else {
            return Ok(current);
        };
        let written = async {
            let mut tx = state.store.begin().await?;
            tx.update_list(&next, current.version).await?;
            tx.commit().await
        };
        match written.await {
            Ok(()) => return Ok(next),
            // Changed meanwhile: read again, which re-checks If-Match.
            Err(StoreError::VersionConflict) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Conflict)
}

/// Delete a list. The Inbox cannot be deleted, nor a list while tasks are in it.
#[utoipa::path(
    delete, path = "/v1/lists/{id}", tag = "lists",
    params(
        ("id" = uuid::Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
        (status = 409, description = "The list is the caller's Inbox (`inbox_undeletable`) or still \
            holds tasks (`list_not_empty`)", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    delete(&state, &user, &raw, &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the list `raw` names (owners): never the Inbox, nor a list that
/// holds tasks.
pub async fn delete(state: &AppState, user: &str, raw: &str, if_match: &IfMatch) -> Result<(), ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let list = managed(state, user, raw).await?;
        if list.inbox {
            return Err(ApiError::Refused {
                code: "inbox_undeletable",
                message: "the Inbox cannot be deleted",
            });
        }
        if_match.check(list.version)?;
        match state.store.delete_list(&list).await {
            Ok(()) => {
                tracing::info!(list_id = %list.id, "list deleted");
                return Ok(());
            }
            // Changed meanwhile: read again, which re-checks existence and If-Match.
            Err(StoreError::VersionConflict) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::Conflict)
}
