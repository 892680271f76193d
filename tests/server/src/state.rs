//! Server state: the definitions served (with their ETag and compiled snapshot), the fault queue, the
//! stored person properties and the request counters. One mutex; held only for bookkeeping, never across
//! an await.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use hogflags::{EvaluationRuntime, FlagSnapshot};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::ServerConfig;

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultTarget {
    /// `GET /flags/definitions`
    Definitions,
    /// `POST /flags`
    Flags,
    /// Either of them.
    #[default]
    Any,
}

/// What a fault does to the request it hits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (and this `Retry-After`, and this body, if given). `retry_after` is sent
    /// verbatim: a JSON number as written (`4`, `1e20`) or a string (`"1.5"`, an HTTP date, garbage).
    Status {
        status: u16,
        #[serde(default, deserialize_with = "header_text")]
        retry_after: Option<String>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay { delay_ms: u64 },
    /// Never answer: hold the connection open for `hang_ms` (default 60 s) or until the server stops,
    /// then close it without a response.
    Hang {
        #[serde(default)]
        hang_ms: Option<u64>,
    },
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` whose `Content-Length` promises the full body, but only half is sent before the
    /// connection is closed.
    Truncated,
    /// Close the connection without any response.
    Drop,
}

/// One queued fault: it hits the next `count` requests that match `target`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub target: FaultTarget,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one() -> u32 {
    1
}

impl Fault {
    pub fn new(target: FaultTarget, kind: FaultKind) -> Fault {
        Fault { target, count: 1, kind }
    }
    pub fn times(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }
    pub fn status(target: FaultTarget, status: u16) -> Fault {
        Fault::new(target, FaultKind::Status { status, retry_after: None, body: None })
    }
}

/// Request counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub definitions_requests: u64,
    pub definitions_200: u64,
    pub definitions_304: u64,
    pub definitions_unauthorized: u64,
    pub flags_requests: u64,
    pub flags_200: u64,
    pub control_requests: u64,
    pub faults_injected: u64,
    pub faults_pending: u64,
    pub gzip_responses: u64,
    /// Responses by status code, faults included (`drop`/`hang`/`truncated` count under 0/0/200).
    pub by_status: BTreeMap<u16, u64>,
    /// The `If-None-Match` of the last definitions request, verbatim.
    pub last_if_none_match: Option<String>,
    /// The last `/flags` request body (JSON), for checking what clients send.
    pub last_flags_request: Option<serde_json::Value>,
    /// `GET …/feature_flags/{key}/remote_config` requests.
    pub remote_config_requests: u64,
    /// How many times the definitions were replaced since start.
    pub definitions_generation: u64,
}

/// The definitions as served.
pub(crate) struct Definitions {
    pub body: Bytes,
    pub gzipped: Bytes,
    pub etag: String,
    pub snapshot: Arc<FlagSnapshot>,
    /// The same document evaluated for a client runtime, and for a runtime the server cannot tell.
    client_snapshot: Arc<FlagSnapshot>,
    unknown_runtime_snapshot: Arc<FlagSnapshot>,
}

impl Definitions {
    fn new(body: &[u8]) -> Definitions {
        let digest = Sha1::digest(body);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let load = || match FlagSnapshot::from_json(body) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("hogflags-test-server: definitions do not load in the core ({e}); /flags answers with no flags");
                FlagSnapshot::empty()
            }
        };
        Definitions {
            body: Bytes::copy_from_slice(body),
            gzipped: Bytes::from(gzip(body)),
            etag: format!("W/\"{}\"", &hex[..32]),
            snapshot: Arc::new(load().for_runtime(Some(EvaluationRuntime::Server))),
            client_snapshot: Arc::new(load().for_runtime(Some(EvaluationRuntime::Client))),
            unknown_runtime_snapshot: Arc::new(load().for_runtime(None)),
        }
    }
}

impl Definitions {
    /// The snapshot for a request's runtime: as PostHog, `server` or `client` when the request says so,
    /// `all` included; otherwise one that serves only untagged (`all`) flags.
    pub fn for_runtime(&self, runtime: Option<EvaluationRuntime>) -> &Arc<FlagSnapshot> {
        match runtime {
            Some(EvaluationRuntime::Server) | Some(EvaluationRuntime::All) => &self.snapshot,
            Some(EvaluationRuntime::Client) => &self.client_snapshot,
            None => &self.unknown_runtime_snapshot,
        }
    }
}

pub(crate) fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(body).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

struct State {
    definitions: Arc<Definitions>,
    faults: VecDeque<Fault>,
    persons: HashMap<String, serde_json::Map<String, serde_json::Value>>,
    quota_limited: bool,
    gzip: bool,
    stats: Stats,
    request_seq: u64,
}

pub(crate) struct Shared {
    pub project_api_key: String,
    pub secret_key: String,
    state: Mutex<State>,
    pub shutdown: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    pub fn new(config: &ServerConfig) -> Shared {
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Shared {
            project_api_key: config.project_api_key.clone(),
            secret_key: config.secret_key.clone(),
            state: Mutex::new(State {
                definitions: Arc::new(Definitions::new(&config.definitions)),
                faults: VecDeque::new(),
                persons: HashMap::new(),
                quota_limited: false,
                gzip: config.gzip,
                stats: Stats::default(),
                request_seq: 0,
            }),
            shutdown,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn inject(&self, fault: Fault) {
        if fault.count == 0 {
            return;
        }
        let mut s = self.lock();
        s.faults.push_back(fault);
        s.stats.faults_pending = s.faults.iter().map(|f| f.count as u64).sum();
    }

    pub fn clear_faults(&self) {
        let mut s = self.lock();
        s.faults.clear();
        s.stats.faults_pending = 0;
    }

    /// Takes one use of the first queued fault that matches `target`.
    pub fn take_fault(&self, target: FaultTarget) -> Option<FaultKind> {
        let mut s = self.lock();
        let pos = s.faults.iter().position(|f| f.target == FaultTarget::Any || f.target == target)?;
        let fault = &mut s.faults[pos];
        fault.count -= 1;
        let kind = fault.kind.clone();
        if fault.count == 0 {
            s.faults.remove(pos);
        }
        s.stats.faults_injected += 1;
        s.stats.faults_pending = s.faults.iter().map(|f| f.count as u64).sum();
        Some(kind)
    }

    pub fn set_definitions(&self, body: &[u8]) -> String {
        let defs = Arc::new(Definitions::new(body));
        let etag = defs.etag.clone();
        let mut s = self.lock();
        s.definitions = defs;
        s.stats.definitions_generation += 1;
        etag
    }

    pub fn definitions(&self) -> Arc<Definitions> {
        self.lock().definitions.clone()
    }

    pub fn etag(&self) -> String {
        self.lock().definitions.etag.clone()
    }

    pub fn set_person_properties(&self, distinct_id: &str, props: serde_json::Map<String, serde_json::Value>) {
        self.lock().persons.insert(distinct_id.to_owned(), props);
    }

    pub fn person_properties(&self, distinct_id: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.lock().persons.get(distinct_id).cloned()
    }

    pub fn set_quota_limited(&self, limited: bool) {
        self.lock().quota_limited = limited;
    }

    pub fn quota_limited(&self) -> bool {
        self.lock().quota_limited
    }

    pub fn set_gzip(&self, enabled: bool) {
        self.lock().gzip = enabled;
    }

    pub fn gzip_enabled(&self) -> bool {
        self.lock().gzip
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub fn reset_stats(&self) {
        let mut s = self.lock();
        let pending = s.stats.faults_pending;
        let generation = s.stats.definitions_generation;
        s.stats = Stats { faults_pending: pending, definitions_generation: generation, ..Stats::default() };
    }

    pub fn record(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.lock().stats);
    }

    pub fn next_request_id(&self) -> u64 {
        let mut s = self.lock();
        s.request_seq += 1;
        s.request_seq
    }

    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

/// A header value given in JSON as a number or a string, kept as the text to send.
fn header_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}
