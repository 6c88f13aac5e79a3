//! Personal access tokens: a signed-in user makes one (the secret is shown
//! once, here), lists theirs with when each was last used, and revokes one,
//! which takes effect on the next request. Only a sign-in (a JWT) manages
//! tokens, so that a leaked token cannot mint more or outlive its revocation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::Serialize;
use todo_lib::access_tokens::{AccessToken, NewAccessToken, Scope};
use todo_lib::quota::Quota;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, path_id};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_token, list_tokens)).routes(routes!(revoke_token))
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// `Authorization: Bearer <this>`. Store it now: it is kept only as a hash.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<AccessToken>,
}

/// Make a personal access token (a signed-in user only, not another token).
#[utoipa::path(
    post, path = "/v1/tokens", tag = "tokens",
    request_body = NewAccessToken,
    responses(
        (status = 201, description = "Made; the token is shown only now", body = CreatedToken),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Called with a personal access token", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields, or as many tokens as `QUOTA_TOKENS_PER_USER` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewAccessToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require_sign_in()?;
    let (token, secret) = AccessToken::create(&caller.user, input, Utc::now())?;
    let mut tx = state.store.begin().await?;
    // The limit's count and the insert must not interleave with another's.
    tx.lock_user("tokens", &caller.user).await?;
    let inserted = tx.insert_access_token(&token, state.quotas.tokens_per_user).await?;
    tx.commit().await?;
    if !inserted {
        return Err(ApiError::over_quota(&state.quotas, Quota::TokensPerUser, "name", "revoke one first"));
    }
    tracing::info!(token_id = %token.id, "personal access token made");
    let created = CreatedToken {
        id: token.id,
        name: token.name,
        scopes: token.scopes,
        created_at: token.created_at,
        expires_at: token.expires_at,
        token: secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's personal access tokens, oldest first, without their secrets.
#[utoipa::path(
    get, path = "/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "Tokens", body = TokenList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Called with a personal access token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<TokenList>, ApiError> {
    caller.require_sign_in()?;
    Ok(Json(TokenList { items: state.store.access_tokens(&caller.user).await? }))
}

/// Revoke a personal access token: the next request with it is refused.
#[utoipa::path(
    delete, path = "/v1/tokens/{id}", tag = "tokens",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "Called with a personal access token", body = ErrorBody),
        (status = 404, description = "No such token of this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_sign_in()?;
    let id = path_id(&raw, "token")?;
    if state.store.delete_access_token(&caller.user, id).await? {
        tracing::info!(token_id = %id, "personal access token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("token"))
    }
}
