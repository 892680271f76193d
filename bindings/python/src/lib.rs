//! Python bindings of hogflags (module `hogflags._hogflags`, re-exported by the `hogflags` package).
//!
//! This crate only converts types: Python arguments into the core's `EvaluationContext`, the core's
//! answers into Python objects. Loading and bulk evaluation run without the GIL, and no Rust panic crosses into Python
//! (each entry point catches it and raises `hogflags.InternalError`).

mod arguments;
mod boundary;
mod client;
mod convert;
mod engine;
mod interrupt;
mod pylog;
mod results;

use pyo3::prelude::*;

/// Test hook: panics inside the same guard every entry point uses, so the tests can check that a panic
/// becomes `hogflags.InternalError` instead of a crash.
#[pyfunction]
fn _panic_for_test(py: Python<'_>, detached: bool) -> PyResult<()> {
    if detached {
        boundary::detached(py, || -> () { panic!("test panic (detached)") })
    } else {
        boundary::guarded(py, || -> PyResult<()> { panic!("test panic") })
    }
}

#[pymodule]
fn _hogflags(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::FlagsEngine>()?;
    m.add_class::<client::FlagsClient>()?;
    m.add_class::<results::FeatureFlagResult>()?;
    m.add_class::<results::FeatureFlagEvaluations>()?;
    m.add_class::<results::FlagReason>()?;
    m.add_class::<results::Unresolved>()?;
    m.add_function(wrap_pyfunction!(_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(pylog::_set_finalizing, m)?)?;
    m.add("CORE_VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
