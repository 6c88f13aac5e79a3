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

/// An error and its causes on one line, for a log field: `error = %Chain(&err)`.
/// A cause whose words its wrapper already repeats is not repeated again, so
/// each cause shows once.
#[derive(Debug)]
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'a));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = self.0.to_string();
        let mut source = self.0.source();
        while let Some(cause) = source {
            let words = cause.to_string();
            if !text.contains(&words) {
                text.push_str(": ");
                text.push_str(&words);
            }
            source = cause.source();
        }
        f.write_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn each_cause_shows_once() {
        let err = Outer(Middle(std::io::Error::other("disk on fire")));
        assert_eq!(Chain(&err).to_string(), "outer: middle: disk on fire");
    }
}
