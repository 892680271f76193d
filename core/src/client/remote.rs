//! The `/flags` request body (D33) and response parsing (v2 and legacy shapes): docs/protocol.md.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::{EvaluationContext, EvaluationRuntime};

use super::config::Config;
use super::error::RemoteError;
use super::types::{FlagDetails, FlagReason, OwnedFlagValue, RuleAttribution, Source};

/// The JSON body of `POST /flags/?v=4` for a context. Sends the key as both `token` and `api_key` and
/// the device id as both `device_id` and `$device_id` (D33: the server accepts either; old proxies may
/// know only one). `$group_key` is added to each group's properties, as the SDKs do.
///
/// `evaluation_runtime` declares where the caller evaluates: the server then answers that runtime's flags
/// and `all` flags. Without it (and without a User-Agent it recognises) it would drop every flag tagged
/// `server` or `client`.
pub fn request_body(config: &Config, ctx: &EvaluationContext, flag_keys: Option<&[&str]>, runtime: EvaluationRuntime) -> Value {
    let groups: Map<String, Value> = ctx.groups().map(|(t, k)| (t.to_owned(), Value::String(k.to_owned()))).collect();
    let mut group_properties = Map::new();
    for (t, k) in ctx.groups() {
        let mut props: Map<String, Value> = ctx
            .group_properties(t)
            .map(|p| p.iter().map(|(a, b)| (a.clone(), b.clone())).collect())
            .unwrap_or_default();
        props.entry("$group_key").or_insert_with(|| Value::String(k.to_owned()));
        group_properties.insert(t.to_owned(), Value::Object(props));
    }
    let person: Map<String, Value> = ctx.person_properties().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let key = config.project_api_key.expose();
    let mut body = json!({
        "token": key,
        "api_key": key,
        "distinct_id": ctx.distinct_id(),
        "groups": groups,
        "person_properties": person,
        "group_properties": group_properties,
        "geoip_disable": config.disable_geoip,
        "evaluation_runtime": runtime.as_str(),
    });
    if !config.evaluation_contexts.is_empty() {
        body["evaluation_contexts"] = json!(config.evaluation_contexts);
    }
    if let Some(keys) = flag_keys {
        body["flag_keys_to_evaluate"] = Value::Array(keys.iter().map(|k| Value::String((*k).to_owned())).collect());
    }
    if let Some(device) = ctx.device_id() {
        body["device_id"] = Value::String(device.to_owned());
        body["$device_id"] = Value::String(device.to_owned());
    }
    body
}

/// A parsed `/flags` answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RemoteFlags {
    pub flags: BTreeMap<String, FlagDetails>,
    /// Keys the server marked `failed` (left out of `flags`).
    pub failed: BTreeSet<String>,
    pub errors_while_computing: bool,
    pub quota_limited: bool,
    pub request_id: Option<String>,
    pub evaluated_at: Option<i64>,
    pub minimal_flag_called_events: bool,
}

impl RemoteFlags {
    /// The answer for one asked key: its details, or why there are none (`failed` on the server, or
    /// absent).
    pub fn outcome(&self, key: &str) -> Result<FlagDetails, super::types::Unresolved> {
        use super::types::Unresolved;
        match self.flags.get(key) {
            Some(d) => Ok(d.clone()),
            None if self.failed.contains(key) => Err(Unresolved::EvaluationFailed),
            None => Err(Unresolved::FlagMissing),
        }
    }
}

/// A payload as `/flags` sends it: a JSON string holding JSON. Parsed when it parses, else kept as the
/// string.
fn parse_payload(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))),
        other => Some(other.clone()),
    }
}

fn value_of(enabled: bool, variant: Option<&str>) -> OwnedFlagValue {
    match variant {
        Some(v) => OwnedFlagValue::Variant(v.to_owned()),
        None => OwnedFlagValue::Bool(enabled),
    }
}

