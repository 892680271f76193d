//! The networked client of `hogflags::client` as a UniFFI object: [`FlagsClient`] (local evaluation from
//! polled definitions, `/flags` as the fallback: JVM services), with the configuration, results and
//! listener it shares with `RemoteFlagsClient` (remote mode, `remote_client.rs`).
//!
//! Conversions only: polling, fallback, merging, caching, events and their dedupe are the core's.
//! Keys live in [`ClientConfig`], an object (not a record), so no generated `toString`/`description`
//! can print them; its `Debug` is the core's redacted one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hogflags::client::{self as core, ClientError, RemoteError, WaitError};

use crate::error::{to_i64, ApiResult, Error, HogFlagsError};
use crate::types::{EvaluationContext, FlagValue, JsonValue, SkippedFlag};
use crate::{guard, FlagsEngine};

// ---------------------------------------------------------------------------------------------------
// Errors

/// An error as data (in statuses, bulk results and listener calls): a short stable `code` and a message.
/// Codes: definitions polling `unauthorized`, `forbidden`, `quota_limited`, `rate_limited`,
/// `server_error`, `unexpected_status`, `timeout`, `connection_error`, `transport_error`,
/// `malformed_body`, `unexpected_not_modified`; `/flags` `timeout`, `connection_error`, `api_error_<status>`,
/// `quota_limited`, `unknown_error`, `interrupted`; and `config`, `runtime`, `cache`, `shut_down`,
/// `not_manual`, `inside_async_runtime`, `interrupted` (the core's `ClientError::code`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}


impl ErrorInfo {
    pub(crate) fn from_client(e: &ClientError) -> ErrorInfo {
        ErrorInfo { code: e.code(), message: e.to_string() }
    }
    pub(crate) fn from_remote(e: &RemoteError) -> ErrorInfo {
        ErrorInfo { code: e.code(), message: e.to_string() }
    }
}

impl From<ClientError> for HogFlagsError {
    fn from(e: ClientError) -> Self {
        let reason = e.to_string();
        match e {
            ClientError::Config(ref why) => HogFlagsError::InvalidConfig { code: e.code(), reason: why.clone() },
            ClientError::Poll(p) => HogFlagsError::Definitions { code: p.code().into(), reason },
            ClientError::Remote(r) => HogFlagsError::from(r),
            ClientError::Cache(_) => HogFlagsError::Cache { reason },
            ClientError::ShutDown => HogFlagsError::ShutDown,
            ClientError::Runtime(_) | ClientError::NotManual | ClientError::InsideAsyncRuntime | ClientError::Interrupted => {
                HogFlagsError::Usage { code: e.code(), reason }
            }
        }
    }
}

impl From<RemoteError> for HogFlagsError {
    fn from(e: RemoteError) -> Self {
        match e {
            RemoteError::ShutDown => HogFlagsError::ShutDown,
            RemoteError::OnDriverThread | RemoteError::Disabled => HogFlagsError::Usage { code: e.code(), reason: e.to_string() },
            e => HogFlagsError::Remote { code: e.code(), reason: e.to_string() },
        }
    }
}

impl From<WaitError> for HogFlagsError {
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Timeout { .. } => HogFlagsError::NotReady { reason: e.to_string() },
            WaitError::Failed(inner) => HogFlagsError::from(inner),
            WaitError::ShutDown => HogFlagsError::ShutDown,
        }
    }
}

pub(crate) fn api<T>(r: Result<T, impl Into<HogFlagsError>>) -> ApiResult<T> {
    r.map_err(Into::into)
}

// ---------------------------------------------------------------------------------------------------
// Configuration

/// Who drives polling and refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DriverMode {
    /// One background thread per process, shared by every client (default).
    Background,
    /// No thread: the host calls `tick()` from its own timer.
    Manual,
}

