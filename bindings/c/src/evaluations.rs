//! `hf_evaluations`: the core's batch-evaluation object (`hogflags_core::client::FlagEvaluations`) behind
//! an opaque handle. Evaluate once with `hf_client_evaluate_flags`, then branch on
//! `hf_evaluations_is_enabled` / `hf_evaluations_get_flag_json`: each read records the access and reports
//! its deduplicated `$feature_flag_called` event through the client's `on_flag_called` callback, so
//! exposures are reported for the flags the code read. Conversions only.

use std::ffi::c_char;

use hogflags_core::client::{FlagEvaluations, OwnedFlagValue};
use serde_json::{Map, Value};

use hogflags_core::client::AllOptions;

use crate::client::{client_arg, flag_options, hf_client, hf_flag_option};
use crate::context::context_from_json;
use crate::ffi::{guard, guard_void, reset_out, str_arg, string_out, Failure};
use crate::types::hf_status;

/// The flags of one evaluation for one user (from `hf_client_evaluate_flags`), with the reads made of
/// them. Free it with `hf_evaluations_free`. It keeps what it needs of its client: it stays usable after
/// `hf_client_free`, and its reads still report through that client's `on_flag_called` callback (whose
/// `user_data` must therefore outlive it).
///
/// Thread safety: every evaluations function except `hf_evaluations_free` may be called from any number
/// of threads at once on the same handle.
pub struct hf_evaluations {
    inner: FlagEvaluations,
}

/// Hands a new evaluations object to C through `out`.
///
/// # Safety
/// `out` was checked by `reset_out` (not NULL, writable).
pub(crate) unsafe fn evaluations_out(inner: FlagEvaluations, out: *mut *mut hf_evaluations) {
    out.write(Box::into_raw(Box::new(hf_evaluations { inner })));
}

/// A JSON array of flag keys (`HF_ERR_INVALID_JSON` for anything else).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string.
pub(crate) unsafe fn flag_keys_arg(p: *const c_char, what: &str) -> Result<Vec<String>, Failure> {
    let text = str_arg(p, what)?;
    serde_json::from_str(text)
        .map_err(|e| Failure::new(hf_status::HF_ERR_INVALID_JSON, format!("{what} must be a JSON array of strings: {e}")))
}

/// # Safety
/// `evaluations` is NULL or a live evaluations object.
unsafe fn evaluations_arg<'a>(evaluations: *const hf_evaluations) -> Result<&'a FlagEvaluations, Failure> {
    evaluations.as_ref().map(|e| &e.inner).ok_or_else(|| Failure::null("evaluations"))
}

/// Frees an evaluations object. NULL is a no-op. Slices made from it (`hf_evaluations_only`,
/// `hf_evaluations_only_accessed`) are independent and stay valid.
///
/// Thread safety: the caller must make sure no other thread is using the evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_free(evaluations: *mut hf_evaluations) {
    guard_void(|| {
        if !evaluations.is_null() {
            drop(Box::from_raw(evaluations));
        }
    })
}

/// The value of flag `key` as a new JSON string in `*out_json` (free it with `hf_string_free`): `true`,
/// `false` or the variant (`"control"`), or `null` when this evaluation has no value for it (unresolved,
/// or not evaluated). A read: records the access and, when `send_event` is non-zero, reports the
/// deduplicated `$feature_flag_called` event through the client's `on_flag_called` callback (with
/// `$feature_flag_error` for a flag without a value: the unresolved flag's own error, `flag_missing` for
/// a key not evaluated). A slice reports nothing for a key it left out.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_get_flag_json(
    evaluations: *const hf_evaluations,
    key: *const c_char,
    send_event: i32,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let ev = evaluations_arg(evaluations)?;
        let key = str_arg(key, "key")?;
        let value = ev.get_flag(key, send_event != 0).map_or(Value::Null, OwnedFlagValue::to_json);
        string_out(value.to_string(), out_json)
    })
}

/// Whether flag `key` is enabled (`true` or a variant), stored in `*out_enabled` as 1 or 0;
/// `default_value` (as 1 or 0) when this evaluation has no value for it (a decided `false` stays 0).
/// `*out_enabled` is set to the default first, so a failed call leaves the default there. A read, as
/// `hf_evaluations_get_flag_json` (`send_event` non-zero reports the event).
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_is_enabled(
    evaluations: *const hf_evaluations,
    key: *const c_char,
    default_value: i32,
    send_event: i32,
    out_enabled: *mut i32,
) -> hf_status {
    guard(|| {
        if out_enabled.is_null() {
            return Err(Failure::null("out_enabled"));
        }
        out_enabled.write(i32::from(default_value != 0));
        let ev = evaluations_arg(evaluations)?;
        let key = str_arg(key, "key")?;
        out_enabled.write(i32::from(ev.is_enabled(key, default_value != 0, send_event != 0)));
        Ok(())
    })
}

/// The payload of flag `key`'s value as a new JSON string in `*out_json` (free it with
/// `hf_string_free`), or `null` when it has none (or no value). Not a read: no access is recorded, no
/// event is sent.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_payload_json(
    evaluations: *const hf_evaluations,
    key: *const c_char,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let ev = evaluations_arg(evaluations)?;
        let key = str_arg(key, "key")?;
        string_out(ev.payload(key).unwrap_or(&Value::Null).to_string(), out_json)
    })
}

