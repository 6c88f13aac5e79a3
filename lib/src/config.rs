//! Typed configuration, read once from environment variables with `envy`.
//!
//! Every function reads the same [`Config`]; a function with settings of its own
//! (the API's JWT keys, say) reads them with [`from_iter`] into its own struct.
//! Tests build configs from an iterator of pairs, never by touching the process
//! environment (`set_var` is unsafe and racy in edition 2024).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The embedded default: a SQLite file under `./data`, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/todo.db";

/// Settings shared by every function binary.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// `postgres://…` for production, `sqlite://…` (file) or `sqlite::memory:` for the
    /// embedded default. Secret because it usually carries a password.
    #[serde(default = "default_database_url")]
    pub database_url: SecretString,
    /// Address to bind: loopback unless told otherwise, so nothing is reachable
    /// from the network by accident. Containers set `0.0.0.0` (the Dockerfile
    /// and the manifests do), and then event and operator routes demand
    /// `APP_API_TOKEN` (see [`crate::serve::Context::event_route_token`]).
    #[serde(default = "default_host")]
    pub host: IpAddr,
    /// Knative and Cloud Run set `PORT`; we honour it.
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub log_format: LogFormat,
    /// A request that takes longer is answered 503 and its work dropped.
    #[serde(default = "default_request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Bodies above this many bytes are refused with 413 before they are read whole.
    #[serde(default = "default_body_limit_bytes")]
    pub body_limit_bytes: usize,
    /// After SIGTERM, in-flight requests get this long to finish. Keep it below the
    /// pod's `terminationGracePeriodSeconds`.
    #[serde(default = "default_shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
    /// A request head must arrive whole within this many seconds of the connection
    /// waiting for it (opened, or done with its last response): this closes
    /// silent, slow-header (slowloris) and idle keep-alive connections alike.
    #[serde(default = "default_header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
    /// A request body must arrive whole within this many seconds of its head:
    /// a client trickling a body holds its connection no longer than one
    /// trickling its headers. Unset: `HEADER_READ_TIMEOUT_SECS`.
    pub body_read_timeout_secs: Option<u64>,
    /// Open client connections per process; more wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Upper bound on pooled database connections per process.
    #[serde(default = "default_db_max_connections")]
    pub db_max_connections: u32,
    /// The Dapr sidecar's HTTP port; Dapr sets it in the app's environment. When
    /// unset, events stay in the outbox until a publisher (`cron-tick`) sends them.
    pub dapr_http_port: Option<u16>,
    /// Sent as `dapr-api-token` on calls to the sidecar, when the sidecar demands it.
    pub dapr_api_token: Option<SecretString>,
    /// When set, event functions refuse calls without this `dapr-api-token` (Dapr
    /// sends it to the app when configured with the same token).
    pub app_api_token: Option<SecretString>,
    /// Trusted networks only: serve event and operator routes without
    /// `APP_API_TOKEN` on an address other than loopback (logged loudly at start).
    #[serde(default)]
    pub allow_open_event_routes: bool,
    /// Development only: lets webhooks point at loopback over plain http (a
    /// receiver on the developer's machine). Never set it in production.
    #[serde(default)]
    pub webhook_allow_loopback: bool,
    /// The Dapr pub/sub component events are published through.
    #[serde(default = "default_pubsub_name")]
    pub pubsub_name: String,
}

/// How log lines are written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A configuration variable that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] envy::Error);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        from_iter(std::env::vars())
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// Deserializes any config struct from `(NAME, value)` pairs, names upper-case as in
/// the environment (`DATABASE_URL` fills `database_url`).
pub fn from_iter<T, I>(vars: I) -> Result<T, ConfigError>
where
    T: DeserializeOwned,
    I: IntoIterator<Item = (String, String)>,
{
    Ok(envy::from_iter(vars)?)
}

/// The environment variables config struct `T` reads (its fields, renames
/// applied, upper-cased as in the environment): what the configuration
/// chapter of the docs is checked against. Asks `T`'s `Deserialize` for the
/// field names it expects, reading no value.
pub fn variables<T: DeserializeOwned>() -> Vec<String> {
    let mut names = Vec::new();
    // The recorder fails on purpose once it has the names: nothing is built.
    let _ = T::deserialize(FieldNames(&mut names));
    names.iter().map(|name| name.to_uppercase()).collect()
}

