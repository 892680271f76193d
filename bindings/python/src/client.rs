//! `hogflags.FlagsClient`: the core's networked client (`hogflags::client::Client`) with posthog-python's
//! method names. Polling, the `/flags` fallback, events and fork handling are the core's; this file converts
//! arguments and answers, and decides where the GIL is released:
//!
//! - a flag decided locally is answered with the GIL held (a few hundred nanoseconds, no network);
//! - a call that may reach `/flags`, and every call that may wait for the client's driver thread
//!   (`reload_feature_flags`, `wait_until_ready`, `tick`, `shutdown`), releases the GIL, so the driver
//!   thread can always take it to log or to run a callback.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use hogflags::client::{
    AllFlags, AllOptions, AllStep, Client, ClientError, Config, DriverMode, FlagDetails,
    FlagOptions, FlagStep, Key, Unresolved as CoreUnresolved, WaitError,
};
use hogflags::{EvaluationContext, FlagSnapshot};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyType};

use crate::convert;
use crate::arguments::{callable, flag_key_list, key_text, seconds, text_arg, Args, Converter};
use crate::boundary::{detached, guarded};
use crate::engine::{FlagsEngine, DETACH_MIN_FLAGS};
use crate::results::{client_value_to_py, payload_to_py};
use crate::interrupt;
use crate::pylog;
use crate::results::{FeatureFlagEvaluations, FeatureFlagResult, FlagReason, Unresolved};

static CLIENT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONFIG_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();


/// `hogflags.ClientError(message)` with its `code` attribute (or `ConfigurationError` for bad settings).
fn client_error_object<'py>(py: Python<'py>, e: &ClientError) -> PyResult<Bound<'py, PyAny>> {
    let (cell, name) = match e {
        ClientError::Config(_) => (&CONFIG_ERROR, "ConfigurationError"),
        _ => (&CLIENT_ERROR, "ClientError"),
    };
    let ty = cell.import(py, "hogflags._errors", name)?;
    let obj = ty.call1((e.to_string(),))?;
    obj.setattr("code", e.code())?;
    Ok(obj)
}

fn client_error(py: Python<'_>, e: &ClientError) -> PyErr {
    match client_error_object(py, e) {
        Ok(obj) => PyErr::from_value(obj),
        Err(err) => err,
    }
}

/// A client evaluating flags locally from definitions it polls, asking PostHog's `/flags` for what it
/// cannot decide. Safe to share between threads and to keep across `os.fork()`.
#[pyclass(module = "hogflags", name = "FlagsClient", frozen, subclass, weakref)]
pub struct FlagsClient {
    client: Client,
    host: String,
    key_shown: String,
    /// The converter of the snapshot seen last (rebuilt when the client swaps definitions).
    conv: ArcSwapOption<(Arc<FlagSnapshot>, Arc<Converter>)>,
}

impl FlagsClient {
    fn converter(&self, py: Python<'_>, snap: &Arc<FlagSnapshot>) -> Arc<Converter> {
        if let Some(seen) = self.conv.load().as_ref() {
            if Arc::ptr_eq(&seen.0, snap) {
                return seen.1.clone();
            }
        }
        // A new snapshot: build its converter once and publish it; readers never wait on a lock.
        let c = Arc::new(Converter::new(py, snap));
        self.conv.store(Some(Arc::new((snap.clone(), c.clone()))));
        c
    }

    fn snapshot(&self, py: Python<'_>) -> PyResult<Arc<FlagSnapshot>> {
        guarded(py, || Ok(self.client.snapshot()))
    }

