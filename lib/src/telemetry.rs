//! Logging set-up: one subscriber per process, readable or JSON, filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter used when `RUST_LOG` is unset: our crates at info, noisy ones quieter.
const DEFAULT_FILTER: &str = "info,sqlx=warn,hyper=warn,tower_http=info";

/// Installs the global subscriber. Calling it twice (tests) is harmless: the second
/// call keeps the first subscriber.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = match format {
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
        }
        LogFormat::Text => builder.try_init(),
    };
    // An error only means a subscriber is already installed.
    let _ = result;
}
