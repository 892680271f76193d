//! Routes the core's `log` records (target `hogflags`) to Python's `logging` module, logger `hogflags`,
//! and runs Python callbacks from any thread.
//!
//! Both take the GIL, from whichever thread the core runs on (the evaluating thread or the client's driver
//! thread). Every binding call that can wait for that driver thread releases the GIL first, so such a
//! wait can never hold the GIL the driver needs. After interpreter shutdown has begun (`_set_finalizing`,
//! called from an `atexit` hook once clients are shut down) nothing touches Python any more.

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FINALIZING: AtomicBool = AtomicBool::new(false);
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

pub fn python_usable() -> bool {
    !FINALIZING.load(Ordering::Acquire)
}

/// Called by the package's `atexit` hook, after shutting its clients down.
#[pyfunction]
pub fn _set_finalizing() {
    FINALIZING.store(true, Ordering::Release);
}

struct Bridge;

static BRIDGE: Bridge = Bridge;

impl log::Log for Bridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        python_usable() && m.target().starts_with("hogflags")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level: u32 = match record.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            log::Level::Debug => 10,
            log::Level::Trace => 5,
        };
        let message = record.args().to_string();
        Python::attach(|py| {
            let result = (|| -> PyResult<()> {
                let logger = LOGGER.get_or_try_init(py, || {
                    Ok::<_, PyErr>(py.import("logging")?.call_method1("getLogger", ("hogflags",))?.unbind())
                })?;
                let logger = logger.bind(py);
                if logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
                    logger.call_method1("log", (level, "%s", message))?;
                }
                Ok(())
            })();
            // Logging must never fail the operation that logged; a broken handler is Python's to report.
            if let Err(e) = result {
                e.write_unraisable(py, None);
            }
        });
    }

    fn flush(&self) {}
}

/// Installs the bridge (once per process; later calls do nothing).
pub fn install() {
    if log::set_logger(&BRIDGE).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

/// Calls a Python callback with one argument built under the GIL; its exceptions go to
/// `sys.unraisablehook` (they must not break polling or evaluation).
pub fn call_back(cb: &Py<PyAny>, make: impl FnOnce(Python<'_>) -> PyResult<Bound<'_, PyAny>>) {
    if !python_usable() {
        return;
    }
    Python::attach(|py| {
        if let Err(e) = make(py).and_then(|arg| cb.bind(py).call1((arg,))) {
            e.write_unraisable(py, Some(cb.bind(py)));
        }
    });
}
