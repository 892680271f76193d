//! The core's batch-evaluation object ([`hogflags::client::FlagEvaluations`]) behind a JS handle: a
//! type-tagged JS object wrapping an `Arc<FlagEvaluations>`, dropped by the handle's finalizer (the
//! native size is reported to V8 meanwhile, `napi_adjust_external_memory`). The JS
//! class `FeatureFlagEvaluations` (`node/lib/evaluations.js`) holds one; every read (`isEnabled`,
//! `getFlag`) goes through the core, which records the access and emits the deduplicated
//! `$feature_flag_called` event through the client's dispatch. Slices (`only`, `onlyAccessed`) are the
//! core's. Conversion only.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use hogflags::client::{AllFlags, FlagEvaluations};
use hogflags::EvaluationContext;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use crate::client::{args, bulk_step, js_flag_value, js_text, on_own_thread_then, ClientState};
use crate::convert::{self, CResult, ConvError, Env as RawEnv, JsVal};
use crate::{run, RawValue};

const TAG: sys::napi_type_tag = sys::napi_type_tag {
    lower: 0x686f_6766_6c61_6773,
    upper: 0x6576_616c_7300_0001,
};

/// What a handle owns: the evaluations, and the native size reported to V8 for them.
struct Owned {
    ev: Arc<FlagEvaluations>,
    external: i64,
}

unsafe extern "C" fn finalize(env: RawEnv, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        let owned = unsafe { Box::from_raw(data as *mut Owned) };
        let mut total = 0;
        unsafe { sys::napi_adjust_external_memory(env, -owned.external, &mut total) };
        drop(owned);
    }
}

/// A rough size of the native memory `ev` holds: V8 sees only the small handle object, and is told the
/// rest so that it collects evaluations as often as their memory calls for.
fn native_size(ev: &FlagEvaluations) -> i64 {
    let flags: usize = ev.keys().map(|k| 2 * k.len() + 320).sum();
    let unresolved: usize = ev.unresolved().keys().map(|k| k.len() + 96).sum();
    (256 + flags + unresolved) as i64
}

/// A new handle object owning `ev`.
unsafe fn new_handle(env: RawEnv, ev: FlagEvaluations) -> CResult<JsVal> {
    let mut obj = ptr::null_mut();
    unsafe { convert::check(sys::napi_create_object(env, &mut obj), "create object")? };
    let external = native_size(&ev);
    let data = Box::into_raw(Box::new(Owned { ev: Arc::new(ev), external }));
    let status = unsafe { sys::napi_wrap(env, obj, data as *mut c_void, Some(finalize), ptr::null_mut(), ptr::null_mut()) };
    if status != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(data) });
        return Err(ConvError::internal("wrap"));
    }
    let mut total = 0;
    unsafe { sys::napi_adjust_external_memory(env, external, &mut total) };
    unsafe { convert::check(sys::napi_type_tag_object(env, obj, &TAG), "type tag")? };
    Ok(obj)
}

/// The evaluations behind a handle; anything else (a client or engine handle included) is a `TypeError`.
unsafe fn state<'a>(env: RawEnv, handle: JsVal) -> CResult<&'a Arc<FlagEvaluations>> {
    let bad = || ConvError::type_error("not a hogflags evaluations handle");
    if unsafe { convert::type_of(env, handle)? } != sys::ValueType::napi_object {
        return Err(bad());
    }
    let mut tagged = false;
    unsafe { convert::check(sys::napi_check_object_type_tag(env, handle, &TAG, &mut tagged), "type tag")? };
    if !tagged {
        return Err(bad());
    }
    let mut data = ptr::null_mut();
    unsafe { convert::check(sys::napi_unwrap(env, handle, &mut data), "unwrap")? };
    if data.is_null() {
        return Err(bad());
    }
    Ok(unsafe { &(*(data as *const Owned)).ev })
}

fn with_evaluations<T>(env: &Env, handle: &Unknown<'_>, f: impl FnOnce(&FlagEvaluations) -> CResult<T>) -> Result<T> {
    let (e, h) = (env.raw(), handle.raw());
    run(env, || f(unsafe { state(e, h)? }))
}

