//! One way to run every function: read config, set up logs, open the store lazily,
//! build the router, wrap it in the common layers, then serve it over TCP with
//! graceful shutdown, or under AWS Lambda when `AWS_LAMBDA_RUNTIME_API` is set.
//!
//! Every binary also answers `<binary> migrate`, which applies the migrations and
//! exits: the Kubernetes migration Job and `make migrate` use it, cold starts don't.

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, StatusCode, header};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

mod body;
mod connections;
mod lambda;

pub use body::BodyTimedOut;
pub use connections::{ConnectionLimits, Draining};

use crate::config::{self, Config};
use crate::store::{self, ConnectOptions, Store};
use crate::telemetry;

/// Boxed error for start-up failures, which are reported and end the process.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a function needs to build its router.
#[derive(Debug)]
pub struct Context {
    pub config: Config,
    pub store: Store,
    /// The environment, for a function's own settings (read with [`config::from_iter`]).
    pub vars: Vec<(String, String)>,
    /// Served under AWS Lambda, behind a function URL or a gateway: never loopback.
    pub lambda: bool,
}

impl Context {
    /// The `dapr-api-token` that guards a function's event and operator routes.
    /// Without one, those routes accept anything from anyone who reaches them, so
    /// they are served unguarded only on loopback, or where the operator said the
    /// network is trusted (`ALLOW_OPEN_EVENT_ROUTES`, logged loudly); otherwise the
    /// function refuses to start.
    pub fn event_route_token(&self) -> Result<Option<secrecy::SecretString>, BoxError> {
        let token = self.config.app_api_token.clone();
        let exposed = self.lambda || !self.config.host.is_loopback();
        if token.is_some() || !exposed {
            return Ok(token);
        }
        let at = if self.lambda { "under AWS Lambda".to_owned() } else { format!("on {}", self.config.host) };
        if self.config.allow_open_event_routes {
            tracing::warn!(
                at = %at,
                "ALLOW_OPEN_EVENT_ROUTES: serving event and operator routes WITHOUT A TOKEN; \
                 anyone who reaches this address can forge events"
            );
            return Ok(None);
        }
        Err(format!(
            "refusing to serve event and operator routes {at} without APP_API_TOKEN: anyone who \
             reaches them could forge events. Set APP_API_TOKEN (Dapr presents it), bind HOST to \
             loopback, or, on a trusted network only, set ALLOW_OPEN_EVENT_ROUTES=true"
        )
        .into())
    }
}

/// The whole life of a function binary. `main.rs` calls this and nothing else.
pub async fn main<F, Fut>(name: &'static str, build: F) -> ExitCode
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<Router, BoxError>>,
{
    match run(name, build).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let chain = crate::telemetry::Chain(&*err);
            tracing::error!(function = name, error = %chain, "exiting on error");
            eprintln!("{name}: {chain}");
            ExitCode::FAILURE
        }
    }
}

async fn run<F, Fut>(name: &'static str, build: F) -> Result<(), BoxError>
where
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<Router, BoxError>>,
{
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let config: Config = config::from_iter(vars.clone())?;
    telemetry::init(config.log_format);
    let store =
        store::connect(config.database_url(), ConnectOptions { max_connections: config.db_max_connections })?;

    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        None => {}
        Some("migrate") => {
            store.migrate().await?;
            tracing::info!(function = name, "migrations applied");
            return Ok(());
        }
        Some(other) => {
            return Err(format!("unknown command '{other}' (expected no argument, or 'migrate')").into());
        }
    }

    let lambda = vars.iter().any(|(k, _)| k == "AWS_LAMBDA_RUNTIME_API");
    let settings = Settings::from(&config);
    let limits = ConnectionLimits::from(&config);
    let token = config.app_api_token.clone();
    let app = with_common_layers(build(Context { config, store, vars, lambda }).await?, settings);
    if lambda {
        tracing::info!(function = name, "serving under AWS Lambda");
        return lambda::run(app, token, settings.body_limit_bytes).await;
    }
    let listener = TcpListener::bind(settings.addr).await?;
    tracing::info!(function = name, addr = %settings.addr, "listening");
    serve_tcp(listener, app, shutdown_signal(), settings.shutdown_grace, limits).await?;
    tracing::info!(function = name, "stopped");
    Ok(())
}

/// The parts of [`Config`] that serving needs, copied out before the function's
/// builder takes the config.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub addr: SocketAddr,
    pub body_limit_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Self {
            addr: SocketAddr::new(config.host, config.port),
            body_limit_bytes: config.body_limit_bytes,
            request_timeout: config.request_timeout(),
            shutdown_grace: config.shutdown_grace(),
        }
    }
}

