//! The C ABI's JSON entry points, called exactly as a C host calls them (raw pointers, NUL-terminated
//! strings, out-parameters, explicit frees), with arbitrary bytes: a definitions document, a context
//! JSON, a flag key and a JSON property value. Under ASan + LeakSanitizer this checks, for every input:
//! no panic (libfuzzer-sys aborts on any panic, even one the ABI's guard would turn into HF_ERR_PANIC),
//! no invalid memory access, nothing leaked once every handle and string is freed, every returned
//! string is valid JSON, and the JSON, context and typed paths agree.
#![no_main]
use std::ffi::{c_char, CStr, CString};
use std::ptr;

use hogflags_c::*;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The C view of arbitrary bytes: everything up to the first NUL.
fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no interior NUL")
}

/// Takes ownership of a string the library returned, checks it is JSON, and frees it.
unsafe fn take_json(s: *mut c_char, what: &str) -> Value {
    assert!(!s.is_null(), "{what}: HF_OK without a string");
    let text = CStr::from_ptr(s).to_str().expect("returned strings are UTF-8").to_owned();
    hf_string_free(s);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what} returned invalid JSON ({e}): {text}"))
}

fn check(status: hf_status, what: &str) -> bool {
    assert_ne!(status, hf_status::HF_ERR_PANIC, "{what} panicked inside the C ABI");
    if status != hf_status::HF_OK {
        // The message must be there, and readable.
        let msg = unsafe { CStr::from_ptr(hf_last_error()) };
        assert!(!msg.to_bytes().is_empty(), "{what}: error status {status:?} without a message");
    }
    status == hf_status::HF_OK
}

fuzz_target!(|data: &[u8]| {
    // Sections separated by 0xFF: definitions, context JSON, flag key, JSON property value.
    let mut parts = data.split(|&b| b == 0xFF);
    let doc = parts.next().unwrap_or_default();
    let ctx_json = c_string(parts.next().unwrap_or(b"{\"distinct_id\":\"u\"}"));
    let key = c_string(parts.next().unwrap_or(b"f"));
    let prop_json = c_string(parts.next().unwrap_or(b"null"));

    unsafe {
        // Loading: by pointer + length (no NUL needed; interior NULs are just bytes).
        let mut engine: *mut hf_engine = ptr::null_mut();
        if !check(hf_engine_new(doc.as_ptr().cast(), doc.len(), &mut engine), "hf_engine_new") {
            assert!(engine.is_null(), "failed hf_engine_new left an engine behind");
            // The context entry points still run on their own.
            let mut ctx: *mut hf_context = ptr::null_mut();
            if check(hf_context_from_json(ctx_json.as_ptr(), &mut ctx), "hf_context_from_json") {
                hf_context_free(ctx);
            }
            return;
        }
        let mut count = 0usize;
        assert!(check(hf_engine_flag_count(engine, &mut count), "hf_engine_flag_count"));
        let mut info: *mut c_char = ptr::null_mut();
        assert!(check(hf_engine_info_json(engine, &mut info), "hf_engine_info_json"));
        let info = take_json(info, "hf_engine_info_json");
        assert_eq!(info["flags"].as_array().map(Vec::len), Some(count), "info lists every loaded flag");

        // One flag by JSON context, and the same through a context handle built from the same JSON.
        let mut one: *mut c_char = ptr::null_mut();
        let by_json = check(hf_engine_evaluate_json(engine, key.as_ptr(), ctx_json.as_ptr(), &mut one), "hf_engine_evaluate_json")
            .then(|| take_json(one, "hf_engine_evaluate_json"));
        let mut ctx: *mut hf_context = ptr::null_mut();
        let ctx_ok = check(hf_context_from_json(ctx_json.as_ptr(), &mut ctx), "hf_context_from_json");
        let key_ok = key.to_str().is_ok();
        assert_eq!(ctx_ok && key_ok, by_json.is_some(), "the context parses for one entry point and not the other");
        if ctx_ok && !key_ok {
            let mut two: *mut c_char = ptr::null_mut();
            let st = hf_engine_evaluate_context_json(engine, key.as_ptr(), ctx, &mut two);
            assert_eq!(st, hf_status::HF_ERR_INVALID_UTF8);
            assert!(two.is_null());
            hf_context_free(ctx);
        } else if ctx_ok {
            let mut two: *mut c_char = ptr::null_mut();
            assert!(check(hf_engine_evaluate_context_json(engine, key.as_ptr(), ctx, &mut two), "hf_engine_evaluate_context_json"));
            let by_handle = take_json(two, "hf_engine_evaluate_context_json");
            assert_eq!(by_json.as_ref(), Some(&by_handle), "JSON context and context handle disagree");

            let mut typed = std::mem::zeroed::<hf_result>();
            assert!(check(hf_engine_evaluate_context(engine, key.as_ptr(), ctx, &mut typed), "hf_engine_evaluate_context"));
            let decided = typed.value != hf_value::HF_VALUE_INCONCLUSIVE;
            assert_eq!(decided, by_handle.get("inconclusive").is_none(), "typed and JSON results disagree: {by_handle}");
            let mut needed = 0usize;
            let mut buf = [0 as c_char; 64];
            let st = hf_result_copy_variant(&typed, buf.as_mut_ptr(), buf.len(), &mut needed);
            assert!(st == hf_status::HF_OK || st == hf_status::HF_ERR_BUFFER_TOO_SMALL);
            if typed.value == hf_value::HF_VALUE_VARIANT {
                assert_eq!(Some(needed), by_handle["variant"].as_str().map(str::len));
            }

            // Every flag at once: one entry per loaded flag.
            let mut all: *mut c_char = ptr::null_mut();
            assert!(check(hf_engine_evaluate_all_json(engine, ctx_json.as_ptr(), &mut all), "hf_engine_evaluate_all_json"));
            let all = take_json(all, "hf_engine_evaluate_all_json");
            assert_eq!(all.as_array().map(Vec::len), Some(count), "evaluate_all returns one result per flag");
            hf_context_free(ctx);
        } else {
            assert!(ctx.is_null(), "failed hf_context_from_json left a context behind");
        }

        // The typed fast path with a JSON-kind property under every property key the engine reads, plus
        // one it does not read (checked without conversion).
        let keys: Vec<CString> = info["property_keys"]["person"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().and_then(|s| CString::new(s).ok()))
            .chain(std::iter::once(CString::new("not-read-by-any-flag").unwrap()))
            .take(8)
            .collect();
        let props: Vec<hf_property> = keys
            .iter()
            .map(|k| hf_property { key: k.as_ptr(), kind: 5, string_value: prop_json.as_ptr(), int_value: 0, float_value: 0.0 })
            .collect();
        let distinct = c_string(b"fuzz-user");
        let mut out = std::mem::zeroed::<hf_result>();
        let st = hf_engine_evaluate(engine, key.as_ptr(), distinct.as_ptr(), props.as_ptr(), props.len(), &mut out);
        check(st, "hf_engine_evaluate");
        let prop_ok = prop_json.to_str().is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok());
        assert_eq!(st == hf_status::HF_OK, key_ok && prop_ok, "accepted iff the key is UTF-8 and the property JSON ({st:?})");

        hf_engine_free(engine);
    }
});
