//! `hf_context`: an evaluation context (distinct id, person properties, groups, device id, clock) built
//! once, typed, and reused for many evaluations.

use std::ffi::c_char;

use chrono::{DateTime, Utc};
use hogflags_core::{ContextError, EvaluationContext};

use crate::ffi::{guard, guard_void, property_key, property_value, reset_out, str_arg, Failure};
use crate::types::{hf_property, hf_status};

/// An evaluation context. Create it with `hf_context_new` or `hf_context_from_json`, fill it with the
/// `hf_context_set_*` functions, free it with `hf_context_free`. It holds copies of everything passed
/// in, so the caller's strings can be freed right after each call.
///
/// Thread safety: evaluating with one context from several threads at once is safe; modifying it while
/// another thread uses it is not (guard it yourself, or give each thread its own context).
pub struct hf_context {
    pub(crate) ctx: EvaluationContext,
}

pub(crate) fn context_from_json(text: &str) -> Result<EvaluationContext, Failure> {
    EvaluationContext::from_json(text).map_err(|e| {
        let what = match e {
            ContextError::Malformed(_) => e.to_string(),
            ContextError::BadDistinctId => format!("context is not valid: {e}"),
        };
        Failure::new(hf_status::HF_ERR_INVALID_JSON, what)
    })
}

/// # Safety
/// `context` is NULL or a live context not used by another thread.
unsafe fn context_mut<'a>(context: *mut hf_context) -> Result<&'a mut hf_context, Failure> {
    context.as_mut().ok_or_else(|| Failure::null("context"))
}

/// Applies a consuming builder method of the core's context in place.
fn update(c: &mut hf_context, f: impl FnOnce(EvaluationContext) -> EvaluationContext) {
    let ctx = std::mem::replace(&mut c.ctx, EvaluationContext::new(String::new()));
    c.ctx = f(ctx);
}

/// Creates a context for `distinct_id` with no properties and no groups. On success `*out_context` owns
/// it (free it with `hf_context_free`); on failure it is NULL.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_context_new(distinct_id: *const c_char, out_context: *mut *mut hf_context) -> hf_status {
    guard(|| {
        reset_out(out_context, "out_context")?;
        let id = str_arg(distinct_id, "distinct_id")?;
        out_context.write(Box::into_raw(Box::new(hf_context { ctx: EvaluationContext::new(id) })));
        Ok(())
    })
}

/// Creates a context from its JSON form (`{"distinct_id", "person_properties", "groups",
/// "group_properties", "device_id", "now"}`, as in the conformance corpus). Integer (and float) distinct
/// ids and group keys are turned into their text; a context that is not JSON of that shape gives
/// `HF_ERR_INVALID_JSON`. On success `*out_context` owns it (free it with `hf_context_free`).
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_context_from_json(
    context_json: *const c_char,
    out_context: *mut *mut hf_context,
) -> hf_status {
    guard(|| {
        reset_out(out_context, "out_context")?;
        let ctx = context_from_json(str_arg(context_json, "context_json")?)?;
        out_context.write(Box::into_raw(Box::new(hf_context { ctx })));
        Ok(())
    })
}

/// Frees a context. NULL is a no-op.
///
/// Thread safety: the caller must make sure no other thread is using the context.
#[no_mangle]
pub unsafe extern "C" fn hf_context_free(context: *mut hf_context) {
    guard_void(|| {
        if !context.is_null() {
            drop(Box::from_raw(context));
        }
    })
}

/// Sets (or replaces) one person property, e.g. `hf_context_set_person_property(ctx, &prop)` with
/// `hf_property prop = hf_prop_string("plan", "pro");`.
///
/// Thread safety: modifies the context (see `hf_context`).
#[no_mangle]
pub unsafe extern "C" fn hf_context_set_person_property(
    context: *mut hf_context,
    property: *const hf_property,
) -> hf_status {
    guard(|| {
        let c = context_mut(context)?;
        let p = property.as_ref().ok_or_else(|| Failure::null("property"))?;
        let key = property_key(p)?.to_owned();
        let value = property_value(p)?;
        update(c, |ctx| ctx.with_person_property(key, value));
        Ok(())
    })
}

/// Adds (or replaces) the group of type `group_type` (e.g. `"company"`) with key `group_key`.
///
/// Thread safety: modifies the context (see `hf_context`).
#[no_mangle]
pub unsafe extern "C" fn hf_context_set_group(
    context: *mut hf_context,
    group_type: *const c_char,
    group_key: *const c_char,
) -> hf_status {
    guard(|| {
        let c = context_mut(context)?;
        let group_type = str_arg(group_type, "group_type")?;
        let group_key = str_arg(group_key, "group_key")?;
        update(c, |ctx| ctx.with_group(group_type, group_key));
        Ok(())
    })
}

/// Sets (or replaces) one property of the group of type `group_type`. Group properties are used only if
/// that group is also set with `hf_context_set_group`.
///
/// Thread safety: modifies the context (see `hf_context`).
#[no_mangle]
pub unsafe extern "C" fn hf_context_set_group_property(
    context: *mut hf_context,
    group_type: *const c_char,
    property: *const hf_property,
) -> hf_status {
    guard(|| {
        let c = context_mut(context)?;
        let group_type = str_arg(group_type, "group_type")?;
        let p = property.as_ref().ok_or_else(|| Failure::null("property"))?;
        let key = property_key(p)?.to_owned();
        let value = property_value(p)?;
        let mut props = c.ctx.group_properties(group_type).cloned().unwrap_or_default();
        props.insert(key, value);
        update(c, |ctx| ctx.with_group_properties(group_type, props));
        Ok(())
    })
}

/// Sets the device id, used by flags that bucket by device.
///
/// Thread safety: modifies the context (see `hf_context`).
#[no_mangle]
pub unsafe extern "C" fn hf_context_set_device_id(context: *mut hf_context, device_id: *const c_char) -> hf_status {
    guard(|| {
        let c = context_mut(context)?;
        let device_id = str_arg(device_id, "device_id")?;
        update(c, |ctx| ctx.with_device_id(device_id));
        Ok(())
    })
}

/// Pins "now" for relative date filters to an RFC 3339 time (e.g. `"2026-01-15T12:00:00Z"`); without it
/// the wall clock at each evaluation is used. A time that does not parse gives `HF_ERR_INVALID_ARGUMENT`.
///
/// Thread safety: modifies the context (see `hf_context`).
#[no_mangle]
pub unsafe extern "C" fn hf_context_set_now(context: *mut hf_context, rfc3339: *const c_char) -> hf_status {
    guard(|| {
        let c = context_mut(context)?;
        let text = str_arg(rfc3339, "rfc3339")?;
        let now: DateTime<Utc> =
            text.parse().map_err(|e| Failure::invalid(format!("now is not an RFC 3339 time ({e})")))?;
        update(c, |ctx| ctx.with_now(now));
        Ok(())
    })
}
