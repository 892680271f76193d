//! The networked client (`hogflags::client::Client`, feature `client`): only conversion between JS and
//! the core's client. Polling runs on the core's process-wide driver thread (a native thread, which never
//! keeps Node's event loop alive); callbacks reach JS through one *weak* (unref'd) thread-safe function;
//! calls that may use the network run on libuv's thread pool and return promises.
//!
//! Results cross as JSON text (the JS layer parses it): a client call may wait for the network anyway, so
//! the engine's integer encoding is not worth its bookkeeping here.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use hogflags::client::{
    AllFlags, Client, ClientError, Config, DefinitionsUpdate, FlagCalledEvent, FlagDetails, FlagOptions, Unresolved,
    WaitError,
};
use hogflags::EvaluationContext;
use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::convert::{self, CResult, ConvError, Env as RawEnv, JsVal};
use crate::engine::{EngineState, Person};
use crate::{run, RawValue};

const TAG: sys::napi_type_tag = sys::napi_type_tag {
    lower: 0x686f_6766_6c61_6773,
    upper: 0x636c_6965_6e74_0001,
};

/// The options the JS layer passes (already validated and renamed), as JSON.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Options {
    secret_key: Option<String>,
    host: Option<String>,
    poll_interval_ms: Option<f64>,
    definitions_timeout_ms: Option<f64>,
    remote_timeout_ms: Option<f64>,
    only_evaluate_locally: Option<bool>,
    fallback_to_remote: Option<bool>,
    cache_path: Option<String>,
    max_backoff_ms: Option<f64>,
    max_retry_after_ms: Option<f64>,
    jitter: Option<f64>,
    dedupe_capacity: Option<f64>,
    use_system_proxy: Option<bool>,
    user_agent: Option<String>,
    evaluation_contexts: Option<Vec<String>>,
    disable_geoip: Option<bool>,
    /// Which callbacks the JS side has: `flag_called`, `error`, `definitions_updated`.
    #[serde(default)]
    events: Vec<String>,
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64((v.max(0.0) / 1000.0).min(1e9))
}

/// A client and the conversion state for its current snapshot.
pub struct ClientState {
    client: Arc<Client>,
    /// The conversion state of the client's current definitions, with its generation number. Rebuilt
    /// when the client swaps in new definitions (compared by pointer).
    engine: RefCell<Option<(i32, Rc<EngineState>)>>,
    generation: Cell<i32>,
}

impl ClientState {
    fn engine(&self) -> (i32, Rc<EngineState>) {
        let snap = self.client.snapshot();
        let mut slot = self.engine.borrow_mut();
        match &*slot {
            Some((g, e)) if Arc::ptr_eq(&e.snap, &snap) => (*g, e.clone()),
            _ => {
                // The client does not keep the definitions text: every key any flag reads is converted.
                let e = Rc::new(EngineState::new(snap));
                let g = self.generation.get().wrapping_add(1);
                self.generation.set(g);
                *slot = Some((g, e.clone()));
                (g, e)
            }
        }
    }

    /// The context from `a = [distinctId, personValues, personProperties, groups, groupProperties,
    /// deviceId]`. `personValues` (the values of `clientKeys().personKeys`, read by the JS side) is used
    /// when `generation` is still current; otherwise the keys are read from `personProperties` by name.
    /// The current generation is written to `sync[0]`, so that the JS side can refresh its key list.
    unsafe fn context(&self, env: RawEnv, generation: i32, sync: JsVal, a: &[JsVal]) -> CResult<EvaluationContext> {
        unsafe { self.context_reading(env, generation, sync, a, None) }
    }

