//! Web Push subscriptions: the web app asks for the server's public key
//! (`GET /v1/push/key`), subscribes the browser with its push service, and
//! hands the subscription over (`POST /v1/push/subscriptions`); the user
//! lists and deletes theirs. Reminders are pushed to every one of them when
//! the user's settings send reminders to push (`todo_lib::push`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use todo_lib::push::{Subscription, SubscriptionInput};
use todo_lib::quota::Quota;
use todo_lib::store::Subscribed;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, path_id};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_key))
        .routes(routes!(subscribe, list_subscriptions))
        .routes(routes!(unsubscribe))
}

/// Whether this server pushes, and the key browsers subscribe with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushKey {
    /// False when the server has no VAPID key (`VAPID_PRIVATE_KEY`).
    pub enabled: bool,
    /// The VAPID public key, base64url: `applicationServerKey` for
    /// `PushManager.subscribe`.
    pub public_key: Option<String>,
}

/// A browser push goes to, as listed (never its endpoint or keys).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    /// The push service's host, which says the browser's family
    /// (`fcm.googleapis.com`, `updates.push.services.mozilla.com`, `web.push.apple.com`).
    pub service: String,
    pub created_at: DateTime<Utc>,
}

impl From<Subscription> for SubscriptionView {
    fn from(s: Subscription) -> Self {
        Self { service: s.service(), id: s.id, created_at: s.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<SubscriptionView>,
}

/// The key browsers subscribe with, if this server pushes.
#[utoipa::path(
    get, path = "/v1/push/key", tag = "push",
    responses(
        (status = 200, description = "Whether push is on, and the VAPID public key", body = PushKey),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn push_key(State(state): State<AppState>, AuthUser(_user): AuthUser) -> Json<PushKey> {
    let public_key = state.push.as_ref().map(|keys| keys.public_key().to_owned());
    Json(PushKey { enabled: public_key.is_some(), public_key })
}

/// Subscribe this browser: what `PushSubscription.toJSON()` gives. The same
/// browser subscribed again renews its keys (200); one another user had
/// subscribed moves to the caller.
#[utoipa::path(
    post, path = "/v1/push/subscriptions", tag = "push",
    request_body = SubscriptionInput,
    responses(
        (status = 201, description = "Subscribed", body = SubscriptionView),
        (status = 200, description = "Already subscribed: its keys are renewed", body = SubscriptionView),
        (status = 400, description = "Unreadable body", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 409, description = "This server does not push (`push_not_configured`)", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "An endpoint or key that is not one, or as many as `QUOTA_PUSH_SUBSCRIPTIONS_PER_USER` allows (`quota_exceeded`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn subscribe(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<SubscriptionInput>,
) -> Result<(StatusCode, Json<SubscriptionView>), ApiError> {
    if state.push.is_none() {
        return Err(not_configured());
    }
    let subscription =
        input.check(&user, state.allow_loopback_webhooks, Utc::now()).map_err(ApiError::Validation)?;
    let mut tx = state.store.begin().await?;
    // The limit's count and the insert must not interleave with another subscription's.
    tx.lock_user("push", &user).await?;
    let subscribed = tx.subscribe_push(&subscription, state.quotas.push_subscriptions_per_user).await?;
    tx.commit().await?;
    match subscribed {
        Subscribed::Created(s) => {
            tracing::info!(subscription = %s.id, service = %s.service(), "push subscription added");
            Ok((StatusCode::CREATED, Json(s.into())))
        }
        Subscribed::Renewed(s) => Ok((StatusCode::OK, Json(s.into()))),
        Subscribed::OverQuota => Err(ApiError::over_quota(
            &state.quotas,
            Quota::PushSubscriptionsPerUser,
            "endpoint",
            "remove a browser you no longer use first",
        )),
    }
}

fn not_configured() -> ApiError {
    ApiError::Refused {
        code: "push_not_configured",
        message: "this server does not send push notifications (it has no VAPID_PRIVATE_KEY)",
    }
}

/// The browsers the caller's reminders are pushed to.
#[utoipa::path(
    get, path = "/v1/push/subscriptions", tag = "push",
    responses(
        (status = 200, description = "Subscriptions, oldest first", body = SubscriptionList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list_subscriptions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<SubscriptionList>, ApiError> {
    let items = state.store.push_subscriptions(&user).await?.into_iter().map(Into::into).collect();
    Ok(Json(SubscriptionList { items }))
}

/// Stop pushing to a browser (what is still owed to it is dropped).
#[utoipa::path(
    delete, path = "/v1/push/subscriptions/{id}", tag = "push",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such subscription for this user", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&raw, "push subscription")?;
    if state.store.unsubscribe_push(&user, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("push subscription"))
    }
}
