//! `GET /v1/stream`: the changes feed pushed as Server-Sent Events.
//!
//! Each change is an `event: change` whose `id` is its feed cursor, so a
//! client that reconnects with `Last-Event-ID` (or comes back days later)
//! resumes where it stopped. The first event, `ready`, carries the position
//! the stream starts from (now, without `Last-Event-ID`). A `reset` event
//! says the client's position was pruned: load everything again, then follow.
//!
//! A connection reads the feed itself only to catch up; then it takes its
//! changes from the one reader per process ([`hub`]), which a commit wakes
//! (in this process, or on PostgreSQL in any replica: `LISTEN`), so a write
//! costs the same however many streams are open. Comments keep idle connections open
//! through proxies, and a connection ends after a while so that clients spread
//! over replicas as they scale; an `EventSource` reconnects by itself.
//!
//! Streams are bounded ([`slots`]): per user, per personal access token and
//! per process, so that one caller's streams never take the connections
//! others need. A stream ends when its credential expires or is revoked (it
//! is looked at again before changes are sent, and every heartbeat), and at
//! once when the server shuts down.

pub mod hub;
pub mod slots;

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use serde::Deserialize;
use todo_lib::changes::{Change, ChangeCursor, ChangeRows, FeedBatch};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use todo_lib::access_tokens::Scope;
use todo_lib::serve::Draining;

use self::slots::{Full, Slot};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// While the database is down, look again after this long.
const RETRY: Duration = Duration::from_secs(2);
/// Events waiting to be written to one client.
const PAGE: usize = 100;

/// `STREAM_HEARTBEAT_SECS`, `STREAM_MAX_SECS` and the caps on open streams.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Settings {
    /// How often an idle stream sends a comment (default 15 s).
    #[serde(default = "default_heartbeat_secs")]
    pub stream_heartbeat_secs: u64,
    /// How long one connection lasts before the client is asked to reconnect
    /// (default 600 s).
    #[serde(default = "default_max_secs")]
    pub stream_max_secs: u64,
    /// Open streams per user in one process (default 10: a few browsers,
    /// each with a few tabs).
    #[serde(default = "default_max_per_user")]
    pub stream_max_per_user: usize,
    /// Open streams per personal access token in one process (default 4).
    #[serde(default = "default_max_per_token")]
    pub stream_max_per_token: usize,
    /// Open streams in one process; unset, half of `MAX_CONNECTIONS`, so the
    /// other half always serves ordinary requests.
    pub stream_max_open: Option<usize>,
}

fn default_heartbeat_secs() -> u64 {
    15
}

fn default_max_secs() -> u64 {
    600
}

fn default_max_per_user() -> usize {
    10
}

fn default_max_per_token() -> usize {
    4
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            stream_heartbeat_secs: default_heartbeat_secs(),
            stream_max_secs: default_max_secs(),
            stream_max_per_user: default_max_per_user(),
            stream_max_per_token: default_max_per_token(),
            stream_max_open: None,
        }
    }
}

impl Settings {
    /// The caps, given the process's `MAX_CONNECTIONS`.
    pub fn caps(&self, max_connections: usize) -> slots::Caps {
        let open = self.stream_max_open.unwrap_or(max_connections / 2).min(max_connections.saturating_sub(1));
        slots::Caps {
            per_user: self.stream_max_per_user.max(1),
            per_token: self.stream_max_per_token.max(1),
            open: open.max(1),
        }
    }
}

/// How long a client refused for its own (or its token's) many streams
/// should wait: about as long as streams close by themselves in a busy app.
const RETRY_AFTER_FULL_USER_SECS: u64 = 30;
/// How long a client refused because this process is full should wait:
/// another replica may take it sooner.
const RETRY_AFTER_FULL_PROCESS_SECS: u64 = 5;

pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(stream))
}

