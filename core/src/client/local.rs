//! [`Client`]: local evaluation from polled definitions, with `/flags` as the fallback.
//!
//! Evaluation reads the current [`FlagSnapshot`] through an `ArcSwap` (no lock, never blocked by
//! polling). New definitions are compiled on the driver thread (or in `tick()`), then swapped in whole.
//!
//! The flag calls themselves (the local step, the `/flags` fallback, the bulk merge D31) are in
//! `call.rs`; this file keeps the definitions current: polling, the disk cache, reload, readiness.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;

use crate::{EvaluationRuntime, FlagSnapshot};

use super::cache::{self, CacheEntry};
use super::config::{Config, DriverMode};
use super::driver::{lock, DoneGuard, Parts, RunError, WorkerSlot};
use super::error::{ClientError, PollError, WaitError};
use super::events::EventDedupe;
use super::poller::{FetchResult, PollOutcome, Poller, PollerConfig};
use super::transport;
use super::types::{ClientStatus, DefinitionsUpdate, TickOutcome};

const CACHE_KIND: &str = "definitions";

struct State {
    poller: Poller,
    ready: bool,
    fetches: u64,
    last_result: Option<Result<(), PollError>>,
    last_success: Option<SystemTime>,
    shut_down: bool,
}

pub(crate) struct Inner {
    pub(super) config: Arc<Config>,
    pub(super) snapshot: ArcSwap<FlagSnapshot>,
    pub(super) loaded_at_ms: AtomicI64,
    state: Mutex<State>,
    changed: Condvar,
    worker: WorkerSlot,
    pub(super) dedupe: EventDedupe,
}

/// A feature-flag client evaluating locally. `Send + Sync`; share it behind an `Arc`.
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("config", &self.inner.config).field("flags", &self.inner.snapshot.load().len()).finish()
    }
}

impl Client {
    /// Creates the client, loads the disk cache if one is configured, and (in background mode) starts
    /// polling at once. Does not wait for the first fetch: see [`wait_until_ready`](Self::wait_until_ready).
    ///
    /// Without a secret key (only the project API key, as many PostHog users have) nothing is polled
    /// and every flag is evaluated by `/flags`, as posthog-python and posthog-node do without a
    /// personal API key.
    pub fn new(config: Config) -> Result<Client, ClientError> {
        config.validate()?;
        let mut pc = PollerConfig::new(config.poll_interval);
        pc.max_backoff = config.max_backoff;
        pc.max_retry_after = config.max_retry_after;
        pc.jitter = config.jitter;
        let inner = Arc::new(Inner {
            dedupe: EventDedupe::new(config.dedupe_capacity),
            config: Arc::new(config),
            snapshot: ArcSwap::from_pointee(FlagSnapshot::empty()),
            loaded_at_ms: AtomicI64::new(0),
            state: Mutex::new(State {
                poller: Poller::new(pc, Instant::now(), super::poller::Jitter::seed_from_environment()),
                ready: false,
                fetches: 0,
                last_result: None,
                last_success: None,
                shut_down: false,
            }),
            changed: Condvar::new(),
            worker: WorkerSlot::new(),
        });
        inner.load_cache();
        let client = Client { inner };
        client.parts()?;
        Ok(client)
    }

    /// The worker parts of this process, (re)starting the worker after a fork.
    fn parts(&self) -> Result<Parts, ClientError> {
        self.inner.parts()
    }

    /// The shared state (for the calls in `call.rs`).
    pub(super) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    #[inline]
    pub(super) fn check_fork(&self) {
        if self.inner.worker.needs_start() && !self.inner.worker.is_stopped() {
            if let Err(e) = self.parts() {
                log::warn!(target: "hogflags", "cannot restart the client after a fork: {e}");
            }
        }
    }

    /// The definitions currently loaded (for direct use of the engine).
    pub fn snapshot(&self) -> Arc<FlagSnapshot> {
        self.check_fork();
        self.inner.snapshot.load_full()
    }