/// The path as logged. A segment that holds a secret (an invitation's token,
/// which its route carries, or a personal access token pasted into a URL)
/// shows only that it was there. The path is read as the router reads it,
/// percent-decoded, and the prefixes are matched in any case, so that
/// `/v1/invitations/%69nv_…` is redacted as well as `/v1/invitations/inv_…`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    const SECRET_PREFIXES: [&str; 2] = [crate::invitations::TOKEN_PREFIX, crate::access_tokens::TOKEN_PREFIX];
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().to_ascii_lowercase();
    if !SECRET_PREFIXES.iter().any(|prefix| decoded.contains(prefix)) {
        return path.into();
    }
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let plain =
                percent_encoding::percent_decode_str(segment).decode_utf8_lossy().to_ascii_lowercase();
            match SECRET_PREFIXES.iter().find(|prefix| plain.contains(*prefix)) {
                Some(prefix) => format!("{prefix}[redacted]"),
                None => segment.to_owned(),
            }
        })
        .collect();
    segments.join("/").into()
}

/// Request id, tracing, timeout and body limit: the same for every function.
pub fn with_common_layers(app: Router, settings: Settings) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let path = loggable_path(req.uri().path());
        tracing::info_span!("request", method = %req.method(), path = %path, request_id = %id)
    });
    let body_limit = settings.body_limit_bytes;
    app.layer(DefaultBodyLimit::max(body_limit))
        // A body declared too long is refused before a byte of it is read.
        .layer(axum::middleware::from_fn(move |request, next| {
            body::refuse_declared_over(body_limit, request, next)
        }))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                // A bug in one handler answers 500 for that request; the process,
                // and every other request in it, carries on.
                .layer(CatchPanicLayer::custom(panicked))
                // Every body is JSON; no browser may guess otherwise.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    settings.request_timeout,
                )),
        )
}

/// The answer to a request whose handler panicked, in the one error shape.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = cause
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "a handler panicked; answered 500");
    crate::error_body::ErrorBody::new("internal", "internal error; the request was not completed", Vec::new())
        .into_response(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Serves `app` until `shutdown` resolves, then lets in-flight requests finish for
/// at most `grace` before returning. `limits` bound slow and silent clients.
pub async fn serve_tcp<S>(
    listener: TcpListener,
    app: Router,
    shutdown: S,
    grace: Duration,
    limits: ConnectionLimits,
) -> std::io::Result<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    let connections = connections::accept_until(listener, app, limits, shutdown).await;
    tracing::info!(grace_secs = grace.as_secs_f64(), "shutting down; finishing in-flight requests");
    if tokio::time::timeout(grace, connections.shutdown()).await.is_err() {
        tracing::warn!("grace period over; abandoning the requests still running");
    }
    Ok(())
}

/// Resolves on SIGTERM (Kubernetes, Knative) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(vars: &[(&str, &str)], lambda: bool) -> Context {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let config: Config = config::from_iter(vars.clone()).expect("valid config");
        let store = store::connect("sqlite::memory:", ConnectOptions::default()).expect("store");
        Context { config, store, vars, lambda }
    }

    #[test]
    fn invitation_tokens_are_not_logged_with_the_path() {
        assert_eq!(
            loggable_path("/v1/invitations/inv_s3cr3t/accept"),
            "/v1/invitations/inv_[redacted]/accept"
        );
        assert_eq!(loggable_path("/v1/tasks/0193"), "/v1/tasks/0193");
    }

    #[test]
    fn invitation_tokens_are_not_logged_in_any_encoding_or_case() {
        for path in [
            "/v1/invitations/%69nv_s3cr3t/accept",
            "/v1/invitations/%69%6E%76%5Fs3cr3t/accept",
            "/v1/invitations/INV_s3cr3t/accept",
            "/v1/invitations/x%2Finv_s3cr3t/accept",
            "/v1/invitations/%20inv_s3cr3t/accept",
        ] {
            let logged = loggable_path(path);
            assert!(!logged.contains("s3cr3t"), "{path} logged as {logged}");
            assert!(logged.ends_with("/accept"), "{logged}");
        }
        assert!(!loggable_path("/v1/x/todo_pat_s3cr3t").contains("s3cr3t"));
    }

    #[test]
    fn event_routes_are_open_on_loopback_only() {
        assert!(context(&[], false).event_route_token().expect("the default is loopback").is_none());
        assert!(context(&[("HOST", "::1")], false).event_route_token().expect("loopback").is_none());
        for (vars, lambda) in
            [(&[("HOST", "0.0.0.0")][..], false), (&[("HOST", "10.1.2.3")][..], false), (&[][..], true)]
        {
            let refused = context(vars, lambda).event_route_token().expect_err("exposed without a token");
            let why = refused.to_string();
            assert!(why.contains("APP_API_TOKEN") && why.contains("ALLOW_OPEN_EVENT_ROUTES"), "{why}");
        }
    }

    #[test]
    fn a_token_or_the_explicit_opt_out_lets_them_be_exposed() {
        use secrecy::ExposeSecret as _;
        let guarded = context(&[("HOST", "0.0.0.0"), ("APP_API_TOKEN", "s3cret")], false);
        let token = guarded.event_route_token().expect("guarded").expect("the token");
        assert_eq!(token.expose_secret(), "s3cret");
        let trusted = context(&[("HOST", "0.0.0.0"), ("ALLOW_OPEN_EVENT_ROUTES", "true")], false);
        assert!(trusted.event_route_token().expect("opted out").is_none());
        let lambda = context(&[("ALLOW_OPEN_EVENT_ROUTES", "true")], true);
        assert!(lambda.event_route_token().expect("opted out").is_none());
    }
}
