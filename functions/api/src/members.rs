//! The member endpoints of a list: every member sees who else is; owners add
//! members, change their roles and remove them; any member may leave. A list
//! always keeps an owner, and an Inbox is never shared. Each change runs under
//! the list's member lock, so the owners it counts are the owners it leaves.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use todo_lib::event::{EventType, OutboxEvent, member_event, task_event};
use todo_lib::members::{Member, MemberPatch, NewMember, Role};
use todo_lib::quota::Quota;
use todo_lib::store::{StoreError, Tx};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::lists::{managed, visible};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, add_member))
        .routes(routes!(change_member, remove_member))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<Member>,
}

const LAST_OWNER: ApiError = ApiError::Refused {
    code: "last_owner",
    message: "a list keeps at least one owner: make another member an owner first",
};

pub(crate) const ALREADY_MEMBER: ApiError = ApiError::Refused {
    code: "already_member",
    message: "the user is a member already: change their role instead",
};

/// Why a list cannot be shared with a user id nobody has signed in with.
pub const NO_ACCOUNT: &str =
    "no one has signed in with this user id: check it, or share an invitation link instead";

pub(crate) const INBOX_PERSONAL: ApiError =
    ApiError::Refused { code: "inbox_personal", message: "an Inbox is personal: share another list" };

/// Opens the transaction that changes `list`'s members, holding its lock.
pub(crate) async fn locked(state: &AppState, list: Uuid) -> Result<Tx, ApiError> {
    let mut tx = state.store.begin().await?;
    lock(&mut tx, list).await?;
    Ok(tx)
}

/// Takes `list`'s member lock in `tx`: who is a member stays as `tx` reads it
/// until it ends.
pub(crate) async fn lock(tx: &mut Tx, list: Uuid) -> Result<(), StoreError> {
    tx.lock_user("members", &list.to_string()).await
}

/// Who is in a list, earliest first.
#[utoipa::path(
    get, path = "/v1/lists/{id}/members", tag = "lists",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The members, earliest first", body = MemberList),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_members(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(MemberList { items: of(&state, &user, &raw).await? }))
}

/// The members of the list `raw` names, if `user` is one of them.
pub async fn of(state: &AppState, user: &str, raw: &str) -> Result<Vec<Member>, ApiError> {
    let list = visible(state, user, raw).await?;
    Ok(state.store.members(list.id).await?)
}

/// Share a list: add a user with a role (owners only).
#[utoipa::path(
    post, path = "/v1/lists/{id}/members", tag = "lists",
    params(("id" = Uuid, Path)),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = Member, headers(("Location" = String))),
        (status = 400, description = "Unreadable body or id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
        (status = 409, description = "Already a member (`already_member`), or the list is an Inbox \
            (`inbox_personal`)", body = ErrorBody),
        (status = 422, description = "Invalid fields, a user id nobody has signed in with, or the list \
            has as many members as `QUOTA_MEMBERS_PER_LIST` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn add_member(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    JsonBody(input): JsonBody<NewMember>,
) -> Result<Response, ApiError> {
    let (list, member) = add(&state, &user, &raw, input).await?;
    let location = format!("/v1/lists/{}/members/{}", list, urlencoding(&member.user_id));
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], Json(member)).into_response())
}

/// Adds `input` to the list `raw` names, as its owner `user`, with the
/// `list.member_added` event: the use case behind `POST /v1/lists/{id}/members`.
pub async fn add(
    state: &AppState,
    user: &str,
    raw: &str,
    input: NewMember,
) -> Result<(Uuid, Member), ApiError> {
    let list = managed(state, user, raw).await?;
    let member = Member::create(list.id, input, Utc::now())?;
    if list.inbox {
        return Err(INBOX_PERSONAL);
    }
    if !state.store.has_account(&member.user_id).await? {
        return Err(ApiError::invalid("user_id", NO_ACCOUNT));
    }
    let mut tx = locked(state, list.id).await?;
    if tx.member(list.id, &member.user_id).await?.is_some() {
        return Err(ALREADY_MEMBER);
    }
    if tx.headcount(list.id).await?.members >= state.quotas.members_per_list {
        return Err(ApiError::over_quota(
            &state.quotas,
            Quota::MembersPerList,
            "user_id",
            "remove a member first",
        ));
    }
    tx.insert_member(&member).await?;
    let event = membership_event(state, &mut tx, EventType::MemberAdded, &member, user).await?;
    tx.commit().await?;
    state.publish(vec![event]);
    tracing::info!(list_id = %list.id, role = member.role.as_str(), "member added");
    Ok((list.id, member))
}