    /// The decrypted payload of a remote-config flag (`GET …/feature_flags/{key}/remote_config`), read on
    /// each call (no cache), bounded by the `/flags` timeout. `Ok(None)`: the flag has no payload (404).
    /// Needs the secret key ([`ClientError::Config`] without it), as PostHog's SDKs do.
    pub fn remote_config_payload(&self, key: &str) -> Result<Option<serde_json::Value>, ClientError> {
        if !self.inner.polls() {
            return Err(ClientError::Config("remote-config payloads need a secret key (phs_) or personal API key (phx_)".into()));
        }
        let parts = self.parts()?;
        let config = self.inner.config.clone();
        let http = parts.http.clone();
        let key = key.to_owned();
        let fut = async move { transport::get_remote_config(&http, &config, &key).await };
        let timeout = self.inner.config.remote_timeout + Duration::from_secs(2);
        parts.exec.run(fut, timeout, self.inner.config.interrupt_check.as_ref()).unwrap_or_else(|e| Err(e.into_remote())).map_err(ClientError::Remote)
    }

    /// Fetches definitions now and waits for that fetch. `Ok` for 200 and 304.
    ///
    /// Bounded: it returns within [`reload_bound`](Self::reload_bound) — the definitions timeout plus
    /// one second, twice the timeout when a poll was already under way (that poll finishes first). While
    /// a server's `Retry-After` is in force it does not fetch (the server asked us to wait) and returns
    /// [`PollError::RateLimited`] with the time left at once; the poller fetches again when it ends.
    pub fn reload(&self) -> Result<(), ClientError> {
        let parts = self.parts()?;
        if !self.inner.polls() {
            return Err(no_definitions());
        }
        {
            let st = lock(&self.inner.state);
            if let Some(left) = st.poller.rate_limited_for(Instant::now()) {
                return Err(ClientError::Poll(PollError::RateLimited { retry_after: Some(left) }));
            }
        }
        if self.inner.config.driver == DriverMode::Manual {
            lock(&self.inner.state).poller.request_reload(Instant::now());
            let t = self.tick()?;
            return match t.error {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        let (target, bound) = {
            let mut st = lock(&self.inner.state);
            let in_flight = st.poller.in_flight();
            let target = st.fetches + if in_flight { 2 } else { 1 };
            st.poller.request_reload(Instant::now());
            (target, self.reload_bound(in_flight))
        };
        parts.signals.wake.notify_one();
        let deadline = Instant::now() + bound;
        let mut st = lock(&self.inner.state);
        while st.fetches < target {
            if st.shut_down {
                return Err(ClientError::ShutDown);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(st.poller.last_error().cloned().map(ClientError::Poll).unwrap_or(ClientError::Poll(
                    PollError::Transport(super::error::TransportError::Timeout),
                )));
            }
            st = self.inner.config.wait_step(&self.inner.changed, st, deadline - now)?;
        }
        match &st.last_result {
            Some(Err(e)) => Err(ClientError::Poll(e.clone())),
            _ => Ok(()),
        }
    }

    /// The longest a [`reload`](Self::reload) waits: the definitions timeout (one request, connection
    /// included) plus one second to compile and swap; twice the timeout when a poll is already in flight.
    pub fn reload_bound(&self, poll_in_flight: bool) -> Duration {
        let timeout = self.inner.config.definitions_timeout;
        (if poll_in_flight { timeout.saturating_mul(2) } else { timeout }).saturating_add(Duration::from_secs(1))
    }

    /// Waits until definitions are loaded (from the network or the disk cache). Returns early with
    /// [`WaitError::Failed`] on 401, 403 or 402 before anything was loaded. In manual mode it drives the
    /// fetches itself.
    pub fn wait_until_ready(&self, timeout: Duration) -> Result<(), WaitError> {
        self.check_fork();
        if !self.inner.polls() {
            // Nothing will ever load: say so at once (posthog-node answers `false` at once too).
            return Err(WaitError::Timeout { waited: Duration::ZERO, last_error: Some(no_definitions()) });
        }
        let deadline = Instant::now() + timeout;
        if self.inner.config.driver == DriverMode::Manual {
            loop {
                {
                    let st = lock(&self.inner.state);
                    if st.ready {
                        return Ok(());
                    }
                    if let Some(Err(e)) = &st.last_result {
                        if !e.is_transient() {
                            return Err(WaitError::Failed(ClientError::Poll(e.clone())));
                        }
                    }
                }
                let now = Instant::now();
                if now >= deadline {
                    let st = lock(&self.inner.state);
                    return Err(WaitError::Timeout { waited: timeout, last_error: st.poller.last_error().cloned().map(ClientError::Poll) });
                }
                if self.inner.config.interrupted() {
                    return Err(WaitError::Failed(ClientError::Interrupted));
                }
                match self.tick() {
                    Ok(t) if !t.fetched => std::thread::sleep(t.next_tick_in.min(deadline - now).min(Duration::from_millis(50))),
                    Ok(_) => {}
                    Err(e) => return Err(WaitError::Failed(e)),
                }
            }
        }
        let mut st = lock(&self.inner.state);
        loop {
            if st.ready {
                return Ok(());
            }
            if st.shut_down {
                return Err(WaitError::ShutDown);
            }
            if let Some(Err(e)) = &st.last_result {
                if !e.is_transient() {
                    return Err(WaitError::Failed(ClientError::Poll(e.clone())));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout { waited: timeout, last_error: st.poller.last_error().cloned().map(ClientError::Poll) });
            }
            st = self.inner.config.wait_step(&self.inner.changed, st, deadline - now).map_err(WaitError::Failed)?;
        }
    }

    /// Manual mode: fetches definitions if a fetch is due (blocking the calling thread for at most the
    /// definitions timeout) and says when to call again.
    pub fn tick(&self) -> Result<TickOutcome, ClientError> {
        if self.inner.config.driver != DriverMode::Manual {
            return Err(ClientError::NotManual);
        }
        let parts = self.parts()?;
        if !self.inner.polls() {
            return Ok(TickOutcome { fetched: false, next_tick_in: self.inner.config.poll_interval, error: None });
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(ClientError::InsideAsyncRuntime);
        }
        let req = {
            let mut st = lock(&self.inner.state);
            let now = Instant::now();
            match st.poller.begin(now) {
                Some(r) => r,
                None => {
                    return Ok(TickOutcome { fetched: false, next_tick_in: st.poller.time_until_due(now), error: None });
                }
            }
        };
        let http = parts.http.clone();
        let config = self.inner.config.clone();
        let inm = req.if_none_match.clone();
        let interrupt = self.inner.config.interrupt_check.clone();
        let result = parts.exec.run(
            async move { transport::fetch_definitions(&http, &config, inm.as_deref()).await },
            Duration::MAX,
            interrupt.as_ref(),
        );
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                lock(&self.inner.state).poller.abandon(Instant::now(), req.seq);
                return Err(if e == RunError::Interrupted { ClientError::Interrupted } else { ClientError::InsideAsyncRuntime });
            }
        };
        let error = self.inner.complete(req.seq, result);
        let st = lock(&self.inner.state);
        Ok(TickOutcome { fetched: true, next_tick_in: st.poller.time_until_due(Instant::now()), error: error.map(ClientError::Poll) })
    }