/// A client's configuration: keys, host, timings. Built with chained setters:
/// `ClientConfig(projectApiKey).secretKey(..).host(..).pollInterval(..)`. Keys are never shown: its
/// debug text (`debugDescription`/`toString()`) is the core's redacted one.
#[derive(uniffi::Object)]
#[uniffi::export(Debug)]
pub struct ClientConfig {
    inner: Mutex<core::Config>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*lock(&self.inner), f)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientConfig {
    fn with(self: Arc<Self>, f: impl FnOnce(core::Config) -> core::Config) -> Arc<Self> {
        {
            let mut g = lock(&self.inner);
            let c = g.clone();
            *g = f(c);
        }
        self
    }

    pub(crate) fn get(&self) -> core::Config {
        lock(&self.inner).clone()
    }
}

#[uniffi::export]
impl ClientConfig {
    /// A configuration for a project API key (`phc_…`) with PostHog's defaults: US cloud, poll every
    /// 30 s, definitions timeout 10 s, `/flags` timeout 3 s, fallback to `/flags` on, no disk cache.
    #[uniffi::constructor]
    pub fn new(project_api_key: String) -> Arc<Self> {
        Arc::new(ClientConfig { inner: Mutex::new(core::Config::new(project_api_key)) })
    }
    /// The key that reads definitions (local evaluation): a project secret (`phs_…`) or personal API
    /// key (`phx_…`).
    pub fn secret_key(self: Arc<Self>, key: String) -> Arc<Self> {
        self.with(|c| c.secret_key(key))
    }
    /// The PostHog host (normalised as PostHog's SDKs do).
    pub fn host(self: Arc<Self>, host: String) -> Arc<Self> {
        self.with(|c| c.host(host))
    }
    /// How often definitions (remote mode: the user's flags) are refreshed. Minimum 10 ms.
    pub fn poll_interval(self: Arc<Self>, interval: Duration) -> Arc<Self> {
        self.with(|c| c.poll_interval(interval))
    }
    pub fn definitions_timeout(self: Arc<Self>, timeout: Duration) -> Arc<Self> {
        self.with(|c| c.definitions_timeout(timeout))
    }
    pub fn remote_timeout(self: Arc<Self>, timeout: Duration) -> Arc<Self> {
        self.with(|c| c.remote_timeout(timeout))
    }
    /// Never call `/flags`: undecided flags are unresolved and left out of bulk results.
    pub fn only_evaluate_locally(self: Arc<Self>, yes: bool) -> Arc<Self> {
        self.with(|c| c.only_evaluate_locally(yes))
    }
    /// Call `/flags` for flags local evaluation cannot decide (default on).
    pub fn fallback_to_remote(self: Arc<Self>, yes: bool) -> Arc<Self> {
        self.with(|c| c.fallback_to_remote(yes))
    }
    /// Keep the last good definitions (remote mode: the user's flags) in this file.
    pub fn cache_path(self: Arc<Self>, path: String) -> Arc<Self> {
        self.with(|c| c.cache_path(path))
    }
    pub fn driver(self: Arc<Self>, mode: DriverMode) -> Arc<Self> {
        let mode = match mode {
            DriverMode::Background => core::DriverMode::Background,
            DriverMode::Manual => core::DriverMode::Manual,
        };
        self.with(|c| c.driver(mode))
    }
    /// Upper bound of the backoff after 401/403/429 (default 300 s); it also bounds a server's
    /// `Retry-After`, unless `max_retry_after` raises that bound.
    pub fn max_backoff(self: Arc<Self>, max: Duration) -> Arc<Self> {
        self.with(|c| c.max_backoff(max))
    }
    /// Longest `Retry-After` honoured after a 429 (default: the `max_backoff` bound,
    /// `max(max_backoff, poll_interval)`).
    pub fn max_retry_after(self: Arc<Self>, max: Duration) -> Arc<Self> {
        self.with(|c| c.max_retry_after(max))
    }
    /// Random spread of scheduled delays, as a fraction (0.1 = ±10 %), clamped to 0..=0.5.
    pub fn jitter(self: Arc<Self>, fraction: f64) -> Arc<Self> {
        self.with(|c| c.jitter(fraction))
    }
    /// How many (user, flag, value, groups) combinations the `$feature_flag_called` dedupe remembers.
    pub fn dedupe_capacity(self: Arc<Self>, capacity: i64) -> Arc<Self> {
        self.with(|c| c.dedupe_capacity(usize::try_from(capacity).unwrap_or(0)))
    }
    /// Honour `HTTP(S)_PROXY` from the environment (default on).
    pub fn use_system_proxy(self: Arc<Self>, yes: bool) -> Arc<Self> {
        self.with(|c| c.use_system_proxy(yes))
    }
    pub fn user_agent(self: Arc<Self>, user_agent: String) -> Arc<Self> {
        self.with(|c| c.user_agent(user_agent))
    }
    /// Whether `/flags` skips GeoIP enrichment (default true, as PostHog's SDKs).
    pub fn disable_geoip(self: Arc<Self>, yes: bool) -> Arc<Self> {
        self.with(|c| c.disable_geoip(yes))
    }
    /// Evaluation contexts: flags limited to other contexts are left out and count as false for
    /// dependencies; sent on `/flags`.
    pub fn evaluation_contexts(self: Arc<Self>, contexts: Vec<String>) -> Arc<Self> {
        self.with(|c| c.evaluation_contexts(contexts))
    }
    /// The normalised host.
    pub fn host_url(&self) -> String {
        lock(&self.inner).host_url().to_owned()
    }
}

