//! `$feature_flag_called` event records (docs/protocol.md) and their bounded dedupe.
//!
//! The core does not send events: it builds the record a host SDK must capture and hands it to the
//! binding's callback, once per (distinct id, flag key, value, sorted groups). The dedupe memory is a
//! least-recently-used set with a fixed capacity (D32: an unbounded set is a known leak in this field;
//! clearing everything at once, as Node does, causes a burst of repeats). It is split in shards so
//! threads reporting different users rarely meet on one lock.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;
use serde_json::{Map, Value};

use crate::EvaluationContext;

use super::types::{FlagDetails, Source, Unresolved};

/// The event name.
pub const FEATURE_FLAG_CALLED: &str = "$feature_flag_called";

/// One event to capture.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagCalledEvent {
    /// Always [`FEATURE_FLAG_CALLED`].
    pub event: &'static str,
    pub distinct_id: String,
    /// The groups of the call (type → key), for the capture's `groups`.
    pub groups: BTreeMap<String, String>,
    pub properties: Map<String, Value>,
}

const SHARDS: usize = 16;

/// A bounded, sharded LRU set of (distinct id, flag, value, groups) already reported.
pub struct EventDedupe {
    shards: Vec<Mutex<LruCache<u64, ()>>>,
}

impl std::fmt::Debug for EventDedupe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventDedupe").field("len", &self.len()).finish()
    }
}

impl EventDedupe {
    /// Remembers at most `capacity` combinations (rounded up to a multiple of the shard count).
    pub fn new(capacity: usize) -> EventDedupe {
        let per_shard = NonZeroUsize::new(capacity.div_ceil(SHARDS).max(1)).expect("non-zero");
        EventDedupe { shards: (0..SHARDS).map(|_| Mutex::new(LruCache::new(per_shard))).collect() }
    }

    /// `true` the first time a combination is seen (and again after it was evicted).
    pub fn first_time(&self, distinct_id: &str, flag: &str, response: &Value, groups: &BTreeMap<String, String>) -> bool {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        distinct_id.hash(&mut h);
        0xffu8.hash(&mut h);
        flag.hash(&mut h);
        0xffu8.hash(&mut h);
        response.to_string().hash(&mut h);
        for (t, k) in groups {
            t.hash(&mut h);
            k.hash(&mut h);
        }
        let key = h.finish();
        let shard = &self.shards[(key as usize) % SHARDS];
        let mut lru = shard.lock().unwrap_or_else(|p| p.into_inner());
        lru.put(key, ()).is_none()
    }

    /// Number of remembered combinations.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Upper bound of [`len`](Self::len).
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).cap().get()).sum()
    }
}

/// Builds the event for one flag call.
///
/// `minimal_gate` is the project's `minimal_flag_called_events` setting (definitions or `/flags`); when it
/// is on and the flag is known to have no experiment, only the `$feature_flag*` properties,
/// `locally_evaluated` and `$groups` are kept.
pub fn flag_called_event(
    ctx: &EvaluationContext,
    key: &str,
    outcome: &Result<FlagDetails, Unresolved>,
    minimal_gate: bool,
    definitions_loaded_at_ms: Option<i64>,
) -> FlagCalledEvent {
    let groups: BTreeMap<String, String> = ctx.groups().map(|(t, k)| (t.to_owned(), k.to_owned())).collect();
    let response = match outcome {
        Ok(d) => d.value.to_json(),
        Err(_) => Value::Null,
    };
    let mut p = Map::new();
    p.insert("$feature_flag".into(), Value::String(key.to_owned()));
    p.insert("$feature_flag_response".into(), response.clone());
    p.insert(format!("$feature/{key}"), response);
    let mut errors: Vec<String> = Vec::new();
    let mut has_experiment = None;
    match outcome {
        Ok(d) => {
            p.insert("locally_evaluated".into(), Value::Bool(d.source == Source::Local));
            if let Some(payload) = &d.payload {
                p.insert("$feature_flag_payload".into(), payload.clone());
            }
            if let Some(id) = &d.request_id {
                p.insert("$feature_flag_request_id".into(), Value::String(id.clone()));
            }
            if let Some(at) = d.evaluated_at {
                p.insert("$feature_flag_evaluated_at".into(), Value::from(at));
            }
            if let Some(r) = &d.reason {
                let text = r.description.clone().unwrap_or_else(|| r.code.clone());
                p.insert("$feature_flag_reason".into(), Value::String(text));
            }
            if let Some(v) = d.version {
                p.insert("$feature_flag_version".into(), Value::from(v));
            }
            if let Some(id) = d.flag_id {
                p.insert("$feature_flag_id".into(), Value::from(id));
            }
            if let Some(h) = d.has_experiment {
                p.insert("$feature_flag_has_experiment".into(), Value::Bool(h));
            }
            has_experiment = d.has_experiment;
            if d.errors_while_computing {
                errors.push("errors_while_computing_flags".into());
            }
            if d.source == Source::Local {
                if let Some(at) = definitions_loaded_at_ms {
                    p.insert("$feature_flag_definitions_loaded_at".into(), Value::from(at));
                }
                // A local answer is evaluated now (posthog-node sends the same).
                p.insert("$feature_flag_evaluated_at".into(), Value::from(super::cache::now_ms()));
            }
        }
        Err(u) => {
            p.insert("locally_evaluated".into(), Value::Bool(matches!(u, Unresolved::Inconclusive { .. })));
            errors.extend(u.error_code());
        }
    }
    if !errors.is_empty() {
        p.insert("$feature_flag_error".into(), Value::String(errors.join(",")));
    }
    if !groups.is_empty() {
        let g: Map<String, Value> = groups.iter().map(|(t, k)| (t.clone(), Value::String(k.clone()))).collect();
        p.insert("$groups".into(), Value::Object(g));
    }
    if minimal_gate && has_experiment == Some(false) {
        p.retain(|k, _| k.starts_with("$feature_flag") || k == "locally_evaluated" || k == "$groups");
    }
    FlagCalledEvent { event: FEATURE_FLAG_CALLED, distinct_id: ctx.distinct_id().to_owned(), groups, properties: p }
}
