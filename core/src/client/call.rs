//! The two-step call of every host: a local step that never blocks, then, only when local evaluation
//! cannot decide and the `/flags` fallback is allowed, a remote step that blocks.
//!
//! Hosts differ only in *where* they block (Python releases the GIL, Node returns a promise, C and
//! UniFFI block the caller), so the fallback rule lives here, once, for every binding:
//!
//! * a flag the current snapshot decides is final: a local answer is exact and never replaced;
//! * an undecided flag is asked of `/flags` when the fallback is allowed ([`Inner::remote_allowed`]: not
//!   `only_evaluate_locally` for the call or the client, `fallback_to_remote` on) and the flag is served
//!   in this client's runtime (the server answers nothing for another runtime's flag, D14);
//! * a bulk call asks `/flags` once, for the undecided *selected* keys only (D31); with no definitions
//!   loaded, for every selected key, or every flag when no keys are selected.
//!
//! Each flag is evaluated once per call, on the snapshot the local step loaded, and a pending remote step
//! carries that step's answers: the decision and the answer never come from two snapshots. A one-flag
//! call emits its `$feature_flag_called` record once, with the final outcome.

use std::sync::Arc;
use std::time::Duration;

use crate::{Evaluation, EvaluationContext, EvaluationRuntime, FlagSnapshot};

use super::error::RemoteError;
use super::events;
use super::local::{Client, Inner};
use super::remote::{self, RemoteFlags};
use super::transport;
use super::types::{AllFlags, FlagDetails, Unresolved};

/// Per-call options of a one-flag call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagOptions {
    /// Do not ask `/flags` even if the flag is inconclusive.
    pub only_evaluate_locally: bool,
    /// Report a `$feature_flag_called` event (deduplicated) through `on_flag_called`.
    pub send_event: bool,
}

impl Default for FlagOptions {
    fn default() -> Self {
        FlagOptions { only_evaluate_locally: false, send_event: true }
    }
}

/// Per-call options of a bulk call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllOptions<'k> {
    /// Do not ask `/flags` even if some flag is inconclusive.
    pub only_evaluate_locally: bool,
    /// Only these flags, each present in the answer (a key not loaded and not answered by `/flags` is
    /// unresolved: `unknown_flag` locally, `flag_missing` after `/flags`). `None`: every loaded flag.
    pub flag_keys: Option<&'k [&'k str]>,
}

/// The local step of a one-flag call.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // the answer is returned by value on the hot path: no box, no allocation
pub enum FlagStep {
    /// The final outcome (its event, if asked for, already emitted).
    Done(Result<FlagDetails, Unresolved>),
    /// Local evaluation could not decide and `/flags` is to be asked: call [`PendingFlag::finish`].
    Remote(PendingFlag),
}

/// A one-flag call waiting for its remote step. `Send + 'static`: it may finish on another thread.
pub struct PendingFlag {
    inner: Arc<Inner>,
    key: String,
    send_event: bool,
    /// The snapshot's `minimal_flag_called_events`, for the event if `/flags` does not answer.
    minimal_gate: bool,
}

impl std::fmt::Debug for PendingFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFlag").field("key", &self.key).finish()
    }
}

impl PendingFlag {
    /// The flag asked for.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Asks `/flags` (blocking, bounded by the remote timeout) with `ctx`, which should carry every
    /// property the caller has (the server reads them all), and emits the event.
    pub fn finish(self, ctx: &EvaluationContext) -> Result<FlagDetails, Unresolved> {
        let (outcome, gate) = match self.inner.remote_flags(ctx, Some(&[self.key.as_str()])) {
            Ok(rf) if rf.quota_limited => (Err(Unresolved::QuotaLimited), rf.minimal_flag_called_events),
            Ok(rf) => (rf.outcome(&self.key), rf.minimal_flag_called_events),
            Err(e) => (Err(Unresolved::Remote(e)), self.minimal_gate),
        };
        if self.send_event {
            self.inner.emit(&self.key, ctx, &outcome, gate);
        }
        outcome
    }
}

/// The local step of a bulk call.
#[derive(Debug)]
pub enum AllStep {
    /// The final answer.
    Done(AllFlags),
    /// Some selected flags are undecided and `/flags` is to be asked: call [`PendingAll::finish`].
    Remote(PendingAll),
}

/// A bulk call waiting for its one `/flags` request. `Send + 'static`.
pub struct PendingAll {
    inner: Arc<Inner>,
    /// The local answers, final for every decided flag.
    local: AllFlags,
    /// The keys to ask for; `None`: every flag (no definitions loaded, no keys selected).
    ask: Option<Vec<String>>,
}