// ---------------------------------------------------------------------------------------------------
// Results and events

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FlagSource {
    /// Evaluated here from the polled definitions.
    Local,
    /// Answered by PostHog's `/flags` (or, in remote mode, its cached answer).
    Remote,
}

/// The `/flags` v2 reason of a client value (codes as text: a remote answer may carry any code).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlagReason {
    pub code: String,
    pub condition_index: Option<i32>,
    pub description: Option<String>,
}

/// A resolved flag, from local evaluation or from `/flags`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlagDetails {
    pub key: String,
    pub value: FlagValue,
    pub enabled: bool,
    pub variant: Option<String>,
    pub payload: Option<JsonValue>,
    pub reason: Option<FlagReason>,
    pub flag_id: Option<i64>,
    pub version: Option<i64>,
    pub has_experiment: Option<bool>,
    pub source: FlagSource,
    /// `/flags` request id and evaluation time (epoch ms), for remote values.
    pub request_id: Option<String>,
    pub evaluated_at: Option<i64>,
    /// The `/flags` answer said `errorsWhileComputingFlags` (the value is still used).
    pub errors_while_computing: bool,
}

pub(crate) fn client_value(v: &core::OwnedFlagValue) -> FlagValue {
    match v {
        core::OwnedFlagValue::Bool(value) => FlagValue::Bool { value: *value },
        core::OwnedFlagValue::Variant(key) => FlagValue::Variant { key: key.clone() },
    }
}

impl FlagDetails {
    pub(crate) fn from_core(d: &core::FlagDetails) -> FlagDetails {
        FlagDetails {
            key: d.key.clone(),
            value: client_value(&d.value),
            enabled: d.value.is_enabled(),
            variant: d.value.variant().map(str::to_owned),
            payload: d.payload.as_ref().map(JsonValue::from_serde),
            reason: d.reason.as_ref().map(|r| FlagReason {
                code: r.code.clone(),
                condition_index: r.condition_index.map(|i| i32::try_from(i).unwrap_or(i32::MAX)),
                description: r.description.clone(),
            }),
            flag_id: d.flag_id,
            version: d.version,
            has_experiment: d.has_experiment,
            source: match d.source {
                core::Source::Local => FlagSource::Local,
                core::Source::Remote => FlagSource::Remote,
            },
            request_id: d.request_id.clone(),
            evaluated_at: d.evaluated_at,
            errors_while_computing: d.errors_while_computing,
        }
    }
}

