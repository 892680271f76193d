//! `hf_client`: the networked client (polling `/flags/definitions`, `/flags` fallback, `$feature_flag_called`
//! events), configured through `hf_client_config`, with C callbacks (function pointer + `void *user_data`).

use std::ffi::{c_char, c_void, CString};
use std::time::Duration;

use hogflags_core::client::{
    AllOptions, Client, ClientError, Config, DriverMode,
    FlagOptions, OwnedFlagValue, Source, Unresolved, WaitError,
};
use hogflags_core::ReasonCode;
use serde_json::Value;

use crate::context::{context_from_json, hf_context};
use crate::engine::hf_engine;
use crate::ffi::{guard, guard_void, reset_out, str_arg, string_out, Failure};
use crate::types::{hf_inconclusive, hf_reason, hf_status, hf_value, inconclusive, reason};

/// Receives a JSON document (a `$feature_flag_called` event, a definitions update). `json` is borrowed
/// for the duration of the call only.
pub type hf_json_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, json: *const c_char)>;

/// Receives a client error: a short stable `code` (`"unauthorized"`, `"timeout"`, `"server_error"`, ...)
/// and a message. Both are borrowed for the duration of the call only and never contain an API key.
pub type hf_error_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, code: *const c_char, message: *const c_char)>;


/// Options of `hf_client_get_flag*`, `hf_client_get_all_flags_json`, `hf_client_get_flags_json` and
/// `hf_client_evaluate_flags`, combined with `|`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_flag_option {
    /// Default: ask `/flags` when local evaluation cannot decide (if the config allows), send the event.
    HF_FLAG_DEFAULT = 0,
    /// Never ask `/flags` for this call.
    HF_FLAG_ONLY_LOCAL = 1,
    /// Do not report a `$feature_flag_called` event for this call (`hf_client_get_flag*` only;
    /// `hf_client_evaluate_flags` refuses it: its reads choose with `send_event`).
    HF_FLAG_NO_EVENT = 2,
}

/// Where a client's value came from.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_source {
    /// No value (the flag is unresolved).
    HF_SOURCE_NONE = 0,
    /// Evaluated locally from the polled definitions.
    HF_SOURCE_LOCAL = 1,
    /// Answered by PostHog's `/flags`.
    HF_SOURCE_REMOTE = 2,
}

/// Why a client's flag has no value.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum hf_unresolved {
    /// The flag has a value.
    HF_UNRESOLVED_NONE = 0,
    /// Local evaluation could not decide and `/flags` was not asked (see `inconclusive`).
    HF_UNRESOLVED_INCONCLUSIVE = 1,
    /// `/flags` answered without this flag.
    HF_UNRESOLVED_FLAG_MISSING = 2,
    /// `/flags` reported the project over its quota.
    HF_UNRESOLVED_QUOTA_LIMITED = 3,
    /// `/flags` could not be asked or did not answer (the JSON form carries the error).
    HF_UNRESOLVED_REMOTE_ERROR = 4,
    /// Nothing has been loaded yet.
    HF_UNRESOLVED_NOT_LOADED = 5,
    /// `/flags` answered with the flag marked failed: the server could not evaluate it.
    HF_UNRESOLVED_EVALUATION_FAILED = 6,
}

/// The typed outcome of `hf_client_get_flag`. The variant is copied into the caller's buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct hf_flag {
    /// False, true or a variant; `HF_VALUE_INCONCLUSIVE` when the flag is unresolved.
    pub value: hf_value,
    /// Why there is no value; `HF_UNRESOLVED_NONE` when there is one.
    pub unresolved: hf_unresolved,
    /// The inconclusive kind when `unresolved == HF_UNRESOLVED_INCONCLUSIVE`.
    pub inconclusive: hf_inconclusive,
    /// Local or remote; `HF_SOURCE_NONE` when unresolved.
    pub source: hf_source,
    /// The reason code (`HF_REASON_NONE` when unresolved or when `/flags` sent a code unknown here).
    pub reason: hf_reason,
    /// The 0-based condition index of the reason, or -1.
    pub condition_index: i32,
    /// Length of the variant in bytes (the variant itself is in the caller's buffer), 0 if none.
    pub variant_len: usize,
    /// 1 when the value has a payload (read it through `hf_client_get_flag_json`), else 0.
    pub has_payload: i32,
    /// 1 when `flag_id` is set, else 0.
    pub has_flag_id: i32,
    /// The flag's database id.
    pub flag_id: i64,
    /// 1 when `version` is set, else 0.
    pub has_version: i32,
    /// The flag's version.
    pub version: i64,
}

