//! The engine handle and the hot-path functions, written directly against N-API.
//!
//! A handle is a plain JS object wrapping a boxed [`EngineState`], type-tagged so that no other object can
//! be mistaken for one. The evaluation functions are plain N-API callbacks: a napi-rs class method costs
//! several hundred nanoseconds of bookkeeping per call, a raw callback a few dozen.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use hogflags::FlagSnapshot;
use napi::sys;

use crate::convert::{self, CResult, ConvError, Env, JsVal};
use crate::engine::{out_records, EngineState, Person, HEADER, STRIDE};

const TAG: sys::napi_type_tag = sys::napi_type_tag {
    lower: 0x686f_6766_6c61_6773,
    upper: 0x656e_6769_6e65_0001,
};

unsafe extern "C" fn finalize(_env: Env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        drop(unsafe { Box::from_raw(data as *mut EngineState) });
    }
}

/// Wraps a snapshot (loaded from `definitions`) into a new handle object.
pub unsafe fn new_handle(env: Env, snap: FlagSnapshot) -> CResult<JsVal> {
    let mut obj = ptr::null_mut();
    unsafe { convert::check(sys::napi_create_object(env, &mut obj), "create object")? };
    let state = Box::into_raw(Box::new(EngineState::new(std::sync::Arc::new(snap))));
    let status = unsafe {
        sys::napi_wrap(
            env,
            obj,
            state as *mut c_void,
            Some(finalize),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Box::from_raw(state) });
        return Err(ConvError::internal("wrap"));
    }
    unsafe { convert::check(sys::napi_type_tag_object(env, obj, &TAG), "type tag")? };
    Ok(obj)
}

/// The engine behind a handle; anything else is a `TypeError`.
pub unsafe fn state<'a>(env: Env, handle: JsVal) -> CResult<&'a EngineState> {
    let bad = || ConvError::type_error("not a hogflags engine handle");
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
    Ok(unsafe { &*(data as *const EngineState) })
}

/// Throws `e` into JS (unless a JS exception is already pending, which then propagates unchanged).
pub unsafe fn throw(env: Env, e: ConvError) {
    let mut pending = false;
    if unsafe { sys::napi_is_exception_pending(env, &mut pending) } != sys::Status::napi_ok || pending {
        return;
    }
    let msg = std::ffi::CString::new(e.message.replace('\0', " ")).unwrap_or_default();
    let code = std::ffi::CString::new(e.code).unwrap_or_default();
    unsafe {
        if e.type_error {
            sys::napi_throw_type_error(env, code.as_ptr(), msg.as_ptr());
        } else {
            sys::napi_throw_error(env, code.as_ptr(), msg.as_ptr());
        }
    }
}

/// Runs `f`, turning an error or a Rust panic into a JS exception (no panic may cross N-API).
pub fn guarded<T>(f: impl FnOnce() -> CResult<T>) -> CResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(ConvError::coded(
                "HOGFLAGS_INTERNAL",
                format!("hogflags internal error: {what}"),
            ))
        }
    }
}

unsafe fn raw_call(env: Env, f: impl FnOnce() -> CResult<()>) -> JsVal {
    if let Err(e) = guarded(f) {
        unsafe { throw(env, e) };
    }
    ptr::null_mut() // undefined
}

unsafe fn args<const N: usize>(env: Env, info: sys::napi_callback_info) -> CResult<[JsVal; N]> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    unsafe {
        convert::check(
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            ),
            "arguments",
        )?
    };
    // Missing arguments are filled with `undefined` by N-API.
    Ok(argv)
}

unsafe fn string_arg(env: Env, v: JsVal, what: &str) -> CResult<String> {
    if unsafe { convert::type_of(env, v)? } != sys::ValueType::napi_string {
        return Err(ConvError::type_error(format!("{what} must be a string")));
    }
    unsafe { convert::read_string(env, v) }
}

/// `evaluateOne(handle, out, key, distinctId, personValues, groups, groupProperties, deviceId, now)`:
/// one record.
unsafe extern "C" fn evaluate_one(env: Env, info: sys::napi_callback_info) -> JsVal {
    unsafe {
        raw_call(env, || {
            let a = args::<9>(env, info)?;
            let st = state(env, a[0])?;
            let key = string_arg(env, a[2], "flag key")?;
            // Person values come aligned with this flag's keys (`flagPersonKeys` of the engine info).
            let ctx = st.context(
                env,
                st.reads_for(&key),
                a[3],
                Person::Values(a[4]),
                a[5],
                a[6],
                a[7],
                a[8],
            )?;
            // No JS runs from here on: the output array cannot be detached under us.
            let outcome = st.snap.evaluate(&key, &ctx);
            let buf = out_records(env, a[1], 1)?;
            let mut t = st
                .tables
                .try_borrow_mut()
                .map_err(|_| ConvError::internal("tables busy"))?;
            t.encode(&outcome, &mut buf[HEADER..HEADER + STRIDE]);
            t.header(buf);
            Ok(())
        })
    }
}