/// Why a client has no value for a flag: the core's one shape (`kind`, `detail`, `error_code`,
/// `message`), as every binding has it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Unresolved {
    /// An inconclusive kind (`missing_property`, `missing_cohort`, `unknown_flag`, …), or
    /// `flag_missing`, `evaluation_failed`, `quota_limited`, `remote_error`, `not_loaded`.
    pub kind: String,
    /// The missing property (cohort, dependency, …), or the error's code for `remote_error`.
    pub detail: Option<String>,
    /// The `$feature_flag_error` code PostHog's events use for this outcome.
    pub error_code: Option<String>,
    /// For `remote_error`, the error's text; `None` otherwise (`kind` and `detail` say it all).
    pub message: Option<String>,
}

impl Unresolved {
    pub(crate) fn from_core(u: &core::Unresolved) -> Unresolved {
        Unresolved { kind: u.kind().to_owned(), detail: u.detail(), error_code: u.error_code(), message: u.message() }
    }
}

/// One flag from a client: resolved, or not and why.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FlagLookup {
    Resolved { details: FlagDetails },
    Unresolved { key: String, why: Unresolved },
}

impl FlagLookup {
    pub(crate) fn from_core(key: &str, r: &Result<core::FlagDetails, core::Unresolved>) -> FlagLookup {
        match r {
            Ok(d) => FlagLookup::Resolved { details: FlagDetails::from_core(d) },
            Err(u) => FlagLookup::Unresolved { key: key.to_owned(), why: Unresolved::from_core(u) },
        }
    }
}

/// Every flag from a client's bulk call.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AllFlagsResult {
    pub flags: HashMap<String, FlagDetails>,
    pub unresolved: HashMap<String, Unresolved>,
    /// Whether `/flags` was asked (once at most).
    pub remote_called: bool,
    pub remote_error: Option<ErrorInfo>,
}

impl AllFlagsResult {
    pub(crate) fn from_core(a: &core::AllFlags) -> AllFlagsResult {
        AllFlagsResult {
            flags: a.flags.iter().map(|(k, d)| (k.clone(), FlagDetails::from_core(d))).collect(),
            unresolved: a.unresolved.iter().map(|(k, u)| (k.clone(), Unresolved::from_core(u))).collect(),
            remote_called: a.remote_called,
            remote_error: a.remote_error.as_ref().map(ErrorInfo::from_remote),
        }
    }
}

/// A `$feature_flag_called` event for the host to capture (already deduplicated).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlagCalledEvent {
    pub event: String,
    pub distinct_id: String,
    pub groups: HashMap<String, String>,
    pub properties: HashMap<String, JsonValue>,
}

impl FlagCalledEvent {
    pub(crate) fn from_core(e: &core::FlagCalledEvent) -> FlagCalledEvent {
        FlagCalledEvent {
            event: e.event.to_owned(),
            distinct_id: e.distinct_id.clone(),
            groups: e.groups.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            properties: e.properties.iter().map(|(k, v)| (k.clone(), JsonValue::from_serde(v))).collect(),
        }
    }
}

/// New definitions were swapped in (or cleared, on 402).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DefinitionsUpdate {
    pub flags: i64,
    pub skipped: Vec<SkippedFlag>,
    pub etag: Option<String>,
    pub cleared: bool,
    pub from_cache: bool,
}

/// Remote mode: a refresh changed some flags.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlagsChanged {
    /// Keys whose value or payload changed, appeared or disappeared.
    pub changed: Vec<String>,
    pub flags: HashMap<String, FlagDetails>,
}

/// A client's polling state.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ClientStatus {
    pub ready: bool,
    pub flags_loaded: i64,
    pub etag: Option<String>,
    pub consecutive_failures: i64,
    pub last_error: Option<ErrorInfo>,
    pub last_success: Option<SystemTime>,
    pub fetches: i64,
}

/// What a manual-mode `tick()` did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TickOutcome {
    pub fetched: bool,
    /// Call `tick()` again after this long.
    pub next_tick_in: Duration,
    pub error: Option<ErrorInfo>,
}

