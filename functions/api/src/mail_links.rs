//! The pages the links in mails and push notifications open, which act
//! without a sign-in: the token in the link is the proof, and it does one
//! thing only.
//!
//! - `/mail/confirm?token=…` confirms the address the link was mailed to.
//! - `/mail/unsubscribe?token=…` stops mail to its user. A `POST` (RFC 8058's
//!   one-click, which mail clients send with `List-Unsubscribe=One-Click`)
//!   acts at once.
//! - `/mail/snooze?token=…` snoozes the reminder of the one task it names, as
//!   its user (who must still be able to change the task), by the minutes the
//!   page's buttons send; for a week after the mail.
//! - `/mail/complete?token=…` marks the one task it names done, as its user,
//!   for a week (a reminder mail's *Mark it done*, and a push notification's
//!   Complete action, which posts to it).
//!
//! Opening a link (`GET`) never acts: it shows a page whose button `POST`s,
//! since mail scanners open links to look at them.

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use todo_lib::mail::{LinkPurpose, MailLink, escape};
use todo_lib::secret_token;
use todo_lib::task::Task;

use crate::AppState;
use crate::error::ApiError;
use crate::web::page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/mail/confirm", get(show_confirm).post(confirm))
        .route("/mail/unsubscribe", get(show_unsubscribe).post(unsubscribe))
        .route("/mail/snooze", get(show_snooze).post(snooze))
        .route("/mail/complete", get(show_complete).post(complete))
}

/// The snoozes a reminder's page offers, in minutes, with their labels.
const SNOOZES: [(i64, &str); 4] = [(15, "15 minutes"), (60, "1 hour"), (180, "3 hours"), (24 * 60, "1 day")];

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

/// The link `query` names, when it is one for `purpose` that has not expired.
async fn link(
    state: &AppState,
    query: &LinkQuery,
    purpose: LinkPurpose,
) -> Result<Option<MailLink>, ApiError> {
    let Some(token) = query.token.as_deref().filter(|t| !t.is_empty() && t.len() <= 200) else {
        return Ok(None);
    };
    let found = state.store.mail_link(&secret_token::hash(token)).await?;
    Ok(found.filter(|link| link.valid_for(purpose, Utc::now())))
}

fn unusable(what: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This link does not work",
        &format!(
            "<p>It is not a {what} link, or it has expired. Open Todo's settings to ask for a new one.</p>"
        ),
    )
}

/// A form that `POST`s back to this page's URL.
fn button(label: &str) -> String {
    format!(
        "<form method=\"post\"><button type=\"submit\" class=\"primary\">{}</button></form>",
        escape(label)
    )
}

async fn show_confirm(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let Some(link) = link(&state, &query, LinkPurpose::Confirm).await? else {
        return Ok(unusable("confirmation"));
    };
    let address = link.address.as_deref().unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        "Confirm your e-mail address",
        &format!(
            "<p>Send Todo's reminders to <strong>{}</strong>?</p>{}",
            escape(address),
            button("Confirm this address")
        ),
    ))
}

async fn confirm(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let Some(link) = link(&state, &query, LinkPurpose::Confirm).await? else {
        return Ok(unusable("confirmation"));
    };
    let Some(address) = link.address.as_deref() else { return Ok(unusable("confirmation")) };
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.use_mail_link(&link.token_hash, now).await?;
    let confirmed = tx.confirm_email(&link.user_id, address, now).await?;
    tx.commit().await?;
    let settings = state.store.settings(&link.user_id).await?;
    if confirmed || settings.verified_email() == Some(address) {
        Ok(page(
            StatusCode::OK,
            "Address confirmed",
            &format!(
                "<p>Reminders you choose to get by e-mail now go to <strong>{}</strong>.</p>",
                escape(address)
            ),
        ))
    } else {
        Ok(page(
            StatusCode::CONFLICT,
            "This address was changed",
            "<p>Your settings name another address now, so this one was not confirmed.</p>",
        ))
    }
}

async fn show_unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    if link(&state, &query, LinkPurpose::Unsubscribe).await?.is_none() {
        return Ok(unusable("unsubscribe"));
    }
    Ok(page(
        StatusCode::OK,
        "Stop e-mails from Todo?",
        &format!(
            "<p>You will get no more reminders by e-mail. You can turn them on again in your settings.</p>{}",
            button("Stop e-mails")
        ),
    ))
}

async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let Some(link) = link(&state, &query, LinkPurpose::Unsubscribe).await? else {
        return Ok(unusable("unsubscribe"));
    };
    let now = Utc::now();
    let mut tx = state.store.begin().await?;
    tx.stop_email(&link.user_id, now).await?;
    tx.use_mail_link(&link.token_hash, now).await?;
    tx.commit().await?;
    tracing::info!("a user stopped e-mails by an unsubscribe link");
    Ok(page(StatusCode::OK, "E-mails stopped", "<p>You will get no more reminders by e-mail.</p>"))
}