impl std::fmt::Debug for PendingAll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAll").field("ask", &self.ask).finish()
    }
}

impl PendingAll {
    /// The keys `/flags` will be asked for (`None`: every flag).
    pub fn keys_asked(&self) -> Option<&[String]> {
        self.ask.as_deref()
    }

    /// Asks `/flags` once (blocking) with `ctx` (every property the caller has) and fills the undecided
    /// flags only.
    pub fn finish(self, ctx: &EvaluationContext) -> AllFlags {
        let PendingAll { inner, mut local, ask } = self;
        let keys: Option<Vec<&str>> = ask.as_ref().map(|a| a.iter().map(String::as_str).collect());
        local.remote_called = true;
        match inner.remote_flags(ctx, keys.as_deref()) {
            Ok(rf) if rf.quota_limited => {
                local.remote_minimal_flag_called_events = Some(rf.minimal_flag_called_events);
                for k in keys.iter().flatten() {
                    local.unresolved.insert((*k).to_owned(), Unresolved::QuotaLimited);
                }
            }
            Ok(rf) => {
                local.remote_minimal_flag_called_events = Some(rf.minimal_flag_called_events);
                for k in keys.iter().flatten() {
                    match rf.outcome(k) {
                        Ok(d) => {
                            local.unresolved.remove(*k);
                            local.flags.insert((*k).to_owned(), d);
                        }
                        Err(why) => {
                            local.unresolved.insert((*k).to_owned(), why);
                        }
                    }
                }
                if keys.is_none() {
                    for (k, d) in rf.flags {
                        local.flags.entry(k).or_insert(d);
                    }
                }
            }
            Err(e) => {
                for k in keys.iter().flatten() {
                    local.unresolved.insert((*k).to_owned(), Unresolved::Remote(e.clone()));
                }
                local.remote_error = Some(e);
            }
        }
        local
    }
}

/// Whether `/flags` can answer `key`: a flag of another runtime is not served to this client (D14).
fn askable(snap: &FlagSnapshot, key: &str) -> bool {
    snap.flag(key).is_none_or(|f| f.evaluation_runtime.served_in(snap.evaluator_runtime()))
}

impl Client {
    /// The local step of a one-flag call: never blocks. `ctx` needs only the properties the flag reads
    /// (see [`FlagSnapshot::flag_property_keys`]); the remote step takes the full context.
    pub fn begin_flag(&self, key: &str, ctx: &EvaluationContext, opts: FlagOptions) -> FlagStep {
        self.begin_flag_on(&self.snapshot(), key, ctx, opts)
    }

    /// [`begin_flag`](Self::begin_flag) on `snap`, a snapshot the host took with
    /// [`snapshot`](Self::snapshot) to convert the context for (so that the properties it converted are
    /// those the evaluation reads, even when new definitions arrive in between).
    pub fn begin_flag_on(&self, snap: &FlagSnapshot, key: &str, ctx: &EvaluationContext, opts: FlagOptions) -> FlagStep {
        let inner = self.inner();
        let minimal_gate = snap.minimal_flag_called_events();
        let outcome = match snap.evaluate(key, ctx) {
            Evaluation::Decided(r) => Ok(FlagDetails::from_local(&r, snap.flag(key).and_then(|i| i.has_experiment))),
            Evaluation::Inconclusive(i) => {
                if inner.remote_allowed(opts.only_evaluate_locally) && askable(snap, key) {
                    return FlagStep::Remote(PendingFlag {
                        inner: inner.clone(),
                        key: key.to_owned(),
                        send_event: opts.send_event,
                        minimal_gate,
                    });
                }
                Err(Unresolved::Inconclusive { kind: i.kind, detail: i.detail.map(str::to_owned) })
            }
        };
        if opts.send_event {
            inner.emit(key, ctx, &outcome, minimal_gate);
        }
        FlagStep::Done(outcome)
    }

    /// One flag, with a deduplicated `$feature_flag_called` event.
    pub fn get_flag(&self, key: &str, ctx: &EvaluationContext) -> Result<FlagDetails, Unresolved> {
        self.get_flag_with(key, ctx, FlagOptions::default())
    }

    /// `Some(true/false)` when the flag resolves (a variant counts as enabled), `None` when it does not.
    pub fn is_enabled(&self, key: &str, ctx: &EvaluationContext) -> Option<bool> {
        self.get_flag(key, ctx).ok().map(|d| d.value.is_enabled())
    }

    /// One flag, both steps on this thread (`ctx` is used for both).
    pub fn get_flag_with(&self, key: &str, ctx: &EvaluationContext, opts: FlagOptions) -> Result<FlagDetails, Unresolved> {
        match self.begin_flag(key, ctx, opts) {
            FlagStep::Done(r) => r,
            FlagStep::Remote(p) => p.finish(ctx),
        }
    }

