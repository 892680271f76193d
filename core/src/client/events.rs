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
/// The exposure event of an experiment split, sent beside `$feature_flag_called` (config version 2).
pub const EXPERIMENT_EXPOSURE: &str = "$experiment_exposure";

/// One event to capture.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagCalledEvent {
    /// [`FEATURE_FLAG_CALLED`], or [`EXPERIMENT_EXPOSURE`] for the exposure of an experiment split.
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

    /// `true` the first time a combination is seen (and again after it was evicted): the dedupe of a
    /// `$feature_flag_called` event without rule attribution, as [`flag_events`] keys it.
    pub fn first_time(&self, distinct_id: &str, flag: &str, response: &Value, groups: &BTreeMap<String, String>) -> bool {
        self.first_time_key(&called_key(distinct_id, flag, response, groups))
    }

    /// `true` the first time `key` (any text naming one event) is seen.
    pub fn first_time_key(&self, key: &str) -> bool {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        0xfeu8.hash(&mut h);
        key.hash(&mut h);
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

/// What a minimal `$feature_flag_called` keeps (PostHog's cross-SDK allowlist, as far as the core
/// builds the properties; the host's own session and campaign properties are its to keep), with the
/// config-version-2 attribution. Anything else, such as the payload or `$feature/<key>`, is left out.
pub const MINIMAL_PROPERTIES: &[&str] = &[
    "$feature_flag",
    "$feature_flag_response",
    "$feature_flag_has_experiment",
    "$feature_flag_id",
    "$feature_flag_version",
    "$feature_flag_reason",
    "$feature_flag_request_id",
    "$feature_flag_evaluated_at",
    "$feature_flag_error",
    "locally_evaluated",
    "$groups",
    "$feature_flag_config_version",
    "$feature_flag_reason_code",
    "$feature_flag_rule_id",
    "$feature_flag_rule_type",
    "$feature_flag_variant_key",
];

/// Builds the event for one flag call.
///
/// `minimal_gate` is the project's `minimal_flag_called_events` setting (definitions or `/flags`); when it
/// is on and the flag is known to have no experiment, only [`MINIMAL_PROPERTIES`] are kept.
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
        p.retain(|k, _| MINIMAL_PROPERTIES.contains(&k.as_str()));
    }
    FlagCalledEvent { event: FEATURE_FLAG_CALLED, distinct_id: ctx.distinct_id().to_owned(), groups, properties: p }
}

/// The dedupe text of a `$feature_flag_called` event without rule attribution.
fn called_key(distinct_id: &str, flag: &str, response: &Value, groups: &BTreeMap<String, String>) -> String {
    serde_json::json!([distinct_id, flag, response, groups, 1]).to_string()
}

/// What a config-version-2 `/flags?v=4` record attributes its value to, as posthog-node reports it.
struct Attribution<'a> {
    reason_code: Option<&'a str>,
    rule: Option<(&'a str, &'a str)>,
    /// Set only for a complete experiment split (the outcome that sends an exposure).
    variant_key: Option<&'a str>,
}

/// The reason codes that report a rule, and the rule types each allows.
fn allowed_rule_types(reason_code: &str) -> &'static [&'static str] {
    match reason_code {
        "targeting_match" => &["targeted_release", "percentage_rollout"],
        "experiment_split" => &["experiment"],
        "rollout_miss" => &["percentage_rollout", "experiment"],
        "experiment_paused" | "holdout" => &["experiment"],
        _ => &[],
    }
}

/// A hyphenated UUID, the rule id's wire format.
fn is_hyphenated_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() })
}

fn attribution(d: &FlagDetails) -> Option<Attribution<'_>> {
    let a = d.attribution.as_ref()?;
    if a.config_version != Some(2) {
        return None;
    }
    let reason_code = d.reason.as_ref().map(|r| r.code.as_str()).filter(|c| !c.is_empty());
    let none = Attribution { reason_code, rule: None, variant_key: None };
    let allowed = reason_code.map(allowed_rule_types).unwrap_or(&[]);
    let (Some(id), Some(kind)) = (a.rule_id.as_deref(), a.rule_type.as_deref()) else { return Some(none) };
    if !is_hyphenated_uuid(id) || !allowed.contains(&kind) {
        return Some(none);
    }
    if reason_code != Some("experiment_split") {
        return Some(Attribution { rule: Some((id, kind)), ..none });
    }
    match a.variant_key.as_deref() {
        Some(v) => Some(Attribution { reason_code, rule: Some((id, kind)), variant_key: Some(v) }),
        None => Some(none),
    }
}