    /// As [`context`](Self::context); with `flag`, only the properties that flag reads (with its
    /// dependencies' and cohorts'), looked up by name in `personProperties`: converting every key the
    /// document reads cost a one-flag call most of its time.
    unsafe fn context_reading(
        &self,
        env: RawEnv,
        generation: i32,
        sync: JsVal,
        a: &[JsVal],
        flag: Option<&str>,
    ) -> CResult<EvaluationContext> {
        let (g, e) = self.engine();
        let undefined = {
            let mut u = ptr::null_mut();
            unsafe { convert::check(sys::napi_get_undefined(env, &mut u), "undefined")? };
            u
        };
        let (reads, person) = match flag {
            Some(key) => (e.reads_for(key), Person::Object(a[2])),
            None if g == generation => (&e.all, Person::Values(a[1])),
            None => (&e.all, Person::Object(a[2])),
        };
        let ctx = unsafe { e.context(env, reads, a[0], person, a[3], a[4], a[5], undefined)? };
        // After the context: no JS runs from here on, so the array cannot be detached under us.
        let mut is_ta = false;
        unsafe { convert::check(sys::napi_is_typedarray(env, sync, &mut is_ta), "is typed array")? };
        if is_ta {
            let (ty, len, data) = unsafe { convert::typed_array(env, sync)? };
            if ty == sys::TypedarrayType::int32_array && len >= 1 {
                unsafe { *(data as *mut i32) = g };
            }
        }
        Ok(ctx)
    }

    /// As [`context`](Self::context), for a `/flags` request: that must carry every property the caller
    /// passed (as posthog-node sends them), not only those the local definitions read.
    unsafe fn full_context(&self, env: RawEnv, generation: i32, sync: JsVal, a: &[JsVal]) -> CResult<EvaluationContext> {
        let mut ctx = unsafe { self.context(env, generation, sync, a)? };
        if let Some(Value::Object(person)) = unsafe { convert::to_json(env, a[2], 0)? } {
            ctx = ctx.with_person_properties(person.into_iter().collect());
        }
        if let Some(Value::Object(groups)) = unsafe { convert::to_json(env, a[3], 0)? } {
            for (group_type, key) in groups {
                // As in `context`: a key without text means the group is absent.
                if let Some(key) = hogflags::identifier_text(&key) {
                    ctx = ctx.with_group(group_type, key);
                }
            }
        }
        if let Some(Value::Object(groups)) = unsafe { convert::to_json(env, a[4], 0)? } {
            for (group_type, props) in groups {
                if let Value::Object(props) = props {
                    ctx = ctx.with_group_properties(group_type, props.into_iter().collect());
                }
            }
        }
        Ok(ctx)
    }
}

unsafe extern "C" fn finalize(_env: RawEnv, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        // Dropping the last reference stops the client's polling task without waiting.
        drop(unsafe { Box::from_raw(data as *mut ClientState) });
    }
}

unsafe fn state<'a>(env: RawEnv, handle: JsVal) -> CResult<&'a ClientState> {
    let bad = || ConvError::type_error("not a hogflags client handle");
    if unsafe { convert::type_of(env, handle)? } != sys::ValueType::napi_object {
        return Err(bad());
    }
    let mut tagged = false;
    unsafe {
        convert::check(
            sys::napi_check_object_type_tag(env, handle, &TAG, &mut tagged),
            "type tag",
        )?
    };
    if !tagged {
        return Err(bad());
    }
    let mut data = ptr::null_mut();
    unsafe { convert::check(sys::napi_unwrap(env, handle, &mut data), "unwrap")? };
    if data.is_null() {
        return Err(bad());
    }
    Ok(unsafe { &*(data as *const ClientState) })
}

fn with_client<T>(env: &Env, handle: &Unknown<'_>, f: impl FnOnce(&ClientState) -> CResult<T>) -> Result<T> {
    let (e, h) = (env.raw(), handle.raw());
    run(env, || f(unsafe { state(e, h)? }))
}

