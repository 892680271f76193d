//! `POST /flags`: remote evaluation answered by the hogflags core.
//!
//! The request is read as PostHog reads it (docs/protocol.md: `token`, `api_key` or `$token`; `distinct_id` as
//! a string or number; `groups`, `person_properties`, `group_properties`, `flag_keys_to_evaluate`,
//! `device_id` or `$device_id`). Person properties stored through the control API stand in for the
//! server's database; the request's own properties win over them. Inactive flags are omitted, as PostHog
//! omits them. A flag the core cannot decide is reported `failed` (see the crate docs).

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use hogflags::{identifier_text, Evaluation, EvaluationContext, EvaluationRuntime};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

use crate::state::Shared;

/// The runtime a request evaluates in, as PostHog infers it: the body's `evaluation_runtime`, else a
/// User-Agent of a known server SDK (`posthog-python`, `posthog-node`, …) means `server`, a browser or
/// mobile SDK `client`; otherwise none, and only untagged flags are served.
fn request_runtime(req: &Map<String, Value>, user_agent: &str) -> Option<EvaluationRuntime> {
    match req.get("evaluation_runtime").and_then(Value::as_str) {
        Some("server") => return Some(EvaluationRuntime::Server),
        Some("client") => return Some(EvaluationRuntime::Client),
        Some("all") => return Some(EvaluationRuntime::All),
        _ => {}
    }
    const SERVER: &[&str] = &["posthog-python/", "posthog-node/", "posthog-ruby/", "posthog-go/", "posthog-php/", "posthog-java/"];
    const CLIENT: &[&str] = &["posthog-js/", "posthog-ios/", "posthog-android/", "posthog-flutter/", "posthog-react-native/"];
    if SERVER.iter().any(|p| user_agent.starts_with(p)) {
        Some(EvaluationRuntime::Server)
    } else if CLIENT.iter().any(|p| user_agent.starts_with(p)) {
        Some(EvaluationRuntime::Client)
    } else {
        None
    }
}