/// The caller's changes as Server-Sent Events: `ready` (its `id` the start),
/// then one `change` per change (its `id` the cursor; its data as in
/// `GET /v1/changes`), or `reset` when `Last-Event-ID` is older than the
/// changes kept. Send the bearer token in `Authorization` (fetch with a
/// streamed body; `EventSource` cannot set headers).
#[utoipa::path(
    get, path = "/v1/stream", tag = "changes",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this cursor")),
    responses(
        (status = 200, description = "An endless stream of events", content_type = "text/event-stream", body = String),
        (status = 400, description = "Last-Event-ID is not a cursor", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 429, description = "Too many open streams (`too_many_streams`): for this user, this \
            token, or this server; see Retry-After", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    draining: Option<Extension<Draining>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(Scope::TasksRead)?;
    let last = headers.get("last-event-id").map(|v| v.to_str().unwrap_or("\u{fffd}").trim());
    let start = match last.filter(|v| !v.is_empty()) {
        Some(raw) => crate::changes::cursor(raw, "Last-Event-ID")?,
        None => state.store.changes_head().await?,
    };
    let slot = state.streams.take(&caller.user, caller.token.as_ref().map(|t| t.id)).map_err(refusal)?;
    let settings = state.stream;
    let (sender, mut events) = mpsc::channel::<Event>(PAGE);
    let draining = draining.map(|Extension(d)| d);
    tokio::spawn(follow(state, caller, slot, draining, start, sender));
    let body =
        futures_util::stream::poll_fn(move |cx| events.poll_recv(cx).map(|e| e.map(Ok::<_, Infallible>)));
    let keep_alive = KeepAlive::new()
        .interval(Duration::from_secs(settings.stream_heartbeat_secs.max(1)))
        .text("heartbeat");
    // Proxies that buffer (nginx) would hold the events back.
    Ok(([("x-accel-buffering", HeaderValue::from_static("no"))], Sse::new(body).keep_alive(keep_alive)))
}

/// 429 `too_many_streams`, saying whose cap was reached and when to retry.
fn refusal(full: Full) -> ApiError {
    let (message, retry_after_secs) = match full {
        Full::User(cap) => (
            format!("this user has {cap} live streams open already: close one first"),
            RETRY_AFTER_FULL_USER_SECS,
        ),
        Full::Token(cap) => (
            format!("this personal access token has {cap} live streams open already: close one first"),
            RETRY_AFTER_FULL_USER_SECS,
        ),
        Full::Process => (
            "this server holds as many live streams as it keeps room for: retry shortly".to_owned(),
            RETRY_AFTER_FULL_PROCESS_SECS,
        ),
    };
    ApiError::TooMany { code: "too_many_streams", message, retry_after_secs }
}

/// Sends `caller`'s changes after `cursor` until the client goes away, the
/// connection has lasted its time, the credential is no longer accepted or
/// the server shuts down. `_slot` is its place among the open streams.
///
/// It reads the feed itself until it has caught up, then takes its changes
/// from the hub's batches; a batch that does not follow on from what it has
/// (it fell behind, or the batch was read before it joined) sends it back to
/// reading for itself.
async fn follow(
    state: AppState,
    caller: Caller,
    _slot: Slot,
    draining: Option<Draining>,
    cursor: ChangeCursor,
    events: mpsc::Sender<Event>,
) {
    let user = caller.user.as_str();
    // Subscribed before the first read, so that no batch after it is missed.
    let mut hub = state.hub.subscribe(&state.store, user);
    let ends = Instant::now() + Duration::from_secs(state.stream.stream_max_secs.max(1));
    let expires = caller.expires_at.map(|at| {
        let left = (at - chrono::Utc::now()).to_std().unwrap_or_default();
        Instant::now() + left
    });
    let recheck = Duration::from_secs(state.stream.stream_heartbeat_secs.max(1));
    let mut next_check = Instant::now() + recheck;
    let shutdown = async move {
        match draining {
            Some(mut draining) => draining.begun().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(shutdown);
    if events.send(position("ready", cursor)).await.is_err() {
        return;
    }
    // Everything for this user up to `covered` has been sent.
    let mut covered = cursor;
    // When to read the feed for this stream alone: now, to catch up.
    let mut read_at = Some(Instant::now());
    loop {
        let batch = tokio::select! {
            () = tokio::time::sleep_until(ends) => return,
            () = sleep_until(expires) => return,
            () = &mut shutdown => return,
            () = events.closed() => return,
            () = tokio::time::sleep_until(next_check) => {
                next_check = Instant::now() + recheck;
                if !credential_holds(&state, &caller).await {
                    return;
                }
                continue;
            }
            () = sleep_until(read_at) => None,
            received = hub.batches.recv(), if read_at.is_none() => match received {
                Ok(batch) => Some(batch),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    read_at = Some(Instant::now());
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        };
        let (changes, to) = match batch {
            Some(batch) if batch.to <= covered => continue,
            Some(batch) if batch.after > covered || !batch.rows.contains_key(user) => {
                // A gap: what lies between is read for this stream alone.
                read_at = Some(Instant::now());
                continue;
            }
            Some(batch) => (batch_changes(&batch, user, covered), batch.to),
            None => match read_alone(&state, user, covered).await {
                Ok((changes, to, more)) => {
                    read_at = more.then(Instant::now);
                    (changes, to)
                }
                Err(ApiError::Gone { .. }) => {
                    let Ok(head) = state.store.changes_head().await else { return };
                    covered = head;
                    if events.send(position("reset", covered)).await.is_err() {
                        return;
                    }
                    read_at = Some(Instant::now());
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "reading the changes feed for a stream failed; trying again");
                    read_at = Some(Instant::now() + RETRY);
                    continue;
                }
            },
        };
        // Nothing reaches a credential revoked since the stream opened.
        if !changes.is_empty() && !credential_holds(&state, &caller).await {
            return;
        }
        for change in changes {
            let event = Event::default().event("change").id(change.cursor.encode());
            let Ok(event) = event.json_data(&change) else { continue };
            if events.send(event).await.is_err() {
                return;
            }
        }
        covered = to;
    }
}

/// `user`'s changes in `batch` after `covered`, in order.
fn batch_changes(batch: &FeedBatch, user: &str, covered: ChangeCursor) -> Vec<Change> {
    let Some(rows) = batch.rows.get(user) else { return Vec::new() };
    let rows = ChangeRows {
        events: rows.events.iter().filter(|e| e.cursor > covered).cloned().collect(),
        notifications: rows.notifications.iter().filter(|(c, _)| *c > covered).cloned().collect(),
    };
    rows.into_page(covered, usize::MAX).changes
}

/// One read of the feed for this stream alone, after `covered`: its changes,
/// how far it reached, and whether more follows at once. It reads the user's
/// own rows by their lists (what `GET /v1/changes` reads), not every change
/// since `covered` as the hub does: a stream resuming ten minutes back reads
/// its own ten minutes, not everyone's. A position behind what retention has
/// pruned is `Gone`.
async fn read_alone(
    state: &AppState,
    user: &str,
    covered: ChangeCursor,
) -> Result<(Vec<Change>, ChangeCursor, bool), ApiError> {
    state.hub.reads().stream_read();
    // Read first: every change below it is in the page that follows, unless
    // the page is full.
    let head = state.store.changes_head().await?;
    let page = crate::changes::page(state, user, covered, hub::PAGE as usize).await?;
    let to = if page.has_more { page.cursor } else { page.cursor.max(head) };
    Ok((page.changes, to, page.has_more))
}

/// Whether the stream's credential is still accepted; a database that cannot
/// say ends the stream too (the client reconnects and is asked again).
async fn credential_holds(state: &AppState, caller: &Caller) -> bool {
    match crate::auth::still_valid(state, caller, chrono::Utc::now()).await {
        Ok(valid) => valid,
        Err(err) => {
            tracing::warn!(error = %err, "checking a stream's credential failed; ending the stream");
            false
        }
    }
}

/// `ready` or `reset`: where the stream now stands.
fn position(name: &'static str, cursor: ChangeCursor) -> Event {
    let data = serde_json::json!({ "cursor": cursor.encode() });
    Event::default().event(name).id(cursor.encode()).data(data.to_string())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