fn args(list: &[&Unknown<'_>]) -> Vec<JsVal> {
    list.iter().map(|u| u.raw()).collect()
}

// ---- JSON shapes (camelCase, for the JS layer) -------------------------------------------------

fn details_json(d: &FlagDetails) -> Value {
    json!({
        "key": d.key,
        "value": d.value.to_json(),
        "payload": d.payload,
        "reason": d.reason.as_ref().map(|r| json!({
            "code": r.code,
            "conditionIndex": r.condition_index,
            "description": r.description,
        })),
        "flagId": d.flag_id,
        "version": d.version,
        "hasExperiment": d.has_experiment,
        "source": match d.source { hogflags::client::Source::Local => "local", hogflags::client::Source::Remote => "remote" },
        "requestId": d.request_id,
        "evaluatedAt": d.evaluated_at,
        "errorsWhileComputing": d.errors_while_computing,
    })
}

fn unresolved_json(u: &Unresolved) -> Value {
    let mut v = json!({ "kind": u.kind(), "detail": u.detail() });
    if let Unresolved::Remote(e) = u {
        v["message"] = Value::String(e.to_string());
    }
    v
}

fn outcome_json(r: &std::result::Result<FlagDetails, Unresolved>) -> String {
    match r {
        Ok(d) => json!({ "flag": details_json(d) }),
        Err(u) => json!({ "unresolved": unresolved_json(u) }),
    }
    .to_string()
}

fn all_json(a: &AllFlags) -> String {
    let flags: Map<String, Value> = a.flags.iter().map(|(k, d)| (k.clone(), details_json(d))).collect();
    let unresolved: Map<String, Value> = a
        .unresolved
        .iter()
        .map(|(k, u)| (k.clone(), unresolved_json(u)))
        .collect();
    json!({
        "flags": flags,
        "unresolved": unresolved,
        "remoteCalled": a.remote_called,
        "remoteError": a.remote_error.as_ref().map(|e| json!({ "code": e.code(), "message": e.to_string() })),
    })
    .to_string()
}

fn client_error_json(e: &ClientError) -> Value {
    json!({ "code": e.code(), "message": e.to_string() })
}

fn event_json(e: &FlagCalledEvent) -> Value {
    json!({ "event": e.event, "distinctId": e.distinct_id, "groups": e.groups, "properties": e.properties })
}

fn update_json(u: &DefinitionsUpdate) -> Value {
    json!({
        "flags": u.flags,
        "skipped": u.skipped.iter().map(|(k, r)| json!({ "key": k, "reason": r })).collect::<Vec<_>>(),
        "etag": u.etag,
        "cleared": u.cleared,
        "fromCache": u.from_cache,
    })
}

// ---- construction ------------------------------------------------------------------------------

type Dispatch = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Creates a client (and starts polling). `options` is JSON (see `Options`); `dispatch(message)` receives
/// `{"kind": "flag_called" | "error" | "definitions_updated", "data": …}` as JSON text, asynchronously on
/// the JS thread, through a weak thread-safe function (it never keeps the process alive).
#[napi(ts_return_type = "object")]
pub fn create_client(
    env: Env,
    project_api_key: String,
    options: String,
    dispatch: Option<Function<'_, String, ()>>,
) -> Result<RawValue> {
    let opts: Options = match serde_json::from_str(&options) {
        Ok(o) => o,
        Err(e) => return run(&env, || Err(ConvError::type_error(format!("client options: {e}")))),
    };
    let tsfn: Option<Arc<Dispatch>> = match dispatch {
        Some(f) => Some(Arc::new(
            f.build_threadsafe_function::<String>()
                .weak::<true>()
                .callee_handled::<false>()
                .build()?,
        )),
        None => None,
    };
    let send = |tsfn: &Arc<Dispatch>, kind: &str, data: Value| {
        // NonBlocking: a full queue or a closing environment drops the message rather than wait.
        let _ = tsfn.call(
            json!({ "kind": kind, "data": data }).to_string(),
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    };
    let mut config = Config::new(project_api_key);
    if let Some(k) = opts.secret_key {
        config = config.secret_key(k);
    }
    if let Some(h) = opts.host {
        config = config.host(h);
    }
    if let Some(v) = opts.poll_interval_ms {
        config = config.poll_interval(ms(v));
    }
    if let Some(v) = opts.definitions_timeout_ms {
        config = config.definitions_timeout(ms(v));
    }
    if let Some(v) = opts.remote_timeout_ms {
        config = config.remote_timeout(ms(v));
    }
    if let Some(v) = opts.only_evaluate_locally {
        config = config.only_evaluate_locally(v);
    }
    if let Some(v) = opts.fallback_to_remote {
        config = config.fallback_to_remote(v);
    }
    if let Some(p) = opts.cache_path {
        config = config.cache_path(p);
    }
    if let Some(v) = opts.disable_geoip {
        config = config.disable_geoip(v);
    }
    if let Some(v) = opts.evaluation_contexts {
        config = config.evaluation_contexts(v);
    }
    if let Some(v) = opts.max_retry_after_ms {
        config = config.max_retry_after(ms(v));
    }
    if let Some(v) = opts.max_backoff_ms {
        config = config.max_backoff(ms(v));
    }
    if let Some(v) = opts.jitter {
        config = config.jitter(v);
    }
    if let Some(v) = opts.dedupe_capacity {
        config = config.dedupe_capacity(v.clamp(0.0, 1e9) as usize);
    }
    if let Some(v) = opts.use_system_proxy {
        config = config.use_system_proxy(v);
    }
    if let Some(v) = opts.user_agent {
        config = config.user_agent(v);
    }
    if let Some(t) = &tsfn {
        let wants = |k: &str| opts.events.iter().any(|e| e == k);
        if wants("flag_called") {
            let t = t.clone();
            config = config.on_flag_called(move |e| send(&t, "flag_called", event_json(&e)));
        }
        if wants("error") {
            let t = t.clone();
            config = config.on_error(move |e| send(&t, "error", client_error_json(e)));
        }
        if wants("definitions_updated") {
            let t = t.clone();
            config = config.on_definitions_updated(move |u| send(&t, "definitions_updated", update_json(u)));
        }
    }
    let e = env.raw();
    run(&env, || unsafe {
        let client = Client::new(config).map_err(|err| ConvError::coded("HOGFLAGS_CLIENT_CONFIG", err.to_string()))?;
        let mut obj = ptr::null_mut();
        convert::check(sys::napi_create_object(e, &mut obj), "create object")?;
        let st = Box::into_raw(Box::new(ClientState {
            client: Arc::new(client),
            engine: RefCell::new(None),
            generation: Cell::new(0),
        }));
        if sys::napi_wrap(
            e,
            obj,
            st as *mut c_void,
            Some(finalize),
            ptr::null_mut(),
            ptr::null_mut(),
        ) != sys::Status::napi_ok
        {
            drop(Box::from_raw(st));
            return Err(ConvError::internal("wrap"));
        }
        convert::check(sys::napi_type_tag_object(e, obj, &TAG), "type tag")?;
        Ok(RawValue(obj))
    })
}

// ---- evaluation --------------------------------------------------------------------------------

/// The person property keys of the client's current definitions, and their generation.
#[napi(object)]
pub struct ClientKeys {
    pub generation: i32,
    pub person_keys: Vec<String>,
}

/// The keys whose values `clientGetFlag` & co. take as `personValues` (see `ClientState::context`).
#[napi]
pub fn client_keys(env: Env, handle: Unknown<'_>) -> Result<ClientKeys> {
    with_client(&env, &handle, |st| {
        let (generation, e) = st.engine();
        Ok(ClientKeys {
            generation,
            person_keys: e.person_keys.clone(),
        })
    })
}

unsafe fn js_value(env: RawEnv, r: &std::result::Result<FlagDetails, Unresolved>) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    unsafe {
        match r {
            Ok(d) => match &d.value {
                hogflags::client::FlagValue::Bool(b) => {
                    convert::check(sys::napi_get_boolean(env, *b, &mut out), "boolean")?
                }
                hogflags::client::FlagValue::Variant(v) => convert::check(
                    sys::napi_create_string_utf8(env, v.as_ptr() as *const _, v.len() as isize, &mut out),
                    "string",
                )?,
            },
            Err(_) => convert::check(sys::napi_get_undefined(env, &mut out), "undefined")?,
        }
    }
    Ok(out)
}

unsafe fn js_text(env: RawEnv, text: &str) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    unsafe {
        convert::check(
            sys::napi_create_string_utf8(env, text.as_ptr() as *const _, text.len() as isize, &mut out),
            "string",
        )?
    };
    Ok(out)
}