async fn show_snooze(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let Some(link) = link(&state, &query, LinkPurpose::Snooze).await? else { return Ok(unusable("snooze")) };
    let Some(task) = snoozable(&state, &link).await? else { return Ok(gone()) };
    let buttons: String = SNOOZES
        .iter()
        .map(|(minutes, label)| {
            format!(
                "<button type=\"submit\" name=\"minutes\" value=\"{minutes}\">{}</button> ",
                escape(label)
            )
        })
        .collect();
    Ok(page(
        StatusCode::OK,
        "Snooze the reminder",
        &format!(
            "<p>Remind you of <strong>{}</strong> again in:</p><form method=\"post\" class=\"snoozes\">{buttons}</form>",
            escape(&task.title)
        ),
    ))
}

#[derive(Debug, Deserialize)]
pub struct SnoozeForm {
    minutes: Option<String>,
}

async fn snooze(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
    form: Result<Form<SnoozeForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, ApiError> {
    let Some(link) = link(&state, &query, LinkPurpose::Snooze).await? else { return Ok(unusable("snooze")) };
    let Some(task) = snoozable(&state, &link).await? else { return Ok(gone()) };
    let minutes = form.ok().and_then(|Form(f)| f.minutes).and_then(|m| m.parse::<i64>().ok());
    let Some(minutes) = minutes.filter(|m| SNOOZES.iter().any(|(offered, _)| offered == m)) else {
        return Ok(page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a time",
            "<p>Go back and press one of the buttons.</p>",
        ));
    };
    let input = crate::snooze::Snooze { minutes: Some(minutes), until: None };
    let snoozed =
        crate::snooze::snooze(&state, &link.user_id, task.id, &crate::extract::IfMatch::Absent, &input)
            .await?;
    let zone = state.store.settings(&link.user_id).await?.time_zone;
    let when = snoozed.remind_at.map(|at| todo_lib::mail::local_time(at, zone)).unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        "Snoozed",
        &format!(
            "<p>You will be reminded of <strong>{}</strong> again on {when}.</p>",
            escape(&snoozed.title)
        ),
    ))
}

/// The task a snooze link names, if its user may still change it and it is open.
async fn snoozable(state: &AppState, link: &MailLink) -> Result<Option<Task>, ApiError> {
    Ok(changeable(state, link).await?.filter(|task| !task.completed))
}

/// The task a link names, if its user may still change it.
async fn changeable(state: &AppState, link: &MailLink) -> Result<Option<Task>, ApiError> {
    let Some(id) = link.task_id else { return Ok(None) };
    let found = state.store.task_and_role(&link.user_id, id).await?;
    Ok(found.filter(|(_, role)| role.writes_tasks()).map(|(task, _)| task))
}

/// The task a completion link names and may still change, or the page that
/// says why not.
async fn completable(
    state: &AppState,
    query: &LinkQuery,
) -> Result<Result<(MailLink, Task), Response>, ApiError> {
    let Some(link) = link(state, query, LinkPurpose::Complete).await? else {
        return Ok(Err(unusable("completion")));
    };
    let Some(task) = changeable(state, &link).await? else { return Ok(Err(cannot_complete())) };
    Ok(Ok((link, task)))
}

async fn show_complete(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let task = match completable(&state, &query).await? {
        Ok((_, task)) => task,
        Err(page) => return Ok(page),
    };
    if task.completed {
        return Ok(done(&task.title));
    }
    Ok(page(
        StatusCode::OK,
        "Mark the task done?",
        &format!("<p><strong>{}</strong></p>{}", escape(&task.title), button("Mark it done")),
    ))
}

async fn complete(
    State(state): State<AppState>,
    Query(query): Query<LinkQuery>,
) -> Result<Response, ApiError> {
    let (link, task) = match completable(&state, &query).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let done_task =
        crate::tasks::complete(&state, &link.user_id, task.id, &crate::extract::IfMatch::Absent).await?;
    Ok(done(&done_task.title))
}

fn done(title: &str) -> Response {
    page(StatusCode::OK, "Done", &format!("<p><strong>{}</strong> is done.</p>", escape(title)))
}

fn cannot_complete() -> Response {
    page(
        StatusCode::GONE,
        "Nothing to complete",
        "<p>The task was deleted, or you can no longer change it.</p>",
    )
}

fn gone() -> Response {
    page(
        StatusCode::GONE,
        "Nothing to snooze",
        "<p>The task was done or deleted, or you can no longer change it.</p>",
    )
}
