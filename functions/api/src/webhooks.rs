//! Webhook endpoints: register (the signing secret is shown once, here), list and
//! delete. Deliveries are made by the event functions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use todo_lib::quota::Quota;
use todo_lib::webhook::{self, Webhook};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, path_id};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_webhook, list_webhooks)).routes(routes!(delete_webhook))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed; https only.
    pub url: String,
}

/// A webhook as listed: never with its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

/// A webhook just created: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: Uuid,
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// Standard Webhooks signing secret (`whsec_…`). Store it now: it is not shown again.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookView>,
}

/// Register a webhook. Events of the caller's tasks are POSTed to it, signed.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered; the secret is shown only now", body = CreatedWebhook),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid URL, or as many webhooks as `QUOTA_WEBHOOKS_PER_USER` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let url = webhook::check_url(input.url.trim(), state.allow_loopback_webhooks)
        .map_err(|m| ApiError::invalid("url", m))?;
    let hook = Webhook::new(&user, &url, Utc::now()).map_err(|e| ApiError::Internal(e.into()))?;
    let mut tx = state.store.begin().await?;
    // The limit's count and the insert must not interleave with another registration's.
    tx.lock_user("webhooks", &user).await?;
    let inserted = tx.insert_webhook(&hook, state.quotas.webhooks_per_user).await?;
    tx.commit().await?;
    if !inserted {
        return Err(ApiError::over_quota(&state.quotas, Quota::WebhooksPerUser, "url", "delete one first"));
    }
    tracing::info!(webhook_id = %hook.id, "webhook registered");
    let created = CreatedWebhook {
        id: hook.id,
        url: hook.url.clone(),
        created_at: hook.created_at,
        secret: hook.secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's webhooks (without secrets).
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    responses(
        (status = 200, description = "Webhooks", body = WebhookList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<WebhookList>, ApiError> {
    let items = state
        .store
        .list_webhooks(&user)
        .await?
        .into_iter()
        .map(|h| WebhookView { id: h.id, url: h.url, created_at: h.created_at })
        .collect();
    Ok(Json(WebhookList { items }))
}

/// Delete a webhook.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such webhook for this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&raw, "webhook")?;
    if state.store.delete_webhook(&user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("webhook"))
    }
}
