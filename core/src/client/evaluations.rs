//! [`FlagEvaluations`]: the batch-evaluation object PostHog's newest SDKs recommend over one-flag getters.
//! Evaluate every flag (or a selection) once, then branch on [`is_enabled`](FlagEvaluations::is_enabled) /
//! [`get_flag`](FlagEvaluations::get_flag): each read records the flag as accessed and emits its
//! `$feature_flag_called` record (deduplicated, as one-flag calls are), so exposures are reported for
//! the flags the code actually read, not for every flag evaluated. [`only_accessed`] and [`only`] narrow
//! the set attached to a captured event ([`event_properties`]).
//!
//! [`only_accessed`]: FlagEvaluations::only_accessed
//! [`only`]: FlagEvaluations::only
//! [`event_properties`]: FlagEvaluations::event_properties

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use crate::EvaluationContext;

use super::local::{Client, Inner};
use super::types::{AllFlags, FlagDetails, OwnedFlagValue, Source, Unresolved};
use super::AllOptions;

/// The flags of one evaluation for one user, with the reads made of them. `Send + Sync`.
pub struct FlagEvaluations {
    inner: Arc<Inner>,
    /// The user the events name: distinct id and groups (no properties are kept).
    who: EvaluationContext,
    flags: BTreeMap<String, FlagDetails>,
    unresolved: BTreeMap<String, Unresolved>,
    accessed: Mutex<BTreeSet<String>>,
    /// `minimal_flag_called_events`, pinned when the evaluation was made: the definitions' for local
    /// answers, the `/flags` answer's (when it answered) for what it filled.
    local_gate: bool,
    remote_gate: Option<bool>,
    /// A slice made by `only`/`only_accessed`, meant for a captured event: reading a key it left out
    /// reports nothing (the flag was excluded, not missing), as in PostHog's SDKs.
    sliced: bool,
}

impl std::fmt::Debug for FlagEvaluations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagEvaluations").field("flags", &self.flags.keys()).field("unresolved", &self.unresolved.keys()).finish()
    }
}

impl Client {
    /// Evaluates every flag, or those of `opts.flag_keys` (with the `/flags` fallback, once, as
    /// [`get_all_flags_with`](Client::get_all_flags_with)), into a [`FlagEvaluations`]. No event is sent
    /// until a flag is read.
    pub fn evaluate_flags(&self, ctx: &EvaluationContext, opts: AllOptions<'_>) -> FlagEvaluations {
        self.evaluations(ctx, self.get_all_flags_with(ctx, opts))
    }

    /// A [`FlagEvaluations`] of a bulk answer for `ctx`'s user (for hosts that ran the two steps
    /// themselves: [`begin_all`](Client::begin_all), then `finish`).
    pub fn evaluations(&self, ctx: &EvaluationContext, all: AllFlags) -> FlagEvaluations {
        let mut who = EvaluationContext::new(ctx.distinct_id());
        for (group_type, key) in ctx.groups() {
            who = who.with_group(group_type, key);
        }
        FlagEvaluations {
            inner: self.inner().clone(),
            who,
            local_gate: self.inner().snapshot.load().minimal_flag_called_events(),
            remote_gate: all.remote_minimal_flag_called_events,
            flags: all.flags,
            unresolved: all.unresolved,
            accessed: Mutex::new(BTreeSet::new()),
            sliced: false,
        }
    }
}

impl FlagEvaluations {
    /// The flag's value (`None` when this evaluation has none), recording the read and, with
    /// `send_event`, emitting its `$feature_flag_called` record (`flag_missing` for a key not evaluated,
    /// the unresolved flag's own error otherwise).
    pub fn get_flag(&self, key: &str, send_event: bool) -> Option<&OwnedFlagValue> {
        self.access(key, send_event);
        self.flags.get(key).map(|d| &d.value)
    }

    /// Whether the flag is enabled (`true` or a variant); `default` when this evaluation has no value for
    /// it (a decided `false` stays `false`). Records the read as [`get_flag`](Self::get_flag) does.
    pub fn is_enabled(&self, key: &str, default: bool, send_event: bool) -> bool {
        self.get_flag(key, send_event).map_or(default, OwnedFlagValue::is_enabled)
    }