impl hf_flag {
    const EMPTY: hf_flag = hf_flag {
        value: hf_value::HF_VALUE_FALSE,
        unresolved: hf_unresolved::HF_UNRESOLVED_NONE,
        inconclusive: hf_inconclusive::HF_INCONCLUSIVE_NONE,
        source: hf_source::HF_SOURCE_NONE,
        reason: hf_reason::HF_REASON_NONE,
        condition_index: -1,
        variant_len: 0,
        has_payload: 0,
        has_flag_id: 0,
        flag_id: 0,
        has_version: 0,
        version: 0,
    };
}

/// A C function pointer's `user_data`, handed back untouched on whatever thread the callback runs.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);
// SAFETY: the library never dereferences it; the caller promises (documented) that its callback may be
// called with it from the client's threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl UserData {
    /// Taking `self` makes closures capture the whole (`Send`) wrapper, not its raw-pointer field.
    pub(crate) fn ptr(self) -> *mut c_void {
        self.0
    }
}

type JsonCb = (unsafe extern "C" fn(*mut c_void, *const c_char), UserData);
type ErrorCb = (unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char), UserData);

/// A client configuration being built. Create it with `hf_client_config_new`, set options, pass it to
/// `hf_client_new` (which copies it), free it with `hf_client_config_free`.
///
/// Thread safety: not synchronized; set it up on one thread.
pub struct hf_client_config {
    config: Config,
    on_flag_called: Option<JsonCb>,
    on_error: Option<ErrorCb>,
    on_definitions_updated: Option<JsonCb>,
}

/// A networked client: polls flag definitions (in the process-wide background thread, or from
/// `hf_client_tick` in manual mode), evaluates locally, asks `/flags` when local evaluation cannot
/// decide, and reports `$feature_flag_called` events through the config's callback.
///
/// Thread safety: every client function except `hf_client_free` may be called from any number of
/// threads at once. Evaluation never waits for the network, except the `/flags` fallback.
pub struct hf_client {
    pub(crate) client: Client,
}

pub(crate) fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}


fn client_failure(e: &ClientError) -> Failure {
    Failure { code: Some(e.code().to_owned()), ..Failure::new(hf_status::HF_ERR_CLIENT, e.to_string()) }
}

pub(crate) fn flag_options(options: i32) -> Result<FlagOptions, Failure> {
    let known = hf_flag_option::HF_FLAG_ONLY_LOCAL as i32 | hf_flag_option::HF_FLAG_NO_EVENT as i32;
    if options & !known != 0 {
        return Err(Failure::invalid(format!("unknown flag options {options:#x}")));
    }
    Ok(FlagOptions {
        only_evaluate_locally: options & hf_flag_option::HF_FLAG_ONLY_LOCAL as i32 != 0,
        send_event: options & hf_flag_option::HF_FLAG_NO_EVENT as i32 == 0,
    })
}

/// # Safety
/// `config` is NULL or a live config not used by another thread.
unsafe fn config_mut<'a>(config: *mut hf_client_config) -> Result<&'a mut hf_client_config, Failure> {
    config.as_mut().ok_or_else(|| Failure::null("config"))
}

/// Applies a consuming builder method of the core's config in place.
fn update(c: &mut hf_client_config, f: impl FnOnce(Config) -> Config) {
    let config = std::mem::replace(&mut c.config, Config::new(""));
    c.config = f(config);
}

/// # Safety
/// `client` is NULL or a live client.
pub(crate) unsafe fn client_arg<'a>(client: *const hf_client) -> Result<&'a hf_client, Failure> {
    client.as_ref().ok_or_else(|| Failure::null("client"))
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Creates a client configuration for a project API key (`phc_...`), with PostHog's defaults: US cloud,
/// poll every 30 s, definitions timeout 10 s, `/flags` timeout 3 s, fallback to `/flags` on, background
/// driver, no disk cache. On success `*out_config` owns it (free it with `hf_client_config_free`).
/// The key is never logged nor put in any message.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_new(
    project_api_key: *const c_char,
    out_config: *mut *mut hf_client_config,
) -> hf_status {
    guard(|| {
        reset_out(out_config, "out_config")?;
        let key = str_arg(project_api_key, "project_api_key")?;
        let c = hf_client_config { config: Config::new(key), on_flag_called: None, on_error: None, on_definitions_updated: None };
        out_config.write(Box::into_raw(Box::new(c)));
        Ok(())
    })
}

