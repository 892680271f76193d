//! Client configuration: keys, host, timings and callbacks.
//!
//! Keys are held in [`Key`], whose `Debug`/`Display` never print the key (only its kind prefix), so a
//! `{:?}` of a [`Config`] or of anything holding one is safe to log.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::EvaluationRuntime;

use super::error::ClientError;
use super::events::FlagCalledEvent;
use super::types::{DefinitionsUpdate, FlagsChanged};

/// An API key. Shown as `phc_…(redacted)`; the key itself is only read when building a request.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn new(key: impl Into<String>) -> Key {
        Key(key.into().trim().to_owned())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
    /// The kind prefix (`phc_`, `phs_`, `phx_`) if the key has a recognisable one.
    pub fn prefix(&self) -> Option<&str> {
        let p = self.0.get(..4)?;
        p.ends_with('_').then_some(p)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix() {
            Some(p) => write!(f, "{p}…(redacted)"),
            None => f.write_str("…(redacted)"),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Who drives polling and refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriverMode {
    /// The process-wide background thread (one for all clients of the process).
    #[default]
    Background,
    /// No thread: the host calls `tick()` from its own timer; network calls run on the caller's thread.
    Manual,
}

pub type ErrorCallback = Arc<dyn Fn(&ClientError) + Send + Sync>;
pub type FlagCalledCallback = Arc<dyn Fn(FlagCalledEvent) + Send + Sync>;
pub type DefinitionsCallback = Arc<dyn Fn(&DefinitionsUpdate) + Send + Sync>;
pub type FlagsChangedCallback = Arc<dyn Fn(&FlagsChanged) + Send + Sync>;
pub type InterruptCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// How often a blocking call (`reload`, `wait_until_ready`, `tick`, a `/flags` fallback) asks the host's
/// [`Config::interrupt_check`] whether to give up.
pub const INTERRUPT_CHECK_EVERY: Duration = Duration::from_millis(50);

/// Default PostHog ingestion host.
pub const DEFAULT_HOST: &str = "https://us.i.posthog.com";

/// Everything a [`Client`](super::Client) or [`RemoteClient`](super::RemoteClient) is built from.
#[derive(Clone)]
pub struct Config {
    pub(crate) project_api_key: Key,
    pub(crate) secret_key: Option<Key>,
    pub(crate) host: String,
    pub(crate) poll_interval: Duration,
    pub(crate) definitions_timeout: Duration,
    pub(crate) remote_timeout: Duration,
    pub(crate) only_evaluate_locally: bool,
    pub(crate) fallback_to_remote: bool,
    pub(crate) cache_path: Option<PathBuf>,
    pub(crate) driver: DriverMode,
    pub(crate) max_backoff: Duration,
    pub(crate) max_retry_after: Option<Duration>,
    pub(crate) jitter: f64,
    pub(crate) dedupe_capacity: usize,
    pub(crate) use_system_proxy: bool,
    pub(crate) user_agent: String,
    pub(crate) on_error: Option<ErrorCallback>,
    pub(crate) on_flag_called: Option<FlagCalledCallback>,
    pub(crate) on_definitions_updated: Option<DefinitionsCallback>,
    pub(crate) on_flags_changed: Option<FlagsChangedCallback>,
    pub(crate) interrupt_check: Option<InterruptCheck>,
    pub(crate) evaluation_runtime: Option<EvaluationRuntime>,
    pub(crate) evaluation_contexts: Vec<String>,
    pub(crate) disable_geoip: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("project_api_key", &self.project_api_key)
            .field("secret_key", &self.secret_key)
            .field("host", &self.host)
            .field("poll_interval", &self.poll_interval)
            .field("definitions_timeout", &self.definitions_timeout)
            .field("remote_timeout", &self.remote_timeout)
            .field("only_evaluate_locally", &self.only_evaluate_locally)
            .field("fallback_to_remote", &self.fallback_to_remote)
            .field("cache_path", &self.cache_path)
            .field("driver", &self.driver)
            .field("max_backoff", &self.max_backoff)
            .field("max_retry_after", &self.max_retry_after)
            .field("evaluation_runtime", &self.evaluation_runtime)
            .field("evaluation_contexts", &self.evaluation_contexts)
            .field("disable_geoip", &self.disable_geoip)
            .field("jitter", &self.jitter)
            .field("dedupe_capacity", &self.dedupe_capacity)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A config for a project API key (`phc_…`), with PostHog's defaults: US cloud, poll every 30 s,
    /// definitions timeout 10 s, `/flags` timeout 3 s, fallback to `/flags` on, no disk cache.
    pub fn new(project_api_key: impl Into<String>) -> Config {
        Config {
            project_api_key: Key::new(project_api_key),
            secret_key: None,
            host: DEFAULT_HOST.to_owned(),
            poll_interval: Duration::from_secs(30),
            definitions_timeout: Duration::from_secs(10),
            remote_timeout: Duration::from_secs(3),
            only_evaluate_locally: false,
            fallback_to_remote: true,
            cache_path: None,
            driver: DriverMode::Background,
            max_backoff: Duration::from_secs(300),
            max_retry_after: None,
            jitter: 0.1,
            dedupe_capacity: 50_000,
            use_system_proxy: true,
            user_agent: format!("hogflags/{}", env!("CARGO_PKG_VERSION")),
            on_error: None,
            on_flag_called: None,
            on_definitions_updated: None,
            on_flags_changed: None,
            interrupt_check: None,
            evaluation_runtime: None,
            evaluation_contexts: Vec::new(),
            disable_geoip: true,
        }
    }

    /// The key that reads flag definitions: a project secret (`phs_…`) or personal API key (`phx_…`).
    /// Without one, a [`Client`](super::Client) evaluates every flag through `/flags`.
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.secret_key = Some(Key::new(key));
        self
    }
    /// The PostHog host, normalised as PostHog's SDKs do (see [`normalize_host`]).
    pub fn host(mut self, host: impl AsRef<str>) -> Self {
        self.host = normalize_host(host.as_ref());
        self
    }
    /// How often definitions (or, in remote mode, the user's flags) are refreshed. Minimum 10 ms.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(10));
        self
    }
    pub fn definitions_timeout(mut self, timeout: Duration) -> Self {
        self.definitions_timeout = timeout;
        self
    }
    pub fn remote_timeout(mut self, timeout: Duration) -> Self {
        self.remote_timeout = timeout;
        self
    }
    /// Never call `/flags`: an inconclusive flag is unresolved, and is left out of bulk results.
    pub fn only_evaluate_locally(mut self, yes: bool) -> Self {
        self.only_evaluate_locally = yes;
        self
    }
    /// Call `/flags` for flags that local evaluation cannot decide (default on).
    pub fn fallback_to_remote(mut self, yes: bool) -> Self {
        self.fallback_to_remote = yes;
        self
    }
    /// Keep the last good definitions (or, in remote mode, the user's flags) in this file.
    pub fn cache_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.cache_path = Some(path.into());
        self
    }
    pub fn driver(mut self, mode: DriverMode) -> Self {
        self.driver = mode;
        self
    }
    /// Upper bound of the backoff after 401/403/429 (never below the poll interval). Default 300 s. It
    /// also bounds a server's `Retry-After`, unless [`max_retry_after`](Self::max_retry_after) is set.
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }
    /// Longest `Retry-After` honoured after a 429. Default: the `max_backoff` bound
    /// (`max(max_backoff, poll_interval)`), so a server or proxy cannot stop polling for longer than the
    /// user allowed; set it higher to honour longer waits.
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = Some(max);
        self
    }
    /// Random spread of every scheduled delay, as a fraction (0.1 = ±10 %). Clamped to 0..=0.5.
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = if fraction.is_finite() { fraction.clamp(0.0, 0.5) } else { 0.0 };
        self
    }
    /// How many (distinct id, flag, value, groups) combinations the `$feature_flag_called` dedupe
    /// remembers (least recently used are forgotten first). Default 50 000.
    pub fn dedupe_capacity(mut self, capacity: usize) -> Self {
        self.dedupe_capacity = capacity.max(16);
        self
    }
    /// Honour `HTTP(S)_PROXY` from the environment (default on).
    pub fn use_system_proxy(mut self, yes: bool) -> Self {
        self.use_system_proxy = yes;
        self
    }
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }
    /// Called (on the driver thread, or the calling thread in manual mode) for every polling or
    /// refresh failure. Must not block.
    pub fn on_error(mut self, f: impl Fn(&ClientError) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(f));
        self
    }
    /// Receives the `$feature_flag_called` events to capture (already deduplicated).
    pub fn on_flag_called(mut self, f: impl Fn(FlagCalledEvent) + Send + Sync + 'static) -> Self {
        self.on_flag_called = Some(Arc::new(f));
        self
    }
    /// Called after new definitions were swapped in (or cleared on 402).
    pub fn on_definitions_updated(mut self, f: impl Fn(&DefinitionsUpdate) + Send + Sync + 'static) -> Self {
        self.on_definitions_updated = Some(Arc::new(f));
        self
    }
    /// Remote mode: called when a refresh changed some flag's value or payload.
    pub fn on_flags_changed(mut self, f: impl Fn(&FlagsChanged) + Send + Sync + 'static) -> Self {
        self.on_flags_changed = Some(Arc::new(f));
        self
    }

    /// Called every [`INTERRUPT_CHECK_EVERY`] by a thread blocked in a client call, on that thread;
    /// returning `true` ends the call at once with [`ClientError::Interrupted`] (a `/flags` fallback
    /// with [`RemoteError::Interrupted`](super::RemoteError::Interrupted)). Hosts use it to let signals
    /// through (Python's Ctrl-C). Must be cheap and must not call into the client.
    pub fn interrupt_check(mut self, f: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        self.interrupt_check = Some(Arc::new(f));
        self
    }

    /// The runtime this client evaluates in, sent as `evaluation_runtime` on `/flags` (the server then
    /// answers that runtime's flags and `all` flags) and used locally for dependencies on flags of
    /// another runtime (false, as on the server). Default: `server` for a [`Client`](super::Client),
    /// `client` for a [`RemoteClient`](super::RemoteClient) (a mobile or desktop app).
    pub fn evaluation_runtime(mut self, runtime: EvaluationRuntime) -> Self {
        self.evaluation_runtime = Some(runtime);
        self
    }

    /// The evaluation contexts of this client (posthog-node's `evaluationContexts`): flags limited to
    /// other contexts are left out locally and count as `false` for dependencies, and the contexts are
    /// sent on `/flags` so that the server does the same. Empty (default): every flag.
    pub fn evaluation_contexts<I, S>(mut self, contexts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.evaluation_contexts = contexts.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `/flags` skips GeoIP enrichment of the person (`geoip_disable`). Default `true`, as
    /// posthog-python and posthog-node default: a server's IP says nothing about its users. Set `false`
    /// when a client-side app (remote mode) targets flags by GeoIP properties.
    pub fn disable_geoip(mut self, yes: bool) -> Self {
        self.disable_geoip = yes;
        self
    }

    /// The runtime in effect, given the kind of client's default.
    pub(crate) fn runtime_or(&self, default: EvaluationRuntime) -> EvaluationRuntime {
        self.evaluation_runtime.unwrap_or(default)
    }

    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt_check.as_ref().is_some_and(|f| f())
    }

    /// One step of a blocking call's wait on `changed`: asks the interrupt check, then waits at most
    /// `left` (in [`INTERRUPT_CHECK_EVERY`] slices when there is a check).
    pub(crate) fn wait_step<'a, T>(
        &self,
        changed: &std::sync::Condvar,
        guard: std::sync::MutexGuard<'a, T>,
        left: Duration,
    ) -> Result<std::sync::MutexGuard<'a, T>, ClientError> {
        if self.interrupted() {
            return Err(ClientError::Interrupted);
        }
        let slice = if self.interrupt_check.is_some() { left.min(INTERRUPT_CHECK_EVERY) } else { left };
        Ok(changed.wait_timeout(guard, slice).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0))
    }

    pub fn host_url(&self) -> &str {
        &self.host
    }
    pub fn poll_interval_value(&self) -> Duration {
        self.poll_interval
    }

    /// Checks what a client of either kind needs.
    pub(crate) fn validate(&self) -> Result<(), ClientError> {
        if self.project_api_key.is_empty() {
            return Err(ClientError::Config("the project API key is empty".into()));
        }
        if !(self.host.starts_with("http://") || self.host.starts_with("https://")) {
            return Err(ClientError::Config(format!("host must start with http:// or https://: {}", self.host)));
        }
        match &self.secret_key {
            Some(k) if k.prefix() == Some("phc_") => Err(ClientError::Config(
                "the secret key is a project API key (phc_); definitions need a project secret (phs_) or personal API key (phx_)".into(),
            )),
            Some(k) if k.is_empty() => Err(ClientError::Config("the secret key is empty".into())),
            _ => Ok(()),
        }
    }
}

/// PostHog's host normalisation: the app hosts map to their ingestion hosts, a trailing slash is removed,
/// an empty host is the default US host.
pub fn normalize_host(host: &str) -> String {
    let h = host.trim().trim_end_matches('/');
    match h {
        "" => DEFAULT_HOST.to_owned(),
        "https://app.posthog.com" | "https://us.posthog.com" => "https://us.i.posthog.com".to_owned(),
        "https://eu.posthog.com" => "https://eu.i.posthog.com".to_owned(),
        other => other.to_owned(),
    }
}
