//! Logging for C hosts: the library's log lines (target `hogflags`, through the `log` facade) handed to
//! one process-wide callback the host registers.

use std::ffi::{c_char, c_void};
use std::sync::RwLock;

use crate::client::{c_text, UserData};
use crate::ffi::{guard, Failure};
use crate::types::hf_status;

/// Receives one log line of the library: `level` is 1 (error) to 5 (trace), `message` is borrowed for
/// the duration of the call only and never contains an API key.
pub type hf_log_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

type LogCb = (unsafe extern "C" fn(*mut c_void, i32, *const c_char), UserData);

static LOG_SINK: RwLock<Option<LogCb>> = RwLock::new(None);

struct CLogger;

impl log::Log for CLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("hogflags")
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let sink = *LOG_SINK.read().unwrap_or_else(|p| p.into_inner());
        if let Some((f, data)) = sink {
            let text = c_text(&record.args().to_string());
            // SAFETY: the host registered `f` to be called with its `user_data` and a borrowed C string.
            unsafe { f(data.ptr(), record.level() as i32, text.as_ptr()) };
        }
    }
    fn flush(&self) {}
}

static LOGGER: CLogger = CLogger;
static LOGGER_INSTALLED: std::sync::Once = std::sync::Once::new();

/// Sends the library's log lines (target `hogflags`) up to `max_level` (0 = off, 1 = error, 2 = warn,
/// 3 = info, 4 = debug, 5 = trace) to `callback`, process-wide; NULL turns logging off. The callback may
/// be called from any thread, including the background thread, at any time until it is replaced: it must
/// be thread-safe, quick, and must not throw or longjmp. Log lines never contain API keys.
///
/// Thread safety: safe to call from any thread; the last call wins.
#[no_mangle]
pub unsafe extern "C" fn hf_set_log_callback(callback: hf_log_fn, user_data: *mut c_void, max_level: i32) -> hf_status {
    guard(|| {
        let level = match max_level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            5 => log::LevelFilter::Trace,
            other => return Err(Failure::invalid(format!("max_level {other} is not 0..5"))),
        };
        let mut installed = Ok(());
        LOGGER_INSTALLED.call_once(|| installed = log::set_logger(&LOGGER));
        installed.map_err(|_| Failure::new(hf_status::HF_ERR_CLIENT, "another logger is already installed"))?;
        *LOG_SINK.write().unwrap_or_else(|p| p.into_inner()) = callback.map(|f| (f, UserData(user_data)));
        log::set_max_level(if callback.is_some() { level } else { log::LevelFilter::Off });
        Ok(())
    })
}
