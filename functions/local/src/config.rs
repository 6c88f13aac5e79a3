//! The local host's own settings, read from the environment beside the shared
//! [`todo_lib::config::Config`] (and the API's JWT settings).

use std::time::Duration;

use serde::Deserialize;
use todo_lib::serve::BoxError;

/// Shortest cron interval accepted: ticks faster than this only burn the CPU.
const MIN_CRON_INTERVAL_MS: u64 = 50;

#[derive(Debug, Deserialize)]
pub struct LocalConfig {
    /// `CRON_INTERVAL_MS`: how often the in-process cron ticks `cron-tick`.
    #[serde(default = "default_cron_interval_ms")]
    pub cron_interval_ms: u64,
    /// `DEV_SIGN_IN`: the web app's one-click development sign-in
    /// ([`crate::dev_sign_in`]); `make dev` sets it with the checkout's own secret.
    #[serde(default)]
    pub dev_sign_in: bool,
    /// `JWT_SECRET`, which the development sign-in signs with.
    pub jwt_secret: Option<secrecy::SecretString>,
}

fn default_cron_interval_ms() -> u64 {
    1000
}

impl LocalConfig {
    /// The cron interval, refused when too short to be meant.
    pub fn cron_interval(&self) -> Result<Duration, BoxError> {
        if self.cron_interval_ms < MIN_CRON_INTERVAL_MS {
            return Err(format!(
                "invalid configuration: CRON_INTERVAL_MS must be at least {MIN_CRON_INTERVAL_MS} (got {})",
                self.cron_interval_ms
            )
            .into());
        }
        Ok(Duration::from_millis(self.cron_interval_ms))
    }

    /// How the local cron works through the outbox. One process owns the database,
    /// so a crashed tick's claims are taken over after seconds, not a minute, and
    /// events its writer did not publish are swept after two seconds; a webhook
    /// send cut short by a crash is taken over once its 10 s timeout is surely over.
    pub fn tick_settings(&self) -> cron_tick::TickSettings {
        cron_tick::TickSettings {
            republish_after: Duration::from_secs(2),
            lease: Duration::from_secs(10),
            webhooks: todo_lib::sender::SenderSettings {
                lease: Duration::from_secs(20),
                ..todo_lib::sender::SenderSettings::default()
            },
            ..cron_tick::TickSettings::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_lib::config::from_iter;

    fn config(vars: &[(&str, &str)]) -> LocalConfig {
        from_iter(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))).expect("parses")
    }

    #[test]
    fn the_cron_ticks_every_second_by_default() {
        assert_eq!(config(&[]).cron_interval().expect("valid"), Duration::from_secs(1));
    }

    #[test]
    fn the_cron_interval_is_configurable() {
        let every = config(&[("CRON_INTERVAL_MS", "250")]).cron_interval().expect("valid");
        assert_eq!(every, Duration::from_millis(250));
    }

    #[test]
    fn a_too_short_interval_is_refused_with_its_name() {
        let err = config(&[("CRON_INTERVAL_MS", "0")]).cron_interval().expect_err("refused");
        assert!(err.to_string().contains("CRON_INTERVAL_MS must be at least 50"), "{err}");
    }

    #[test]
    fn a_malformed_interval_is_refused() {
        let vars = [("CRON_INTERVAL_MS".to_owned(), "soon".to_owned())];
        let err = from_iter::<LocalConfig, _>(vars).expect_err("refused");
        assert!(err.to_string().contains("CRON_INTERVAL_MS"), "{err}");
    }
}