    /// Polling state (takes the bookkeeping lock briefly; not for the hot path).
    pub fn status(&self) -> ClientStatus {
        let st = lock(&self.inner.state);
        ClientStatus {
            ready: st.ready,
            flags_loaded: self.inner.snapshot.load().len(),
            etag: st.poller.etag().map(str::to_owned),
            consecutive_failures: st.poller.consecutive_failures(),
            last_error: st.poller.last_error().cloned().map(ClientError::Poll),
            last_success: st.last_success,
            fetches: st.fetches,
        }
    }

    /// Stops polling and waits (bounded: 5 s) for the task to end; the last client of the process also
    /// joins the driver thread. Idempotent. Evaluation keeps working on the last definitions.
    pub fn shutdown(&self) {
        {
            let mut st = lock(&self.inner.state);
            st.shut_down = true;
        }
        self.inner.changed.notify_all();
        self.inner.worker.stop(true);
    }
}

impl Drop for Client {
    /// Signals the task to stop and returns at once; never waits for the network or a thread.
    fn drop(&mut self) {
        self.inner.worker.stop(false);
    }
}

/// Why a client without a secret key has no definitions.
fn no_definitions() -> ClientError {
    ClientError::Config(
        "no secret key: definitions are not fetched, every flag is evaluated by /flags (set a project secret phs_ or personal API key phx_ for local evaluation)".into(),
    )
}