/// A deserializer that records the fields a struct asks for, then stops.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only a struct's field names are read"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend_from_slice(fields);
        Err(serde::de::Error::custom("the field names are recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

fn default_database_url() -> SecretString {
    SecretString::from(DEFAULT_DATABASE_URL)
}

fn default_host() -> IpAddr {
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}

/// The port every function listens on unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 8080;

fn default_port() -> u16 {
    DEFAULT_PORT
}

fn default_request_timeout_secs() -> u64 {
    30
}

/// `BODY_LIMIT_BYTES` when unset.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 256 * 1024;

fn default_body_limit_bytes() -> usize {
    DEFAULT_BODY_LIMIT_BYTES
}

fn default_header_read_timeout_secs() -> u64 {
    10
}

/// `MAX_CONNECTIONS` when unset.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}

fn default_shutdown_grace_secs() -> u64 {
    20
}

/// The Dapr pub/sub component events go through unless `PUBSUB_NAME` says otherwise.
pub const DEFAULT_PUBSUB_NAME: &str = "pubsub";

/// The header in which Dapr presents a token: `APP_API_TOKEN` on its calls to
/// the app, `DAPR_API_TOKEN` on the app's calls to the sidecar.
pub const DAPR_API_TOKEN_HEADER: &str = "dapr-api-token";

fn default_pubsub_name() -> String {
    DEFAULT_PUBSUB_NAME.to_owned()
}

fn default_db_max_connections() -> u32 {
    10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_variables_of_a_config_are_its_fields_upper_cased() {
        let names = variables::<Config>();
        for name in ["DATABASE_URL", "PORT", "HEADER_READ_TIMEOUT_SECS", "BODY_READ_TIMEOUT_SECS"] {
            assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
        }
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config: Config = from_iter(vars(&[])).expect("empty config is valid");
        assert_eq!(config.database_url(), DEFAULT_DATABASE_URL);
        assert_eq!(config.port, 8080);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.request_timeout(), Duration::from_secs(30));
        assert_eq!(config.body_limit_bytes, 256 * 1024);
        assert_eq!(config.shutdown_grace(), Duration::from_secs(20));
        assert_eq!(config.dapr_http_port, None);
        assert_eq!(config.pubsub_name, "pubsub");
        assert_eq!(
            config.host,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "nothing reachable from the network by default"
        );
        assert!(!config.allow_open_event_routes);
    }

    #[test]
    fn values_are_read_from_upper_case_names() {
        let config: Config = from_iter(vars(&[
            ("DATABASE_URL", "postgres://u:p@db/todo"),
            ("PORT", "9000"),
            ("LOG_FORMAT", "json"),
            ("REQUEST_TIMEOUT_SECS", "5"),
            ("SHUTDOWN_GRACE_SECS", "3"),
            ("BODY_LIMIT_BYTES", "1024"),
            ("HOST", "0.0.0.0"),
            ("DAPR_HTTP_PORT", "3501"),
            ("DAPR_API_TOKEN", "sidecar-token"),
            ("PUBSUB_NAME", "kafka"),
        ]))
        .expect("valid config");
        assert_eq!(config.database_url(), "postgres://u:p@db/todo");
        assert_eq!(config.port, 9000);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.request_timeout(), Duration::from_secs(5));
        assert_eq!(config.shutdown_grace(), Duration::from_secs(3));
        assert_eq!(config.body_limit_bytes, 1024);
        assert_eq!(config.host, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_eq!(config.dapr_http_port, Some(3501));
        assert_eq!(
            config.dapr_api_token.as_ref().map(|t| t.expose_secret().to_owned()),
            Some("sidecar-token".into())
        );
        assert_eq!(config.pubsub_name, "kafka");
        assert!(!format!("{config:?}").contains("sidecar-token"));
    }

    #[test]
    fn a_malformed_port_is_an_error_naming_the_variable() {
        let err = from_iter::<Config, _>(vars(&[("PORT", "eighty")])).expect_err("bad port");
        assert!(err.to_string().contains("PORT"), "{err}");
    }

    #[test]
    fn an_unknown_log_format_is_an_error() {
        let err = from_iter::<Config, _>(vars(&[("LOG_FORMAT", "xml")])).expect_err("bad format");
        assert!(err.to_string().contains("xml"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let config: Config =
            from_iter(vars(&[("DATABASE_URL", "postgres://u:hunter2@db/todo")])).expect("valid");
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}
