//! Request bodies, bounded before they are read: a declared length over the
//! limit is refused at once (413), without waiting for a byte of it; and a
//! body must arrive whole within a deadline counted from its request's head,
//! so that a client trickling a body holds its connection no longer than one
//! trickling its headers. Nothing here reads a body: a handler that never
//! asks for it (a route that answers 404) never waits for it.

use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt as _;

use crate::error_body::ErrorBody;

/// The error a body read fails with once its deadline has passed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive within {0:?} of its head")]
pub struct BodyTimedOut(pub Duration);

impl BodyTimedOut {
    /// Whether `err`, or an error it wraps, is a body that timed out.
    pub fn caused(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(err);
        while let Some(err) = cause {
            if err.is::<Self>() {
                return true;
            }
            cause = err.source();
        }
        false
    }
}

/// `request` with its body read against a deadline `timeout` from now; a
/// request with no body is passed on as it is.
pub fn with_deadline(request: Request, timeout: Duration) -> Request {
    if request.body().is_end_stream() {
        return request;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let (parts, body) = request.into_parts();
    let frames = futures_util::stream::unfold(Some(body.into_data_stream()), move |data| async move {
        let mut data = data?;
        match tokio::time::timeout_at(deadline, data.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(data))),
            Ok(Some(Err(err))) => Some((Err(axum::Error::new(err)), None)),
            Ok(None) => None,
            Err(_) => Some((Err(axum::Error::new(BodyTimedOut(timeout))), None)),
        }
    });
    Request::from_parts(parts, Body::from_stream(frames))
}

/// The length `request` declares, when it is over `limit` bytes.
fn declared_over(request: &Request, limit: usize) -> Option<u64> {
    let declared =
        request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    (declared > u64::try_from(limit).unwrap_or(u64::MAX)).then_some(declared)
}

/// Middleware: 413 in the one error shape when the request declares a body
/// longer than `limit` bytes, before a byte of it is read; otherwise on.
pub async fn refuse_declared_over(limit: usize, request: Request, next: Next) -> Response {
    match declared_over(&request, limit) {
        Some(length) => {
            let message =
                format!("the request body may be at most {limit} bytes; this one declares {length}");
            ErrorBody::new("payload_too_large", message, Vec::new())
                .into_response(StatusCode::PAYLOAD_TOO_LARGE)
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stalls_fails_at_its_deadline_as_a_timeout() {
        let (mut tx, rx) = futures_channel_like();
        tx.push(b"{\"ti".to_vec());
        let request = Request::post("/").body(Body::from_stream(rx)).expect("request");
        let request = with_deadline(request, Duration::from_secs(10));
        let read = tokio::spawn(axum::body::to_bytes(request.into_body(), 1024));
        tokio::time::advance(Duration::from_secs(11)).await;
        let err = read.await.expect("joined").expect_err("timed out");
        assert!(BodyTimedOut::caused(&err), "{err:?}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_body_within_its_deadline_is_passed_on_whole() {
        let request = Request::post("/").body(Body::from("{\"title\":\"x\"}")).expect("request");
        let request = with_deadline(request, Duration::from_secs(10));
        let bytes = axum::body::to_bytes(request.into_body(), 1024).await.expect("read");
        assert_eq!(&bytes[..], b"{\"title\":\"x\"}");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_any_byte() {
        let over = Request::post("/").header("content-length", "99999999999").body(Body::empty()).expect("r");
        assert_eq!(declared_over(&over, 1024), Some(99_999_999_999));
        let within = Request::post("/").header("content-length", "1024").body(Body::empty()).expect("r");
        assert_eq!(declared_over(&within, 1024), None);
    }

    /// A body stream fed by the test: one chunk, then nothing until dropped.
    fn futures_channel_like() -> (Feeder, impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let stream =
            futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (Ok(c), rx)) });
        (Feeder(tx), stream)
    }

    struct Feeder(tokio::sync::mpsc::UnboundedSender<Vec<u8>>);

    impl Feeder {
        fn push(&mut self, chunk: Vec<u8>) {
            self.0.send(chunk).expect("open");
        }
    }
}
