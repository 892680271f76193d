//! Plumbing shared by every exported function: the panic guard, the thread-local last error, and the
//! conversions of C arguments (strings, property values) into the core's types.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::Value;

use crate::types::{hf_property, hf_property_kind, hf_status};

/// A failed call: the status returned to C and the message kept for `hf_last_error`.
pub(crate) struct Failure {
    pub(crate) status: hf_status,
    pub(crate) message: String,
    /// The core's error code of an `HF_ERR_CLIENT` failure (see `hf_last_error_code`).
    pub(crate) code: Option<String>,
}

impl Failure {
    pub(crate) fn new(status: hf_status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into(), code: None }
    }
    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(hf_status::HF_ERR_NULL_ARGUMENT, format!("{what} is NULL"))
    }
    pub(crate) fn invalid(what: impl Into<String>) -> Failure {
        Failure::new(hf_status::HF_ERR_INVALID_ARGUMENT, what)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
    static LAST_ERROR_CODE: RefCell<Option<CString>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(message: String) {
    set_last_error_with_code(message, None);
}

fn set_last_error_with_code(message: String, code: Option<String>) {
    // A message can only contain a NUL if some input did; keep the text readable instead of dropping it.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    let code = code.and_then(|k| CString::new(k).ok());
    // `try_with` fails only while the thread is being torn down; there is nobody to tell then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(c));
    let _ = LAST_ERROR_CODE.try_with(|slot| *slot.borrow_mut() = code);
}

/// Pointer to this thread's last error code, or to "" when the last failure had none.
pub(crate) fn last_error_code_ptr() -> *const c_char {
    static EMPTY: &CStr = c"";
    LAST_ERROR_CODE
        .try_with(|slot| slot.borrow().as_ref().map(|c| c.as_ptr()))
        .ok()
        .flatten()
        .unwrap_or(EMPTY.as_ptr())
}

/// Pointer to this thread's last error message, or to "" when there is none.
pub(crate) fn last_error_ptr() -> *const c_char {
    static EMPTY: &CStr = c"";
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ref().map(|c| c.as_ptr()))
        .ok()
        .flatten()
        .unwrap_or(EMPTY.as_ptr())
}

/// Runs the body of an exported function: no panic crosses into C, and a failure sets the last error.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> hf_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => hf_status::HF_OK,
        Ok(Err(failure)) => {
            set_last_error_with_code(failure.message, failure.code);
            failure.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(format!("internal error in hogflags (caught panic): {what}"));
            hf_status::HF_ERR_PANIC
        }
    }
}

/// Runs a function that has no status to return (the `*_free` functions): a panic is swallowed.
pub(crate) fn guard_void(body: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(body)).is_err() {
        set_last_error("internal error in hogflags (caught panic while freeing)".to_owned());
    }
}

/// A NUL-terminated UTF-8 argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|e| Failure::new(hf_status::HF_ERR_INVALID_UTF8, format!("{what} is not valid UTF-8 ({e})")))
}

/// A byte buffer given as pointer and length.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes_arg<'a>(p: *const c_char, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    Ok(std::slice::from_raw_parts(p.cast::<u8>(), len))
}

/// An array of properties given as pointer and count (NULL is allowed when the count is 0).
///
/// # Safety
/// `p` is NULL or points to `count` initialised `hf_property` values that outlive `'a`.
pub(crate) unsafe fn properties_arg<'a>(p: *const hf_property, count: usize) -> Result<&'a [hf_property], Failure> {
    if count == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null("properties (with a non-zero count)"));
    }
    Ok(std::slice::from_raw_parts(p, count))
}

/// Hands a Rust string to C; the caller frees it with `hf_string_free`.
pub(crate) fn string_out(text: String, out: *mut *mut c_char) -> Result<(), Failure> {
    let c = CString::new(text)
        .map_err(|_| Failure::new(hf_status::HF_ERR_PANIC, "internal error: output contains a NUL byte"))?;
    // SAFETY: the caller checked `out` for NULL; it points to writable storage for one pointer.
    unsafe { out.write(c.into_raw()) };
    Ok(())
}

/// Checks an out-pointer and resets it to NULL, so that a failed call never leaves garbage behind.
///
/// # Safety
/// `out` is NULL or points to writable storage for one pointer.
pub(crate) unsafe fn reset_out<T>(out: *mut *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    out.write(std::ptr::null_mut());
    Ok(())
}

