//! Invitations by link: an owner makes one for a role; whoever holds its
//! token joins with that role, once, before it expires or an owner revokes
//! it. Owners list a list's invitations (never their tokens). Accepting and
//! revoking run under the list's member lock, like every other change of
//! members, so an invitation is either accepted or revoked, never both.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;
use todo_lib::event::EventType;
use todo_lib::invitations::{Closed, Invitation, NewInvitation, token_hash};
use todo_lib::lists::TaskList;
use todo_lib::members::{Member, Role};
use todo_lib::quota::Quota;
use todo_lib::store::InvitationPage;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, path_id};
use crate::lists::managed;
use crate::members::{self, ALREADY_MEMBER, locked};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

/// A page of a list's invitations, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub items: Vec<Invitation>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<Uuid>,
}

const PAGE_DEFAULT: i64 = 50;
const PAGE_MAX: i64 = 200;

/// A new invitation, with its token: shown only here, once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitation {
    pub id: Uuid,
    pub list_id: Uuid,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
    /// Give it to the invitee; it is stored only as a hash.
    pub token: String,
    /// Where the invitee POSTs to join (with their own bearer token).
    pub accept_path: String,
}

/// Invite someone to a list by link (owners only).
#[utoipa::path(
    post, path = "/v1/lists/{id}/invitations", tag = "lists",
    params(("id" = Uuid, Path)),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "Created; the token is shown only now", body = CreatedInvitation),
        (status = 400, description = "Unreadable body or id", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
        (status = 409, description = "The list is an Inbox (`inbox_personal`)", body = ErrorBody),
        (status = 422, description = "Invalid fields, or the list has as many open invitations as \
            `QUOTA_OPEN_INVITATIONS_PER_LIST` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_invitation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    JsonBody(input): JsonBody<NewInvitation>,
) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, Json(create(&state, &user, &raw, input).await?)).into_response())
}

/// Makes an invitation to the list `raw` names (owners), its token shown only
/// in what this returns.
pub async fn create(
    state: &AppState,
    user: &str,
    raw: &str,
    input: NewInvitation,
) -> Result<CreatedInvitation, ApiError> {
    let list = managed(state, user, raw).await?;
    let (invitation, token) = Invitation::create(list.id, user, input, Utc::now())?;
    if list.inbox {
        return Err(crate::members::INBOX_PERSONAL);
    }
    let mut tx = locked(state, list.id).await?;
    if tx.open_invitations(list.id, invitation.created_at).await? >= state.quotas.open_invitations_per_list {
        let hint = "revoke one, or let one expire, first";
        return Err(ApiError::over_quota(&state.quotas, Quota::OpenInvitationsPerList, "role", hint));
    }
    tx.insert_invitation(&invitation).await?;
    tx.commit().await?;
    tracing::info!(list_id = %list.id, invitation_id = %invitation.id, "invitation created");
    let token = token.expose_secret().to_owned();
    Ok(CreatedInvitation {
        id: invitation.id,
        list_id: list.id,
        role: invitation.role,
        expires_at: invitation.expires_at,
        accept_path: format!("/v1/invitations/{token}/accept"),
        token,
    })
}

