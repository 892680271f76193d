//! Lets Ctrl-C through blocking client calls.
//!
//! Calls that wait for the network (`reload_feature_flags`, `wait_until_ready`, `tick`, the `/flags`
//! fallback) run without the GIL, so Python cannot run its signal handlers meanwhile. The core asks the
//! client's interrupt check every 50 ms; ours takes the GIL and runs the pending handlers
//! (`check_signals`). When a handler raises (`KeyboardInterrupt`), the exception is kept for this thread,
//! the core ends the call, and [`blocking`] raises the exception in place of the call's result.

use std::cell::RefCell;

use pyo3::prelude::*;

use crate::boundary::detached;
use crate::pylog::python_usable;

thread_local! {
    static PENDING: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// The client's interrupt check: `true` once a signal handler raised on this thread.
pub fn signal_raised() -> bool {
    if !python_usable() {
        return false;
    }
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            PENDING.with(|p| *p.borrow_mut() = Some(e));
            true
        }
    })
}

/// Runs a blocking client call without the GIL; an exception a signal handler raised meanwhile is raised
/// instead of returning the call's (interrupted) result.
pub fn blocking<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    let out = detached(py, f)?;
    match PENDING.with(|p| p.borrow_mut().take()) {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