unsafe fn js_null(env: RawEnv) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    unsafe { convert::check(sys::napi_get_null(env, &mut out), "null")? };
    Ok(out)
}

/// One flag, locally only (synchronous).
///
/// Arguments: `handle, sync, generation, key, distinctId, personValues, personProperties, groups,
/// groupProperties, deviceId, sendEvent, tryRemote, details`. With `tryRemote`, a flag that local
/// evaluation cannot decide is not reported (no event) and the result is `null`: the caller then uses
/// `clientGetFlagRemote`. Otherwise the outcome, with its `$feature_flag_called` event when `sendEvent`:
/// with `details`, JSON `{flag}` / `{unresolved}`; without, the value (`true`/`false`/variant) or
/// `undefined`.
#[napi(ts_return_type = "string | boolean | null | undefined")]
#[allow(clippy::too_many_arguments)]
pub fn client_get_flag(
    env: Env,
    handle: Unknown<'_>,
    sync: Unknown<'_>,
    generation: i32,
    key: String,
    distinct_id: Unknown<'_>,
    person_values: Unknown<'_>,
    person: Unknown<'_>,
    groups: Unknown<'_>,
    group_props: Unknown<'_>,
    device_id: Unknown<'_>,
    send_event: bool,
    try_remote: bool,
    details: bool,
) -> Result<RawValue> {
    let a = args(&[&distinct_id, &person_values, &person, &groups, &group_props, &device_id]);
    let (e, sync) = (env.raw(), sync.raw());
    with_client(&env, &handle, |st| unsafe {
        let ctx = st.context_reading(e, generation, sync, &a, Some(&key))?;
        let snap = st.client.snapshot();
        let local = snap.evaluate(&key, &ctx);
        if try_remote && local.decided().is_none() {
            // Undecided locally: report nothing here; the remote call reports the final outcome.
            return Ok(RawValue(js_null(e)?));
        }
        if !send_event && !details {
            // Only the value, no event: the evaluation above is what the client would answer.
            let r = local.value().map(hogflags::client::FlagValue::from).ok_or(());
            let mut out = ptr::null_mut();
            match r {
                Ok(hogflags::client::FlagValue::Bool(b)) => {
                    convert::check(sys::napi_get_boolean(e, b, &mut out), "boolean")?
                }
                Ok(hogflags::client::FlagValue::Variant(v)) => convert::check(
                    sys::napi_create_string_utf8(e, v.as_ptr() as *const _, v.len() as isize, &mut out),
                    "string",
                )?,
                Err(()) => convert::check(sys::napi_get_undefined(e, &mut out), "undefined")?,
            }
            return Ok(RawValue(out));
        }
        let r = st.client.get_flag_with(
            &key,
            &ctx,
            FlagOptions {
                only_evaluate_locally: true,
                send_event,
            },
        );
        Ok(RawValue(if details {
            js_text(e, &outcome_json(&r))?
        } else {
            js_value(e, &r)?
        }))
    })
}