/// A list's invitations, open or closed, newest first, in pages (owners
/// only). Their tokens are never shown again.
#[utoipa::path(
    get, path = "/v1/lists/{id}/invitations", tag = "lists",
    params(
        ("id" = Uuid, Path),
        ("open" = Option<bool>, Query, description = "true: only those still open"),
        ("limit" = Option<i64>, Query, description = "1 to 200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "The invitations, newest first", body = InvitationList),
        (status = 400, description = "The id is not a UUID, or a bad query parameter", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_invitations(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<InvitationList>, ApiError> {
    let page = page_query(query.as_deref())?;
    let list = managed(&state, &user, &raw).await?;
    let mut items =
        state.store.invitations(list.id, InvitationPage { limit: page.limit + 1, ..page }).await?;
    let next_cursor = if items.len() > usize::try_from(page.limit).unwrap_or(usize::MAX) {
        items.truncate(items.len() - 1);
        items.last().map(|i| i.id)
    } else {
        None
    };
    Ok(Json(InvitationList { items, next_cursor }))
}

/// `open`, `limit` and `cursor`; anything else is refused.
fn page_query(raw: Option<&str>) -> Result<InvitationPage, ApiError> {
    let mut page = InvitationPage { before: None, open_only: false, now: Utc::now(), limit: PAGE_DEFAULT };
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: &str| {
        errors.push(todo_lib::task::FieldError { field: field.into(), message: message.into() });
    };
    for (key, value) in crate::extract::query_pairs(raw)? {
        match key.as_str() {
            "open" => match value.as_str() {
                "true" => page.open_only = true,
                "false" => page.open_only = false,
                _ => refuse("open", "must be true or false"),
            },
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=PAGE_MAX).contains(&n) => page.limit = n,
                _ => refuse("limit", "must be a whole number from 1 to 200"),
            },
            "cursor" => match Uuid::parse_str(&value) {
                Ok(id) => page.before = Some(id),
                Err(_) => refuse("cursor", "must be the next_cursor of a previous page"),
            },
            other => refuse(other, "unknown query parameter"),
        }
    }
    ApiError::unless_invalid_query(page, errors)
}

/// Revoke an invitation that was not accepted (owners only): its token then
/// answers 410 `invitation_revoked`. Revoking it again changes nothing.
#[utoipa::path(
    delete, path = "/v1/lists/{id}/invitations/{invitation_id}", tag = "lists",
    params(("id" = Uuid, Path), ("invitation_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Revoked (or revoked already)"),
        (status = 400, description = "An id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The caller is a member but not an owner", body = ErrorBody),
        (status = 404, description = "No such list of the caller, or no such invitation of it", body = ErrorBody),
        (status = 409, description = "Accepted already (`invitation_used`): remove the member instead", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((raw, raw_invitation)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let invitation_id = path_id(&raw_invitation, "invitation")?;
    revoke(&state, &user, &raw, invitation_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the invitation `invitation_id` of the list `raw` names (owners),
/// unless it was accepted; revoking it again changes nothing.
pub async fn revoke(state: &AppState, user: &str, raw: &str, invitation_id: Uuid) -> Result<(), ApiError> {
    let list = managed(state, user, raw).await?;
    let mut tx = locked(state, list.id).await?;
    let invitation =
        tx.invitation_in(list.id, invitation_id).await?.ok_or(ApiError::NotFound("invitation"))?;
    if invitation.accepted_by.is_some() {
        return Err(ApiError::Refused {
            code: "invitation_used",
            message: "the invitation was accepted already: remove the member instead",
        });
    }
    if tx.revoke_invitation(&invitation, Utc::now()).await? {
        tx.commit().await?;
        tracing::info!(list_id = %list.id, %invitation_id, "invitation revoked");
    }
    Ok(())
}

/// Join a list with an invitation's token, as the caller.
#[utoipa::path(
    post, path = "/v1/invitations/{token}/accept", tag = "lists",
    params(("token" = String, Path, description = "The invitation's token")),
    responses(
        (status = 200, description = "Joined: the list, with the caller's role", body = TaskList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No invitation has this token", body = ErrorBody),
        (status = 409, description = "The caller is a member already (`already_member`; the \
            invitation stays open)", body = ErrorBody),
        (status = 422, description = "The list has as many members as `QUOTA_MEMBERS_PER_LIST` \
            allows (`quota_exceeded`)", body = ErrorBody),
        (status = 410, description = "Accepted already (`invitation_used`), revoked \
            (`invitation_revoked`) or expired (`invitation_expired`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(token): Path<String>,
) -> Result<Json<TaskList>, ApiError> {
    let hash = token_hash(&token);
    let now = Utc::now();
    let found = state.store.invitation(&hash).await?.ok_or(ApiError::NotFound("invitation"))?;
    let list_id = found.list_id;
    // Read again under the lock: what was read before may have been accepted since.
    let mut tx = locked(&state, list_id).await?;
    let invitation = tx.invitation(&hash).await?.ok_or(ApiError::NotFound("invitation"))?;
    if let Some(closed) = invitation.closed(now) {
        return Err(gone(closed));
    }
    // Made by an owner who is one no more: it went with their role.
    if tx.member(list_id, &invitation.created_by).await?.is_none_or(|maker| maker.role != Role::Owner) {
        return Err(gone(Closed::Revoked));
    }
    if tx.member(list_id, &user).await?.is_some() {
        return Err(ALREADY_MEMBER);
    }
    if tx.headcount(list_id).await?.members >= state.quotas.members_per_list {
        let hint = "ask an owner to remove a member first";
        return Err(ApiError::over_quota(&state.quotas, Quota::MembersPerList, "token", hint));
    }
    if !tx.accept_invitation(&invitation, &user, now).await? {
        return Err(gone(Closed::Used));
    }
    let member = Member::new(list_id, &user, invitation.role, now);
    tx.insert_member(&member).await?;
    let event = members::membership_event(&state, &mut tx, EventType::MemberAdded, &member, &user).await?;
    tx.commit().await?;
    state.publish(vec![event]);
    tracing::info!(%list_id, invitation_id = %invitation.id, role = invitation.role.as_str(), "invitation accepted");
    let list = state.store.get_list(&user, list_id).await?;
    list.map(Json).ok_or(ApiError::NotFound("list"))
}

fn gone(closed: Closed) -> ApiError {
    match closed {
        Closed::Used => {
            ApiError::Gone { code: "invitation_used", message: "the invitation was accepted already" }
        }
        Closed::Revoked => ApiError::Gone {
            code: "invitation_revoked",
            message: "the invitation was revoked, by an owner or as its maker stopped being one",
        },
        Closed::Expired => {
            ApiError::Gone { code: "invitation_expired", message: "the invitation has expired" }
        }
    }
}
