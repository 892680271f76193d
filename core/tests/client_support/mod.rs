//! Shared helpers of the client integration tests: a test server in-process, a client config pointed at
//! it, definitions documents, and a log capture to check that keys never reach a log line.
#![allow(dead_code, unused_imports)]

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hogflags::client::{Config, DriverMode};
pub use hogflags_test_server::{Fault, FaultKind, FaultTarget, ServerConfig, Stats, TestServer};
pub use hogflags_test_server::{DEFAULT_PROJECT_API_KEY as PROJECT_KEY, DEFAULT_SECRET_KEY as SECRET_KEY};

/// A definitions document: each `(key, enabled_for_everyone)` is an active boolean flag at 100 % or 0 %,
/// plus `beta` (needs person property `plan` = `pro`) and `gen` (payload `{"gen": generation}`).
pub fn defs(generation: u64, flags: &[(&str, bool)]) -> Vec<u8> {
    let mut list: Vec<serde_json::Value> = flags
        .iter()
        .enumerate()
        .map(|(i, (key, on))| {
            serde_json::json!({"id": 100 + i, "key": key, "active": true, "version": generation,
                "filters": {"groups": [{"properties": [], "rollout_percentage": if *on { 100 } else { 0 }}]}})
        })
        .collect();
    list.push(serde_json::json!({"id": 1, "key": "beta", "active": true, "version": 3,
        "filters": {"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person", "operator": "exact"}],
                                 "rollout_percentage": 100}],
                    "payloads": {"true": "{\"color\": \"blue\"}"}}}));
    list.push(serde_json::json!({"id": 2, "key": "gen", "active": true, "version": generation,
        "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
                    "payloads": {"true": format!("{{\"gen\": {generation}}}")}}}));
    serde_json::to_vec(&serde_json::json!({"flags": list, "group_type_mapping": {"0": "company"}, "cohorts": {}})).unwrap()
}

pub fn start_server(definitions: Vec<u8>) -> TestServer {
    TestServer::start(ServerConfig::default().with_definitions(definitions)).expect("test server starts")
}

/// A background-mode config for `server`: short interval, no jitter, short timeouts, no proxy.
pub fn config(url: &str) -> Config {
    Config::new(PROJECT_KEY)
        .secret_key(SECRET_KEY)
        .host(url)
        .poll_interval(Duration::from_millis(200))
        .jitter(0.0)
        .definitions_timeout(Duration::from_secs(2))
        .remote_timeout(Duration::from_secs(1))
        .max_backoff(Duration::from_secs(2))
        .use_system_proxy(false)
}

pub fn manual(config: Config) -> Config {
    config.driver(DriverMode::Manual)
}

/// Polls `cond` every 5 ms until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The `gen` payload value a snapshot-backed flag result carries.
pub fn gen_of(payload: &Option<serde_json::Value>) -> Option<u64> {
    payload.as_ref()?.get("gen")?.as_u64()
}

/// An address on loopback where nothing listens: port 1 is privileged and never handed out as an
/// ephemeral port, so no test server of a concurrent test can appear there (a bound-then-dropped port can
/// be reused by one).
pub fn refused_url() -> String {
    "http://127.0.0.1:1".to_owned()
}

struct Capture;

static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LINES.get_or_init(Default::default).lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

/// Installs a logger that records every line (once per test binary).
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        static LOGGER: Capture = Capture;
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Trace);
    });
}

pub fn logged_lines() -> Vec<String> {
    LINES.get_or_init(Default::default).lock().unwrap().clone()
}
