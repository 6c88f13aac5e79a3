//! The shared crate of the Todo event functions.
//!
//! Every function binary (the REST `api`, and later the event functions) is a thin
//! shim over this crate: it reads its [`config::Config`], opens a [`store::Store`],
//! builds an axum `Router` and hands it to [`serve`].
//!
//! # Layout
//!
//! - [`config`]: typed configuration from the environment (envy), secrets hidden.
//! - [`telemetry`]: tracing-subscriber set-up, readable or JSON logs.
//! - [`serve`]: one way to run any router: TCP with graceful shutdown, or AWS Lambda.
//! - [`task`]: the task model, its validation and the pure state changes.
//! - [`recurrence`]: RFC 5545 recurrence rules, parsed by the `rrule` crate.
//! - [`event`]: the CloudEvents the system emits, and the outbox row they travel in.
//! - [`publish`]: sends outbox events through the Dapr sidecar after commit.
//! - [`bus`]: the in-process bus of the embedded default (Dapr's semantics, no Dapr).
//! - [`store`]: the storage interface and its PostgreSQL and SQLite backends.
//! - [`function`]: what every event function shares: receiving CloudEvents,
//!   the caller's protocol (Dapr SUCCESS/RETRY/DROP or HTTP), the app token.
//! - [`activity`]: the activity history entries the functions write.
//! - [`notification`]: in-app notifications (reminders).
//! - [`webhook`]: users' webhooks: URL rules, signatures, delivery records.
//! - [`metrics`]: Prometheus metrics at `/metrics`.
//! - [`health`]: `/healthz` and `/readyz`, shared by every function.
//! - `testing`: fresh, migrated databases for tests on both backends.

pub mod activity;
pub mod bus;
pub mod config;
pub mod error_body;
pub mod event;
pub mod function;
pub mod health;
pub mod metrics;
pub mod notification;
pub mod publish;
pub mod recurrence;
pub mod serve;
pub mod store;
pub mod task;
pub mod telemetry;
pub mod webhook;

/// Fresh databases for tests (PostgreSQL and SQLite). Used by every crate's tests.
#[doc(hidden)]
pub mod testing;