    /// The local step of a bulk call: never blocks. Every selected flag is evaluated once.
    pub fn begin_all(&self, ctx: &EvaluationContext, opts: AllOptions<'_>) -> AllStep {
        self.begin_all_on(&self.snapshot(), ctx, opts)
    }

    /// [`begin_all`](Self::begin_all) on `snap` (see [`begin_flag_on`](Self::begin_flag_on)).
    pub fn begin_all_on(&self, snap: &FlagSnapshot, ctx: &EvaluationContext, opts: AllOptions<'_>) -> AllStep {
        let inner = self.inner();
        let evaluated = match opts.flag_keys {
            Some(keys) => snap.evaluate_keys(ctx, keys),
            None => snap.evaluate_all(ctx),
        };
        let mut out = AllFlags::default();
        let mut undecided: Vec<String> = Vec::new();
        for (key, ev) in evaluated {
            match ev {
                Evaluation::Decided(r) => {
                    let d = FlagDetails::from_local(&r, snap.flag(key).and_then(|i| i.has_experiment));
                    out.flags.insert(key.to_owned(), d);
                }
                Evaluation::Inconclusive(i) => {
                    if askable(snap, key) && !out.unresolved.contains_key(key) {
                        undecided.push(key.to_owned());
                    }
                    out.unresolved
                        .insert(key.to_owned(), Unresolved::Inconclusive { kind: i.kind, detail: i.detail.map(str::to_owned) });
                }
            }
        }
        let ask_every_flag = snap.is_empty() && opts.flag_keys.is_none();
        if !inner.remote_allowed(opts.only_evaluate_locally) || (undecided.is_empty() && !ask_every_flag) {
            return AllStep::Done(out);
        }
        AllStep::Remote(PendingAll { inner: inner.clone(), local: out, ask: (!ask_every_flag).then_some(undecided) })
    }

    /// Every flag: local values, plus `/flags` (once, for the undecided keys only) when needed (D31).
    pub fn get_all_flags(&self, ctx: &EvaluationContext) -> AllFlags {
        self.get_all_flags_with(ctx, AllOptions::default())
    }

    /// A bulk call, both steps on this thread.
    pub fn get_all_flags_with(&self, ctx: &EvaluationContext, opts: AllOptions<'_>) -> AllFlags {
        match self.begin_all(ctx, opts) {
            AllStep::Done(all) => all,
            AllStep::Remote(p) => p.finish(ctx),
        }
    }

    /// Asks `/flags` directly (3 s timeout, one retry on transport errors, 502 and 504).
    pub fn remote_flags(&self, ctx: &EvaluationContext, flag_keys: Option<&[&str]>) -> Result<RemoteFlags, RemoteError> {
        self.inner().remote_flags(ctx, flag_keys)
    }
}

impl Inner {
    /// The fallback rule's switch: `/flags` may be asked unless the call or the client is local-only.
    pub(super) fn remote_allowed(&self, only_evaluate_locally: bool) -> bool {
        !only_evaluate_locally && !self.config.only_evaluate_locally && self.config.fallback_to_remote
    }

    pub(super) fn remote_flags(self: &Arc<Self>, ctx: &EvaluationContext, flag_keys: Option<&[&str]>) -> Result<RemoteFlags, RemoteError> {
        let parts = self.parts().map_err(|_| RemoteError::ShutDown)?;
        let config = self.config.clone();
        let body = serde_json::to_vec(&remote::request_body(&config, ctx, flag_keys, config.runtime_or(EvaluationRuntime::Server)))
            .map_err(|e| RemoteError::Malformed(e.to_string()))?;
        let http = parts.http.clone();
        let timeout = config.remote_timeout * 2 + Duration::from_secs(2);
        let fut = async move {
            let bytes = transport::post_flags(&http, &config, &body).await?;
            remote::parse_response(&bytes)
        };
        parts.exec.run(fut, timeout, self.config.interrupt_check.as_ref()).unwrap_or_else(|e| Err(e.into_remote()))
    }

    pub(super) fn emit(&self, key: &str, ctx: &EvaluationContext, outcome: &Result<FlagDetails, Unresolved>, minimal_gate: bool) {
        let Some(cb) = &self.config.on_flag_called else { return };
        let loaded = self.loaded_at_ms.load(std::sync::atomic::Ordering::Relaxed);
        events::report(&self.dedupe, cb.as_ref(), ctx, key, outcome, minimal_gate, (loaded > 0).then_some(loaded));
    }
}
