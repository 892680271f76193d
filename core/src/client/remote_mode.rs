//! [`RemoteClient`]: remote mode for mobile and client-side apps.
//!
//! No definitions and no secret key: the app's one user's flags are fetched from `/flags` (all of them,
//! in one request), kept in memory and, if configured, on disk (so an app that starts offline has the last
//! known flags at once), refreshed on an interval or on demand, and a listener hears which keys changed.
//! A failed refresh keeps the last values; a quota-limited answer clears them, as for definitions.
//! Reads never block on the network and take no lock.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::{EvaluationContext, EvaluationRuntime};

use super::cache::{self, CacheEntry};
use super::config::{Config, DriverMode};
use super::driver::{lock, DoneGuard, Parts, WorkerSlot};
use super::error::{ClientError, RemoteError, WaitError};
use super::events::{self, EventDedupe};
use super::poller::{Backoff, Jitter, PollerConfig};
use super::remote::{self, RemoteFlags};
use super::transport;
use super::types::{FlagDetails, FlagsChanged, TickOutcome, Unresolved};

const CACHE_KIND: &str = "remote_flags";

#[derive(Debug, Default)]
struct Values {
    loaded: bool,
    quota_limited: bool,
    minimal: bool,
    flags: BTreeMap<String, FlagDetails>,
    /// Keys the last answer marked failed.
    failed: std::collections::BTreeSet<String>,
}

struct State {
    next_at: Instant,
    backoff: Backoff,
    jitter: Jitter,
    refreshes: u64,
    last_error: Option<RemoteError>,
    context_generation: u64,
    shut_down: bool,
}

struct Inner {
    config: Arc<Config>,
    context: Mutex<Arc<EvaluationContext>>,
    values: ArcSwap<Values>,
    state: Mutex<State>,
    changed: Condvar,
    worker: WorkerSlot,
    dedupe: EventDedupe,
    /// Serialises refreshes, so an older answer never overwrites a newer one.
    refresh_lock: tokio::sync::Mutex<()>,
}