/// Runs `work` on a thread of its own and returns a promise of its JSON text.
///
/// Not the libuv thread pool (`AsyncTask`): Node joins the pool's threads at exit, so a pool thread
/// waiting for the network would hold `process.exit()` back for as long as the wait lasts. A detached
/// thread does not; if the environment is gone when the work ends, the promise is simply dropped. A
/// panic in `work` rejects the promise.
fn on_own_thread<'e>(env: &'e Env, work: impl FnOnce() -> String + Send + 'static) -> Result<Object<'e>> {
    let (deferred, promise) = env.create_deferred()?;
    std::thread::Builder::new()
        .name("hogflags-call".into())
        .spawn(move || match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(text) => deferred.resolve(move |_| Ok(text)),
            Err(_) => deferred.reject(Error::from_reason("hogflags internal error: a panic in a client call")),
        })
        .map_err(|e| Error::from_reason(format!("cannot start a thread: {e}")))?;
    Ok(promise)
}

/// One flag with the `/flags` fallback, on a thread of its own: a promise of JSON `{flag}` /
/// `{unresolved}`. Arguments as `clientGetFlag`, without `tryRemote` and `details`.
#[napi(ts_return_type = "Promise<string>")]
#[allow(clippy::too_many_arguments)]
pub fn client_get_flag_remote<'e>(
    env: &'e Env,
    handle: Unknown<'_>,
    sync: Unknown<'_>,
    generation: i32,
    key: String,
    distinct_id: Unknown<'_>,
    person_values: Unknown<'_>,
    person: Unknown<'_>,
    groups: Unknown<'_>,
    group_props: Unknown<'_>,
    device_id: Unknown<'_>,
    send_event: bool,
) -> Result<Object<'e>> {
    let a = args(&[&distinct_id, &person_values, &person, &groups, &group_props, &device_id]);
    let (e, sync) = (env.raw(), sync.raw());
    let (client, ctx) = with_client(&env, &handle, |st| Ok((st.client.clone(), unsafe { st.full_context(e, generation, sync, &a)? })))?;
    on_own_thread(&env, move || {
        let opts = FlagOptions { only_evaluate_locally: false, send_event };
        outcome_json(&client.get_flag_with(&key, &ctx, opts))
    })
}