/// Frees a client configuration. NULL is a no-op. Clients created from it are not affected.
///
/// Thread safety: the caller must make sure no other thread is using the config.
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_free(config: *mut hf_client_config) {
    guard_void(|| {
        if !config.is_null() {
            drop(Box::from_raw(config));
        }
    })
}

/// The key that reads flag definitions: a project secret (`phs_...`) or a personal API key (`phx_...`).
/// Required by `hf_client_new`.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_secret_key(config: *mut hf_client_config, key: *const c_char) -> hf_status {
    guard(|| {
        let c = config_mut(config)?;
        let key = str_arg(key, "key")?;
        update(c, |cfg| cfg.secret_key(key));
        Ok(())
    })
}

/// The PostHog host (e.g. `"https://eu.i.posthog.com"`, or a self-hosted URL), normalised as PostHog's
/// SDKs do.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_host(config: *mut hf_client_config, host: *const c_char) -> hf_status {
    guard(|| {
        let c = config_mut(config)?;
        let host = str_arg(host, "host")?;
        update(c, |cfg| cfg.host(host));
        Ok(())
    })
}

/// How often definitions are polled, in milliseconds (minimum 10).
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_poll_interval_ms(config: *mut hf_client_config, milliseconds: u64) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.poll_interval(ms(milliseconds)));
        Ok(())
    })
}

/// Timeout of one definitions request, in milliseconds.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_definitions_timeout_ms(config: *mut hf_client_config, milliseconds: u64) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.definitions_timeout(ms(milliseconds)));
        Ok(())
    })
}

/// Timeout of one `/flags` request, in milliseconds.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_remote_timeout_ms(config: *mut hf_client_config, milliseconds: u64) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.remote_timeout(ms(milliseconds)));
        Ok(())
    })
}

/// Upper bound of the backoff after 401/403/429, in milliseconds (default 300 000). It also bounds a
/// server's `Retry-After`, unless `hf_client_config_set_max_retry_after_ms` raises that bound.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_max_backoff_ms(config: *mut hf_client_config, milliseconds: u64) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.max_backoff(ms(milliseconds)));
        Ok(())
    })
}

/// Longest `Retry-After` honoured after a 429, in milliseconds (default: the max-backoff bound,
/// `max(max_backoff, poll_interval)`).
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_max_retry_after_ms(config: *mut hf_client_config, milliseconds: u64) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.max_retry_after(ms(milliseconds)));
        Ok(())
    })
}

/// Non-zero: never call `/flags` (an inconclusive flag stays unresolved). Default 0.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_only_evaluate_locally(config: *mut hf_client_config, yes: i32) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.only_evaluate_locally(yes != 0));
        Ok(())
    })
}

/// Non-zero (default): ask `/flags` for flags local evaluation cannot decide.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_fallback_to_remote(config: *mut hf_client_config, yes: i32) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.fallback_to_remote(yes != 0));
        Ok(())
    })
}

/// Keep the last good definitions in this file (loaded at start, rewritten after each change).
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_cache_path(config: *mut hf_client_config, path: *const c_char) -> hf_status {
    guard(|| {
        let c = config_mut(config)?;
        let path = str_arg(path, "path")?;
        update(c, |cfg| cfg.cache_path(path));
        Ok(())
    })
}

/// Non-zero: manual driver (no thread; the host calls `hf_client_tick` from its own timer). Default 0:
/// the process-wide background thread polls.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_manual_driver(config: *mut hf_client_config, manual: i32) -> hf_status {
    guard(|| {
        let mode = if manual != 0 { DriverMode::Manual } else { DriverMode::Background };
        update(config_mut(config)?, |cfg| cfg.driver(mode));
        Ok(())
    })
}

/// How many (distinct id, flag, value, groups) combinations the event dedupe remembers (default 50 000).
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_dedupe_capacity(config: *mut hf_client_config, capacity: usize) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.dedupe_capacity(capacity));
        Ok(())
    })
}

/// Non-zero (default): honour `HTTP(S)_PROXY` from the environment.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_use_system_proxy(config: *mut hf_client_config, yes: i32) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.use_system_proxy(yes != 0));
        Ok(())
    })
}

