//! Node.js binding of hogflags (napi-rs). Only type conversion: every answer comes from the core.
//!
//! The JS layer (`node/lib/`) is the public API; this crate is its engine room:
//! - an engine is a type-tagged JS object wrapping the compiled snapshot ([`raw::new_handle`]);
//! - the evaluation context is read from the caller's values, and only the property keys the snapshot can
//!   read ([`FlagSnapshot::property_keys`]) cross N-API: the JS side passes person property values as an
//!   array aligned with those keys, group types and group property keys are looked up by name;
//! - outcomes are written as integers into an `Int32Array` the JS side owns, with variant keys, details,
//!   reason descriptions and payload JSON interned in per-engine tables the JS side copies once, so a call
//!   builds no JS objects on the native side;
//! - the hot functions are raw N-API callbacks ([`raw`]), the cold ones napi-rs functions (below).
//!
//! Record layout (after a header of two integers: the current sizes of the string and payload tables):
//! decided: `[value, payload, reason code, condition index (-1: null), description]`, where value is
//! 0 (false), 1 (true) or 2 + the variant's string index, payload is a payload index or -1, and
//! description is a string index; inconclusive: `[-1 - kind, -1, detail string index or -1, -1, -1]`.
//! The code and kind numbers index `reasonCodes` and `inconclusiveKinds` of [`engine_info`].

// napi-rs registers nothing in test builds, so exported items look unused there.
#![cfg_attr(test, allow(dead_code))]

#[cfg(feature = "client")]
mod client;
mod convert;
mod engine;
#[cfg(feature = "client")]
mod evaluations;
mod raw;

use std::collections::HashMap;

use hogflags::{EvaluationContext, FlagSnapshot};
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;

use convert::{CResult, ConvError};
use engine::{EngineState, HEADER, INCONCLUSIVE_KINDS, REASON_CODES, STRIDE};

/// Runs `f` in the panic guard and throws its error into JS.
pub(crate) fn run<T>(env: &Env, f: impl FnOnce() -> CResult<T>) -> Result<T> {
    raw::guarded(f).map_err(|e| {
        unsafe { raw::throw(env.raw(), e) };
        Error::from_status(Status::PendingException)
    })
}

/// A JS value handed back to napi-rs unchanged.
pub struct RawValue(sys::napi_value);

impl ToNapiValue for RawValue {
    unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        Ok(val.0)
    }
}