/// Builds the events of one flag read, each with the text its dedupe remembers it by: the
/// `$feature_flag_called` (for a config-version-2 remote answer, with its rule attribution in place of
/// `$feature_flag_reason`, and remembered with it), and for a complete experiment split also the
/// `$experiment_exposure`, remembered by assignment (flag, groups, rule and variant), not by value.
pub fn flag_events(
    ctx: &EvaluationContext,
    key: &str,
    outcome: &Result<FlagDetails, Unresolved>,
    minimal_gate: bool,
    definitions_loaded_at_ms: Option<i64>,
) -> Vec<(String, FlagCalledEvent)> {
    let mut called = flag_called_event(ctx, key, outcome, minimal_gate, definitions_loaded_at_ms);
    let response = called.properties.get("$feature_flag_response").cloned().unwrap_or(Value::Null);
    let groups = serde_json::to_string(&called.groups).unwrap_or_default();
    let Some(a) = outcome.as_ref().ok().and_then(attribution) else {
        return vec![(called_key(ctx.distinct_id(), key, &response, &called.groups), called)];
    };
    let p = &mut called.properties;
    p.remove("$feature_flag_reason");
    p.insert("$feature_flag_config_version".into(), Value::from(2));
    if let Some(code) = a.reason_code {
        p.insert("$feature_flag_reason_code".into(), Value::from(code));
    }
    if let Some((id, kind)) = a.rule {
        p.insert("$feature_flag_rule_id".into(), Value::from(id));
        p.insert("$feature_flag_rule_type".into(), Value::from(kind));
    }
    if let Some(v) = a.variant_key {
        p.insert("$feature_flag_variant_key".into(), Value::from(v));
    }
    let (rule_id, rule_type) = a.rule.map_or((None, None), |(i, t)| (Some(i), Some(t)));
    let dedupe =
        serde_json::json!([ctx.distinct_id(), key, response, groups, 2, a.reason_code, rule_id, rule_type, a.variant_key])
            .to_string();
    let mut out = Vec::with_capacity(2);
    if let (Some(variant), Some(rule_id)) = (a.variant_key, rule_id) {
        let mut e = Map::new();
        for name in ["$feature_flag_id", "$feature_flag_version", "$feature_flag_request_id", "$feature_flag_evaluated_at"] {
            if let Some(v) = called.properties.get(name) {
                e.insert(name.into(), v.clone());
            }
        }
        e.insert("$feature_flag".into(), Value::from(key));
        e.insert("$feature_flag_response".into(), response.clone());
        e.insert("$feature_flag_variant_key".into(), Value::from(variant));
        e.insert("$feature_flag_rule_id".into(), Value::from(rule_id));
        e.insert("locally_evaluated".into(), called.properties.get("locally_evaluated").cloned().unwrap_or(Value::Bool(false)));
        if let Some(g) = called.properties.get("$groups") {
            e.insert("$groups".into(), g.clone());
        }
        let exposure = FlagCalledEvent {
            event: EXPERIMENT_EXPOSURE,
            distinct_id: called.distinct_id.clone(),
            groups: called.groups.clone(),
            properties: e,
        };
        let exposure_key = serde_json::json!(["exposure", ctx.distinct_id(), key, groups, 2, rule_id, variant]).to_string();
        out.push((dedupe, called));
        out.push((exposure_key, exposure));
    } else {
        out.push((dedupe, called));
    }
    out
}

/// Hands the events of one flag read to `cb`, each the first time its dedupe text is seen.
pub(crate) fn report(
    dedupe: &EventDedupe,
    cb: &(dyn Fn(FlagCalledEvent) + Send + Sync),
    ctx: &EvaluationContext,
    key: &str,
    outcome: &Result<FlagDetails, Unresolved>,
    minimal_gate: bool,
    definitions_loaded_at_ms: Option<i64>,
) {
    for (dedupe_key, event) in flag_events(ctx, key, outcome, minimal_gate, definitions_loaded_at_ms) {
        if dedupe.first_time_key(&dedupe_key) {
            cb(event);
        }
    }
}