/// Non-zero (default): `/flags` skips GeoIP enrichment (`geoip_disable`); zero: the server may use the
/// request's GeoIP properties.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_disable_geoip(config: *mut hf_client_config, yes: i32) -> hf_status {
    guard(|| {
        update(config_mut(config)?, |cfg| cfg.disable_geoip(yes != 0));
        Ok(())
    })
}

/// The client's evaluation contexts, as a JSON array of strings (`["web", "checkout"]`; `[]` for none):
/// flags limited to other contexts are left out and count as false for dependencies; the contexts are
/// sent on `/flags`. `HF_ERR_INVALID_JSON` for anything but an array of strings.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_evaluation_contexts_json(
    config: *mut hf_client_config,
    contexts_json: *const c_char,
) -> hf_status {
    guard(|| {
        let text = str_arg(contexts_json, "contexts_json")?;
        let contexts: Vec<String> = serde_json::from_str(text)
            .map_err(|e| Failure::new(hf_status::HF_ERR_INVALID_JSON, format!("evaluation contexts: {e}")))?;
        update(config_mut(config)?, |cfg| cfg.evaluation_contexts(contexts));
        Ok(())
    })
}

/// Receives each `$feature_flag_called` event to capture, already deduplicated, as JSON
/// `{"event": "$feature_flag_called", "distinct_id", "groups": {...}, "properties": {...}}`. NULL removes
/// the callback. Called on the thread that evaluated the flag; must not block for long, must not throw
/// or longjmp, and must not free the client. `user_data` is passed back untouched.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_on_flag_called(
    config: *mut hf_client_config,
    callback: hf_json_fn,
    user_data: *mut c_void,
) -> hf_status {
    guard(|| {
        config_mut(config)?.on_flag_called = callback.map(|f| (f, UserData(user_data)));
        Ok(())
    })
}

/// Receives every polling or refresh failure (code and message). NULL removes the callback. Called on the
/// background thread (or the thread calling `hf_client_tick`); same rules as the other callbacks.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_on_error(
    config: *mut hf_client_config,
    callback: hf_error_fn,
    user_data: *mut c_void,
) -> hf_status {
    guard(|| {
        config_mut(config)?.on_error = callback.map(|f| (f, UserData(user_data)));
        Ok(())
    })
}

/// Called after new definitions were swapped in (or cleared on 402), with JSON
/// `{"flags": N, "skipped": [{"key", "reason"}], "etag", "cleared", "from_cache"}`. NULL removes the
/// callback. Same thread rules as `hf_client_config_set_on_error`.
///
/// Thread safety: modifies the config (see `hf_client_config`).
#[no_mangle]
pub unsafe extern "C" fn hf_client_config_set_on_definitions_updated(
    config: *mut hf_client_config,
    callback: hf_json_fn,
    user_data: *mut c_void,
) -> hf_status {
    guard(|| {
        config_mut(config)?.on_definitions_updated = callback.map(|f| (f, UserData(user_data)));
        Ok(())
    })
}

fn call_json(cb: &JsonCb, value: &Value) {
    let (f, data) = *cb;
    let text = c_text(&value.to_string());
    // SAFETY: the caller registered `f` to be called with its `user_data` and a borrowed C string.
    unsafe { f(data.ptr(), text.as_ptr()) };
}

/// Creates a client from a configuration (copied: the config can be freed right after). Validates the
/// configuration (`HF_ERR_CLIENT` with the reason and `hf_last_error_code()` `config`: empty key,
/// wrong kind of secret key, bad host), loads the disk cache if one is set, and in background mode starts polling at once; it does not
/// wait for the first fetch (see `hf_client_wait_until_ready`). Without a secret key nothing is polled
/// and every flag is evaluated by `/flags`. On success `*out_client` owns the client
/// (free it with `hf_client_free`).
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_new(config: *const hf_client_config, out_client: *mut *mut hf_client) -> hf_status {
    guard(|| {
        reset_out(out_client, "out_client")?;
        let c = config.as_ref().ok_or_else(|| Failure::null("config"))?;
        let mut cfg = c.config.clone();
        if let Some(cb) = c.on_flag_called {
            cfg = cfg.on_flag_called(move |e| call_json(&cb, &e.to_json()));
        }
        if let Some(cb) = c.on_definitions_updated {
            cfg = cfg.on_definitions_updated(move |u| call_json(&cb, &u.to_json()));
        }
        if let Some((f, data)) = c.on_error {
            cfg = cfg.on_error(move |e| {
                let code = c_text(&e.code());
                let message = c_text(&e.to_string());
                // SAFETY: as in `call_json`.
                unsafe { f(data.ptr(), code.as_ptr(), message.as_ptr()) };
            });
        }
        let client = Client::new(cfg).map_err(|e| client_failure(&e))?;
        out_client.write(Box::into_raw(Box::new(hf_client { client })));
        Ok(())
    })
}