    /// One flag: the core's local step with the GIL held, converting only the properties the flag reads;
    /// the core's remote step, when it asks for one, with the GIL released and every property converted.
    fn flag(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        args: Args<'_, '_>,
        only_evaluate_locally: bool,
        send_event: bool,
    ) -> PyResult<Result<FlagDetails, CoreUnresolved>> {
        let key = key_text(key)?;
        let snap = self.snapshot(py)?;
        let conv = self.converter(py, &snap);
        let ctx = conv.context(&args, Some(conv.reads(py, &snap, snap.position(key))))?;
        let opts = FlagOptions { only_evaluate_locally, send_event };
        match guarded(py, || Ok(self.client.begin_flag_on(&snap, key, &ctx, opts)))? {
            FlagStep::Done(r) => Ok(r),
            FlagStep::Remote(pending) => {
                let full = conv.context(&args, None)?;
                interrupt::blocking(py, || pending.finish(&full))
            }
        }
    }

    /// Every flag (or the listed ones): the core's local step (without the GIL when long enough to pay
    /// for the hand-over, see DETACH_MIN_FLAGS), then its one `/flags` request if it asks for it.
    fn all(
        &self,
        py: Python<'_>,
        args: Args<'_, '_>,
        only_evaluate_locally: bool,
        keys: Option<&[Bound<'_, PyString>]>,
    ) -> PyResult<(AllFlags, EvaluationContext)> {
        let snap = self.snapshot(py)?;
        let conv = self.converter(py, &snap);
        let ctx = conv.context(&args, Some(conv.reads(py, &snap, None)))?;
        let keys: Option<Vec<&str>> = keys.map(|k| k.iter().map(|k| convert::str_of(k)).collect()).transpose()?;
        let opts = AllOptions { only_evaluate_locally, flag_keys: keys.as_deref() };
        let client = &self.client;
        let step = if snap.len() >= DETACH_MIN_FLAGS {
            detached(py, || client.begin_all_on(&snap, &ctx, opts))?
        } else {
            guarded(py, || Ok(client.begin_all_on(&snap, &ctx, opts)))?
        };
        let all = match step {
            AllStep::Done(all) => all,
            AllStep::Remote(pending) => {
                let full = conv.context(&args, None)?;
                interrupt::blocking(py, || pending.finish(&full))?
            }
        };
        Ok((all, ctx))
    }
}

impl FlagsClient {
    /// A bulk call's answer as Python dicts: values of the resolved flags (every flag, or the listed keys in
    /// the caller's order); with `payloads`, their payloads; with `details`, also their reasons and the
    /// unresolved flags.
    fn bulk(
        &self,
        py: Python<'_>,
        args: Args<'_, '_>,
        only_evaluate_locally: bool,
        flag_keys: Option<&Bound<'_, PyAny>>,
        (payloads_too, details): (bool, bool),
    ) -> PyResult<FeatureFlagEvaluations> {
        let keys = flag_keys.filter(|k| !k.is_none()).map(flag_key_list).transpose()?;
        let id = if details { convert::identifier(args.distinct_id).ok().flatten().unwrap_or_default() } else { String::new() };
        let (all, ctx) = self.all(py, args, only_evaluate_locally, keys.as_deref())?;
        let (flags, payloads, reasons, unresolved_out) = (PyDict::new(py), PyDict::new(py), PyDict::new(py), PyDict::new(py));
        for (k, d) in selected(py, &all, keys.as_deref())? {
            match d {
                Ok(d) => {
                    if let Some(p) = d.payload.as_ref().filter(|_| payloads_too) {
                        payloads.set_item(&k, convert::to_py(py, p)?)?;
                    }
                    if let Some(r) = d.reason.as_ref().filter(|_| details) {
                        let description = r.description.clone().unwrap_or_else(|| r.code.clone());
                        let reason = FlagReason { code: r.code.clone(), condition_index: r.condition_index, description };
                        reasons.set_item(&k, Bound::new(py, reason)?)?;
                    }
                    flags.set_item(k, client_value_to_py(py, &d.value))?;
                }
                Err(u) if details => unresolved_out.set_item(k, Bound::new(py, Unresolved::from_client(u))?)?,
                Err(_) => {}
            }
        }
        Ok(FeatureFlagEvaluations {
            distinct_id: id,
            flags: flags.unbind(),
            payloads: payloads.unbind(),
            reasons: reasons.unbind(),
            unresolved: unresolved_out.unbind(),
            // Reads of a client's evaluation report their exposures through the core.
            reads: details.then(|| Arc::new(self.client.evaluations(&ctx, all))),
            accessed: Default::default(),
        })
    }
}

macro_rules! call_args {
    ($distinct_id:expr, $groups:expr, $pp:expr, $gp:expr, $device:expr) => {
        Args {
            distinct_id: $distinct_id,
            groups: $groups,
            person_properties: $pp,
            group_properties: $gp,
            device_id: $device,
            now: None,
        }
    };
}

#[pymethods]
impl FlagsClient {
    /// Starts polling `GET /flags/definitions` at once (in a process-wide background thread; `manual=True`
    /// for none, then call `tick()`). Does not wait for the first fetch: see `wait_until_ready()`.
    #[new]
    #[pyo3(signature = (
        project_api_key, *, secret_key=None, personal_api_key=None, host=None, poll_interval=30.0,
        definitions_timeout=10.0, feature_flags_request_timeout_seconds=3.0, only_evaluate_locally=false,
        cache_path=None, on_feature_flag_called=None, on_error=None, on_definitions_updated=None,
        dedupe_capacity=50_000, max_backoff=300.0, max_retry_after=None, jitter=0.1, manual=false,
        use_system_proxy=true, evaluation_contexts=None, disable_geoip=true
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        project_api_key: &Bound<'_, PyAny>,
        secret_key: Option<&Bound<'_, PyAny>>,
        personal_api_key: Option<&Bound<'_, PyAny>>,
        host: Option<&Bound<'_, PyAny>>,
        poll_interval: f64,
        definitions_timeout: f64,
        feature_flags_request_timeout_seconds: f64,
        only_evaluate_locally: bool,
        cache_path: Option<PathBuf>,
        on_feature_flag_called: Option<Bound<'_, PyAny>>,
        on_error: Option<Bound<'_, PyAny>>,
        on_definitions_updated: Option<Bound<'_, PyAny>>,
        dedupe_capacity: usize,
        max_backoff: f64,
        max_retry_after: Option<f64>,
        jitter: f64,
        manual: bool,
        use_system_proxy: bool,
        evaluation_contexts: Option<Vec<String>>,
        disable_geoip: bool,
    ) -> PyResult<Self> {
        guarded(py, || {
            pylog::install();
            let project_api_key = text_arg(project_api_key, "project_api_key")?;
            let secret = match (secret_key.filter(|k| !k.is_none()), personal_api_key.filter(|k| !k.is_none())) {
                (Some(_), Some(_)) => {
                    return Err(PyValueError::new_err("pass secret_key or personal_api_key, not both"));
                }
                (Some(k), None) => Some(text_arg(k, "secret_key")?),
                (None, Some(k)) => Some(text_arg(k, "personal_api_key")?),
                (None, None) => None,
            };
            let mut config = Config::new(project_api_key.clone())
                .poll_interval(seconds(poll_interval, "poll_interval")?)
                .definitions_timeout(seconds(definitions_timeout, "definitions_timeout")?)
                .remote_timeout(seconds(feature_flags_request_timeout_seconds, "feature_flags_request_timeout_seconds")?)
                .only_evaluate_locally(only_evaluate_locally)
                .dedupe_capacity(dedupe_capacity)
                .max_backoff(seconds(max_backoff, "max_backoff")?)
                .jitter(jitter)
                .use_system_proxy(use_system_proxy)
                .interrupt_check(interrupt::signal_raised)
                .driver(if manual { DriverMode::Manual } else { DriverMode::Background });
            if let Some(s) = secret {
                config = config.secret_key(s);
            }
            config = config.disable_geoip(disable_geoip);
            if let Some(c) = evaluation_contexts {
                config = config.evaluation_contexts(c);
            }
            if let Some(m) = max_retry_after {
                config = config.max_retry_after(seconds(m, "max_retry_after")?);
            }
            if let Some(h) = host.filter(|h| !h.is_none()) {
                config = config.host(text_arg(h, "host")?);
            }
            if let Some(p) = cache_path {
                config = config.cache_path(p);
            }
            if let Some(cb) = callable(on_feature_flag_called, "on_feature_flag_called")? {
                config = config.on_flag_called(move |ev| pylog::call_back(&cb, |py| convert::to_py(py, &ev.to_json())));
            }
            if let Some(cb) = callable(on_error, "on_error")? {
                config = config.on_error(move |e| pylog::call_back(&cb, |py| client_error_object(py, e)));
            }
            if let Some(cb) = callable(on_definitions_updated, "on_definitions_updated")? {
                config = config.on_definitions_updated(move |u| pylog::call_back(&cb, |py| convert::to_py(py, &u.to_json())));
            }
            let host = config.host_url().to_owned();
            // Created with the GIL held: the core logs while holding its process-wide driver lock, and
            // logging takes the GIL, so no thread may wait for that lock while holding the GIL.
            let client = Client::new(config).map_err(|e| client_error(py, &e))?;
            Ok(FlagsClient {
                client,
                host,
                key_shown: Key::new(project_api_key).to_string(),
                conv: ArcSwapOption::empty(),
            })
        })
    }