    /// The payload of the flag's value. Not a read: no access recorded, no event.
    pub fn payload(&self, key: &str) -> Option<&Value> {
        self.flags.get(key).and_then(|d| d.payload.as_ref())
    }

    /// The details of a flag with a value. Not a read.
    pub fn details(&self, key: &str) -> Option<&FlagDetails> {
        self.flags.get(key)
    }

    /// The keys with a value, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.flags.keys().map(String::as_str)
    }

    /// The flags evaluated without a value, and why. Not a read.
    pub fn unresolved(&self) -> &BTreeMap<String, Unresolved> {
        &self.unresolved
    }

    /// The keys read so far (with or without a value), sorted.
    pub fn accessed(&self) -> Vec<String> {
        self.accessed.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }

    /// A slice holding only the flags with a value read so far (empty if none was read yet), for a
    /// captured event: flags the server marked failed stay (a read reports `evaluation_failed`), other
    /// unresolved flags do not, the reads made so far carry over, and reading a key it left out reports
    /// nothing.
    pub fn only_accessed(&self) -> FlagEvaluations {
        let keys = self.accessed();
        self.subset(keys.iter().map(String::as_str))
    }

    /// A slice holding only `keys` (as [`only_accessed`](Self::only_accessed)); keys without a value
    /// here are dropped with a warning in the log.
    pub fn only(&self, keys: &[&str]) -> FlagEvaluations {
        let missing: Vec<&str> = keys.iter().copied().filter(|k| !self.flags.contains_key(*k)).collect();
        if !missing.is_empty() {
            log::warn!(target: "hogflags", "FlagEvaluations::only: keys not in this evaluation are dropped: {}", missing.join(", "));
        }
        self.subset(keys.iter().copied())
    }

    /// The properties a captured event carries for these flags: `$feature/<key>` for every flag with a
    /// value, and `$active_feature_flags` (the enabled keys, sorted) when there is one.
    pub fn event_properties(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut active = Vec::new();
        for (key, d) in &self.flags {
            out.insert(format!("$feature/{key}"), d.value.to_json());
            if d.value.is_enabled() {
                active.push(Value::String(key.clone()));
            }
        }
        if !active.is_empty() {
            out.insert("$active_feature_flags".into(), Value::Array(active));
        }
        out
    }

    fn subset<'k>(&self, keys: impl Iterator<Item = &'k str>) -> FlagEvaluations {
        // As PostHog's SDKs: a slice keeps the selected flags with a value and those the server marked
        // failed (a read reports `evaluation_failed`), and the reads made so far.
        let mut flags = BTreeMap::new();
        let mut unresolved = BTreeMap::new();
        for k in keys {
            if let Some(d) = self.flags.get(k) {
                flags.insert(k.to_owned(), d.clone());
            } else if let Some(u @ Unresolved::EvaluationFailed) = self.unresolved.get(k) {
                unresolved.insert(k.to_owned(), u.clone());
            }
        }
        FlagEvaluations {
            inner: self.inner.clone(),
            who: self.who.clone(),
            local_gate: self.local_gate,
            remote_gate: self.remote_gate,
            flags,
            unresolved,
            accessed: Mutex::new(self.accessed.lock().unwrap_or_else(|p| p.into_inner()).clone()),
            sliced: true,
        }
    }

    fn access(&self, key: &str, send_event: bool) {
        {
            let mut accessed = self.accessed.lock().unwrap_or_else(|p| p.into_inner());
            if !accessed.contains(key) {
                accessed.insert(key.to_owned());
            }
        }
        // A slice reports nothing for a key it left out: that flag was excluded, not missing.
        let left_out = self.sliced && !self.flags.contains_key(key) && !self.unresolved.contains_key(key);
        if send_event && !left_out {
            let outcome = match (self.flags.get(key), self.unresolved.get(key)) {
                (Some(d), _) => Ok(d.clone()),
                (None, Some(u)) => Err(u.clone()),
                (None, None) => Err(Unresolved::FlagMissing),
            };
            let from_remote = match &outcome {
                Ok(d) => d.source == Source::Remote,
                Err(u) => !matches!(u, Unresolved::Inconclusive { .. }),
            };
            let gate = if from_remote { self.remote_gate.unwrap_or(self.local_gate) } else { self.local_gate };
            self.inner.emit(key, &self.who, &outcome, gate);
        }
    }
}
