//! Library-wide functions: version, errors, names of enum values, freeing strings, small helpers.

use std::ffi::{c_char, CString};

use crate::ffi::{guard, guard_void, last_error_ptr, str_arg, Failure};
use crate::types::{hf_result, hf_status, inconclusive_str, reason_code_str, status_str};

/// The library version (e.g. `"0.1.0"`): a static string, never NULL, never freed.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn hf_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

/// The message of the most recent failed call on the calling thread, or `""` if none failed yet. Never
/// NULL. Successful calls do not clear it (like `errno`): read it right after a call returned a status
/// other than `HF_OK`. The string belongs to the library and stays valid until the next failing call on
/// the same thread; do not free it. Messages never contain API keys.
///
/// Thread safety: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hf_last_error() -> *const c_char {
    last_error_ptr()
}

/// The code of the most recent failed call on the calling thread when it returned `HF_ERR_CLIENT`: the
/// core's short code of the client error, the same in every binding (`config` for unusable settings,
/// `unauthorized`, `timeout`, `rate_limited`, `shut_down`, …); `""` for other failures. Never NULL; valid
/// until the next failing call on the same thread; do not free it.
///
/// Thread safety: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hf_last_error_code() -> *const c_char {
    crate::ffi::last_error_code_ptr()
}

/// The name of a status code (`"HF_OK"`, `"HF_ERR_INVALID_JSON"`, ...), `"HF_ERR_UNKNOWN"` for a value
/// that is not one. A static string: never NULL, never freed.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn hf_status_name(status: i32) -> *const c_char {
    status_str(status).as_ptr()
}

/// The `/flags` wire code of an `hf_reason` (`"condition_match"`, ...), `""` for `HF_REASON_NONE` or a
/// value that is not one. A static string: never NULL, never freed.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn hf_reason_name(reason: i32) -> *const c_char {
    reason_code_str(reason).as_ptr()
}

/// The wire name of an `hf_inconclusive` (`"missing_property"`, ...), `""` for `HF_INCONCLUSIVE_NONE`
/// or a value that is not one. A static string: never NULL, never freed.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub extern "C" fn hf_inconclusive_name(kind: i32) -> *const c_char {
    inconclusive_str(kind).as_ptr()
}

/// Frees a string this library returned through a `char **out_...` argument. NULL is a no-op. This is
/// the only way to free such a string (never `free()` it).
///
/// Thread safety: any thread may free a string, once.
#[no_mangle]
pub unsafe extern "C" fn hf_string_free(s: *mut c_char) {
    guard_void(|| {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
    })
}

/// Copies the variant of a result into a caller buffer as a NUL-terminated string. `*out_len` (if not
/// NULL) receives the variant's length in bytes without the NUL, also when the buffer is too small
/// (`HF_ERR_BUFFER_TOO_SMALL`: nothing is written; retry with `*out_len + 1` bytes). A result without a
/// variant copies the empty string. `buffer` may be NULL only when `buffer_size` is 0.
///
/// Thread safety: safe to call from any thread while the engine the result came from is alive.
#[no_mangle]
pub unsafe extern "C" fn hf_result_copy_variant(
    result: *const hf_result,
    buffer: *mut c_char,
    buffer_size: usize,
    out_len: *mut usize,
) -> hf_status {
    guard(|| {
        if result.is_null() {
            return Err(Failure::null("result"));
        }
        // Read only the two fields needed, through raw pointers: the enum fields of a struct filled by C
        // code are not trusted here.
        let ptr = std::ptr::addr_of!((*result).variant).read();
        let len = if ptr.is_null() { 0 } else { std::ptr::addr_of!((*result).variant_len).read() };
        if !out_len.is_null() {
            out_len.write(len);
        }
        crate::ffi::copy_text(ptr, len, buffer, buffer_size)
    })
}

/// PostHog's bucketing hash (`sha1_60_v1`): the top 60 bits of SHA-1(`prefix` + `identifier` + `salt`)
/// divided by 2^60 - 1, stored in `*out_hash` (in [0, 1]). For a flag's rollout the prefix is the flag
/// key followed by `"."` and the salt is empty. Exposed for host-side tests and as the benchmark floor.
///
/// Thread safety: safe to call from any thread.
#[no_mangle]
pub unsafe extern "C" fn hf_hash(
    prefix: *const c_char,
    identifier: *const c_char,
    salt: *const c_char,
    out_hash: *mut f64,
) -> hf_status {
    guard(|| {
        if out_hash.is_null() {
            return Err(Failure::null("out_hash"));
        }
        let prefix = str_arg(prefix, "prefix")?;
        let identifier = str_arg(identifier, "identifier")?;
        let salt = str_arg(salt, "salt")?;
        out_hash.write(hogflags_core::hash::hash_parts(prefix, identifier, salt));
        Ok(())
    })
}
