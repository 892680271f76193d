//! [`Settings`]: a client's configuration as data (JSON from a host, e.g. Node's options object), applied
//! to a [`Config`] in one place, so that a binding does not restate every setting and its checks.
//!
//! Every field is optional (absent: the default); durations are milliseconds. Callbacks and the host's
//! interrupt check are not data: bindings set those on the `Config` themselves.

use std::time::Duration;

use serde::Deserialize;

use super::config::{Config, DriverMode};
use super::error::ClientError;

/// The data settings of a client, with the names of [`Config`]'s builder methods (snake_case).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub secret_key: Option<String>,
    pub host: Option<String>,
    pub poll_interval_ms: Option<f64>,
    pub definitions_timeout_ms: Option<f64>,
    pub remote_timeout_ms: Option<f64>,
    pub only_evaluate_locally: Option<bool>,
    pub fallback_to_remote: Option<bool>,
    pub cache_path: Option<String>,
    pub max_backoff_ms: Option<f64>,
    pub max_retry_after_ms: Option<f64>,
    pub jitter: Option<f64>,
    pub dedupe_capacity: Option<f64>,
    pub use_system_proxy: Option<bool>,
    pub user_agent: Option<String>,
    pub evaluation_contexts: Option<Vec<String>>,
    pub disable_geoip: Option<bool>,
    /// `true`: no driver thread, the host calls `tick()`.
    pub manual: Option<bool>,
}

impl std::str::FromStr for Settings {
    type Err = ClientError;

    /// Settings from JSON text; an unknown field or a wrong type is a [`ClientError::Config`].
    fn from_str(text: &str) -> Result<Settings, ClientError> {
        serde_json::from_str(text).map_err(|e| ClientError::Config(format!("client settings: {e}")))
    }
}

/// A builder method of `Config` taking a duration, or a switch.
type SetDuration = fn(Config, Duration) -> Config;
type SetSwitch = fn(Config, bool) -> Config;

/// A duration setting: a finite number of milliseconds >= 0.
fn millis(value: f64, name: &str) -> Result<Duration, ClientError> {
    if value.is_finite() && value >= 0.0 {
        Ok(Duration::from_secs_f64((value / 1000.0).min(1e9)))
    } else {
        Err(ClientError::Config(format!("{name} must be a number of milliseconds >= 0, not {value}")))
    }
}

impl Settings {
    /// `config` with every setting given here applied.
    pub fn apply(self, mut config: Config) -> Result<Config, ClientError> {
        if let Some(k) = self.secret_key {
            config = config.secret_key(k);
        }
        if let Some(h) = self.host {
            config = config.host(h);
        }
        let durations: [(Option<f64>, &str, SetDuration); 5] = [
            (self.poll_interval_ms, "poll_interval_ms", Config::poll_interval),
            (self.definitions_timeout_ms, "definitions_timeout_ms", Config::definitions_timeout),
            (self.remote_timeout_ms, "remote_timeout_ms", Config::remote_timeout),
            (self.max_backoff_ms, "max_backoff_ms", Config::max_backoff),
            (self.max_retry_after_ms, "max_retry_after_ms", Config::max_retry_after),
        ];
        for (value, name, set) in durations {
            if let Some(v) = value {
                config = set(config, millis(v, name)?);
            }
        }
        let switches: [(Option<bool>, SetSwitch); 4] = [
            (self.only_evaluate_locally, Config::only_evaluate_locally),
            (self.fallback_to_remote, Config::fallback_to_remote),
            (self.use_system_proxy, Config::use_system_proxy),
            (self.disable_geoip, Config::disable_geoip),
        ];
        for (value, set) in switches {
            if let Some(v) = value {
                config = set(config, v);
            }
        }
        if let Some(p) = self.cache_path {
            config = config.cache_path(p);
        }
        if let Some(j) = self.jitter {
            config = config.jitter(j);
        }
        if let Some(n) = self.dedupe_capacity {
            config = config.dedupe_capacity(n.clamp(0.0, 1e9) as usize);
        }
        if let Some(ua) = self.user_agent {
            config = config.user_agent(ua);
        }
        if let Some(c) = self.evaluation_contexts {
            config = config.evaluation_contexts(c);
        }
        if let Some(true) = self.manual {
            config = config.driver(DriverMode::Manual);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_what_is_given_and_refuses_bad_data() {
        let s: Settings = r#"{"secret_key": "phs_x", "poll_interval_ms": 1500, "only_evaluate_locally": true, "manual": true}"#
            .parse()
            .unwrap();
        let c = s.apply(Config::new("phc_p")).unwrap();
        assert_eq!(c.poll_interval_value(), Duration::from_millis(1500));
        assert!(c.only_evaluate_locally);
        assert_eq!(c.driver, DriverMode::Manual);
        assert!(c.secret_key.is_some());
        let unknown = "{\"polling\": 5}".parse::<Settings>().unwrap_err();
        assert_eq!(unknown.code(), "config");
        let negative = Settings { remote_timeout_ms: Some(-1.0), ..Settings::default() }.apply(Config::new("phc_p")).unwrap_err();
        assert!(negative.to_string().contains("remote_timeout_ms"), "{negative}");
        let nan = Settings { poll_interval_ms: Some(f64::NAN), ..Settings::default() }.apply(Config::new("phc_p"));
        assert!(nan.is_err());
    }
}