/// `[json, handle]`: the core's bulk JSON (`AllFlags::to_json_string`) the JS object is built from, and
/// the handle of the evaluations it describes.
pub(crate) unsafe fn pair(env: RawEnv, json: &str, ev: FlagEvaluations) -> CResult<JsVal> {
    let handle = unsafe { new_handle(env, ev)? };
    let text = unsafe { js_text(env, json)? };
    let mut arr = ptr::null_mut();
    unsafe {
        convert::check(sys::napi_create_array_with_length(env, 2, &mut arr), "array")?;
        convert::check(sys::napi_set_element(env, arr, 0, text), "array element")?;
        convert::check(sys::napi_set_element(env, arr, 1, handle), "array element")?;
    }
    Ok(arr)
}

/// A slice as the core's bulk JSON (the shape of the whole evaluation's), with its handle.
unsafe fn slice_pair(env: RawEnv, slice: FlagEvaluations) -> CResult<JsVal> {
    let all = AllFlags {
        flags: slice.keys().filter_map(|k| slice.details(k).map(|d| (k.to_owned(), d.clone()))).collect(),
        unresolved: slice.unresolved().clone(),
        ..AllFlags::default()
    };
    unsafe { pair(env, &all.to_json_string(), slice) }
}

/// A read: the core's `get_flag` (records the access; with `sendEvent`, emits the deduplicated
/// `$feature_flag_called` event). The value `true`/`false`/variant, `undefined` without one.
#[napi(ts_return_type = "boolean | string | undefined")]
pub fn evaluations_get_flag(env: Env, handle: Unknown<'_>, key: String, send_event: bool) -> Result<RawValue> {
    let e = env.raw();
    with_evaluations(&env, &handle, |ev| unsafe { js_flag_value(e, ev.get_flag(&key, send_event)) }).map(RawValue)
}

/// A read: the core's `is_enabled` (`defaultValue` when the evaluation has no value for the flag).
#[napi]
pub fn evaluations_is_enabled(env: Env, handle: Unknown<'_>, key: String, default_value: bool, send_event: bool) -> Result<bool> {
    with_evaluations(&env, &handle, |ev| Ok(ev.is_enabled(&key, default_value, send_event)))
}

/// The keys with a value, sorted.
#[napi]
pub fn evaluations_keys(env: Env, handle: Unknown<'_>) -> Result<Vec<String>> {
    with_evaluations(&env, &handle, |ev| Ok(ev.keys().map(str::to_owned).collect()))
}

/// The core's slice: `only_accessed()` without `keys`, `only(keys)` with; `[json, handle]` as
/// `clientEvaluateFlags` returns.
#[napi(ts_return_type = "[string, object]")]
pub fn evaluations_slice(env: Env, handle: Unknown<'_>, keys: Option<Vec<String>>) -> Result<RawValue> {
    let e = env.raw();
    with_evaluations(&env, &handle, |ev| {
        let slice = match &keys {
            None => ev.only_accessed(),
            Some(keys) => ev.only(&keys.iter().map(String::as_str).collect::<Vec<_>>()),
        };
        unsafe { slice_pair(e, slice) }
    })
    .map(RawValue)
}

/// The core's `event_properties` as JSON: `$feature/<key>` for every flag with a value and
/// `$active_feature_flags`.
#[napi]
pub fn evaluations_event_properties(env: Env, handle: Unknown<'_>) -> Result<String> {
    with_evaluations(&env, &handle, |ev| Ok(serde_json::Value::Object(ev.event_properties()).to_string()))
}

/// `evaluateFlags`: as `clientAllFlags`, into the core's `FlagEvaluations` (`Client::evaluations`, no
/// event until a flag is read). Returns `[json, handle]` (the core's bulk JSON and the evaluations'
/// handle, see the `evaluations` module), or a promise of it when `/flags` is to be asked (asked on a
/// thread of its own; the handle is made on the JS thread when the promise resolves).
#[napi(ts_return_type = "[string, object] | Promise<[string, object]>")]
#[allow(clippy::too_many_arguments)]
pub fn client_evaluate_flags(
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
    let done = |e, st: &ClientState, all: AllFlags, ctx: EvaluationContext| {
        let text = all.to_json_string();
        unsafe { pair(e, &text, st.client.evaluations(&ctx, all)) }
    };
    match bulk_step(&env, &handle, &sync, generation, &a, only_evaluate_locally, flag_keys.as_deref(), done)? {
        Ok(v) => Ok(RawValue(v)),
        Err((pending, ctx, client)) => {
            let work = move || {
                let all = pending.finish(&ctx);
                (all.to_json_string(), client.evaluations(&ctx, all))
            };
            let to_js = |e, (text, ev): (String, _)| unsafe { pair(e, &text, ev).map(RawValue) };
            Ok(RawValue(on_own_thread_then(&env, work, to_js)?.raw()))
        }
    }
}