/// The key of a property (validated UTF-8).
///
/// # Safety
/// `p.key` is NULL or a NUL-terminated string.
pub(crate) unsafe fn property_key(p: &hf_property) -> Result<&str, Failure> {
    str_arg(p.key, "property key")
}

/// The value of a property as the JSON value the core reads.
///
/// # Safety
/// `p.string_value` is NULL or a NUL-terminated string (it is read only for string and JSON kinds).
pub(crate) unsafe fn property_value(p: &hf_property) -> Result<Value, Failure> {
    const STRING: i32 = hf_property_kind::HF_PROP_STRING as i32;
    const INT: i32 = hf_property_kind::HF_PROP_INT as i32;
    const FLOAT: i32 = hf_property_kind::HF_PROP_FLOAT as i32;
    const BOOL: i32 = hf_property_kind::HF_PROP_BOOL as i32;
    const NULL: i32 = hf_property_kind::HF_PROP_NULL as i32;
    const JSON: i32 = hf_property_kind::HF_PROP_JSON as i32;
    Ok(match p.kind {
        STRING => Value::String(str_arg(p.string_value, "string property value")?.to_owned()),
        INT => Value::from(p.int_value),
        FLOAT => serde_json::Number::from_f64(p.float_value)
            .map(Value::Number)
            .ok_or_else(|| Failure::invalid("float property value is NaN or infinite"))?,
        BOOL => Value::Bool(p.int_value != 0),
        NULL => Value::Null,
        JSON => {
            let text = str_arg(p.string_value, "JSON property value")?;
            serde_json::from_str(text).map_err(|e| {
                Failure::new(hf_status::HF_ERR_INVALID_JSON, format!("JSON property value is not valid JSON: {e}"))
            })?
        }
        other => return Err(Failure::invalid(format!("unknown property kind {other}"))),
    })
}

/// Checks a property without converting it (for properties no flag reads): the same errors as
/// [`property_value`], without allocating.
///
/// # Safety
/// As for [`property_value`].
pub(crate) unsafe fn check_property(p: &hf_property) -> Result<(), Failure> {
    const STRING: i32 = hf_property_kind::HF_PROP_STRING as i32;
    const INT: i32 = hf_property_kind::HF_PROP_INT as i32;
    const FLOAT: i32 = hf_property_kind::HF_PROP_FLOAT as i32;
    const BOOL: i32 = hf_property_kind::HF_PROP_BOOL as i32;
    const NULL: i32 = hf_property_kind::HF_PROP_NULL as i32;
    const JSON: i32 = hf_property_kind::HF_PROP_JSON as i32;
    match p.kind {
        STRING => str_arg(p.string_value, "string property value").map(|_| ()),
        INT | BOOL | NULL => Ok(()),
        FLOAT if p.float_value.is_finite() => Ok(()),
        FLOAT => Err(Failure::invalid("float property value is NaN or infinite")),
        JSON => {
            let text = str_arg(p.string_value, "JSON property value")?;
            serde_json::from_str::<serde::de::IgnoredAny>(text).map(|_| ()).map_err(|e| {
                Failure::new(hf_status::HF_ERR_INVALID_JSON, format!("JSON property value is not valid JSON: {e}"))
            })
        }
        other => Err(Failure::invalid(format!("unknown property kind {other}"))),
    }
}

/// Copies `text` NUL-terminated into the caller's `buffer` of `size` bytes: `HF_ERR_BUFFER_TOO_SMALL`
/// (nothing written) when it does not fit, `HF_ERR_NULL_ARGUMENT` for a NULL buffer that should hold it.
///
/// # Safety
/// `buffer` is NULL or points to `size` writable bytes; `text` points to `len` readable bytes.
pub(crate) unsafe fn copy_text(text: *const c_char, len: usize, buffer: *mut c_char, size: usize) -> Result<(), Failure> {
    if size < len + 1 {
        return Err(Failure::new(hf_status::HF_ERR_BUFFER_TOO_SMALL, format!("the variant needs {} bytes, the buffer has {size}", len + 1)));
    }
    if buffer.is_null() {
        return Err(Failure::null("buffer"));
    }
    if len > 0 {
        std::ptr::copy_nonoverlapping(text, buffer, len);
    }
    buffer.add(len).write(0);
    Ok(())
}