impl TickOutcome {
    pub(crate) fn from_core(t: &core::TickOutcome) -> TickOutcome {
        TickOutcome { fetched: t.fetched, next_tick_in: t.next_tick_in, error: t.error.as_ref().map(ErrorInfo::from_client) }
    }
}

/// Receives a client's events: `on_flag_called` on the thread making the flag call, before the call
/// returns; the others on the client's driver thread (or, in manual mode, the thread calling `tick()`).
/// Return quickly, and do not call the client's network methods from inside.
#[uniffi::export(with_foreign)]
pub trait ClientListener: Send + Sync {
    /// A `$feature_flag_called` event to capture.
    fn on_flag_called(&self, event: FlagCalledEvent);
    /// New definitions are in use (local evaluation).
    fn on_definitions_updated(&self, update: DefinitionsUpdate);
    /// Remote mode: a refresh changed these flags.
    fn on_flags_changed(&self, change: FlagsChanged);
    /// A polling or refresh failure (the client keeps its last good state).
    fn on_error(&self, error: ErrorInfo);
}

pub(crate) fn with_listener(mut config: core::Config, listener: Option<Arc<dyn ClientListener>>) -> core::Config {
    if let Some(l) = listener {
        let l1 = l.clone();
        let l2 = l.clone();
        let l3 = l.clone();
        config = config
            .on_flag_called(move |e| l1.on_flag_called(FlagCalledEvent::from_core(&e)))
            .on_definitions_updated(move |u| {
                l2.on_definitions_updated(DefinitionsUpdate {
                    flags: to_i64(u.flags),
                    skipped: u.skipped.iter().map(|(key, reason)| SkippedFlag { key: key.clone(), reason: reason.clone() }).collect(),
                    etag: u.etag.clone(),
                    cleared: u.cleared,
                    from_cache: u.from_cache,
                })
            })
            .on_flags_changed(move |c| {
                l3.on_flags_changed(FlagsChanged {
                    changed: c.changed.clone(),
                    flags: c.flags.iter().map(|(k, d)| (k.clone(), FlagDetails::from_core(d))).collect(),
                })
            })
            .on_error(move |e| l.on_error(ErrorInfo::from_client(e)));
    }
    config
}

pub(crate) fn core_context(context: EvaluationContext) -> Result<hogflags::EvaluationContext, Error> {
    context.into_core()
}

// ---------------------------------------------------------------------------------------------------
// Local evaluation client

/// Local evaluation from definitions polled from PostHog (`/flags/definitions`), with `/flags` as the
/// fallback for flags local evaluation cannot decide. Share one per process; every method is thread-safe.
#[derive(uniffi::Object)]
pub struct FlagsClient {
    pub(crate) inner: core::Client,
}

#[uniffi::export]
impl FlagsClient {
    /// Creates the client (loads the disk cache if configured) and, in background mode, starts polling.
    /// Does not wait for the first fetch: see `wait_until_ready`.
    #[uniffi::constructor]
    pub fn new(config: Arc<ClientConfig>, listener: Option<Arc<dyn ClientListener>>) -> ApiResult<Arc<Self>> {
        let config = with_listener(config.get(), listener);
        Ok(Arc::new(FlagsClient { inner: api(core::Client::new(config))? }))
    }

    /// One flag: locally, and from `/flags` when undecided (unless `only_evaluate_locally`), reporting a
    /// deduplicated `$feature_flag_called` event when `send_event`.
    pub fn get_flag(
        &self,
        key: String,
        context: EvaluationContext,
        only_evaluate_locally: bool,
        send_event: bool,
    ) -> ApiResult<FlagLookup> {
        guard(|| {
            let ctx = core_context(context)?;
            let opts = core::FlagOptions { only_evaluate_locally, send_event };
            Ok(FlagLookup::from_core(&key, &self.inner.get_flag_with(&key, &ctx, opts)))
        })
    }