/// Answers `POST /flags?v=<version>`: the legacy shape below 2, v2 records from 2, and from 4 each record
/// also carries its typed `value` (null for a failed flag), as PostHog's v4 does.
pub(crate) fn respond(shared: &Shared, version: u32, user_agent: &str, body: &[u8]) -> (StatusCode, Value) {
    let v2 = version >= 2;
    let v4 = version >= 4;
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, json!({"type":"validation_error","code":"invalid_body","detail":"Body is not a JSON object."}));
    };
    shared.record(|s| s.last_flags_request = Some(Value::Object(req.clone())));
    let token = ["token", "api_key", "$token"].iter().find_map(|k| req.get(*k).and_then(Value::as_str));
    if token != Some(shared.project_api_key.as_str()) {
        return (StatusCode::UNAUTHORIZED, json!({"type":"authentication_error","code":"invalid_api_key","detail":"Project API key invalid."}));
    }
    let Some(distinct_id) = req.get("distinct_id").and_then(identifier_text) else {
        return (StatusCode::BAD_REQUEST, json!({"type":"validation_error","code":"missing_distinct_id","detail":"distinct_id is required."}));
    };

    let request_id = shared.next_request_id();
    let evaluated_at = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let request_id = format!("00000000-0000-4000-8000-{request_id:012x}");

    if shared.quota_limited() {
        let body = if v2 {
            json!({"flags": {}, "errorsWhileComputingFlags": false, "quotaLimited": ["feature_flags"],
                   "requestId": request_id, "evaluatedAt": evaluated_at})
        } else {
            json!({"featureFlags": {}, "featureFlagPayloads": {}, "errorsWhileComputingFlags": false,
                   "quotaLimited": ["feature_flags"], "requestId": request_id})
        };
        return (StatusCode::OK, body);
    }

    let mut person: hogflags::Properties = shared
        .person_properties(&distinct_id)
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    if let Some(Value::Object(props)) = req.get("person_properties") {
        person.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut ctx = EvaluationContext::new(distinct_id).with_person_properties(person);
    if let Some(Value::Object(groups)) = req.get("groups") {
        for (group_type, key) in groups {
            if let Some(key) = identifier_text(key) {
                ctx = ctx.with_group(group_type.clone(), key);
            }
        }
    }
    if let Some(Value::Object(gp)) = req.get("group_properties") {
        for (group_type, props) in gp {
            if let Value::Object(props) = props {
                ctx = ctx.with_group_properties(group_type.clone(), props.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
            }
        }
    }
    if let Some(device) = ["device_id", "$device_id"].iter().find_map(|k| req.get(*k).and_then(Value::as_str)) {
        ctx = ctx.with_device_id(device);
    }
    let wanted: Option<HashSet<String>> = req.get("flag_keys_to_evaluate").and_then(Value::as_array).map(|keys| {
        keys.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect()
    });

    let defs = shared.definitions();
    let runtime = request_runtime(&req, user_agent);
    // Evaluation contexts (`collect_excluded_by_tags` on the server): flags limited to other contexts are
    // left out and count as false for dependencies.
    let contexts: Vec<String> = req
        .get("evaluation_contexts")
        .or_else(|| req.get("evaluation_environments"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let for_contexts;
    let snapshot = if contexts.is_empty() {
        defs.for_runtime(runtime)
    } else {
        for_contexts = hogflags::FlagSnapshot::from_json(&defs.body)
            .map(|s| s.for_runtime(runtime).for_contexts(&contexts))
            .unwrap_or_else(|_| hogflags::FlagSnapshot::empty());
        &std::sync::Arc::new(for_contexts)
    };
    let mut flags = Map::new();
    let mut legacy_values = Map::new();
    let mut legacy_payloads = Map::new();
    let mut errors = false;
    for (key, evaluation) in snapshot.evaluate_all(&ctx) {
        if wanted.as_ref().is_some_and(|w| !w.contains(key)) {
            continue;
        }
        let Some(info) = snapshot.flag(key) else { continue };
        if !info.active || !info.evaluation_runtime.served_in(runtime) {
            continue;
        }
        let metadata = |payload: Option<String>| {
            json!({"id": info.id, "version": info.version, "payload": payload, "description": null,
                   "has_experiment": info.has_experiment.unwrap_or(false)})
        };
        match evaluation {
            Evaluation::Decided(r) => {
                let payload = r.payload.map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let mut record = json!({"key": key, "enabled": r.value.is_enabled(), "variant": r.value.variant(),
                           "reason": {"code": r.reason.code.as_str(), "condition_index": r.reason.condition_index,
                                      "description": r.reason.description()},
                           "metadata": metadata(payload.clone())});
                if v4 {
                    record["value"] = r.value.to_json();
                    record["metadata"]["config_version"] = json!(1);
                }
                flags.insert(key.to_owned(), record);
                legacy_values.insert(key.to_owned(), r.value.to_json());
                if let Some(p) = payload {
                    legacy_payloads.insert(key.to_owned(), Value::String(p));
                }
            }
            Evaluation::Inconclusive(why) => {
                errors = true;
                let mut record = json!({"key": key, "enabled": false, "variant": null, "failed": true,
                           "reason": {"code": "no_condition_match", "condition_index": null,
                                      "description": format!("hogflags-test-server: undecidable without server data ({why})")},
                           "metadata": metadata(None)});
                if v4 {
                    record["value"] = Value::Null;
                }
                flags.insert(key.to_owned(), record);
                legacy_values.insert(key.to_owned(), Value::Bool(false));
            }
        }
    }
    let mut body = if v2 {
        json!({"flags": flags, "errorsWhileComputingFlags": errors, "requestId": request_id, "evaluatedAt": evaluated_at})
    } else {
        json!({"featureFlags": legacy_values, "featureFlagPayloads": legacy_payloads,
               "errorsWhileComputingFlags": errors, "requestId": request_id})
    };
    // The team's minimal-events setting, as PostHog reports it with the answer.
    if defs.snapshot.minimal_flag_called_events() {
        body["minimalFlagCalledEvents"] = Value::Bool(true);
    }
    (StatusCode::OK, body)
}
