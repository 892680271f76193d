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
    outcome_json, AllFlags, AllOptions, AllStep, Client, ClientError, Config, FlagDetails, FlagOptions, FlagStep, OwnedFlagValue,
    PendingAll, Settings, Unresolved, WaitError,
};
use hogflags::{EvaluationContext, FlagSnapshot};
use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::{json, Value};

use crate::convert::{self, CResult, ConvError, Env as RawEnv, JsVal};
use crate::engine::{EngineState, Person};

use crate::{run, RawValue};

const TAG: sys::napi_type_tag = sys::napi_type_tag {
    lower: 0x686f_6766_6c61_6773,
    upper: 0x636c_6965_6e74_0001,
};

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64((v.max(0.0) / 1000.0).min(1e9))
}

/// A client and the conversion state for its current snapshot.
pub struct ClientState {
    pub(crate) client: Arc<Client>,
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
    unsafe fn context(&self, env: RawEnv, generation: i32, sync: JsVal, a: &[JsVal]) -> CResult<(EvaluationContext, Arc<FlagSnapshot>)> {
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
    ) -> CResult<(EvaluationContext, Arc<FlagSnapshot>)> {
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
        Ok((ctx, e.snap.clone()))
    }

    /// As [`context`](Self::context), for a `/flags` request: that must carry every property the caller
    /// passed (as posthog-node sends them), not only those the local definitions read.
    unsafe fn full_context(&self, env: RawEnv, generation: i32, sync: JsVal, a: &[JsVal]) -> CResult<EvaluationContext> {
        let (mut ctx, _) = unsafe { self.context(env, generation, sync, a)? };
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

pub(crate) fn args(list: &[&Unknown<'_>]) -> Vec<JsVal> {
    list.iter().map(|u| u.raw()).collect()
}

/// Results cross as the core's JSON shapes (`hogflags::client::wire`); the JS layer renames keys.
fn client_error_json(e: &ClientError) -> Value {
    e.to_json()
}

// ---- construction ------------------------------------------------------------------------------

type Dispatch = ThreadsafeFunction<String, (), String, Status, false, true>;

/// Creates a client (and starts polling). `options` is the core's settings as JSON; `events` names the
/// callbacks the JS side has (`flag_called`, `error`, `definitions_updated`); `dispatch(message)` receives
/// `{"kind": …, "data": …}` as JSON text, asynchronously on the JS thread, through a weak thread-safe
/// function (it never keeps the process alive).
#[napi(ts_return_type = "object")]
pub fn create_client(
    env: Env,
    project_api_key: String,
    options: String,
    events: Vec<String>,
    dispatch: Option<Function<'_, String, ()>>,
) -> Result<RawValue> {
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
    // The settings are the core's (`hogflags::client::Settings`, checked there); the JS layer renamed them.
    let config = options
        .parse::<Settings>()
        .and_then(|settings| settings.apply(Config::new(project_api_key)))
        .map_err(|e| e.to_json().to_string());
    let mut config = match config {
        Ok(c) => c,
        Err(message) => return run(&env, || Err(ConvError::coded("HOGFLAGS_CLIENT_CONFIG", message))),
    };
    if let Some(t) = &tsfn {
        let wants = |k: &str| events.iter().any(|e| e == k);
        if wants("flag_called") {
            let t = t.clone();
            config = config.on_flag_called(move |e| send(&t, "flag_called", e.to_json()));
        }
        if wants("error") {
            let t = t.clone();
            config = config.on_error(move |e| send(&t, "error", client_error_json(e)));
        }
        if wants("definitions_updated") {
            let t = t.clone();
            config = config.on_definitions_updated(move |u| send(&t, "definitions_updated", u.to_json()));
        }
    }
    let e = env.raw();
    run(&env, || unsafe {
        // The core's {"code", "message"}: the JS layer raises ClientConfigError with that code.
        let client = Client::new(config).map_err(|err| ConvError::coded("HOGFLAGS_CLIENT_CONFIG", err.to_json().to_string()))?;
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
    unsafe { js_flag_value(env, r.as_ref().ok().map(|d| &d.value)) }
}

/// `true`, `false`, the variant's text, or `undefined` for no value.
pub(crate) unsafe fn js_flag_value(env: RawEnv, v: Option<&OwnedFlagValue>) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    unsafe {
        match v {
            Some(OwnedFlagValue::Bool(b)) => convert::check(sys::napi_get_boolean(env, *b, &mut out), "boolean")?,
            Some(OwnedFlagValue::Variant(v)) => return js_text(env, v),
            None => convert::check(sys::napi_get_undefined(env, &mut out), "undefined")?,
        }
    }
    Ok(out)
}

pub(crate) unsafe fn js_text(env: RawEnv, text: &str) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    unsafe {
        convert::check(
            sys::napi_create_string_utf8(env, text.as_ptr() as *const _, text.len() as isize, &mut out),
            "string",
        )?
    };
    Ok(out)
}

/// Runs `work` on a thread of its own and returns a promise of its JSON text.
///
/// Not the libuv thread pool (`AsyncTask`): Node joins the pool's threads at exit, so a pool thread
/// waiting for the network would hold `process.exit()` back for as long as the wait lasts. A detached
/// thread does not; if the environment is gone when the work ends, the promise is simply dropped. A
/// panic in `work` rejects the promise.
fn on_own_thread<'e>(env: &'e Env, work: impl FnOnce() -> String + Send + 'static) -> Result<Object<'e>> {
    on_own_thread_then(env, work, |_, text| Ok(text))
}

/// As [`on_own_thread`], the promise resolved with `to_js(env, result)`, called on the JS thread (where
/// JS values can be made). If the environment is gone by then, `result` is dropped with the promise.
pub(crate) fn on_own_thread_then<'e, T: Send + 'static, V: ToNapiValue + 'static>(
    env: &'e Env,
    work: impl FnOnce() -> T + Send + 'static,
    to_js: impl FnOnce(RawEnv, T) -> CResult<V> + Send + 'static,
) -> Result<Object<'e>> {
    let (deferred, promise) = env.create_deferred()?;
    std::thread::Builder::new()
        .name("hogflags-call".into())
        .spawn(move || match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
            Ok(out) => deferred.resolve(move |env: Env| {
                crate::raw::guarded(|| to_js(env.raw(), out)).map_err(|e| Error::from_reason(e.message))
            }),
            Err(_) => deferred.reject(Error::from_reason("hogflags internal error: a panic in a client call")),
        })
        .map_err(|e| Error::from_reason(format!("cannot start a thread: {e}")))?;
    Ok(promise)
}

