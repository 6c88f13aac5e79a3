//! A Lambda Runtime API on loopback for `loadgen --lambda`: it hands prepared
//! invocations to function processes polling it (each process takes one at a
//! time, as Lambda runs one invocation per environment), on the documented
//! paths and headers, and times each from hand-out to response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};

#[derive(Default)]
struct Shared {
    /// The invocations left: body and how many events it carries.
    left: Mutex<Vec<(String, usize)>>,
    /// Handed out, not yet answered: when, and how many events.
    out: Mutex<HashMap<String, (Instant, usize)>>,
    /// Answered: latency, and events the answer reports failed.
    done: Mutex<Vec<(Duration, usize)>>,
    first: Mutex<Option<Instant>>,
    done_signal: tokio::sync::Notify,
}

/// What the run came to.
#[derive(Debug)]
pub struct Outcome {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub seconds: f64,
}

/// Serves `invocations` (body, events in it) to `processes` copies of `bin`
/// (with `env`), until all are answered or `within` passed; then stops them.
pub async fn run(
    bin: &str,
    env: &[(String, String)],
    processes: usize,
    invocations: Vec<(String, usize)>,
    within: Duration,
) -> Result<Outcome, Box<dyn std::error::Error>> {
    let total = invocations.len();
    let shared =
        Arc::new(Shared { left: Mutex::new(invocations.into_iter().rev().collect()), ..Shared::default() });
    let router = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(|| async { StatusCode::ACCEPTED }))
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut children = Vec::new();
    for _ in 0..processes {
        children.push(
            std::process::Command::new(bin)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
                .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?,
        );
    }
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let answered = shared.done.lock().map(|d| d.len()).unwrap_or_default();
        if answered >= total || tokio::time::Instant::now() >= deadline {
            break;
        }
        let _ = tokio::time::timeout_at(deadline, shared.done_signal.notified()).await;
    }
    let finished = Instant::now();
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let first = shared.first.lock().ok().and_then(|f| *f).unwrap_or(finished);
    let done = shared.done.lock().map(|d| d.clone()).unwrap_or_default();
    let mut errors: usize = done.iter().map(|(_, e)| e).sum();
    let unanswered = shared.left.lock().map(|l| l.iter().map(|(_, n)| n).sum::<usize>()).unwrap_or_default()
        + shared.out.lock().map(|o| o.values().map(|(_, n)| n).sum::<usize>()).unwrap_or_default();
    errors += unanswered;
    Ok(Outcome {
        latencies: done.into_iter().map(|(d, _)| d).collect(),
        errors,
        seconds: (finished - first).as_secs_f64(),
    })
}

async fn next(State(shared): State<Arc<Shared>>) -> axum::response::Response {
    let popped = shared.left.lock().ok().and_then(|mut l| l.pop());
    let Some((body, events)) = popped else { return std::future::pending().await };
    let id = uuid::Uuid::new_v4().to_string();
    let now = Instant::now();
    if let Ok(mut first) = shared.first.lock() {
        first.get_or_insert(now);
    }
    if let Ok(mut out) = shared.out.lock() {
        out.insert(id.clone(), (now, events));
    }
    let mut headers = HeaderMap::new();
    let deadline = (chrono::Utc::now().timestamp_millis() + 60_000).to_string();
    headers.insert("lambda-runtime-aws-request-id", id.parse().expect("header"));
    headers.insert("lambda-runtime-deadline-ms", deadline.parse().expect("header"));
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:bench".parse().expect("header"),
    );
    (StatusCode::OK, headers, body).into_response()
}

fn answered(shared: &Shared, id: &str, failed: Option<usize>) -> StatusCode {
    let Some((at, events)) = shared.out.lock().ok().and_then(|mut o| o.remove(id)) else {
        return StatusCode::BAD_REQUEST;
    };
    if let Ok(mut done) = shared.done.lock() {
        done.push((at.elapsed(), failed.unwrap_or(events)));
    }
    shared.done_signal.notify_one();
    StatusCode::ACCEPTED
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let failed = answer["batchItemFailures"].as_array().map(Vec::len);
    answered(&shared, &id, failed)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> StatusCode {
    answered(&shared, &id, None)
}