/// Shuts the client down (see `hf_client_shutdown`) and frees it. NULL is a no-op. Engines obtained with
/// `hf_client_snapshot` stay valid until they are freed themselves.
///
/// Thread safety: the caller must make sure no other thread is using the client; never call it from
/// one of the client's callbacks.
#[no_mangle]
pub unsafe extern "C" fn hf_client_free(client: *mut hf_client) {
    guard_void(|| {
        if !client.is_null() {
            let c = Box::from_raw(client);
            c.client.shutdown();
            drop(c);
        }
    })
}

/// Stops polling and waits (at most 5 s) for the client's task to end; the last client of the process
/// also joins the background thread. Idempotent. Evaluation keeps working on the last definitions
/// (without the `/flags` fallback).
///
/// Thread safety: safe to call from any thread, but not from one of the client's callbacks.
#[no_mangle]
pub unsafe extern "C" fn hf_client_shutdown(client: *const hf_client) -> hf_status {
    guard(|| {
        client_arg(client)?.client.shutdown();
        Ok(())
    })
}

/// Waits until definitions are loaded (from the network or the disk cache), at most `timeout_ms`.
/// `HF_ERR_TIMEOUT` when the time ran out; `HF_ERR_CLIENT` right away when the server refused the keys
/// (401/403), the quota is exceeded (402) before anything was loaded, or the client was shut down. In
/// manual mode it drives the fetches itself.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_wait_until_ready(client: *const hf_client, timeout_ms: u64) -> hf_status {
    guard(|| {
        let c = client_arg(client)?;
        c.client.wait_until_ready(ms(timeout_ms)).map_err(|e| match e {
            WaitError::Timeout { .. } => Failure::new(hf_status::HF_ERR_TIMEOUT, e.to_string()),
            WaitError::Failed(e) => client_failure(&e),
            WaitError::ShutDown => client_failure(&ClientError::ShutDown),
        })
    })
}

/// Fetches definitions now and waits for that fetch. `HF_OK` when the server answered 200 or 304.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_reload(client: *const hf_client) -> hf_status {
    guard(|| client_arg(client)?.client.reload().map_err(|e| client_failure(&e)))
}

/// Manual driver only: fetches definitions if a fetch is due (blocking for at most the definitions
/// timeout) and stores in `*out_next_tick_ms` (if not NULL) when to call again. A failed fetch returns
/// `HF_ERR_CLIENT` with `*out_next_tick_ms` still set.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_tick(client: *const hf_client, out_next_tick_ms: *mut u64) -> hf_status {
    guard(|| {
        let c = client_arg(client)?;
        let t = c.client.tick().map_err(|e| client_failure(&e))?;
        if !out_next_tick_ms.is_null() {
            out_next_tick_ms.write(u64::try_from(t.next_tick_in.as_millis()).unwrap_or(u64::MAX));
        }
        match t.error {
            Some(e) => Err(client_failure(&e)),
            None => Ok(()),
        }
    })
}

/// The definitions the client holds right now, as an engine for the pure calls (typed fast path with
/// borrowed results, `hf_engine_info_json`, ...). No network, no event. The engine is independent of the
/// client: free it with `hf_engine_free`; it keeps these definitions even as the client loads new ones.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_client_snapshot(client: *const hf_client, out_engine: *mut *mut hf_engine) -> hf_status {
    guard(|| {
        reset_out(out_engine, "out_engine")?;
        let c = client_arg(client)?;
        let engine = Box::new(hf_engine { snapshot: c.client.snapshot() });
        out_engine.write(Box::into_raw(engine));
        Ok(())
    })
}

