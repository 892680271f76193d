//! # hogflags C ABI
//!
//! The C interface of hogflags (header: `include/hogflags.h`, generated from this crate by cbindgen).
//! Every function here only converts types; every answer comes from the `hogflags` core.
//!
//! Rules that hold for every exported function:
//! - it returns an [`hf_status`] (or, for the few infallible getters, a value documented as such);
//!   on a non-OK status a thread-local message is available from [`hf_last_error`];
//! - it never unwinds into C: the body runs under `catch_unwind` and a panic becomes `HF_ERR_PANIC`;
//! - every pointer argument may be NULL (that gives `HF_ERR_NULL_ARGUMENT`, or is a no-op for `*_free`);
//! - strings are NUL-terminated UTF-8 (invalid UTF-8 gives `HF_ERR_INVALID_UTF8`), except where a
//!   pointer comes with an explicit length;
//! - every string this library allocates for the caller is freed with [`hf_string_free`], every handle
//!   with its own `*_free` function.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(non_camel_case_types)]
// Every `extern "C"` function checks its raw pointers itself and documents its contract in the header.
#![allow(clippy::missing_safety_doc)]

mod types;
mod engine;
mod context;
mod client;
mod evaluations;
mod logging;
mod misc;
mod ffi;

pub use client::*;
pub use context::*;
pub use engine::*;
pub use evaluations::*;
pub use misc::*;
pub use types::*;