impl TypeName for RawValue {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

/// Loads a definitions document (a string, or a Uint8Array/Buffer of UTF-8 JSON) into a new engine handle.
/// A refused document throws an `Error` with `code: "HOGFLAGS_INVALID_DEFINITIONS"`.
#[napi(ts_return_type = "object")]
pub fn create_engine(env: Env, definitions: Unknown<'_>) -> Result<RawValue> {
    let e = env.raw();
    let v = definitions.raw();
    run(&env, || unsafe {
        let text;
        let bytes: &[u8] = if convert::type_of(e, v)? == sys::ValueType::napi_string {
            text = convert::read_string(e, v)?;
            text.as_bytes()
        } else if let Some(bytes) = convert::uint8_bytes(e, v)? {
            bytes
        } else {
            return Err(ConvError::type_error(
                "definitions must be a JSON string, a Buffer or a plain object",
            ));
        };
        let snap = FlagSnapshot::from_json(bytes)
            .map_err(|err| ConvError::coded("HOGFLAGS_INVALID_DEFINITIONS", err.to_string()))?;
        raw::new_handle(e, snap).map(RawValue)
    })
}

/// The raw evaluation functions: `{ evaluateOne, evaluateAll, evaluateKeys }` (see the `raw` module).
#[napi(ts_return_type = "{ evaluateOne: Function, evaluateAll: Function, evaluateKeys: Function }")]
pub fn raw_functions(env: Env) -> Result<RawValue> {
    run(&env, || unsafe { raw::functions(env.raw()).map(RawValue) })
}

/// One loaded flag, as the JS layer caches it.
#[napi(object)]
pub struct NativeFlagInfo {
    pub key: String,
    pub id: Option<i64>,
    pub version: Option<i64>,
    pub active: bool,
    pub has_experiment: Option<bool>,
    pub ensure_experience_continuity: bool,
}

#[napi(object)]
pub struct NativeSkipped {
    pub key: String,
    pub reason: String,
}

/// Static facts about a loaded snapshot.
#[napi(object)]
pub struct NativeInfo {
    pub flags: Vec<NativeFlagInfo>,
    pub skipped_flags: Vec<NativeSkipped>,
    /// Cohorts that could not be compiled (`key` holds the cohort id).
    pub broken_cohorts: Vec<NativeSkipped>,
    pub group_type_mapping: HashMap<String, String>,
    pub minimal_flag_called_events: bool,
    /// The person property keys any flag reads: `evaluateAll` / `evaluateKeys` take their values in
    /// this order.
    pub person_property_keys: Vec<String>,
    /// Per flag (as `flags`), the indices into `personPropertyKeys` whose values `evaluateOne` takes.
    pub flag_person_keys: Vec<Vec<u32>>,
    pub group_property_keys: HashMap<String, Vec<String>>,
    pub reason_codes: Vec<String>,
    pub inconclusive_kinds: Vec<String>,
    pub stride: u32,
    pub header: u32,
}

fn with_state<T>(env: &Env, handle: &Unknown<'_>, f: impl FnOnce(&EngineState) -> CResult<T>) -> Result<T> {
    let (e, h) = (env.raw(), handle.raw());
    run(env, || f(unsafe { raw::state(e, h)? }))
}

/// Static facts about the engine's snapshot.
#[napi]
pub fn engine_info(env: Env, handle: Unknown<'_>) -> Result<NativeInfo> {
    with_state(&env, &handle, |st| {
        let s = &st.snap;
        let reads = s.property_keys();
        Ok(NativeInfo {
            flags: s
                .flags()
                .map(|f| NativeFlagInfo {
                    key: f.key.to_owned(),
                    id: f.id,
                    version: f.version,
                    active: f.active,
                    has_experiment: f.has_experiment,
                    ensure_experience_continuity: f.ensure_experience_continuity,
                })
                .collect(),
            skipped_flags: s
                .skipped()
                .iter()
                .map(|k| NativeSkipped {
                    key: k.key.clone(),
                    reason: k.reason.clone(),
                })
                .collect(),
            broken_cohorts: s
                .broken_cohorts()
                .iter()
                .map(|c| NativeSkipped {
                    key: c.id.clone(),
                    reason: c.reason.clone(),
                })
                .collect(),
            group_type_mapping: s.group_type_mapping().clone(),
            minimal_flag_called_events: s.minimal_flag_called_events(),
            person_property_keys: st.person_keys.clone(),
            flag_person_keys: s.flags().map(|f| st.reads_for(f.key).person.clone()).collect(),
            group_property_keys: reads
                .groups
                .iter()
                .map(|(g, ks)| (g.clone(), ks.iter().cloned().collect()))
                .collect(),
            reason_codes: REASON_CODES.iter().map(|c| c.as_str().to_owned()).collect(),
            inconclusive_kinds: INCONCLUSIVE_KINDS.iter().map(|k| k.as_str().to_owned()).collect(),
            stride: STRIDE as u32,
            header: HEADER as u32,
        })
    })
}

/// Interned strings from index `from` on.
#[napi]
pub fn engine_strings(env: Env, handle: Unknown<'_>, from: u32) -> Result<Vec<String>> {
    with_state(&env, &handle, |st| {
        let t = st.tables.try_borrow().map_err(|_| ConvError::internal("tables busy"))?;
        Ok(t.strings
            .get(from as usize..)
            .map(<[String]>::to_vec)
            .unwrap_or_default())
    })
}

/// Interned payloads (JSON text) from index `from` on.
#[napi]
pub fn engine_payloads(env: Env, handle: Unknown<'_>, from: u32) -> Result<Vec<String>> {
    with_state(&env, &handle, |st| {
        let t = st.tables.try_borrow().map_err(|_| ConvError::internal("tables busy"))?;
        Ok(t.payloads
            .get(from as usize..)
            .map(<[String]>::to_vec)
            .unwrap_or_default())
    })
}

fn context_from_json(json: &str) -> CResult<EvaluationContext> {
    EvaluationContext::from_json(json).map_err(|e| ConvError::coded("HOGFLAGS_INVALID_CONTEXT", e.to_string()))
}

/// JSON entry point: evaluates one flag for a context in the JSON form of `hogflags::ContextInput`
/// (`{"distinct_id", "person_properties", "groups", "group_properties", "device_id", "now"}`, as the
/// conformance corpus writes it) and returns `Evaluation::to_json` as JSON text.
#[napi]
pub fn evaluate_json(env: Env, handle: Unknown<'_>, key: String, context: String) -> Result<String> {
    with_state(&env, &handle, |st| {
        let ctx = context_from_json(&context)?;
        Ok(st.snap.evaluate(&key, &ctx).to_json_string(&key))
    })
}

/// JSON entry point for every flag: a JSON array of `Evaluation::to_json`, in document order.
#[napi]
pub fn evaluate_all_json(env: Env, handle: Unknown<'_>, context: String) -> Result<String> {
    with_state(&env, &handle, |st| {
        let ctx = context_from_json(&context)?;
        let all = st.snap.evaluate_all(&ctx);
        let items: Vec<hogflags::EvaluationJson> =
            all.iter().map(|(key, e)| hogflags::EvaluationJson { key, evaluation: e }).collect();
        Ok(serde_json::to_string(&items).unwrap_or_default())
    })
}

// Evaluation allocates a few small maps and strings per call (the core's context); mimalloc serves them
// several times faster than glibc's malloc, which spends much of a call consolidating its free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