    /// As `FlagsEngine.get_feature_flag`, falling back to `/flags` when local evaluation cannot decide
    /// (unless `only_evaluate_locally`), and reporting a `$feature_flag_called` event (deduplicated) to
    /// `on_feature_flag_called` unless `send_feature_flag_events=False`. `None`: no value could be had.
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, send_feature_flag_events=true))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        only_evaluate_locally: bool,
        send_feature_flag_events: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            Ok(match self.flag(py, key, args, only_evaluate_locally, send_feature_flag_events)? {
                Ok(d) => client_value_to_py(py, &d.value),
                Err(_) => py.None().into_bound(py),
            })
        })
    }

    /// `True`/`False` (a variant counts as enabled), or `None` when no value could be had.
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, send_feature_flag_events=true))]
    #[allow(clippy::too_many_arguments)]
    fn feature_enabled(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        distinct_id: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
        person_properties: Option<&Bound<'_, PyAny>>,
        group_properties: Option<&Bound<'_, PyAny>>,
        device_id: Option<&Bound<'_, PyAny>>,
        only_evaluate_locally: bool,
        send_feature_flag_events: bool,
    ) -> PyResult<Option<bool>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            Ok(self.flag(py, key, args, only_evaluate_locally, send_feature_flag_events)?.ok().map(|d| d.value.is_enabled()))
        })
    }

    /// The payload of the flag's value for this user, or `None`. No event by default (as posthog-python).
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, send_feature_flag_events=false))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag_payload<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        only_evaluate_locally: bool,
        send_feature_flag_events: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            match self.flag(py, key, args, only_evaluate_locally, send_feature_flag_events)? {
                Ok(d) => payload_to_py(py, d.payload.as_ref()),
                Err(_) => Ok(py.None().into_bound(py)),
            }
        })
    }

    /// The full result (`locally_evaluated=False` when it came from `/flags`), or `None`.
    #[pyo3(signature = (key, distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, send_feature_flag_events=true))]
    #[allow(clippy::too_many_arguments)]
    fn get_feature_flag_result(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        distinct_id: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
        person_properties: Option<&Bound<'_, PyAny>>,
        group_properties: Option<&Bound<'_, PyAny>>,
        device_id: Option<&Bound<'_, PyAny>>,
        only_evaluate_locally: bool,
        send_feature_flag_events: bool,
    ) -> PyResult<Option<FeatureFlagResult>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            match self.flag(py, key, args, only_evaluate_locally, send_feature_flag_events)? {
                Ok(d) => FeatureFlagResult::from_client(py, &d).map(Some),
                Err(_) => Ok(None),
            }
        })
    }

    /// Every flag's value (key → value): local values, plus one `/flags` request for those local evaluation
    /// cannot decide (local answers are never replaced). Flags without a value are left out.
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, flag_keys_to_evaluate=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_all_flags<'py>(
        &self,
        py: Python<'py>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        only_evaluate_locally: bool,
        flag_keys_to_evaluate: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            Ok(self.bulk(py, args, only_evaluate_locally, flag_keys_to_evaluate, (false, false))?.flags.into_bound(py))
        })
    }

    /// `{"featureFlags": {...}, "featureFlagPayloads": {...}}`, as posthog-python returns it.
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, flag_keys_to_evaluate=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_all_flags_and_payloads<'py>(
        &self,
        py: Python<'py>,
        distinct_id: &Bound<'py, PyAny>,
        groups: Option<&Bound<'py, PyAny>>,
        person_properties: Option<&Bound<'py, PyAny>>,
        group_properties: Option<&Bound<'py, PyAny>>,
        device_id: Option<&Bound<'py, PyAny>>,
        only_evaluate_locally: bool,
        flag_keys_to_evaluate: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            let ev = self.bulk(py, args, only_evaluate_locally, flag_keys_to_evaluate, (true, false))?;
            let out = PyDict::new(py);
            out.set_item("featureFlags", ev.flags)?;
            out.set_item("featureFlagPayloads", ev.payloads)?;
            Ok(out)
        })
    }

    /// Every flag (or those in `flag_keys`) at once: `flags`, `payloads`, `reasons` and `unresolved`
    /// (key → `Unresolved`; besides the local kinds: `flag_missing`, `quota_limited`, `remote_error`).
    #[pyo3(signature = (distinct_id, *, groups=None, person_properties=None, group_properties=None, device_id=None, only_evaluate_locally=false, flag_keys=None))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate_flags(
        &self,
        py: Python<'_>,
        distinct_id: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
        person_properties: Option<&Bound<'_, PyAny>>,
        group_properties: Option<&Bound<'_, PyAny>>,
        device_id: Option<&Bound<'_, PyAny>>,
        only_evaluate_locally: bool,
        flag_keys: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<FeatureFlagEvaluations> {
        guarded(py, || {
            let args = call_args!(distinct_id, groups, person_properties, group_properties, device_id);
            self.bulk(py, args, only_evaluate_locally, flag_keys, (true, true))
        })
    }

    /// The decrypted payload of a remote-config flag, read from PostHog on each call (needs `secret_key`):
    /// the payload as Python values, or `None` when the flag has none. Raises `hogflags.ClientError` when
    /// the request fails (posthog-python logs and returns `None`), `ConfigurationError` without a secret key.
    fn get_remote_config_payload<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let key = key_text(key)?.to_owned();
        let client = &self.client;
        match interrupt::blocking(py, || client.remote_config_payload(&key))? {
            Ok(v) => payload_to_py(py, v.as_ref()),
            Err(e) => Err(client_error(py, &e)),
        }
    }

    /// Fetches definitions now and waits for that fetch. Raises `hogflags.ClientError` (with `.code`) if
    /// it failed; the last good definitions stay in use either way.
    fn reload_feature_flags(&self, py: Python<'_>) -> PyResult<()> {
        let client = &self.client;
        interrupt::blocking(py, || client.reload())?.map_err(|e| client_error(py, &e))
    }

    /// Waits until definitions are loaded: `True`, or `False` after `timeout` seconds. Raises
    /// `hogflags.ClientError` when they cannot load without someone acting (401, 403, 402).
    #[pyo3(signature = (timeout=10.0))]
    fn wait_until_ready(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = seconds(timeout, "timeout")?;
        let client = &self.client;
        match interrupt::blocking(py, || client.wait_until_ready(timeout))? {
            Ok(()) => Ok(true),
            Err(WaitError::Timeout { .. }) => Ok(false),
            Err(WaitError::Failed(e)) => Err(client_error(py, &e)),
            Err(WaitError::ShutDown) => Err(client_error(py, &ClientError::ShutDown)),
        }
    }

    /// Manual mode (`manual=True`): fetches definitions if due, on this thread. Returns
    /// `{"fetched": bool, "next_tick_in": seconds, "error": ClientError | None}`.
    fn tick<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let client = &self.client;
        let t = interrupt::blocking(py, || client.tick())?.map_err(|e| client_error(py, &e))?;
        let d = PyDict::new(py);
        d.set_item("fetched", t.fetched)?;
        d.set_item("next_tick_in", t.next_tick_in.as_secs_f64())?;
        match &t.error {
            Some(e) => d.set_item("error", client_error_object(py, e)?)?,
            None => d.set_item("error", py.None())?,
        }
        Ok(d)
    }

    /// Polling state: `ready`, `flags_loaded`, `etag`, `consecutive_failures`, `last_error` (a
    /// `ClientError` or `None`), `last_success` (epoch seconds or `None`), `fetches`.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        // The core's status record, with the error as a `ClientError` and the time in epoch seconds.
        let s = guarded(py, || Ok(self.client.status()))?;
        let d = convert::to_py(py, &s.to_json())?.cast_into::<PyDict>()?;
        d.set_item("last_error", s.last_error.as_ref().map(|e| client_error_object(py, e)).transpose()?)?;
        let ms = d.get_item("last_success_ms")?.filter(|ms| !ms.is_none());
        d.set_item("last_success", ms.map(|ms| ms.extract::<f64>().map(|ms| ms / 1000.0)).transpose()?)?;
        d.del_item("last_success_ms")?;
        Ok(d)
    }

    /// The definitions loaded now, as an engine (for offline evaluation of the same snapshot).
    #[getter]
    fn engine(&self, py: Python<'_>) -> PyResult<FlagsEngine> {
        let snap = self.snapshot(py)?;
        Ok(FlagsEngine::from_snapshot(py, snap))
    }

    /// Stops polling (waits up to 5 s for the background task). Idempotent; evaluation keeps working on
    /// the last definitions, without `/flags`.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let client = &self.client;
        detached(py, || client.shutdown())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.shutdown(py)?;
        Ok(false)
    }

    /// Called in a forked child (`os.register_at_fork`): restarts the poller there at once.
    fn _after_fork(&self, py: Python<'_>) -> PyResult<()> {
        self.snapshot(py).map(|_| ())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = guarded(py, || Ok(self.client.status()))?;
        Ok(format!(
            "FlagsClient(host={}, project_api_key={}, flags={}, ready={})",
            PyString::new(py, &self.host).repr()?,
            self.key_shown,
            s.flags_loaded,
            if s.ready { "True" } else { "False" }
        ))
    }
}

/// The flags of a bulk answer in output order: every flag (resolved ones sorted by key, then the
/// unresolved), or the listed keys in the caller's order. The core's answer has every listed key.
fn selected<'a, 'py>(
    py: Python<'py>,
    all: &'a AllFlags,
    keys: Option<&[Bound<'py, PyString>]>,
) -> PyResult<Vec<(Bound<'py, PyString>, Flag<'a>)>> {
    match keys {
        None => {
            let mut out: Vec<_> = all.flags.iter().map(|(k, d)| (PyString::new(py, k), Ok(d))).collect();
            out.extend(all.unresolved.iter().map(|(k, u)| (PyString::new(py, k), Err(u))));
            Ok(out)
        }
        Some(keys) => {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                let text = convert::str_of(k)?;
                match (all.flags.get(text), all.unresolved.get(text)) {
                    (Some(d), _) => out.push((k.clone(), Ok(d))),
                    (None, Some(u)) => out.push((k.clone(), Err(u))),
                    (None, None) => {}
                }
            }
            Ok(out)
        }
    }
}

/// One flag of a bulk answer: resolved, or why not.
type Flag<'a> = Result<&'a FlagDetails, &'a CoreUnresolved>;
