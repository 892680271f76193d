//! The boundary between Python and Rust: every entry point runs its work through [`guarded`] (GIL held)
//! or [`detached`] (GIL released), so no panic crosses into Python as a crash, and the package's own
//! exception types are raised from here.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static ERRORS: [PyOnceLock<Py<PyType>>; 2] = [PyOnceLock::new(), PyOnceLock::new()];

fn hogflags_error(py: Python<'_>, which: usize, msg: String) -> PyErr {
    let name = ["InvalidDefinitionsError", "InternalError"][which];
    match ERRORS[which].import(py, "hogflags._errors", name) {
        Ok(t) => PyErr::from_type(t.clone(), msg),
        Err(e) => e,
    }
}

pub fn invalid_definitions(py: Python<'_>, msg: String) -> PyErr {
    hogflags_error(py, 0, msg)
}

/// A panic caught at the boundary: never crosses into Python as a crash.
pub fn internal_error(py: Python<'_>, payload: Box<dyn std::any::Any + Send>) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    hogflags_error(py, 1, format!("internal error in hogflags (please report it): {what}"))
}

/// Runs `f` without the GIL, catching any panic.
pub fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f))).map_err(|p| internal_error(py, p))
}

/// Runs `f` with the GIL held, catching any panic.
pub fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(internal_error(py, p)))
}
