//! The two backends behind one [`Store`] and one [`Tx`], and the macros that run
//! a statement on whichever is open.
//!
//! Each operation in the aggregate files (`tasks.rs`, `outbox.rs`, ...) writes
//! its statement and binds once, inside [`on_pool!`], [`on_writer!`] or
//! [`on_tx!`]; the macro expands the body once per backend, so each copy is
//! type-checked against that backend's concrete connection type. (sqlx's
//! executor traits make a generic version a thicket of higher-ranked bounds.)
//!
//! SQLite has one writer at a time. Writers of this process queue on a tokio
//! mutex, in order, instead of in SQLite's busy handler, which polls with sleeps
//! of up to 100 ms and made p99 latencies of writes hundreds of milliseconds
//! under load. A SQLite [`Tx`] holds that lock from `begin` until it ends, and a
//! one-statement write ([`on_writer!`]) holds it for its statement; PostgreSQL's
//! row locks let writers run side by side.
//!
//! [`Store`]: super::Store

use std::sync::Arc;

use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::change_signal::ChangeSignal;
use super::{Backend, StoreError};

/// The pool of one backend.
#[derive(Debug, Clone)]
pub(super) enum Pool {
    Postgres(PgPool),
    Sqlite { pool: SqlitePool, writer: Arc<Mutex<()>> },
}

impl Pool {
    pub(super) fn sqlite(pool: SqlitePool) -> Self {
        Self::Sqlite { pool, writer: Arc::default() }
    }

    pub(super) fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite { .. } => Backend::Sqlite,
        }
    }

    /// Opens a transaction; on SQLite, after this process's earlier writers.
    /// If it writes a change to the feed, committing it wakes `signal`.
    pub(super) async fn begin(&self, signal: Arc<ChangeSignal>) -> Result<Tx, StoreError> {
        let inner = match self {
            Self::Postgres(pool) => Inner::Postgres(pool.begin().await?),
            Self::Sqlite { pool, writer } => {
                let turn = Arc::clone(writer).lock_owned().await;
                Inner::Sqlite(pool.begin().await?, turn)
            }
        };
        Ok(Tx { inner, signal, changed: false })
    }
}

/// A transaction the caller composes from the aggregates' operations, then
/// commits; dropped uncommitted, it rolls back and changes nothing.
#[derive(Debug)]
pub struct Tx {
    pub(super) inner: Inner,
    signal: Arc<ChangeSignal>,
    /// It wrote an outbox event or a notification: a change in the feed.
    changed: bool,
}

#[derive(Debug)]
pub(super) enum Inner {
    Postgres(Transaction<'static, Postgres>),
    /// Fields drop in order: the transaction ends before the writer's turn does.
    Sqlite(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self.inner {
            Inner::Postgres(_) => Backend::Postgres,
            Inner::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// Rolls back now. Dropping a `Tx` rolls back too, but on PostgreSQL only
    /// when its connection is next used, so its row locks may outlive it for a
    /// moment; a caller that goes on to read the same rows says so here.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Postgres(tx) => tx.rollback().await?,
            Inner::Sqlite(tx, _turn) => tx.rollback().await?,
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Postgres(tx) => tx.commit().await?,
            Inner::Sqlite(tx, _turn) => tx.commit().await?,
        }
        if self.changed {
            self.signal.wake();
        }
        Ok(())
    }

    /// Notes that this transaction writes a change to the feed.
    pub(super) fn mark_changed(&mut self) {
        self.changed = true;
    }
}

/// A statement whose text differs between the backends, each written out whole.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dialects {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Dialects {
    pub(super) fn of(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Postgres => self.postgres,
            Backend::Sqlite => self.sqlite,
        }
    }
}

/// Runs `$body` with `$c` bound to the pool: for reads.
macro_rules! on_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match &$pool {
            $crate::store::db::Pool::Postgres($c) => $body,
            $crate::store::db::Pool::Sqlite { pool: $c, .. } => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the pool, as a write of one statement: on
/// SQLite in this process's writers' queue.
macro_rules! on_writer {
    ($pool:expr, |$c:ident| $body:expr) => {
        match &$pool {
            $crate::store::db::Pool::Postgres($c) => $body,
            $crate::store::db::Pool::Sqlite { pool: $c, writer } => {
                let _turn = writer.lock().await;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut $tx.inner {
            $crate::store::db::Inner::Postgres(tx) => {
                let $c = &mut **tx;
                $body
            }
            $crate::store::db::Inner::Sqlite(tx, _) => {
                let $c = &mut **tx;
                $body
            }
        }
    };
}

pub(super) use {on_pool, on_tx, on_writer};
