//! JS → JSON conversion on raw N-API handles. Only type conversion: no evaluation logic lives here.
//!
//! Rules (documented in node/README.md):
//! - `undefined`, functions and symbols are "absent" (a property holding one is a missing property;
//!   inside an array they become `null`, inside an object the entry is left out, as `JSON.stringify` does);
//! - numbers that are integral and within ±(2^53 − 1) become JSON integers, other finite numbers floats,
//!   `NaN` and ±`Infinity` become `null` (as `JSON.stringify` sends them);
//! - BigInts become integers when they fit in i64/u64, otherwise the nearest float;
//! - `Date` objects become their ISO 8601 text (`toISOString()`), an invalid `Date` becomes `null`;
//! - arrays become arrays, other objects their own enumerable string-keyed properties;
//! - nesting deeper than [`MAX_DEPTH`] (including cyclic values) is refused with a `TypeError`.

use std::ffi::{c_char, CStr};
use std::ptr;

use napi::sys;
use serde_json::{Map, Number, Value};

pub const MAX_DEPTH: u32 = 64;
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

pub type Env = sys::napi_env;
pub type JsVal = sys::napi_value;

/// An error to surface to JS: a `TypeError` for wrong argument types, otherwise an `Error` whose `code`
/// tells the JS layer which `HogflagsError` subclass to raise.
#[derive(Debug)]
pub struct ConvError {
    pub type_error: bool,
    pub code: &'static str,
    pub message: String,
}

impl ConvError {
    pub fn type_error(message: impl Into<String>) -> Self {
        ConvError {
            type_error: true,
            code: "ERR_INVALID_ARG_TYPE",
            message: message.into(),
        }
    }
    pub fn coded(code: &'static str, message: impl Into<String>) -> Self {
        ConvError {
            type_error: false,
            code,
            message: message.into(),
        }
    }
    pub fn internal(what: &str) -> Self {
        Self::coded("HOGFLAGS_INTERNAL", format!("hogflags: N-API call failed: {what}"))
    }
}

pub type CResult<T> = Result<T, ConvError>;

#[inline]
pub fn check(status: sys::napi_status, what: &str) -> CResult<()> {
    ok(status, what)
}

#[inline]
fn ok(status: sys::napi_status, what: &str) -> CResult<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(ConvError::internal(what))
    }
}

#[inline]
pub unsafe fn type_of(env: Env, v: JsVal) -> CResult<i32> {
    let mut t = 0;
    ok(unsafe { sys::napi_typeof(env, v, &mut t) }, "typeof")?;
    Ok(t)
}

/// Whether a value is `undefined` or `null` (both mean "not given" for optional arguments).
#[inline]
pub unsafe fn is_nullish(env: Env, v: JsVal) -> CResult<bool> {
    if v.is_null() {
        return Ok(true);
    }
    let t = unsafe { type_of(env, v)? };
    Ok(t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null)
}