/// One flag for a typed context: locally, and from `/flags` when local evaluation cannot decide (unless
/// `options` has `HF_FLAG_ONLY_LOCAL` or the config forbids it); reports a `$feature_flag_called` event
/// unless `options` has `HF_FLAG_NO_EVENT`. An unresolved flag is `HF_OK` with
/// `out->value == HF_VALUE_INCONCLUSIVE` and `out->unresolved` saying why.
///
/// A variant is copied NUL-terminated into `variant_buffer` (`variant_buffer_size` bytes); if it does not
/// fit, the call returns `HF_ERR_BUFFER_TOO_SMALL` with `*out` filled and `out->variant_len` the length
/// needed (without the NUL). `variant_buffer` may be NULL when `variant_buffer_size` is 0.
///
/// Thread safety: safe to call concurrently on the same client (and context, if nobody modifies it).
#[no_mangle]
pub unsafe extern "C" fn hf_client_get_flag(
    client: *const hf_client,
    flag_key: *const c_char,
    context: *const hf_context,
    options: i32,
    out: *mut hf_flag,
    variant_buffer: *mut c_char,
    variant_buffer_size: usize,
) -> hf_status {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        out.write(hf_flag::EMPTY);
        let c = client_arg(client)?;
        let key = str_arg(flag_key, "flag_key")?;
        let ctx = &context.as_ref().ok_or_else(|| Failure::null("context"))?.ctx;
        let opts = flag_options(options)?;
        if variant_buffer.is_null() && variant_buffer_size > 0 {
            return Err(Failure::null("variant_buffer (with a non-zero size)"));
        }
        let outcome = c.client.get_flag_with(key, ctx, opts);
        let mut f = hf_flag::EMPTY;
        let mut variant: Option<&str> = None;
        match &outcome {
            Ok(d) => {
                match &d.value {
                    OwnedFlagValue::Bool(false) => f.value = hf_value::HF_VALUE_FALSE,
                    OwnedFlagValue::Bool(true) => f.value = hf_value::HF_VALUE_TRUE,
                    OwnedFlagValue::Variant(v) => {
                        f.value = hf_value::HF_VALUE_VARIANT;
                        f.variant_len = v.len();
                        variant = Some(v);
                    }
                }
                f.source = match d.source {
                    Source::Local => hf_source::HF_SOURCE_LOCAL,
                    Source::Remote => hf_source::HF_SOURCE_REMOTE,
                };
                if let Some(r) = &d.reason {
                    f.reason = ReasonCode::parse(&r.code).map_or(hf_reason::HF_REASON_NONE, reason);
                    f.condition_index = r.condition_index.map_or(-1, |i| i32::try_from(i).unwrap_or(i32::MAX));
                }
                f.has_payload = i32::from(d.payload.is_some());
                if let Some(id) = d.flag_id {
                    f.has_flag_id = 1;
                    f.flag_id = id;
                }
                if let Some(v) = d.version {
                    f.has_version = 1;
                    f.version = v;
                }
            }
            Err(u) => {
                f.value = hf_value::HF_VALUE_INCONCLUSIVE;
                f.unresolved = match u {
                    Unresolved::Inconclusive { kind, .. } => {
                        f.inconclusive = inconclusive(*kind);
                        hf_unresolved::HF_UNRESOLVED_INCONCLUSIVE
                    }
                    Unresolved::FlagMissing => hf_unresolved::HF_UNRESOLVED_FLAG_MISSING,
                    Unresolved::EvaluationFailed => hf_unresolved::HF_UNRESOLVED_EVALUATION_FAILED,
                    Unresolved::QuotaLimited => hf_unresolved::HF_UNRESOLVED_QUOTA_LIMITED,
                    Unresolved::Remote(_) => hf_unresolved::HF_UNRESOLVED_REMOTE_ERROR,
                    Unresolved::NotLoaded => hf_unresolved::HF_UNRESOLVED_NOT_LOADED,
                };
            }
        }
        out.write(f);
        match variant {
            Some(v) => crate::ffi::copy_text(v.as_ptr().cast(), v.len(), variant_buffer, variant_buffer_size),
            None => {
                if variant_buffer_size > 0 {
                    variant_buffer.write(0);
                }
                Ok(())
            }
        }
    })
}