/// The keys of the flags with a value, sorted, as a new JSON array in `*out_json` (free it with
/// `hf_string_free`). Not a read.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_keys_json(evaluations: *const hf_evaluations, out_json: *mut *mut c_char) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let keys: Vec<&str> = evaluations_arg(evaluations)?.keys().collect();
        string_out(Value::from(keys).to_string(), out_json)
    })
}

/// The flags evaluated without a value, and why, as a new JSON object in `*out_json` (free it with
/// `hf_string_free`): `{"<key>": {"key", "kind", "detail", "error_code", "message"}}`, the unresolved
/// shape of `hf_client_get_flag_json`. A slice has none. Not a read.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_unresolved_json(
    evaluations: *const hf_evaluations,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let ev = evaluations_arg(evaluations)?;
        let map: Map<String, Value> = ev.unresolved().iter().map(|(k, u)| (k.clone(), u.to_json(k))).collect();
        string_out(Value::Object(map).to_string(), out_json)
    })
}

/// The properties a captured event carries for these flags, as a new JSON object in `*out_json` (free it
/// with `hf_string_free`): `"$feature/<key>"` (the value) for every flag with a value, and
/// `"$active_feature_flags"` (the enabled keys, sorted) when one is enabled. Usually called on a slice
/// (`hf_evaluations_only_accessed`, `hf_evaluations_only`). Not a read.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_event_properties_json(
    evaluations: *const hf_evaluations,
    out_json: *mut *mut c_char,
) -> hf_status {
    guard(|| {
        reset_out(out_json, "out_json")?;
        let props = evaluations_arg(evaluations)?.event_properties();
        string_out(Value::Object(props).to_string(), out_json)
    })
}

/// A new slice in `*out_evaluations` (free it with `hf_evaluations_free`) holding only the flags with a
/// value read so far (empty if none was read yet), for a captured event: no unresolved flags but those
/// the server marked failed, the reads made so far kept, and reading a key it left out reports nothing.
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_only_accessed(
    evaluations: *const hf_evaluations,
    out_evaluations: *mut *mut hf_evaluations,
) -> hf_status {
    guard(|| {
        reset_out(out_evaluations, "out_evaluations")?;
        let slice = evaluations_arg(evaluations)?.only_accessed();
        evaluations_out(slice, out_evaluations);
        Ok(())
    })
}

/// A new slice in `*out_evaluations` (free it with `hf_evaluations_free`) holding only the flags listed
/// in `flag_keys_json` (a JSON array of keys), as `hf_evaluations_only_accessed`; listed keys without a
/// value here are dropped (with a warning in the log).
///
/// Thread safety: safe to call concurrently on the same evaluations.
#[no_mangle]
pub unsafe extern "C" fn hf_evaluations_only(
    evaluations: *const hf_evaluations,
    flag_keys_json: *const c_char,
    out_evaluations: *mut *mut hf_evaluations,
) -> hf_status {
    guard(|| {
        reset_out(out_evaluations, "out_evaluations")?;
        let ev = evaluations_arg(evaluations)?;
        let keys = flag_keys_arg(flag_keys_json, "flag_keys_json")?;
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        evaluations_out(ev.only(&refs), out_evaluations);
        Ok(())
    })
}

/// Evaluates every flag for a JSON context (as `hf_client_get_flags_json`), or those listed in
/// `flag_keys_json` (a JSON array of keys; NULL for every flag), into a new `hf_evaluations` in
/// `*out_evaluations` (free it with `hf_evaluations_free`): local values, plus one `/flags` call for the
/// undecided ones when allowed (`HF_FLAG_ONLY_LOCAL` in `options` forbids it; `HF_FLAG_NO_EVENT` is
/// refused with `HF_ERR_INVALID_ARGUMENT`). No event is sent until a flag is read
/// (`hf_evaluations_get_flag_json`, `hf_evaluations_is_enabled`).
///
/// Thread safety: safe to call concurrently on the same client; blocks while it asks `/flags`, as
/// `hf_client_get_flags_json` does.
#[no_mangle]
pub unsafe extern "C" fn hf_client_evaluate_flags(
    client: *const hf_client,
    context_json: *const c_char,
    flag_keys_json: *const c_char,
    options: i32,
    out_evaluations: *mut *mut hf_evaluations,
) -> hf_status {
    guard(|| {
        reset_out(out_evaluations, "out_evaluations")?;
        let c = client_arg(client)?;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        if options & hf_flag_option::HF_FLAG_NO_EVENT as i32 != 0 {
            return Err(Failure::invalid(
                "HF_FLAG_NO_EVENT does not apply to hf_client_evaluate_flags (evaluating sends no event; each read chooses with send_event)",
            ));
        }
        let opts = flag_options(options)?;
        let keys = if flag_keys_json.is_null() { None } else { Some(flag_keys_arg(flag_keys_json, "flag_keys_json")?) };
        let key_refs: Option<Vec<&str>> = keys.as_ref().map(|k| k.iter().map(String::as_str).collect());
        let all_opts = AllOptions { only_evaluate_locally: opts.only_evaluate_locally, flag_keys: key_refs.as_deref() };
        evaluations_out(c.client.evaluate_flags(&ctx, all_opts), out_evaluations);
        Ok(())
    })
}