/// Reads a JS string (the caller checked the type).
pub unsafe fn read_string(env: Env, v: JsVal) -> CResult<String> {
    // Most strings are short: one call into a stack buffer, a second only when it was too small.
    let mut buf = [0u8; 256];
    let mut len = 0usize;
    ok(
        unsafe { sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut len) },
        "read string",
    )?;
    // A truncated copy stops at a character boundary, at most 3 bytes short of the buffer's end (which
    // keeps one byte for the NUL): anything shorter than that is the whole string.
    if len + 4 < buf.len() {
        return Ok(match std::str::from_utf8(&buf[..len]) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(&buf[..len]).into_owned(),
        });
    }
    ok(
        unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) },
        "string length",
    )?;
    let mut big = vec![0u8; len + 1];
    let mut written = 0usize;
    ok(
        unsafe { sys::napi_get_value_string_utf8(env, v, big.as_mut_ptr() as *mut c_char, big.len(), &mut written) },
        "read string",
    )?;
    big.truncate(written);
    // N-API writes well-formed UTF-8 (lone surrogates become U+FFFD).
    Ok(String::from_utf8(big).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// A named property of an object (`obj[key]`, prototype chain included, as posthog-node reads it).
#[inline]
pub unsafe fn get_named(env: Env, obj: JsVal, key: &CStr) -> CResult<JsVal> {
    let mut out = ptr::null_mut();
    ok(
        unsafe { sys::napi_get_named_property(env, obj, key.as_ptr(), &mut out) },
        "get property",
    )?;
    Ok(out)
}

fn number_value(x: f64) -> Value {
    if x.is_finite() {
        if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER {
            // -0 is integral: it becomes 0, as JSON.stringify writes it.
            Value::Number(Number::from(x as i64))
        } else {
            Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
        }
    } else {
        Value::Null
    }
}

unsafe fn bigint_value(env: Env, v: JsVal) -> CResult<Value> {
    let mut lossless = false;
    let mut i = 0i64;
    ok(
        unsafe { sys::napi_get_value_bigint_int64(env, v, &mut i, &mut lossless) },
        "bigint",
    )?;
    if lossless {
        return Ok(Value::Number(i.into()));
    }
    let mut u = 0u64;
    ok(
        unsafe { sys::napi_get_value_bigint_uint64(env, v, &mut u, &mut lossless) },
        "bigint",
    )?;
    if lossless {
        return Ok(Value::Number(u.into()));
    }
    let mut count = 0usize;
    let mut sign = 0;
    // Asking for the size takes null sign and words pointers.
    ok(
        unsafe { sys::napi_get_value_bigint_words(env, v, ptr::null_mut(), &mut count, ptr::null_mut()) },
        "bigint",
    )?;
    let mut words = vec![0u64; count];
    ok(
        unsafe { sys::napi_get_value_bigint_words(env, v, &mut sign, &mut count, words.as_mut_ptr()) },
        "bigint",
    )?;
    let mut x = 0f64;
    for w in words.iter().rev() {
        x = x * 18_446_744_073_709_551_616.0 + *w as f64;
    }
    if sign != 0 {
        x = -x;
    }
    Ok(number_value(x))
}

fn iso_date(ms: f64) -> Value {
    if !ms.is_finite() {
        return Value::Null;
    }
    match chrono::DateTime::from_timestamp_millis(ms as i64) {
        Some(d) => Value::String(d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        None => Value::Null,
    }
}

/// Converts a JS value to JSON; `None` means absent (undefined, function, symbol, external).
pub unsafe fn to_json(env: Env, v: JsVal, depth: u32) -> CResult<Option<Value>> {
    let t = unsafe { type_of(env, v)? };
    Ok(Some(match t {
        sys::ValueType::napi_undefined => return Ok(None),
        sys::ValueType::napi_null => Value::Null,
        sys::ValueType::napi_boolean => {
            let mut b = false;
            ok(unsafe { sys::napi_get_value_bool(env, v, &mut b) }, "boolean")?;
            Value::Bool(b)
        }
        sys::ValueType::napi_number => {
            let mut x = 0f64;
            ok(unsafe { sys::napi_get_value_double(env, v, &mut x) }, "number")?;
            number_value(x)
        }
        sys::ValueType::napi_string => Value::String(unsafe { read_string(env, v)? }),
        sys::ValueType::napi_bigint => unsafe { bigint_value(env, v)? },
        sys::ValueType::napi_object => unsafe { object_value(env, v, depth)? },
        _ => return Ok(None),
    }))
}

unsafe fn object_value(env: Env, v: JsVal, depth: u32) -> CResult<Value> {
    if depth >= MAX_DEPTH {
        return Err(ConvError::type_error(format!(
            "property value is nested deeper than {MAX_DEPTH} levels (is it cyclic?)"
        )));
    }
    let mut flag = false;
    ok(unsafe { sys::napi_is_array(env, v, &mut flag) }, "is array")?;
    if flag {
        let mut len = 0u32;
        ok(unsafe { sys::napi_get_array_length(env, v, &mut len) }, "array length")?;
        let mut items = Vec::with_capacity(len.min(4096) as usize);
        for i in 0..len {
            let mut e = ptr::null_mut();
            ok(unsafe { sys::napi_get_element(env, v, i, &mut e) }, "array element")?;
            items.push(unsafe { to_json(env, e, depth + 1)? }.unwrap_or(Value::Null));
        }
        return Ok(Value::Array(items));
    }
    ok(unsafe { sys::napi_is_date(env, v, &mut flag) }, "is date")?;
    if flag {
        let mut ms = 0f64;
        ok(unsafe { sys::napi_get_date_value(env, v, &mut ms) }, "date value")?;
        return Ok(iso_date(ms));
    }
    let mut names = ptr::null_mut();
    ok(
        unsafe {
            sys::napi_get_all_property_names(
                env,
                v,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut names,
            )
        },
        "property names",
    )?;
    let mut len = 0u32;
    ok(
        unsafe { sys::napi_get_array_length(env, names, &mut len) },
        "property names",
    )?;
    let mut map = Map::new();
    for i in 0..len {
        let mut k = ptr::null_mut();
        ok(unsafe { sys::napi_get_element(env, names, i, &mut k) }, "property name")?;
        let mut val = ptr::null_mut();
        ok(unsafe { sys::napi_get_property(env, v, k, &mut val) }, "property")?;
        if let Some(x) = unsafe { to_json(env, val, depth + 1)? } {
            map.insert(unsafe { read_string(env, k)? }, x);
        }
    }
    Ok(Value::Object(map))
}

/// Whether the value is a non-null object that is not an array (a property map).
pub unsafe fn is_plain_object(env: Env, v: JsVal) -> CResult<bool> {
    if unsafe { type_of(env, v)? } != sys::ValueType::napi_object {
        return Ok(false);
    }
    let mut arr = false;
    ok(unsafe { sys::napi_is_array(env, v, &mut arr) }, "is array")?;
    Ok(!arr)
}

/// The bytes of a Uint8Array/Buffer argument, or `None` when the value is not one.
pub unsafe fn uint8_bytes<'a>(env: Env, v: JsVal) -> CResult<Option<&'a [u8]>> {
    let mut is_ta = false;
    ok(unsafe { sys::napi_is_typedarray(env, v, &mut is_ta) }, "is typed array")?;
    if !is_ta {
        return Ok(None);
    }
    let (ty, len, data) = unsafe { typed_array(env, v)? };
    if ty != sys::TypedarrayType::uint8_array {
        return Ok(None);
    }
    if len == 0 {
        return Ok(Some(&[]));
    }
    Ok(Some(unsafe { std::slice::from_raw_parts(data as *const u8, len) }))
}

/// (element type, element count, data pointer) of a typed array.
pub unsafe fn typed_array(env: Env, v: JsVal) -> CResult<(i32, usize, *mut std::ffi::c_void)> {
    let mut ty = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut off = 0usize;
    ok(
        unsafe { sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off) },
        "typed array",
    )?;
    Ok((ty, len, data))
}