/// Parses a `/flags` response body (v4 typed records, v2 records, or the legacy `featureFlags` shape).
pub fn parse_response(bytes: &[u8]) -> Result<RemoteFlags, RemoteError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| RemoteError::Malformed(e.to_string()))?;
    let Value::Object(root) = root else {
        return Err(RemoteError::Malformed("not a JSON object".into()));
    };
    let mut out = RemoteFlags {
        errors_while_computing: root.get("errorsWhileComputingFlags").and_then(Value::as_bool).unwrap_or(false),
        quota_limited: root
            .get("quotaLimited")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("feature_flags"))),
        request_id: root.get("requestId").and_then(Value::as_str).map(str::to_owned),
        evaluated_at: root.get("evaluatedAt").and_then(Value::as_i64),
        minimal_flag_called_events: root.get("minimalFlagCalledEvents").and_then(Value::as_bool).unwrap_or(false),
        ..RemoteFlags::default()
    };
    if out.quota_limited {
        return Ok(out);
    }
    let errors = out.errors_while_computing;
    let remote = |key: &str, value: OwnedFlagValue| FlagDetails {
        key: key.to_owned(),
        value,
        payload: None,
        reason: None,
        flag_id: None,
        version: None,
        has_experiment: None,
        source: Source::Remote,
        request_id: out.request_id.clone(),
        evaluated_at: out.evaluated_at,
        errors_while_computing: errors,
        attribution: None,
    };
    if let Some(flags) = root.get("flags") {
        let Value::Object(flags) = flags else {
            return Err(RemoteError::Malformed("`flags` is not an object".into()));
        };
        for (key, f) in flags {
            let Value::Object(f) = f else {
                return Err(RemoteError::Malformed(format!("flag {key} is not an object")));
            };
            if f.get("failed").and_then(Value::as_bool) == Some(true) {
                out.failed.insert(key.clone());
                continue;
            }
            // A v4 record has one typed `value`: a boolean, a variant, null (false), or a number or object
            // (config-v2 flags: `true`, with the value as the payload, as posthog-node renders it). A
            // record without it is a v2 record (`enabled`, `variant`).
            let (value, typed_payload) = match f.get("value") {
                Some(Value::Bool(b)) => (OwnedFlagValue::Bool(*b), None),
                Some(Value::String(v)) => (OwnedFlagValue::Variant(v.clone()), None),
                Some(Value::Null) => (OwnedFlagValue::Bool(false), None),
                Some(v @ (Value::Number(_) | Value::Object(_))) => (OwnedFlagValue::Bool(true), Some(v.clone())),
                Some(Value::Array(_)) => {
                    out.failed.insert(key.clone());
                    continue;
                }
                None => {
                    let enabled = f.get("enabled").and_then(Value::as_bool).unwrap_or(false);
                    (value_of(enabled, f.get("variant").and_then(Value::as_str)), None)
                }
            };
            let mut d = remote(key, value);
            if let Some(Value::Object(r)) = f.get("reason") {
                d.reason = Some(FlagReason {
                    code: r.get("code").and_then(Value::as_str).unwrap_or("").to_owned(),
                    condition_index: r.get("condition_index").and_then(Value::as_u64).map(|i| i as usize),
                    description: r.get("description").and_then(Value::as_str).map(str::to_owned),
                });
            }
            if let Some(Value::Object(m)) = f.get("metadata") {
                d.flag_id = m.get("id").and_then(Value::as_i64);
                d.version = m.get("version").and_then(Value::as_i64);
                d.has_experiment = m.get("has_experiment").and_then(Value::as_bool);
                if d.value.is_enabled() {
                    d.payload = m.get("payload").and_then(parse_payload);
                }
                if f.contains_key("value") {
                    let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
                    let a = RuleAttribution {
                        config_version: m.get("config_version").and_then(Value::as_i64),
                        rule_type: text("rule_type"),
                        rule_id: text("rule_id"),
                        variant_key: text("variant_key"),
                    };
                    d.attribution = (a != RuleAttribution::default()).then_some(a);
                }
            }
            if typed_payload.is_some() {
                d.payload = typed_payload;
            }
            out.flags.insert(key.clone(), d);
        }
    } else if let Some(Value::Object(values)) = root.get("featureFlags") {
        let payloads = root.get("featureFlagPayloads").and_then(Value::as_object);
        for (key, v) in values {
            let value = match v {
                Value::Bool(b) => OwnedFlagValue::Bool(*b),
                Value::String(s) => OwnedFlagValue::Variant(s.clone()),
                _ => continue,
            };
            let mut d = remote(key, value);
            if d.value.is_enabled() {
                d.payload = payloads.and_then(|p| p.get(key)).and_then(parse_payload);
            }
            out.flags.insert(key.clone(), d);
        }
    } else {
        return Err(RemoteError::Malformed("neither `flags` nor `featureFlags` in the response".into()));
    }
    Ok(out)
}