/// Every flag, locally only (synchronous): JSON of the bulk result. With `tryRemote`, `null` when some
/// flag is undecided (the caller then uses `clientAllFlagsRemote`).
#[napi(ts_return_type = "string | null")]
#[allow(clippy::too_many_arguments)]
pub fn client_all_flags(
    env: Env,
    handle: Unknown<'_>,
    sync: Unknown<'_>,
    generation: i32,
    distinct_id: Unknown<'_>,
    person_values: Unknown<'_>,
    person: Unknown<'_>,
    groups: Unknown<'_>,
    group_props: Unknown<'_>,
    device_id: Unknown<'_>,
    try_remote: bool,
) -> Result<Option<String>> {
    let a = args(&[&distinct_id, &person_values, &person, &groups, &group_props, &device_id]);
    let (e, sync) = (env.raw(), sync.raw());
    with_client(&env, &handle, |st| {
        let ctx = unsafe { st.context(e, generation, sync, &a)? };
        let all = st.client.get_all_flags_with(&ctx, true);
        // With no definitions at all, everything comes from /flags.
        if try_remote && (!all.unresolved.is_empty() || st.client.snapshot().is_empty()) {
            return Ok(None);
        }
        Ok(Some(all_json(&all)))
    })
}

/// Every flag, with one `/flags` call for the undecided ones (on a thread of its own).
#[napi(ts_return_type = "Promise<string>")]
#[allow(clippy::too_many_arguments)]
pub fn client_all_flags_remote<'e>(
    env: &'e Env,
    handle: Unknown<'_>,
    sync: Unknown<'_>,
    generation: i32,
    distinct_id: Unknown<'_>,
    person_values: Unknown<'_>,
    person: Unknown<'_>,
    groups: Unknown<'_>,
    group_props: Unknown<'_>,
    device_id: Unknown<'_>,
) -> Result<Object<'e>> {
    let a = args(&[&distinct_id, &person_values, &person, &groups, &group_props, &device_id]);
    let (e, sync) = (env.raw(), sync.raw());
    let (client, ctx) = with_client(&env, &handle, |st| Ok((st.client.clone(), unsafe { st.full_context(e, generation, sync, &a)? })))?;
    on_own_thread(&env, move || all_json(&client.get_all_flags_with(&ctx, false)))
}

