//! The task endpoints. Each handler reads, applies a pure change from
//! [`todo_lib::task`], and writes the task with its outbox event in one
//! transaction. Every lookup goes through the caller's membership of the task's
//! list: a task in a list they are not a member of is 404, and a viewer's
//! write is 403.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde::Serialize;
use todo_lib::event::{EventType, task_event};
use todo_lib::members::Role;
use todo_lib::quota::Quota;
use todo_lib::store::{ListQuery, StoreError, TagCount, Tx};
use todo_lib::task::{FieldError, NewTask, Task, TaskPatch, ValidationErrors};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{IfMatch, JsonBody, TaskId, list_query, versioned};
use crate::{AppState, lists, members, subtasks};

/// How often a change is retried when another writer got there first and the
/// client did not ask for a precondition (last writer wins).
pub(crate) const WRITE_ATTEMPTS: usize = 3;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task, list_tasks))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(complete_task))
        .routes(routes!(reopen_task))
        .routes(routes!(list_tags))
}

/// One page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<Task>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TagList {
    pub tags: Vec<TagCount>,
}

/// A task with its `ETag`.
pub(crate) fn task_response(status: StatusCode, task: &Task) -> Response {
    versioned(status, task, task.version, None)
}

/// Create a task.
#[utoipa::path(
    post, path = "/v1/tasks", tag = "tasks",
    request_body = NewTask,
    responses(
        (status = 201, description = "Created", body = Task,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String))),
        (status = 200, description = "Made before, with the `id` sent: the task as it is now, nothing written",
            body = Task, headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String))),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the list named by `list_id`", body = ErrorBody),
        (status = 409, description = "Another task has the `id` sent (`id_taken`)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, or as many tasks as `QUOTA_TASKS_PER_USER` \
            allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<NewTask>,
) -> Result<Response, ApiError> {
    let Made { task, before } = create(&state, &user, input).await?;
    let status = if before { StatusCode::OK } else { StatusCode::CREATED };
    Ok(versioned(status, &task, task.version, Some(&format!("/v1/tasks/{}", task.id))))
}

/// What [`create`] answers: the task, and whether it was made `before` by an
/// earlier request with the same `id` (then nothing was written).
#[derive(Debug)]
pub struct Made {
    pub task: Task,
    pub before: bool,
}

/// The task `user` made with the client's `id`, if any: a new task sent
/// again is made once.
async fn made_before(state: &AppState, user: &str, id: Option<uuid::Uuid>) -> Result<Option<Made>, ApiError> {
    let Some(id) = id else { return Ok(None) };
    let task = state.store.get_task(user, id).await?.filter(|task| task.user_id == user);
    Ok(task.map(|task| Made { task, before: true }))
}

/// Creates `input` as `user`'s task and writes its `task.created` event: the
/// use case behind `POST /v1/tasks`, and every other way in (the MCP server).
///
/// Whether the caller may add to the list is decided by the insert itself
/// ([`todo_lib::store::Tx::insert_task_by`]), in the writing transaction: no
/// read before it, and a member removed meanwhile adds nothing. The reasons
/// for a refusal are read only when there is one. A task the caller made
/// before with the `id` sent is answered as it is, with nothing written.
pub async fn create(state: &AppState, user: &str, input: NewTask) -> Result<Made, ApiError> {
    if let Some(made) = made_before(state, user, input.id).await? {
        return Ok(made);
    }
    let now = Utc::now();
    let (list_id, orphan) = match (input.list_id, input.parent_id) {
        (Some(id), _) => (id, false),
        // A subtask joins its parent's list.
        (None, Some(parent)) => match state.store.get_task(user, parent).await? {
            Some(parent) => (parent.list_id, false),
            None => (state.store.inbox_id(user, now).await?, true),
        },
        (None, None) => (state.store.inbox_id(user, now).await?, false),
    };
    let refusals = || async {
        let mut refusals = Vec::from_iter(lists::refusal_for_tasks(state, user, list_id).await?);
        if orphan {
            refusals.push(subtasks::no_such_parent());
        }
        Ok::<_, ApiError>(refusals)
    };
    let task = match (Task::create(user, list_id, input, now), orphan) {
        (Ok(task), false) => task,
        (result, _) => return Err(refused(result.map(drop), refusals().await?)),
    };
    let event = task_event(EventType::Created, &task, state.source, now, None)?;
    let mut tx = state.store.begin().await?;
    subtasks::follow(&mut tx, None, &task, now).await?;
    check_assignee(&mut tx, None, &task).await?;
    match tx.insert_task_by(&task, user).await {
        Ok(true) => {}
        Ok(false) => {
            drop(tx);
            return Err(refused(Ok(()), refusals().await?));
        }
        // The same new task sent twice at once, and the other made it; or an
        // id someone else's task has.
        Err(StoreError::Duplicate) => {
            drop(tx);
            return made_before(state, user, Some(task.id)).await?.ok_or(ApiError::Refused {
                code: "id_taken",
                message: "another task has this id: leave `id` out, or choose another UUID",
            });
        }
        Err(e) => return Err(e.into()),
    }
    // Counted after the insert (its own included): over the quota, and the
    // transaction is dropped with nothing written.
    if tx.tasks_made_by(user).await? > state.quotas.tasks_per_user {
        drop(tx);
        let hint = "delete some (done ones count too) first";
        return Err(ApiError::over_quota(&state.quotas, Quota::TasksPerUser, "title", hint));
    }
    tx.write_event(&event, None).await?;
    tx.commit().await?;
    state.publish(vec![event]);
    tracing::info!(task_id = %task.id, "task created");
    Ok(Made { task, before: false })
}

