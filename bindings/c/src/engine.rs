//! `hf_engine`: an immutable compiled flag snapshot, and the evaluation calls.

use std::ffi::c_char;
use std::sync::Arc;

use hogflags_core::{DocumentError, EvaluationContext, EvaluationJson, FlagSnapshot};
use serde_json::{json, Value};

use crate::context::{context_from_json, hf_context};
use crate::ffi::{
    bytes_arg, check_property, guard, guard_void, properties_arg, property_key, property_value, reset_out,
    str_arg, string_out, Failure,
};
use crate::types::{hf_property, hf_result, hf_status};

/// An engine: one loaded definitions document, compiled and immutable. Create it with `hf_engine_new`,
/// free it with `hf_engine_free`. Every other engine function only reads it, so one engine can be used
/// from any number of threads at once without locking. To load new definitions, create a new engine
/// and free the old one once no thread uses it (or results borrowed from it).
pub struct hf_engine {
    pub(crate) snapshot: Arc<FlagSnapshot>,
}

/// # Safety
/// `engine` is NULL or a live engine.
pub(crate) unsafe fn engine_arg<'a>(engine: *const hf_engine) -> Result<&'a hf_engine, Failure> {
    engine.as_ref().ok_or_else(|| Failure::null("engine"))
}

/// # Safety
/// `out` is NULL or points to writable storage for one `hf_result`.
pub(crate) unsafe fn result_out<'a>(out: *mut hf_result) -> Result<&'a mut hf_result, Failure> {
    if out.is_null() {
        return Err(Failure::null("out result"));
    }
    out.write(hf_result::EMPTY);
    Ok(&mut *out)
}

pub(crate) fn document_failure(e: DocumentError) -> Failure {
    let status = match e {
        DocumentError::Malformed(_) => hf_status::HF_ERR_INVALID_JSON,
        DocumentError::TooLarge { .. } | DocumentError::TooManyFlags { .. } => hf_status::HF_ERR_LIMIT_EXCEEDED,
    };
    Failure::new(status, e.to_string())
}

/// Loads a definitions document (the JSON body of PostHog's `/flags/definitions`, or the `definitions`
/// of a conformance file) into a new engine.
///
/// `definitions_json` points to `len` bytes of UTF-8 JSON (no NUL terminator needed). A flag that cannot
/// be loaded is skipped and listed by `hf_engine_info_json`; only a document that is not JSON of the
/// expected shape (`HF_ERR_INVALID_JSON`) or over a resource limit (`HF_ERR_LIMIT_EXCEEDED`) is refused.
/// On success `*out_engine` owns the new engine (free it with `hf_engine_free`); on failure it is NULL.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_new(
    definitions_json: *const c_char,
    len: usize,
    out_engine: *mut *mut hf_engine,
) -> hf_status {
    guard(|| {
        reset_out(out_engine, "out_engine")?;
        let bytes = bytes_arg(definitions_json, len, "definitions_json")?;
        let snapshot = FlagSnapshot::from_json(bytes).map_err(document_failure)?;
        let engine = Box::new(hf_engine { snapshot: Arc::new(snapshot) });
        out_engine.write(Box::into_raw(engine));
        Ok(())
    })
}

/// Frees an engine. NULL is a no-op. Every pointer borrowed from the engine (`hf_result.variant`,
/// `hf_result.detail`) is invalid afterwards.
///
/// Thread safety: the caller must make sure no other thread is using the engine.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_free(engine: *mut hf_engine) {
    guard_void(|| {
        if !engine.is_null() {
            drop(Box::from_raw(engine));
        }
    })
}

/// Stores the number of loaded flags in `*out_count`.
///
/// Thread safety: safe to call concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_flag_count(engine: *const hf_engine, out_count: *mut usize) -> hf_status {
    guard(|| {
        if out_count.is_null() {
            return Err(Failure::null("out_count"));
        }
        let engine = engine_arg(engine)?;
        out_count.write(engine.snapshot.len());
        Ok(())
    })
}

/// Describes the engine as JSON in a new string `*out_json` (free it with `hf_string_free`):
/// `{"flags": [{"key", "id", "version", "active", "has_experiment", "ensure_experience_continuity"}],
///   "skipped": [{"key", "reason"}], "broken_cohorts": [{"id", "reason"}], "group_type_mapping": {...},
///   "minimal_flag_called_events": bool,
///   "property_keys": {"person": [...], "groups": {"<type>": [...]}, "any_group": bool}}`.
/// `property_keys` lists every property any flag can read: a host needs to pass only those.
///
/// Thread safety: safe to call concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_info_json(engine: *const hf_engine, out_json: *mut *mut c_char) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let snap = &engine_arg(engine)?.snapshot;
        let flags: Vec<Value> = snap
            .flags()
            .map(|f| {
                json!({"key": f.key, "id": f.id, "version": f.version, "active": f.active,
                       "has_experiment": f.has_experiment,
                       "ensure_experience_continuity": f.ensure_experience_continuity})
            })
            .collect();
        let skipped: Vec<Value> =
            snap.skipped().iter().map(|s| json!({"key": s.key, "reason": s.reason})).collect();
        let broken: Vec<Value> =
            snap.broken_cohorts().iter().map(|c| json!({"id": c.id, "reason": c.reason})).collect();
        let keys = snap.property_keys();
        let info = json!({
            "flags": flags,
            "skipped": skipped,
            "broken_cohorts": broken,
            "group_type_mapping": snap.group_type_mapping(),
            "minimal_flag_called_events": snap.minimal_flag_called_events(),
            "property_keys": {"person": keys.person, "groups": keys.groups, "any_group": keys.any_group},
        });
        string_out(info.to_string(), out_json)
    })
}