impl Inner {
    /// The worker parts of this process, (re)starting the worker after a fork.
    pub(super) fn parts(self: &Arc<Self>) -> Result<Parts, ClientError> {
        let inner = self.clone();
        let after_fork = || {
            // A fetch the parent had in flight can never complete here.
            let mut st = lock(&self.state);
            if st.poller.in_flight() {
                st.poller.reset_in_flight(Instant::now());
            }
        };
        self.worker.get(&self.config, after_fork, move |parts| {
            let parts = parts.clone();
            async move { poll_loop(inner, parts).await }
        })
    }

    /// Whether this client polls definitions (it has a secret key to read them with).
    fn polls(&self) -> bool {
        self.config.secret_key.is_some()
    }

    /// A definitions document as this client evaluates it (in its runtime).
    fn load(&self, body: &[u8]) -> Result<FlagSnapshot, crate::DocumentError> {
        let runtime = self.config.runtime_or(EvaluationRuntime::Server);
        FlagSnapshot::from_json(body).map(|s| s.for_runtime(Some(runtime)).for_contexts(&self.config.evaluation_contexts))
    }

    fn load_cache(&self) {
        let Some(path) = &self.config.cache_path else { return };
        let entry = match cache::read(path, CACHE_KIND) {
            Ok(e) => e,
            Err(cache::CacheError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                log::warn!(target: "hogflags", "ignoring the definitions cache: {e}");
                return;
            }
        };
        match self.load(&entry.body) {
            Ok(snap) => {
                let n = snap.len();
                self.snapshot.store(Arc::new(snap));
                self.loaded_at_ms.store(entry.saved_at_ms, Ordering::Relaxed);
                let mut st = lock(&self.state);
                st.poller.loaded_from_cache(entry.etag.clone());
                st.ready = true;
                st.last_success = Some(SystemTime::now());
                drop(st);
                log::info!(target: "hogflags", "loaded {n} flags from the disk cache");
                if let Some(cb) = &self.config.on_definitions_updated {
                    cb(&DefinitionsUpdate { flags: n, skipped: Vec::new(), etag: entry.etag, cleared: false, from_cache: true });
                }
            }
            Err(e) => log::warn!(target: "hogflags", "ignoring the definitions cache: {e}"),
        }
    }