/// List tasks: filter, search, sort, paginate.
#[utoipa::path(
    get, path = "/v1/tasks", tag = "tasks",
    params(
        ("list" = Option<uuid::Uuid>, Query, description = "Only the tasks of this list"),
        ("assignee" = Option<String>, Query, description = "Only the tasks assigned to this user; `me` for the caller"),
        ("parent" = Option<String>, Query, description = "Only the direct subtasks of this task; `none` for top-level tasks only"),
        ("status" = Option<String>, Query, description = "open, done or all (default all)"),
        ("priority" = Option<String>, Query, description = "Any of these priorities, comma-separated or repeated"),
        ("tag" = Option<String>, Query, description = "All of these tags, comma-separated or repeated"),
        ("q" = Option<String>, Query, description = "A substring of the title or description, anywhere; case does not count, accents do"),
        ("due_before" = Option<String>, Query, description = "RFC 3339; due strictly before"),
        ("due_after" = Option<String>, Query, description = "RFC 3339; due at or after"),
        ("completed_before" = Option<String>, Query, description = "RFC 3339; completed strictly before (done tasks only)"),
        ("completed_after" = Option<String>, Query, description = "RFC 3339; completed at or after (done tasks only)"),
        ("overdue" = Option<bool>, Query, description = "true: only open tasks past due; false: none of them"),
        ("sort" = Option<String>, Query, description = "due, priority, created (default), updated, title, completed (open tasks last) or manual (the list's own order, `position`)"),
        ("order" = Option<String>, Query, description = "asc or desc (default: asc for due and title, desc otherwise)"),
        ("limit" = Option<u32>, Query, description = "1 to 200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "One page", body = TaskPage),
        (status = 400, description = "Invalid query parameters", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "`list` names no list of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_tasks(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    RawQuery(raw): RawQuery,
) -> Result<Json<TaskPage>, ApiError> {
    page(&state, &user, list_query(raw.as_deref(), Utc::now())?).await.map(Json)
}

/// One page of what `query` asks of the tasks `user` can see; `assignee=me`
/// names the caller, and `list` must be one of the caller's.
pub async fn page(state: &AppState, user: &str, mut query: ListQuery) -> Result<TaskPage, ApiError> {
    if query.assignee.as_deref() == Some("me") {
        query.assignee = Some(user.to_owned());
    }
    if let Some(list) = query.list {
        state.store.get_list(user, list).await?.ok_or(ApiError::NotFound("list"))?;
    }
    let page = state.store.list_tasks(user, &query).await?;
    Ok(TaskPage { items: page.items, next_cursor: page.next.map(|c| c.encode()) })
}

/// Get one task.
#[utoipa::path(
    get, path = "/v1/tasks/{id}", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses(
        (status = 200, description = "The task", body = Task, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
) -> Result<Response, ApiError> {
    Ok(task_response(StatusCode::OK, &get(&state, &user, id).await?))
}

/// The task `id`, if `user` can see it.
pub async fn get(state: &AppState, user: &str, id: uuid::Uuid) -> Result<Task, ApiError> {
    state.store.get_task(user, id).await?.ok_or(ApiError::NotFound("task"))
}

/// Change some fields of a task, or move it to another list (`list_id`).
/// `null` clears a clearable field.
#[utoipa::path(
    patch, path = "/v1/tasks/{id}", tag = "tasks",
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    request_body = TaskPatch,
    responses(
        (status = 200, description = "The changed task", body = Task, headers(("ETag" = String))),
        (status = 400, description = "Unreadable body or header", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 409, description = "Concurrent writers kept colliding; retry", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a `list_id` the task cannot move to", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn update_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
    JsonBody(patch): JsonBody<TaskPatch>,
) -> Result<Response, ApiError> {
    Ok(task_response(StatusCode::OK, &update(&state, &user, id, &if_match, patch).await?))
}

/// Applies `patch` to the task `id`, or moves it (`list_id`), with its event.
pub async fn update(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
    patch: TaskPatch,
) -> Result<Task, ApiError> {
    let target = match patch.list_id {
        Some(Some(list)) => Some((list, lists::refusal_for_tasks(state, user, list).await?)),
        _ => None,
    };
    change(state, user, id, if_match, |task| {
        // Staying in its list needs no right to add to it (an archived one, say).
        let refusal = target.clone().filter(|(list, _)| *list != task.list_id).and_then(|(_, r)| r);
        let refusals = refusal.into_iter().collect();
        let next = with_refusals(task.patched(patch.clone(), Utc::now()), refusals)?;
        Ok(next.map(|t| (t, EventType::Updated)))
    })
    .await
}

/// Mark a task done. Completing a done task changes nothing.
#[utoipa::path(
    post, path = "/v1/tasks/{id}/complete", tag = "tasks",
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    responses(
        (status = 200, description = "The task, done", body = Task, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn complete_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    Ok(task_response(StatusCode::OK, &complete(&state, &user, id, &if_match).await?))
}

/// Marks the task `id` done with its `task.completed` event (its open subtasks
/// too); a done task stays as it is.
pub async fn complete(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
) -> Result<Task, ApiError> {
    change(state, user, id, if_match, |task| {
        Ok(task.completed(Utc::now()).map(|t| (t, EventType::Completed)))
    })
    .await
}

/// Open a done task again. Reopening an open task changes nothing.
#[utoipa::path(
    post, path = "/v1/tasks/{id}/reopen", tag = "tasks",
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    responses(
        (status = 200, description = "The task, open", body = Task, headers(("ETag" = String))),
        (status = 400, description = "The id is not a UUID, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn reopen_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    Ok(task_response(StatusCode::OK, &reopen(&state, &user, id, &if_match).await?))
}

/// Opens the done task `id` again; an open task stays as it is.
pub async fn reopen(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
) -> Result<Task, ApiError> {
    change(state, user, id, if_match, |task| Ok(task.reopened(Utc::now()).map(|t| (t, EventType::Updated))))
        .await
}

/// Delete a task.
#[utoipa::path(
    delete, path = "/v1/tasks/{id}", tag = "tasks",
    params(
        ("id" = uuid::Uuid, Path, description = "Task id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version this change is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a UUID, or If-Match is malformed", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller only views the task's list", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 412, description = "If-Match does not name the current version", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_task(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    TaskId(id): TaskId,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    delete(&state, &user, id, &if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the task `id` and its subtasks, deepest first, each with its
/// `task.deleted` event.
pub async fn delete(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
) -> Result<(), ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let task = writable(state.store.task_and_role(user, id).await?)?;
        if_match.check(task.version)?;
        let now = Utc::now();
        let deleted = async {
            let mut tx = state.store.begin().await?;
            let mut events = Vec::new();
            // Its subtasks go first, deepest first, each with its event.
            for gone in subtasks::beneath_for_deletion(&mut tx, &task).await?.iter().chain([&task]) {
                tx.delete_task(gone).await?;
                let event = task_event(EventType::Deleted, gone, state.source, now, None)?;
                tx.write_event(&event, None).await?;
                events.push(event);
            }
            tx.commit().await?;
            Ok::<_, ApiError>(events)
        };
        match deleted.await {
            Ok(events) => {
                tracing::info!(task_id = %id, subtasks = events.len() - 1, "task deleted");
                state.publish(events);
                return Ok(());
            }
            // Changed meanwhile: read again, which re-checks existence and If-Match.
            Err(ApiError::Conflict) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::Conflict)
}

/// The caller's tags, with how many tasks carry each.
#[utoipa::path(
    get, path = "/v1/tags", tag = "tasks",
    responses(
        (status = 200, description = "Tags, most used first", body = TagList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_tags(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<TagList>, ApiError> {
    Ok(Json(TagList { tags: state.store.tag_counts(&user).await? }))
}

/// The task read with the caller's role, if they may write it: 404 when they
/// cannot see it, 403 when they only view its list.
pub(crate) fn writable(found: Option<(Task, Role)>) -> Result<Task, ApiError> {
    match found {
        None => Err(ApiError::NotFound("task")),
        Some((_, role)) if !role.writes_tasks() => Err(ApiError::Forbidden(lists::VIEWERS_READ)),
        Some((task, _)) => Ok(task),
    }
}

/// `result`, with `refusals` (of the task's list or assignee) among its field errors.
fn with_refusals<T>(result: Result<T, ValidationErrors>, refusals: Vec<FieldError>) -> Result<T, ApiError> {
    match result {
        Ok(value) if refusals.is_empty() => Ok(value),
        Ok(_) => Err(ValidationErrors(refusals).into()),
        Err(mut errors) => {
            errors.0.extend(refusals);
            Err(errors.into())
        }
    }
}

/// The error for a create refused with `result` and `refusals`; a refusal
/// that went by in the meantime (the caller was made an editor) is a
/// conflict to retry.
fn refused(result: Result<(), ValidationErrors>, refusals: Vec<FieldError>) -> ApiError {
    with_refusals(result, refusals).err().unwrap_or(ApiError::Conflict)
}

/// Refuses (422) `next`'s assignee unless they are a member of its list,
/// when the assignee or the list is new. Checked in the writing transaction
/// under the list's member lock, which removing a member holds too: either
/// the removal sees the assignment and unassigns it, or the assignment sees
/// the member gone.
async fn check_assignee(tx: &mut Tx, current: Option<&Task>, next: &Task) -> Result<(), ApiError> {
    let Some(assignee) = &next.assignee_id else { return Ok(()) };
    if current.is_some_and(|c| c.assignee_id == next.assignee_id && c.list_id == next.list_id) {
        return Ok(());
    }
    members::lock(tx, next.list_id).await?;
    if tx.member(next.list_id, assignee).await?.is_none() {
        let refusal = FieldError { field: "assignee_id".into(), message: NOT_A_MEMBER.into() };
        return Err(ValidationErrors(vec![refusal]).into());
    }
    Ok(())
}

const NOT_A_MEMBER: &str = "must be a member of the task's list";

/// Reads the task, checks `If-Match`, applies `apply` and writes the result with
/// its event, retrying when another writer got in between. `apply` returning
/// `None` means "nothing to change": the task is returned as it is, with no event.
pub(crate) async fn change<F>(
    state: &AppState,
    user: &str,
    id: uuid::Uuid,
    if_match: &IfMatch,
    apply: F,
) -> Result<Task, ApiError>
where
    F: Fn(&Task) -> Result<Option<(Task, EventType)>, ApiError>,
{
    for _ in 0..WRITE_ATTEMPTS {
        let current = writable(state.store.task_and_role(user, id).await?)?;
        if_match.check(current.version)?;
        let Some((next, ty)) = apply(&current)? else {
            return Ok(current);
        };
        let written = async {
            let mut tx = state.store.begin().await?;
            let followers = subtasks::follow(&mut tx, Some(&current), &next, next.updated_at).await?;
            check_assignee(&mut tx, Some(&current), &next).await?;
            let mut events = Vec::with_capacity(1 + followers.len());
            let changes = [(&next, current.version, ty)].into_iter();
            for (task, replaces, ty) in changes.chain(followers.iter().map(|f| (&f.task, f.replaces, f.ty))) {
                tx.update_task(task, replaces).await?;
                let mut event = task_event(ty, task, state.source, task.updated_at, None)?;
                if task.list_id != current.list_id {
                    event.set_moved_from(current.list_id);
                }
                tx.write_event(&event, None).await?;
                events.push(event);
            }
            if current.completed && !next.completed {
                events.extend(crate::series::take_back(state, &mut tx, &current).await?);
            }
            tx.commit().await?;
            Ok::<_, ApiError>(events)
        };
        match written.await {
            Ok(events) => {
                tracing::info!(task_id = %id, event = ty.as_str(), subtasks = events.len() - 1, "task changed");
                state.publish(events);
                return Ok(next);
            }
            Err(ApiError::Conflict) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::Conflict)
}