/// Change a member's role (owners only). The last owner stays an owner.
#[utoipa::path(
    patch, path = "/v1/lists/{id}/members/{user_id}", tag = "lists",
    params(("id" = Uuid, Path), ("user_id" = String, Path)),
    request_body = MemberPatch,
    responses(
        (status = 200, description = "The member with their new role", body = Member),
        (status = 400, description = "Unreadable body or id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller, or no such member", body = ErrorBody),
        (status = 409, description = "It would leave the list without an owner (`last_owner`)", body = ErrorBody),
        (status = 422, description = "No role given", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn change_member(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((raw, member_id)): Path<(String, String)>,
    JsonBody(patch): JsonBody<MemberPatch>,
) -> Result<Json<Member>, ApiError> {
    Ok(Json(change(&state, &user, &raw, &member_id, &patch).await?))
}

/// Gives `member_id` the role `patch` names in the list `raw` names (owners);
/// the last owner stays one.
pub async fn change(
    state: &AppState,
    user: &str,
    raw: &str,
    member_id: &str,
    patch: &MemberPatch,
) -> Result<Member, ApiError> {
    let list = managed(state, user, raw).await?;
    let role = patch.role()?;
    let mut tx = locked(state, list.id).await?;
    let member = tx.member(list.id, member_id).await?.ok_or(ApiError::NotFound("member"))?;
    if member.role == role {
        return Ok(member);
    }
    if member.role == Role::Owner && tx.headcount(list.id).await?.owners <= 1 {
        return Err(LAST_OWNER);
    }
    tx.set_role(list.id, member_id, role).await?;
    if member.role == Role::Owner {
        // Only owners invite: what they made stops working with their role.
        tx.revoke_invitations_made_by(list.id, member_id, Utc::now()).await?;
    }
    tx.commit().await?;
    tracing::info!(list_id = %list.id, role = role.as_str(), "member's role changed");
    Ok(Member { role, ..member })
}

/// Remove a member (owners), or leave a list (any member, for themselves).
/// Takes effect on the member's next request; the list's tasks assigned to
/// them are unassigned, each with its `task.updated`.
#[utoipa::path(
    delete, path = "/v1/lists/{id}/members/{user_id}", tag = "lists",
    params(("id" = Uuid, Path), ("user_id" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Removing someone else takes an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller, or no such member", body = ErrorBody),
        (status = 409, description = "The member is the list's last owner (`last_owner`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((raw, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    remove(&state, &user, &raw, &member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes `member_id` from the list `raw` names (an owner removing anyone,
/// or a member leaving), with the `list.member_removed` event; their tasks in
/// the list are unassigned, each with its event.
pub async fn remove(state: &AppState, user: &str, raw: &str, member_id: &str) -> Result<(), ApiError> {
    let list =
        if member_id == user { visible(state, user, raw).await? } else { managed(state, user, raw).await? };
    let mut tx = locked(state, list.id).await?;
    let member = tx.member(list.id, member_id).await?.ok_or(ApiError::NotFound("member"))?;
    if member.role == Role::Owner && tx.headcount(list.id).await?.owners <= 1 {
        return Err(LAST_OWNER);
    }
    tx.delete_member(list.id, member_id).await?;
    // What they invited others with stops working as they leave.
    tx.revoke_invitations_made_by(list.id, member_id, Utc::now()).await?;
    let mut events = vec![membership_event(state, &mut tx, EventType::MemberRemoved, &member, user).await?];
    // Their tasks in the list are nobody's now, each change with its event.
    let now = Utc::now();
    for task in tx.assigned_tasks(list.id, member_id).await? {
        let Some(next) = task.unassigned(now) else { continue };
        let event = task_event(EventType::Updated, &next, state.source, now, None)?;
        tx.update_task(&next, task.version).await?;
        tx.write_event(&event, None).await?;
        events.push(event);
    }
    tx.commit().await?;
    tracing::info!(list_id = %list.id, unassigned = events.len() - 1, "member removed");
    state.publish(events);
    Ok(())
}

/// Writes, in `tx`, the event of `member` having joined (`list.member_added`)
/// or left (`list.member_removed`) their list by `actor`'s doing.
pub(crate) async fn membership_event(
    state: &AppState,
    tx: &mut Tx,
    ty: EventType,
    member: &Member,
    actor: &str,
) -> Result<OutboxEvent, ApiError> {
    let event = member_event(ty, member, actor, state.source, Utc::now())?;
    tx.write_event(&event, None).await?;
    Ok(event)
}

/// `id` as one path segment.
fn urlencoding(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}