    /// Applies the result of fetch `seq`. Returns the error of this fetch, if it failed.
    fn complete(&self, seq: u64, result: FetchResult) -> Option<PollError> {
        let now = Instant::now();
        // Compile outside the lock: the bookkeeping lock is only ever held for microseconds.
        let mut compiled = match &result {
            FetchResult::Response(r) if r.status == 200 => Some(self.load(&r.body)),
            _ => None,
        };
        // Phase 1: the poller decides (bookkeeping lock, microseconds).
        let (outcome, etag) = {
            let mut st = lock(&self.state);
            let outcome = st.poller.complete(now, seq, &result, |_| {
                compiled.take().unwrap_or_else(|| Err(crate::DocumentError::Malformed("no body".into())))
            });
            (outcome, st.poller.etag().map(str::to_owned))
        };
        if matches!(outcome, PollOutcome::Stale) {
            return None;
        }
        // Phase 2: effects (swap, cache, log, callbacks). Phase 3 then publishes the fetch as complete, so
        // whoever waits for it (reload, wait_until_ready) sees its effects and its callbacks done.
        let result_for_waiters: Result<(), PollError> = match &outcome {
            PollOutcome::Cleared(e) | PollOutcome::Failed(e) => Err(e.clone()),
            _ => Ok(()),
        };
        let error = match outcome {
            PollOutcome::Updated(snap) => {
                let n = snap.len();
                let skipped: Vec<(String, String)> = snap.skipped().iter().map(|s| (s.key.clone(), s.reason.clone())).collect();
                self.snapshot.store(Arc::new(snap));
                self.loaded_at_ms.store(cache::now_ms(), Ordering::Relaxed);
                log::info!(target: "hogflags", "loaded {n} flag definitions ({} skipped)", skipped.len());
                for (k, why) in &skipped {
                    log::warn!(target: "hogflags", "flag {k} skipped: {why}");
                }
                if let (Some(path), FetchResult::Response(r)) = (&self.config.cache_path, &result) {
                    let entry = CacheEntry {
                        kind: CACHE_KIND.into(),
                        etag: etag.clone(),
                        saved_at_ms: cache::now_ms(),
                        distinct_id: None,
                        body: r.body.clone(),
                    };
                    if let Err(e) = cache::write(path, &entry) {
                        log::warn!(target: "hogflags", "cannot write the definitions cache: {e}");
                        self.report(&ClientError::Cache(e.to_string()));
                    }
                }
                if let Some(cb) = &self.config.on_definitions_updated {
                    cb(&DefinitionsUpdate { flags: n, skipped, etag, cleared: false, from_cache: false });
                }
                None
            }
            PollOutcome::NotModified => {
                log::debug!(target: "hogflags", "definitions not modified");
                None
            }
            PollOutcome::Cleared(e) => {
                self.snapshot.store(Arc::new(FlagSnapshot::empty()));
                log::error!(target: "hogflags", "{e}");
                self.report(&ClientError::Poll(e.clone()));
                if let Some(cb) = &self.config.on_definitions_updated {
                    cb(&DefinitionsUpdate { flags: 0, skipped: Vec::new(), etag: None, cleared: true, from_cache: false });
                }
                Some(e)
            }
            PollOutcome::Failed(e) => {
                if e.is_transient() {
                    log::warn!(target: "hogflags", "{e}");
                } else {
                    log::error!(target: "hogflags", "{e}");
                }
                self.report(&ClientError::Poll(e.clone()));
                Some(e)
            }
            PollOutcome::Stale => None,
        };
        {
            let mut st = lock(&self.state);
            st.fetches += 1;
            match &result_for_waiters {
                Ok(()) => {
                    st.ready = st.poller.has_definitions();
                    st.last_success = Some(SystemTime::now());
                }
                Err(PollError::QuotaLimited) => st.ready = false,
                Err(_) => {}
            }
            st.last_result = Some(result_for_waiters);
        }
        self.changed.notify_all();
        error
    }

    fn report(&self, e: &ClientError) {
        if let Some(cb) = &self.config.on_error {
            cb(e);
        }
    }
}

/// The background task of one client: sleep until due (or woken), fetch, apply; until stopped.
async fn poll_loop(inner: Arc<Inner>, parts: Parts) {
    let signals = parts.signals.clone();
    let _done = DoneGuard(signals.clone());
    if !inner.polls() {
        signals.stop.notified().await;
        return;
    }
    loop {
        if inner.worker.is_stopped() {
            break;
        }
        let begin = {
            let mut st = lock(&inner.state);
            let now = Instant::now();
            match st.poller.begin(now) {
                Some(r) => Ok(r),
                None => Err(st.poller.time_until_due(now)),
            }
        };
        let req = match begin {
            Ok(r) => r,
            Err(wait) => {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = signals.wake.notified() => {}
                    _ = signals.stop.notified() => break,
                }
                continue;
            }
        };
        log::debug!(target: "hogflags", "fetching definitions (#{}, conditional: {})", req.seq, req.if_none_match.is_some());
        let fetched = tokio::select! {
            r = transport::fetch_definitions(&parts.http, &inner.config, req.if_none_match.as_deref()) => Some(r),
            _ = signals.stop.notified() => None,
        };
        match fetched {
            Some(result) => {
                inner.complete(req.seq, result);
                compile_deferred_regexes(&inner).await;
            }
            None => {
                lock(&inner.state).poller.abandon(Instant::now(), req.seq);
                break;
            }
        }
    }
}

/// Compiles the regexes the new snapshot's load budget left for later, in slices of 20 ms between which
/// the driver thread serves its other tasks, so that no evaluation pays for a first compilation.
async fn compile_deferred_regexes(inner: &Inner) {
    let snap = inner.snapshot.load_full();
    while !snap.compile_deferred_regexes(Duration::from_millis(20)) {
        if inner.worker.is_stopped() {
            return;
        }
        tokio::task::yield_now().await;
    }
}