    /// The flag's value (with an event), or `None` when it does not resolve.
    pub fn get_feature_flag(&self, key: String, context: EvaluationContext) -> ApiResult<Option<FlagValue>> {
        guard(|| Ok(self.inner.get_flag(&key, &core_context(context)?).ok().map(|d| client_value(&d.value))))
    }

    /// Whether the flag is on (with an event), or `None` when it does not resolve.
    pub fn is_feature_enabled(&self, key: String, context: EvaluationContext) -> ApiResult<Option<bool>> {
        guard(|| Ok(self.inner.is_enabled(&key, &core_context(context)?)))
    }

    /// The payload of the flag's value (no event), or `None`.
    pub fn get_feature_flag_payload(&self, key: String, context: EvaluationContext) -> ApiResult<Option<JsonValue>> {
        guard(|| {
            let ctx = core_context(context)?;
            let opts = core::FlagOptions { only_evaluate_locally: false, send_event: false };
            Ok(self.inner.get_flag_with(&key, &ctx, opts).ok().and_then(|d| d.payload.as_ref().map(JsonValue::from_serde)))
        })
    }

    /// Every flag: local values, plus one `/flags` call for the undecided keys only (local answers win).
    pub fn get_all_flags(&self, context: EvaluationContext, only_evaluate_locally: bool) -> ApiResult<AllFlagsResult> {
        let opts = core::AllOptions { only_evaluate_locally, flag_keys: None };
        guard(|| Ok(AllFlagsResult::from_core(&self.inner.get_all_flags_with(&core_context(context)?, opts))))
    }

    /// The listed flags only, each in `flags` or `unresolved` (`unknown_flag` when not loaded and
    /// `/flags` was not asked): one `/flags` call when a listed flag is undecided.
    pub fn get_flags(
        &self,
        context: EvaluationContext,
        flag_keys: Vec<String>,
        only_evaluate_locally: bool,
    ) -> ApiResult<AllFlagsResult> {
        guard(|| {
            let keys: Vec<&str> = flag_keys.iter().map(String::as_str).collect();
            let opts = core::AllOptions { only_evaluate_locally, flag_keys: Some(&keys) };
            Ok(AllFlagsResult::from_core(&self.inner.get_all_flags_with(&core_context(context)?, opts)))
        })
    }

    /// The definitions in use, as an engine (for the engine's API on the client's current snapshot).
    pub fn engine(&self) -> Arc<FlagsEngine> {
        Arc::new(FlagsEngine::from_snapshot(self.inner.snapshot()))
    }

    /// Fetches definitions now and waits for that fetch.
    pub fn reload(&self) -> ApiResult<()> {
        api(self.inner.reload())
    }

    /// The decrypted payload of a remote-config flag, read from PostHog (needs the secret key); `None`
    /// when the flag has none.
    pub fn remote_config_payload(&self, key: String) -> ApiResult<Option<JsonValue>> {
        Ok(api(self.inner.remote_config_payload(&key))?.as_ref().map(JsonValue::from_serde))
    }

    /// Waits until definitions are loaded (network or disk cache). Fails early on 401/403/402.
    pub fn wait_until_ready(&self, timeout: Duration) -> ApiResult<()> {
        api(self.inner.wait_until_ready(timeout))
    }

    /// Manual mode: fetches if due; says when to call again.
    pub fn tick(&self) -> ApiResult<TickOutcome> {
        Ok(TickOutcome::from_core(&api(self.inner.tick())?))
    }

    pub fn status(&self) -> ClientStatus {
        let s = self.inner.status();
        ClientStatus {
            ready: s.ready,
            flags_loaded: to_i64(s.flags_loaded),
            etag: s.etag,
            consecutive_failures: i64::from(s.consecutive_failures),
            last_error: s.last_error.as_ref().map(ErrorInfo::from_client),
            last_success: s.last_success,
            fetches: i64::try_from(s.fetches).unwrap_or(i64::MAX),
        }
    }

    /// Stops polling (bounded wait). Idempotent; evaluation keeps working on the last definitions.
    pub fn shutdown(&self) {
        self.inner.shutdown()
    }
}