/// `evaluateAll(handle, out, distinctId, personValues, groups, groupProperties, deviceId, now)`:
/// one record per loaded flag, in document order.
unsafe extern "C" fn evaluate_all(env: Env, info: sys::napi_callback_info) -> JsVal {
    unsafe {
        raw_call(env, || {
            let a = args::<8>(env, info)?;
            let st = state(env, a[0])?;
            let ctx = st.context(env, &st.all, a[2], Person::Values(a[3]), a[4], a[5], a[6], a[7])?;
            let all = st.snap.evaluate_all(&ctx);
            let buf = out_records(env, a[1], all.len())?;
            let mut t = st
                .tables
                .try_borrow_mut()
                .map_err(|_| ConvError::internal("tables busy"))?;
            for (i, (_, outcome)) in all.iter().enumerate() {
                let at = HEADER + STRIDE * i;
                t.encode(outcome, &mut buf[at..at + STRIDE]);
            }
            t.header(buf);
            Ok(())
        })
    }
}

/// `evaluateKeys(handle, out, keys, distinctId, personValues, groups, groupProperties, deviceId, now)`:
/// one record per key of the array `keys`, in its order.
unsafe extern "C" fn evaluate_keys(env: Env, info: sys::napi_callback_info) -> JsVal {
    unsafe {
        raw_call(env, || {
            let a = args::<9>(env, info)?;
            let st = state(env, a[0])?;
            let bad = || ConvError::type_error("flagKeys must be an array of strings");
            let mut is_array = false;
            convert::check(sys::napi_is_array(env, a[2], &mut is_array), "is array")?;
            if !is_array {
                return Err(bad());
            }
            let mut n = 0u32;
            convert::check(sys::napi_get_array_length(env, a[2], &mut n), "array length")?;
            let mut names = Vec::with_capacity(n.min(100_000) as usize);
            for i in 0..n {
                let mut k = ptr::null_mut();
                convert::check(sys::napi_get_element(env, a[2], i, &mut k), "array element")?;
                if convert::type_of(env, k)? != sys::ValueType::napi_string {
                    return Err(bad());
                }
                names.push(convert::read_string(env, k)?);
            }
            let ctx = st.context(env, &st.all, a[3], Person::Values(a[4]), a[5], a[6], a[7], a[8])?;
            let outcomes: Vec<_> = names.iter().map(|k| st.snap.evaluate(k, &ctx)).collect();
            let buf = out_records(env, a[1], outcomes.len())?;
            let mut t = st
                .tables
                .try_borrow_mut()
                .map_err(|_| ConvError::internal("tables busy"))?;
            for (i, outcome) in outcomes.iter().enumerate() {
                let at = HEADER + STRIDE * i;
                t.encode(outcome, &mut buf[at..at + STRIDE]);
            }
            t.header(buf);
            Ok(())
        })
    }
}

/// An object holding the raw evaluation functions.
pub unsafe fn functions(env: Env) -> CResult<JsVal> {
    let mut obj = ptr::null_mut();
    unsafe { convert::check(sys::napi_create_object(env, &mut obj), "create object")? };
    type Cb = unsafe extern "C" fn(Env, sys::napi_callback_info) -> JsVal;
    let list: [(&std::ffi::CStr, Cb); 3] = [
        (c"evaluateOne", evaluate_one),
        (c"evaluateAll", evaluate_all),
        (c"evaluateKeys", evaluate_keys),
    ];
    for (name, cb) in list {
        let mut f = ptr::null_mut();
        unsafe {
            convert::check(
                sys::napi_create_function(
                    env,
                    name.as_ptr(),
                    name.to_bytes().len() as isize,
                    Some(cb),
                    ptr::null_mut(),
                    &mut f,
                ),
                "create function",
            )?;
            convert::check(sys::napi_set_named_property(env, obj, name.as_ptr(), f), "set property")?;
        }
    }
    Ok(obj)
}
