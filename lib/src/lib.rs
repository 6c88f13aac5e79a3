//! The shared crate of the Todo event functions.
//!
//! Every function binary (the REST `api`, and later the event functions) is a thin
//! shim over this crate: it reads its [`config::Config`], opens a [`store::Store`],
//! builds an axum `Router` and hands it to [`serve`].
//!
//! # Layering
//!
//! Types below the store, behaviour above it. The models and their rules
//! ([`task`], [`recurrence`], [`event`], [`changes`], [`activity`], [`notification`], the
//! webhook records) know nothing of storage; [`store`] persists them; the
//! behaviour that uses the store ([`function`], [`outbox`], [`sender`],
//! [`health`]) sits above it. Nothing below imports anything above, and the
//! crate knows no particular function and no host: each function's use case
//! lives in its own crate, and the in-process bus with its one user, the local
//! host.
//!
//! # Layout
//!
//! - [`config`]: typed configuration from the environment (envy), secrets hidden.
//! - [`clock`]: the time the schedulers go by, injected (tests step their own).
//! - [`telemetry`]: tracing-subscriber set-up, readable or JSON logs.
//! - [`serve`]: one way to run any router: TCP with graceful shutdown, or AWS Lambda.
//! - [`task`]: the task model, its validation and the pure state changes.
//! - [`recurrence`]: RFC 5545 recurrence rules, parsed by the `rrule` crate.
//! - [`event`]: the CloudEvents the system emits, and the outbox row they travel in.
//! - [`changes`]: the changes feed: what a user can see that changed, in commit order, by cursor.
//! - [`publish`]: publishes one event through the Dapr sidecar ([`publish::Publisher`]).
//! - [`outbox`]: publishing from the outbox: after commit, and again what was left.
//! - [`relay`]: one per process, takes committed events off the handlers and publishes them.
//! - [`store`]: storage by aggregate over PostgreSQL and SQLite; transactions the
//!   use cases compose.
//! - [`function`]: what every event function shares: receiving CloudEvents,
//!   the caller's protocol (Dapr SUCCESS/RETRY/DROP or HTTP), the app token.
//! - [`lists`]: task lists, each user's undeletable Inbox among them.
//! - [`members`]: who may do what in a list: members and their roles.
//! - [`invitations`]: invitations to a list by link, kept only as hashes.
//! - [`access_tokens`]: personal access tokens with scopes, kept only as hashes.
//! - [`secret_token`]: the opaque secrets both hand out, and their stored hash.
//! - [`activity`]: the activity history entries the functions write.
//! - [`notification`]: in-app notifications (reminders).
//! - [`push`]: Web Push: subscriptions, VAPID keys, encrypted reminder notices.
//! - [`webhook`]: users' webhooks: URL rules, signatures, delivery records.
//! - [`sender`]: sends the webhook deliveries that are owed, under leases, with backoff.
//! - [`quota`]: how much one user or list may hold (`QUOTA_*`).
//! - [`metrics`]: Prometheus metrics at `/metrics`.
//! - [`rate_limit`]: budgets per caller (GCRA), shared through Redis or kept in the process.
//! - [`health`]: `/healthz` and `/readyz`, shared by every function.

pub mod access_tokens;
pub mod activity;
pub mod changes;
pub mod clock;
pub mod config;
pub mod error_body;
pub mod event;
pub mod function;
pub mod health;
pub mod hosts;
pub mod invitations;
pub mod lists;
pub mod mail;
pub mod members;
pub mod metrics;
pub mod notification;
pub mod outbox;
pub mod publish;
pub mod push;
pub mod quota;
pub mod rate_limit;
pub mod recurrence;
pub mod relay;
pub mod secret_token;
pub mod sender;
pub mod serve;
pub mod settings;
pub mod store;
pub mod task;
pub mod telemetry;
pub mod webhook;
