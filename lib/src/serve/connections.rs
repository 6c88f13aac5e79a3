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
//! - a request body must arrive whole within [`ConnectionLimits::body_read_timeout`]
//!   of its head, and is read only by a handler that wants it (see `body`);
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
    pub body_read_timeout: Duration,
    pub max_connections: usize,
}

impl From<&crate::config::Config> for ConnectionLimits {
    fn from(config: &crate::config::Config) -> Self {
        let header_read_timeout = Duration::from_secs(config.header_read_timeout_secs.max(1));
        Self {
            header_read_timeout,
            body_read_timeout: config
                .body_read_timeout_secs
                .map_or(header_read_timeout, |secs| Duration::from_secs(secs.max(1))),
            max_connections: config.max_connections.max(1),
        }
    }
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_connections: crate::config::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Tells what outlives a request (a live stream) that the server is shutting
/// down, so that it ends at once instead of holding the grace period. Every
/// request served by [`super::serve_tcp`] carries one as an extension.
#[derive(Debug, Clone)]
pub struct Draining(tokio::sync::watch::Receiver<bool>);

impl Draining {
    /// Resolves once shutdown has begun (at once, if it has).
    pub async fn begun(&mut self) {
        if self.0.wait_for(|draining| *draining).await.is_err() {
            // The server is gone without saying so: that is a shutdown too.
        }
    }

    /// A signal and its trigger (sending `true`, or dropping it, fires it).
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (tell, told) = tokio::sync::watch::channel(false);
        (tell, Self(told))
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
    let (drain, draining) = Draining::new();
    let body_deadline = limits.body_read_timeout;
    let app =
        app.layer(axum::Extension(draining)).layer(axum::middleware::map_request(
            move |request: axum::extract::Request| async move {
                super::body::with_deadline(request, body_deadline)
            },
        ));
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
        // The peer travels with each request, as axum's `ConnectInfo`: what
        // rate limits count requests without a credential against.
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(app.clone(), with_peer(peer)));
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
    drain.send_replace(true);
    graceful
}

/// Puts `peer` in each request's extensions, as axum's `ConnectInfo`.
fn with_peer<B>(
    peer: std::net::SocketAddr,
) -> impl Fn(axum::http::Request<B>) -> axum::http::Request<B> + Clone {
    move |mut request| {
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        request
    }
}