/// One flag: the core's local step here, synchronously; its remote step, when the core asks for one, on
/// a thread of its own.
///
/// Arguments: `handle, sync, generation, key, distinctId, personProperties, groups, groupProperties,
/// deviceId, sendEvent, onlyEvaluateLocally, details`. Returns the final outcome (with `details`, the
/// core's outcome JSON; without, the value `true`/`false`/variant or `undefined`), or a promise of the
/// outcome JSON when `/flags` is to be asked.
#[napi(ts_return_type = "string | boolean | undefined | Promise<string>")]
#[allow(clippy::too_many_arguments)]
pub fn client_get_flag(
    env: Env,
    handle: Unknown<'_>,
    sync: Unknown<'_>,
    generation: i32,
    key: String,
    distinct_id: Unknown<'_>,
    person: Unknown<'_>,
    groups: Unknown<'_>,
    group_props: Unknown<'_>,
    device_id: Unknown<'_>,
    send_event: bool,
    only_evaluate_locally: bool,
    details: bool,
) -> Result<RawValue> {
    let (e, sync) = (env.raw(), sync.raw());
    let step = with_client(&env, &handle, |st| unsafe {
        // No person values: the local step reads the flag's keys from the object by name.
        let mut undefined = ptr::null_mut();
        convert::check(sys::napi_get_undefined(e, &mut undefined), "undefined")?;
        let a = [distinct_id.raw(), undefined, person.raw(), groups.raw(), group_props.raw(), device_id.raw()];
        let (ctx, snap) = st.context_reading(e, generation, sync, &a, Some(&key))?;
        let opts = FlagOptions { only_evaluate_locally, send_event };
        Ok(match st.client.begin_flag_on(&snap, &key, &ctx, opts) {
            FlagStep::Done(r) => Ok(if details {
                js_text(e, &outcome_json(&key, &r).to_string())?
            } else {
                js_value(e, &r)?
            }),
            FlagStep::Remote(pending) => Err((pending, st.full_context(e, generation, sync, &a)?)),
        })
    })?;
    match step {
        Ok(v) => Ok(RawValue(v)),
        Err((pending, ctx)) => {
            let promise = on_own_thread(&env, move || {
                let key = pending.key().to_owned();
                outcome_json(&key, &pending.finish(&ctx)).to_string()
            })?;
            Ok(RawValue(promise.raw()))
        }
    }
}

/// The local step of a bulk call (the arguments of `clientAllFlags`): `done` turns a final answer into
/// the call's result here; a pending `/flags` step is returned with its full context and the client.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(crate) fn bulk_step(
    env: &Env,
    handle: &Unknown<'_>,
    sync: &Unknown<'_>,
    generation: i32,
    a: &[JsVal],
    only_evaluate_locally: bool,
    flag_keys: Option<&[String]>,
    done: impl FnOnce(RawEnv, &ClientState, AllFlags, EvaluationContext) -> CResult<JsVal>,
) -> Result<std::result::Result<JsVal, (PendingAll, EvaluationContext, Arc<Client>)>> {
    let (e, sync) = (env.raw(), sync.raw());
    with_client(env, handle, |st| unsafe {
        let (ctx, snap) = st.context(e, generation, sync, a)?;
        let keys: Option<Vec<&str>> = flag_keys.map(|k| k.iter().map(String::as_str).collect());
        let opts = AllOptions { only_evaluate_locally, flag_keys: keys.as_deref() };
        Ok(match st.client.begin_all_on(&snap, &ctx, opts) {
            AllStep::Done(all) => Ok(done(e, st, all, ctx)?),
            AllStep::Remote(pending) => Err((pending, st.full_context(e, generation, sync, a)?, st.client.clone())),
        })
    })
}

/// Every flag, or those in `flagKeys`: the core's local step here, synchronously (the core's bulk JSON);
/// its one `/flags` request, when the core asks for it, on a thread of its own (a promise of that JSON).
#[napi(ts_return_type = "string | Promise<string>")]
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
    only_evaluate_locally: bool,
    flag_keys: Option<Vec<String>>,
) -> Result<RawValue> {
    let a = args(&[&distinct_id, &person_values, &person, &groups, &group_props, &device_id]);
    let done = |e, _: &ClientState, all: AllFlags, _| unsafe { js_text(e, &all.to_json_string()) };
    match bulk_step(&env, &handle, &sync, generation, &a, only_evaluate_locally, flag_keys.as_deref(), done)? {
        Ok(v) => Ok(RawValue(v)),
        Err((pending, ctx, _)) => Ok(RawValue(on_own_thread(&env, move || pending.finish(&ctx).to_json_string())?.raw())),
    }
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
        Ok(st.client.status().to_json().to_string())
    })
}