/// A remote-mode client for one user at a time.
pub struct RemoteClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RemoteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteClient").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl RemoteClient {
    /// Creates the client for `context`'s user, loads that user's cached flags if any, and (in
    /// background mode) starts refreshing at once.
    pub fn new(config: Config, context: EvaluationContext) -> Result<RemoteClient, ClientError> {
        config.validate()?;
        let inner = Arc::new(Inner {
            dedupe: EventDedupe::new(config.dedupe_capacity),
            config: Arc::new(config),
            context: Mutex::new(Arc::new(context)),
            values: ArcSwap::from_pointee(Values::default()),
            state: Mutex::new(State {
                next_at: Instant::now(),
                backoff: Backoff::new(),
                jitter: Jitter::new(Jitter::seed_from_environment()),
                refreshes: 0,
                last_error: None,
                context_generation: 0,
                shut_down: false,
            }),
            changed: Condvar::new(),
            worker: WorkerSlot::new(),
            refresh_lock: tokio::sync::Mutex::new(()),
        });
        inner.load_cache();
        let client = RemoteClient { inner };
        client.parts()?;
        Ok(client)
    }

    fn parts(&self) -> Result<Parts, ClientError> {
        let inner = self.inner.clone();
        self.inner.worker.get(&self.inner.config, || {}, move |parts| {
            let parts = parts.clone();
            async move { refresh_loop(inner, parts).await }
        })
    }

    fn check_fork(&self) {
        if self.inner.worker.needs_start() && !self.inner.worker.is_stopped() {
            if let Err(e) = self.parts() {
                log::warn!(target: "hogflags", "cannot restart the remote client after a fork: {e}");
            }
        }
    }

    /// The current context.
    pub fn context(&self) -> Arc<EvaluationContext> {
        lock(&self.inner.context).clone()
    }

    /// Replaces the user (identify, new properties). The flags shown stay those of the last answer until
    /// the refresh this schedules at once completes (call [`refresh`](Self::refresh) to wait for it).
    pub fn set_context(&self, context: EvaluationContext) {
        *lock(&self.inner.context) = Arc::new(context);
        {
            let mut st = lock(&self.inner.state);
            st.context_generation += 1;
            st.next_at = Instant::now();
        }
        if let Ok(parts) = self.parts() {
            parts.signals.wake.notify_one();
        }
    }

    /// One flag from the last answer, with a deduplicated `$feature_flag_called` event.
    pub fn get_flag(&self, key: &str) -> Result<FlagDetails, Unresolved> {
        self.check_fork();
        let values = self.inner.values.load();
        let outcome = if values.quota_limited {
            Err(Unresolved::QuotaLimited)
        } else if !values.loaded {
            Err(Unresolved::NotLoaded)
        } else {
            match values.flags.get(key) {
                Some(d) => Ok(d.clone()),
                None if values.failed.contains(key) => Err(Unresolved::EvaluationFailed),
                None => Err(Unresolved::FlagMissing),
            }
        };
        if let Some(cb) = &self.inner.config.on_flag_called {
            let ctx = self.context();
            events::report(&self.inner.dedupe, cb.as_ref(), &ctx, key, &outcome, values.minimal, None);
        }
        outcome
    }

    pub fn is_enabled(&self, key: &str) -> Option<bool> {
        self.get_flag(key).ok().map(|d| d.value.is_enabled())
    }

    /// Every flag of the last answer (empty before the first one).
    pub fn all_flags(&self) -> BTreeMap<String, FlagDetails> {
        self.inner.values.load().flags.clone()
    }

    /// Whether an answer (or the cache) has been loaded.
    pub fn is_loaded(&self) -> bool {
        self.inner.values.load().loaded
    }

    /// Fetches the user's flags now and waits for the answer. Returns the keys that changed.
    pub fn refresh(&self) -> Result<Vec<String>, RemoteError> {
        let parts = self.parts().map_err(|_| RemoteError::ShutDown)?;
        let inner = self.inner.clone();
        let timeout = self.inner.config.remote_timeout * 2 + Duration::from_secs(2);
        let exec = parts.exec.clone();
        exec.run(async move { inner.refresh(&parts).await }, timeout, self.inner.config.interrupt_check.as_ref())
            .unwrap_or_else(|e| Err(e.into_remote()))
    }

    /// Manual mode: refreshes if due; says when to call again.
    pub fn tick(&self) -> Result<TickOutcome, ClientError> {
        if self.inner.config.driver != DriverMode::Manual {
            return Err(ClientError::NotManual);
        }
        let now = Instant::now();
        let due_in = lock(&self.inner.state).next_at.saturating_duration_since(now);
        if !due_in.is_zero() {
            return Ok(TickOutcome { fetched: false, next_tick_in: due_in, error: None });
        }
        let error = match self.refresh() {
            Err(RemoteError::Interrupted) => return Err(ClientError::Interrupted),
            r => r.err().map(ClientError::Remote),
        };
        let next = lock(&self.inner.state).next_at.saturating_duration_since(Instant::now());
        Ok(TickOutcome { fetched: true, next_tick_in: next, error })
    }

    /// Waits until flags are loaded (from the network or the cache). Manual mode drives the refreshes.
    pub fn wait_until_ready(&self, timeout: Duration) -> Result<(), WaitError> {
        self.check_fork();
        let deadline = Instant::now() + timeout;
        loop {
            if self.inner.values.load().loaded {
                return Ok(());
            }
            let now = Instant::now();
            let st = lock(&self.inner.state);
            if st.shut_down {
                return Err(WaitError::ShutDown);
            }
            if now >= deadline {
                return Err(WaitError::Timeout { waited: timeout, last_error: st.last_error.clone().map(ClientError::Remote) });
            }
            if self.inner.config.driver == DriverMode::Manual {
                drop(st);
                if self.inner.config.interrupted() {
                    return Err(WaitError::Failed(ClientError::Interrupted));
                }
                match self.tick() {
                    Ok(t) if !t.fetched => std::thread::sleep(t.next_tick_in.min(deadline - now).min(Duration::from_millis(50))),
                    Ok(_) => {}
                    Err(e) => return Err(WaitError::Failed(e)),
                }
            } else {
                drop(self.inner.config.wait_step(&self.inner.changed, st, deadline - now).map_err(WaitError::Failed)?);
            }
        }
    }

    pub fn last_error(&self) -> Option<RemoteError> {
        lock(&self.inner.state).last_error.clone()
    }

    /// Stops refreshing (bounded wait for the task). Idempotent; reads keep working.
    pub fn shutdown(&self) {
        lock(&self.inner.state).shut_down = true;
        self.inner.changed.notify_all();
        self.inner.worker.stop(true);
    }
}

impl Drop for RemoteClient {
    fn drop(&mut self) {
        self.inner.worker.stop(false);
    }
}

impl Inner {
    fn load_cache(&self) {
        let Some(path) = &self.config.cache_path else { return };
        let entry = match cache::read(path, CACHE_KIND) {
            Ok(e) => e,
            Err(cache::CacheError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                log::warn!(target: "hogflags", "ignoring the flags cache: {e}");
                return;
            }
        };
        let ctx = lock(&self.context).clone();
        if entry.distinct_id.as_deref() != Some(ctx.distinct_id()) {
            log::debug!(target: "hogflags", "flags cache belongs to another user; not used");
            return;
        }
        match remote::parse_response(&entry.body) {
            Ok(rf) => {
                log::info!(target: "hogflags", "loaded {} flags from the cache", rf.flags.len());
                self.values.store(Arc::new(values_of(rf)));
            }
            Err(e) => log::warn!(target: "hogflags", "ignoring the flags cache: {e}"),
        }
    }

