//! The signed-in user's notification settings (`GET/PUT /v1/me/settings`):
//! time zone, e-mail address, channels per kind of notice, quiet hours. A new
//! address is sent a confirmation link, and nothing else until it is followed
//! (`crate::mail_links`); changing the address takes a sign-in, so that a
//! leaked personal access token cannot redirect someone's mail.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use todo_lib::mail::NewMail;
use todo_lib::settings::{Settings, SettingsInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{AuthUser, Caller};
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings)).routes(routes!(resend_confirmation))
}

/// The caller's notification settings (the defaults until they save any).
#[utoipa::path(
    get, path = "/v1/me/settings", tag = "settings",
    responses(
        (status = 200, description = "The settings", body = Settings),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(state.store.settings(&user).await?))
}

/// Replace the caller's notification settings, every field at once. A new
/// address is unconfirmed: a link is mailed to it, and nothing else is sent
/// to it until the link is followed.
#[utoipa::path(
    put, path = "/v1/me/settings", tag = "settings",
    request_body = SettingsInput,
    responses(
        (status = 200, description = "Saved; `email_verified` is false for a new address", body = Settings),
        (status = 400, description = "Unreadable body, or a field of the wrong type (a time not HH:MM)", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "A personal access token tried to change the address", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields: an unknown time zone, an address that is not one, quiet hours that start as they end", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<SettingsInput>,
) -> Result<Json<Settings>, ApiError> {
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    // Two saves of one user's settings do not interleave (the read, then the write).
    tx.lock_user("settings", &caller.user).await?;
    let current = tx.settings(&caller.user).await?;
    let next = current.apply(input, now)?;
    let new_address = next.email.is_some() && next.email != current.email;
    if next.email != current.email && caller.token.is_some() {
        return Err(ApiError::Forbidden(
            "personal access tokens cannot change the e-mail address: sign in (a JWT) to do this",
        ));
    }
    tx.put_settings(&next).await?;
    if new_address && let Some(address) = &next.email {
        tx.queue_mail(&NewMail::confirmation(&state.mail, &caller.user, address, now), now).await?;
    }
    tx.commit().await?;
    if new_address {
        tracing::info!("an address was set; its confirmation is queued");
    }
    Ok(Json(next))
}

/// Mail the confirmation link again, to the address awaiting confirmation.
#[utoipa::path(
    post, path = "/v1/me/settings/email/confirmation", tag = "settings",
    responses(
        (status = 202, description = "A new link is queued; earlier ones still work until they expire"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 409, description = "No address is set, or it is confirmed already (`nothing_to_confirm`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn resend_confirmation(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<StatusCode, ApiError> {
    let settings = state.store.settings(&user).await?;
    let Some(address) = settings.email.as_deref().filter(|_| !settings.email_verified) else {
        return Err(ApiError::Refused {
            code: "nothing_to_confirm",
            message: "no address awaits confirmation: set one with PUT /v1/me/settings",
        });
    };
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.queue_mail(&NewMail::confirmation(&state.mail, &user, address, now), now).await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}