// ---- lifecycle ---------------------------------------------------------------------------------

pub enum Lifecycle {
    Reload,
    Wait(Duration),
    Shutdown,
}

fn lifecycle_json(client: &Client, what: Lifecycle) -> String {
    let out = match what {
        Lifecycle::Reload => match client.reload() {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "error": client_error_json(&e) }),
        },
        Lifecycle::Wait(timeout) => match client.wait_until_ready(timeout) {
            Ok(()) => json!({ "ok": true }),
            Err(WaitError::Timeout { .. }) => json!({ "ok": false }),
            Err(WaitError::Failed(e)) => json!({ "ok": false, "error": client_error_json(&e) }),
            Err(WaitError::ShutDown) => json!({ "ok": false, "error": client_error_json(&ClientError::ShutDown) }),
        },
        Lifecycle::Shutdown => {
            client.shutdown();
            json!({ "ok": true })
        }
    };
    out.to_string()
}

/// Reload, wait and shutdown run on a thread of their own, so none of them holds `process.exit()` back.
fn lifecycle<'e>(env: &'e Env, handle: Unknown<'_>, what: Lifecycle) -> Result<Object<'e>> {
    let client = with_client(env, &handle, |st| Ok(st.client.clone()))?;
    on_own_thread(env, move || lifecycle_json(&client, what))
}

/// The decrypted payload of a remote-config flag, read from PostHog; a promise of `{ok, payload}` (payload
/// `null` when the flag has none) or `{ok: false, error}` (JSON).
#[napi(ts_return_type = "Promise<string>")]
pub fn client_remote_config_payload<'e>(env: &'e Env, handle: Unknown<'_>, key: String) -> Result<Object<'e>> {
    let client = with_client(env, &handle, |st| Ok(st.client.clone()))?;
    on_own_thread(env, move || {
        match client.remote_config_payload(&key) {
            Ok(payload) => json!({ "ok": true, "payload": payload }),
            Err(e) => json!({ "ok": false, "error": client_error_json(&e) }),
        }
        .to_string()
    })
}

/// Fetches definitions now; a promise of `{ok, error?}` (JSON).
#[napi(ts_return_type = "Promise<string>")]
pub fn client_reload<'e>(env: &'e Env, handle: Unknown<'_>) -> Result<Object<'e>> {
    lifecycle(env, handle, Lifecycle::Reload)
}

/// Waits until definitions are loaded; a promise of `{ok, error?}` (JSON).
#[napi(ts_return_type = "Promise<string>")]
pub fn client_wait_until_ready<'e>(env: &'e Env, handle: Unknown<'_>, timeout_ms: f64) -> Result<Object<'e>> {
    lifecycle(env, handle, Lifecycle::Wait(ms(timeout_ms)))
}

/// Stops polling (bounded wait); evaluation keeps working on the last definitions.
#[napi(ts_return_type = "Promise<string>")]
pub fn client_shutdown<'e>(env: &'e Env, handle: Unknown<'_>) -> Result<Object<'e>> {
    lifecycle(env, handle, Lifecycle::Shutdown)
}

/// Polling state as JSON.
#[napi]
pub fn client_status(env: Env, handle: Unknown<'_>) -> Result<String> {
    with_client(&env, &handle, |st| {
        let s = st.client.status();
        let last_success_ms = s
            .last_success
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64);
        Ok(json!({
            "ready": s.ready,
            "flagsLoaded": s.flags_loaded,
            "etag": s.etag,
            "consecutiveFailures": s.consecutive_failures,
            "lastError": s.last_error.as_ref().map(client_error_json),
            "lastSuccessAt": last_success_ms,
            "fetches": s.fetches,
        })
        .to_string())
    })
}