    async fn refresh(&self, parts: &Parts) -> Result<Vec<String>, RemoteError> {
        let _serial = self.refresh_lock.lock().await;
        let (ctx, generation) = {
            let ctx = lock(&self.context).clone();
            (ctx, lock(&self.state).context_generation)
        };
        let runtime = self.config.runtime_or(EvaluationRuntime::Client);
        let body = serde_json::to_vec(&remote::request_body(&self.config, &ctx, None, runtime))
            .map_err(|e| RemoteError::Malformed(e.to_string()))?;
        let result = match transport::post_flags(&parts.http, &self.config, &body).await {
            Ok(bytes) => remote::parse_response(&bytes).map(|rf| (rf, bytes)),
            Err(e) => Err(e),
        };
        self.apply(result, &ctx, generation)
    }

    fn apply(&self, result: Result<(RemoteFlags, Vec<u8>), RemoteError>, ctx: &EvaluationContext, generation: u64) -> Result<Vec<String>, RemoteError> {
        let interval = self.config.poll_interval;
        let mut st = lock(&self.state);
        st.refreshes += 1;
        let now = Instant::now();
        let (rf, bytes) = match result {
            Err(e) => {
                let base = PollerConfig::new(interval).retry_base();
                let d = st.backoff.fail(base, interval);
                st.next_at = now + st.jitter.spread(d, self.config.jitter);
                st.last_error = Some(e.clone());
                drop(st);
                self.changed.notify_all();
                log::warn!(target: "hogflags", "{e}; keeping the last flags");
                if let Some(cb) = &self.config.on_error {
                    cb(&ClientError::Remote(e.clone()));
                }
                return Err(e);
            }
            Ok(x) => x,
        };
        st.backoff.reset();
        st.last_error = None;
        st.next_at = now + st.jitter.spread(interval, self.config.jitter);
        if generation != st.context_generation {
            // The user changed while this request was out: its answer is not theirs.
            st.next_at = now;
            return Ok(Vec::new());
        }
        drop(st);
        let quota = rf.quota_limited;
        let new_values = values_of(rf);
        let old = self.values.load_full();
        let mut changed: Vec<String> = Vec::new();
        for (k, d) in &new_values.flags {
            match old.flags.get(k) {
                Some(o) if o.value == d.value && o.payload == d.payload => {}
                _ => changed.push(k.clone()),
            }
        }
        changed.extend(old.flags.keys().filter(|k| !new_values.flags.contains_key(*k)).cloned());
        changed.sort();
        let snapshot = new_values.flags.clone();
        if quota {
            log::error!(target: "hogflags", "{}", RemoteError::QuotaLimited);
            if let Some(cb) = &self.config.on_error {
                cb(&ClientError::Remote(RemoteError::QuotaLimited));
            }
        } else if let Some(path) = &self.config.cache_path {
            let entry = CacheEntry {
                kind: CACHE_KIND.into(),
                etag: None,
                saved_at_ms: cache::now_ms(),
                distinct_id: Some(ctx.distinct_id().to_owned()),
                body: bytes,
            };
            if let Err(e) = cache::write(path, &entry) {
                log::warn!(target: "hogflags", "cannot write the flags cache: {e}");
            }
        }
        // Published after the cache write, so a caller that sees the values also finds them on disk.
        self.values.store(Arc::new(new_values));
        self.changed.notify_all();
        if !changed.is_empty() {
            if let Some(cb) = &self.config.on_flags_changed {
                cb(&FlagsChanged { changed: changed.clone(), flags: snapshot });
            }
        }
        Ok(changed)
    }
}

fn values_of(rf: RemoteFlags) -> Values {
    Values {
        loaded: true,
        quota_limited: rf.quota_limited,
        minimal: rf.minimal_flag_called_events,
        failed: rf.failed,
        flags: if rf.quota_limited { BTreeMap::new() } else { rf.flags },
    }
}

async fn refresh_loop(inner: Arc<Inner>, parts: Parts) {
    let signals = parts.signals.clone();
    let _done = DoneGuard(signals.clone());
    loop {
        if inner.worker.is_stopped() {
            break;
        }
        let wait = lock(&inner.state).next_at.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = signals.wake.notified() => {}
                _ = signals.stop.notified() => break,
            }
            continue;
        }
        tokio::select! {
            _ = inner.refresh(&parts) => {}
            _ = signals.stop.notified() => break,
        }
    }
}