/// One flag with a JSON context (as `hf_engine_evaluate_json`); same behaviour as `hf_client_get_flag`.
/// The outcome as a new JSON string in `*out_json` (free it with `hf_string_free`): resolved
/// `{"key", "value", "enabled", "variant", "payload", "reason": {"code", "condition_index",
/// "description"} | null, "flag_id", "version", "has_experiment", "source": "local" | "remote",
/// "request_id", "evaluated_at", "errors_while_computing"}`, or unresolved `{"key", "kind", "detail",
/// "error_code", "message"}`: `kind` is an inconclusive kind (`missing_property`, `unknown_flag`, …) or
/// `flag_missing`, `evaluation_failed`, `quota_limited`, `remote_error`, `not_loaded`; `detail` the
/// missing property (or cohort, …), or the error's code for `remote_error`. The shapes are the core's
/// (`hogflags_core::client::outcome_json`), the same in every binding.
///
/// Thread safety: safe to call concurrently on the same client.
#[no_mangle]
pub unsafe extern "C" fn hf_client_get_flag_json(
    client: *const hf_client,
    flag_key: *const c_char,
    context_json: *const c_char,
    options: i32,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let c = client_arg(client)?;
        let key = str_arg(flag_key, "flag_key")?;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        let opts = flag_options(options)?;
        let outcome = c.client.get_flag_with(key, &ctx, opts);
        string_out(hogflags_core::client::outcome_json(key, &outcome).to_string(), out_json)
    })
}

/// The decrypted payload of a remote-config flag, read from PostHog (needs the secret key), as a new JSON
/// string in `*out_json` (free it with `hf_string_free`): the payload, or `null` when the flag has none.
/// `HF_ERR_CLIENT` when the request fails or no secret key is set (`hf_last_error` says why).
///
/// Thread safety: safe to call from any thread (blocks for at most the `/flags` timeout + 2 s).
#[no_mangle]
pub unsafe extern "C" fn hf_client_remote_config_payload_json(
    client: *const hf_client,
    flag_key: *const c_char,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let c = client_arg(client)?;
        let key = str_arg(flag_key, "flag_key")?;
        let payload = c.client.remote_config_payload(key).map_err(|e| client_failure(&e))?;
        string_out(payload.unwrap_or(Value::Null).to_string(), out_json)
    })
}

/// Every flag for a JSON context: local values, plus one `/flags` call for the undecided ones when
/// allowed (`HF_FLAG_ONLY_LOCAL` in `options` forbids it; no events are sent). A new JSON string in
/// `*out_json` (free it with `hf_string_free`): `{"flags": {"<key>": resolved...}, "unresolved":
/// {"<key>": unresolved...}, "remote_called": bool, "remote_error": {"code", "message"} | null}` with the
/// shapes of `hf_client_get_flag_json`.
///
/// Thread safety: safe to call concurrently on the same client.
#[no_mangle]
pub unsafe extern "C" fn hf_client_get_all_flags_json(
    client: *const hf_client,
    context_json: *const c_char,
    options: i32,
    out_json: *mut *mut c_char,
) -> hf_status {
    hf_client_get_flags_json(client, context_json, std::ptr::null(), options, out_json)
}

/// As `hf_client_get_all_flags_json`, for the flags listed in `flag_keys_json` (a JSON array of keys;
/// NULL for every flag): each listed key is in `flags` or `unresolved` (`unknown_flag` when it is not
/// loaded and `/flags` was not asked), and `/flags` is asked only when a listed flag is undecided.
///
/// Thread safety: safe to call concurrently on the same client.
#[no_mangle]
pub unsafe extern "C" fn hf_client_get_flags_json(
    client: *const hf_client,
    context_json: *const c_char,
    flag_keys_json: *const c_char,
    options: i32,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let c = client_arg(client)?;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        let opts = flag_options(options)?;
        let keys = if flag_keys_json.is_null() { None } else { Some(crate::evaluations::flag_keys_arg(flag_keys_json, "flag_keys_json")?) };
        let key_refs: Option<Vec<&str>> = keys.as_ref().map(|k| k.iter().map(String::as_str).collect());
        let all_opts = AllOptions { only_evaluate_locally: opts.only_evaluate_locally, flag_keys: key_refs.as_deref() };
        let all = c.client.get_all_flags_with(&ctx, all_opts);
        string_out(all.to_json_string(), out_json)
    })
}

/// The polling state as a new JSON string in `*out_json` (free it with `hf_string_free`):
/// `{"ready", "flags_loaded", "etag", "consecutive_failures", "last_error": {"code", "message"} | null,
/// "last_success_ms", "fetches"}`.
///
/// Thread safety: safe to call from any thread (takes a short internal lock; not for the hot path).
#[no_mangle]
pub unsafe extern "C" fn hf_client_status_json(client: *const hf_client, out_json: *mut *mut c_char) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let v = client_arg(client)?.client.status().to_json();
        string_out(v.to_string(), out_json)
    })
}