/// The typed fast path: evaluates `flag_key` for `distinct_id` with the given person properties, and
/// fills `*out` without any JSON. `properties` may be NULL when `property_count` is 0; a key given twice
/// keeps its last value. Every property is checked (a NULL key or string, invalid UTF-8, an unknown kind,
/// a non-finite float or malformed JSON gives an error status), but only those some flag can read are
/// converted. Groups, device id and a pinned clock need an `hf_context` (`hf_engine_evaluate_context`).
///
/// An unknown flag is not an error: the result is `HF_VALUE_INCONCLUSIVE` / `HF_INCONCLUSIVE_UNKNOWN_FLAG`.
/// `out->variant` and `out->detail` borrow from the engine (valid until `hf_engine_free`).
///
/// Thread safety: safe to call concurrently on the same engine (each thread with its own `out`).
#[no_mangle]
pub unsafe extern "C" fn hf_engine_evaluate(
    engine: *const hf_engine,
    flag_key: *const c_char,
    distinct_id: *const c_char,
    properties: *const hf_property,
    property_count: usize,
    out: *mut hf_result,
) -> hf_status {
    guard(|| {
        let out = result_out(out)?;
        let snap = &engine_arg(engine)?.snapshot;
        let flag_key = str_arg(flag_key, "flag_key")?;
        let distinct_id = str_arg(distinct_id, "distinct_id")?;
        let props = properties_arg(properties, property_count)?;
        let reads = &snap.property_keys().person;
        let mut person = hogflags_core::Properties::with_capacity_and_hasher(props.len().min(reads.len()), Default::default());
        for p in props {
            let key = property_key(p)?;
            if reads.contains(key) {
                person.insert(key.to_owned(), property_value(p)?);
            } else {
                check_property(p)?;
            }
        }
        let ctx = EvaluationContext::new(distinct_id).with_person_properties(person);
        *out = hf_result::from_evaluation(&snap.evaluate(flag_key, &ctx));
        Ok(())
    })
}

/// Evaluates `flag_key` with a context built by the `hf_context_*` functions, and fills `*out` (no JSON).
/// The context can be reused for any number of calls and engines.
///
/// Thread safety: safe to call concurrently on the same engine and the same context, as long as no
/// thread modifies that context meanwhile.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_evaluate_context(
    engine: *const hf_engine,
    flag_key: *const c_char,
    context: *const hf_context,
    out: *mut hf_result,
) -> hf_status {
    guard(|| {
        let out = result_out(out)?;
        let snap = &engine_arg(engine)?.snapshot;
        let flag_key = str_arg(flag_key, "flag_key")?;
        let ctx = &context.as_ref().ok_or_else(|| Failure::null("context"))?.ctx;
        *out = hf_result::from_evaluation(&snap.evaluate(flag_key, ctx));
        Ok(())
    })
}

/// The JSON entry point: evaluates `flag_key` with a context given as JSON
/// (`{"distinct_id", "person_properties", "groups", "group_properties", "device_id", "now"}`; only
/// `distinct_id` is required) and returns the outcome as a new JSON string in `*out_json` (free it with
/// `hf_string_free`): decided `{"key", "value", "enabled", "variant", "payload", "reason": {"code",
/// "condition_index", "description"}, "flag_id", "version"}` or inconclusive `{"key", "inconclusive",
/// "detail"}`. A context that is not JSON of that shape gives `HF_ERR_INVALID_JSON`.
///
/// Thread safety: safe to call concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_evaluate_json(
    engine: *const hf_engine,
    flag_key: *const c_char,
    context_json: *const c_char,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let snap = &engine_arg(engine)?.snapshot;
        let flag_key = str_arg(flag_key, "flag_key")?;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        string_out(snap.evaluate(flag_key, &ctx).to_json_string(flag_key), out_json)
    })
}

/// Like `hf_engine_evaluate_json`, with a context built by the `hf_context_*` functions: the outcome
/// (with its payload) as a new JSON string in `*out_json` (free it with `hf_string_free`).
///
/// Thread safety: as `hf_engine_evaluate_context`.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_evaluate_context_json(
    engine: *const hf_engine,
    flag_key: *const c_char,
    context: *const hf_context,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let snap = &engine_arg(engine)?.snapshot;
        let flag_key = str_arg(flag_key, "flag_key")?;
        let ctx = &context.as_ref().ok_or_else(|| Failure::null("context"))?.ctx;
        string_out(snap.evaluate(flag_key, ctx).to_json_string(flag_key), out_json)
    })
}

/// Evaluates every loaded flag (each dependency once) with a JSON context, and returns a new JSON array
/// string in `*out_json` (free it with `hf_string_free`): one outcome object per flag, in document order,
/// each of the shape `hf_engine_evaluate_json` returns.
///
/// Thread safety: safe to call concurrently on the same engine.
#[no_mangle]
pub unsafe extern "C" fn hf_engine_evaluate_all_json(
    engine: *const hf_engine,
    context_json: *const c_char,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let snap = &engine_arg(engine)?.snapshot;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        let all = snap.evaluate_all(&ctx);
        let items: Vec<EvaluationJson> = all.iter().map(|(key, e)| EvaluationJson { key, evaluation: e }).collect();
        string_out(serde_json::to_string(&items).unwrap_or_default(), out_json)
    })
}
