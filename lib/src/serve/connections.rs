//! Accepting TCP connections for [`super::serve_tcp`]: HTTP/1.1 through hyper,
//! with the limits that keep slow or silent clients from holding a process's
//! connections (slowloris). HTTP/1.1 only: every caller of these processes (the
//! Dapr sidecar, an ingress, Knative, curl) speaks it in cleartext, and hyper's
//! HTTP/2 has no header-read deadline, so a client sending its preface and then
//! nothing would hold a connection for good.
//!
//! - a request head must arrive whole within [`ConnectionLimits::header_read_timeout`],
//!   counted from when the connection starts waiting for it: on a new connection,
//!   and again after each response, so the same deadline closes a silent
//!   connection, one trickling its headers, and an idle keep-alive one;
//! - at most [`ConnectionLimits::max_connections`] are open at once; past that,
//!   new ones wait in the kernel's accept queue until one closes.
//!
//! On shutdown every connection is asked to finish its current request and close.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long a client may take, and how many may be connected at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl From<&crate::config::Config> for ConnectionLimits {
    fn from(config: &crate::config::Config) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            max_connections: config.max_connections.max(1),
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(10), max_connections: 1024 }
    }
}

/// Serves `app` on `listener` until `stop` resolves; then the connections are
/// told to close after their current request, and the returned watcher says
/// when they all have.
pub(super) async fn accept_until<S>(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    stop: S,
) -> GracefulShutdown
where
    S: Future<Output = ()>,
{
    let builder = Builder::new(TokioExecutor::new());
    let mut builder = builder.http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            () = &mut stop => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let deadline = limits.header_read_timeout;
        tokio::spawn(async move {
            // hyper's deadline starts once it reads a request head; a client
            // that sends nothing at all is dropped here.
            let mut byte = [0u8; 1];
            let spoke = matches!(tokio::time::timeout(deadline, stream.peek(&mut byte)).await, Ok(Ok(1..)));
            if !spoke {
                tracing::debug!(%peer, "closed a connection that sent nothing");
                drop(permit);
                return;
            }
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(err) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    graceful
}
