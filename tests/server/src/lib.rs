//! # hogflags-test-server
//!
//! A small PostHog-compatible flags server for tests in every language. It serves, from one definitions
//! document held in memory:
//!
//! * `GET /flags/definitions?token=<project key>&send_cohorts` (also with a trailing slash) — the
//!   local-evaluation feed, with `Authorization: Bearer <secret>` and the `token` query checked, a real
//!   `ETag` (`W/"<sha1 of the body>"`) and `304 Not Modified` for a matching `If-None-Match`, gzip when the
//!   client accepts it;
//! * `POST /flags?v=4` (also `/flags/`) — remote evaluation, answered by the hogflags core itself (v4
//!   typed records from `v=4`, v2 records from `v=2`, docs/protocol.md; without `v` the legacy
//!   `featureFlags` shape).
//!
//! and a control API under `/_control/` to inject faults and change state (see [`Fault`] and the README).
//!
//! It binds `127.0.0.1` only (port 0 by default) and, as a binary, prints
//! `listening on http://127.0.0.1:PORT` as its first stdout line. Rust tests use it in-process through
//! [`TestServer::start`], which runs it on its own thread with its own runtime.
//!
//! **Inconclusive results on `/flags`.** The real server never is inconclusive: it has the person's
//! stored properties and cohort memberships. This server has only what the request carries plus what a
//! test stored with [`TestServer::set_person_properties`] (the request's properties win over stored
//! ones, as on PostHog). A flag the core still cannot decide is reported as
//! `{"enabled": false, "variant": null, "failed": true, ...}` with `errorsWhileComputingFlags: true`, the
//! shape PostHog uses when it could not compute a flag; the reason description says why.

mod flags;
mod http;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

pub use state::{Fault, FaultKind, FaultTarget, Stats};

/// What a server starts with.
#[derive(Clone)]
pub struct ServerConfig {
    /// The definitions document served (raw JSON bytes).
    pub definitions: Vec<u8>,
    /// The project API key (`phc_…`) that the `token` query / body field must carry.
    pub project_api_key: String,
    /// The secret (`phs_…` or `phx_…`) that `Authorization: Bearer` must carry on the definitions feed.
    pub secret_key: String,
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve gzip to clients that accept it.
    pub gzip: bool,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("definitions_bytes", &self.definitions.len())
            .field("port", &self.port)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// Default keys, so test suites in other languages need not invent their own.
pub const DEFAULT_PROJECT_API_KEY: &str = "phc_test_project_key";
pub const DEFAULT_SECRET_KEY: &str = "phs_test_secret_key";

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            definitions: br#"{"flags":[],"group_type_mapping":{},"cohorts":{}}"#.to_vec(),
            project_api_key: DEFAULT_PROJECT_API_KEY.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            port: 0,
            gzip: true,
        }
    }
}

impl ServerConfig {
    pub fn with_definitions(mut self, definitions: impl Into<Vec<u8>>) -> Self {
        self.definitions = definitions.into();
        self
    }
}

/// Why a server did not start.
#[derive(Debug)]
pub enum StartError {
    Bind(std::io::Error),
    Runtime(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "cannot bind 127.0.0.1: {e}"),
            StartError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running server. Dropping it stops it (open connections, including hung ones, are closed).
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<state::Shared>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds 127.0.0.1 and serves on a thread of its own (a current-thread runtime).
    pub fn start(config: ServerConfig) -> Result<TestServer, StartError> {
        let std_listener =
            std::net::TcpListener::bind(("127.0.0.1", config.port)).map_err(StartError::Bind)?;
        std_listener.set_nonblocking(true).map_err(StartError::Bind)?;
        let addr = std_listener.local_addr().map_err(StartError::Bind)?;
        let shared = Arc::new(state::Shared::new(&config));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hogflags-test-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("hogflags-test-server: {e}");
                            return;
                        }
                    };
                    http::serve(listener, task_shared).await;
                });
                runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            })
            .map_err(StartError::Runtime)?;
        Ok(TestServer { addr, shared, thread: Some(thread) })
    }

    /// Runs on the calling thread until `POST /_control/shutdown` (for the binary).
    pub fn run_blocking(self) {
        let mut me = self;
        if let Some(t) = me.thread.take() {
            let _ = t.join();
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues a fault; faults are consumed in order by matching requests.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Drops every queued fault (hung requests stay hung until their time runs out or the server stops).
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Replaces the definitions served (new ETag). Returns the new ETag.
    pub fn set_definitions(&self, definitions: &[u8]) -> String {
        self.shared.set_definitions(definitions)
    }

    /// The ETag currently served, e.g. `W/"3f2a…"`.
    pub fn etag(&self) -> String {
        self.shared.etag()
    }

    /// Stores "server-side" person properties for a distinct id, used by `/flags` (request properties
    /// win over these).
    pub fn set_person_properties(&self, distinct_id: &str, properties: serde_json::Map<String, serde_json::Value>) {
        self.shared.set_person_properties(distinct_id, properties);
    }

    /// Makes `/flags` answer as a quota-limited project (`quotaLimited: ["feature_flags"]`, no flags).
    pub fn set_quota_limited(&self, limited: bool) {
        self.shared.set_quota_limited(limited);
    }

    pub fn set_gzip(&self, enabled: bool) {
        self.shared.set_gzip(enabled);
    }

    /// Request counters since start (or the last [`reset_stats`](Self::reset_stats)).
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Stops the server and joins its thread.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        self.shared.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
