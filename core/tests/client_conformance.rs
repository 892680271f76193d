//! The client conformance corpus (`tests/client/cases.json`) run against the core's client: answers,
//! the `/flags` requests each call makes, the events it emits and the errors, against the test server.
//! Every binding runs the same file; this is the reference runner (see `tests/client/README.md`).
#![cfg(feature = "client")]

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use hogflags::client::{AllOptions, Client, Config, FlagCalledEvent, FlagOptions};
use hogflags::EvaluationContext;
use serde_json::{json, Map, Value};

fn corpus() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/client/cases.json");
    serde_json::from_slice(&std::fs::read(path).expect("tests/client/cases.json")).expect("valid JSON")
}

fn context(call: &Value) -> EvaluationContext {
    let mut ctx = EvaluationContext::new(call["distinct_id"].as_str().expect("distinct_id"));
    if let Some(p) = call["person_properties"].as_object() {
        ctx = ctx.with_person_properties(p.clone().into_iter().collect());
    }
    ctx
}

/// A `/flags` request as the corpus describes it: the count, and the last one's keys and properties.
fn requests(server: &TestServer, before: u64) -> Value {
    let stats = server.stats();
    let body = stats.last_flags_request.clone().unwrap_or(Value::Null);
    let mut keys: Option<Vec<String>> = body["flag_keys_to_evaluate"]
        .as_array()
        .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect());
    if let Some(k) = keys.as_mut() {
        k.sort();
    }
    json!({"count": stats.flags_requests - before, "flag_keys": keys, "person_properties": body["person_properties"]})
}

/// Whether `got` has every field of `expected` with the same value (objects compared field by field,
/// flag-key lists as sets).
fn matches(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => e.iter().all(|(k, v)| matches(v, g.get(k).unwrap_or(&Value::Null))),
        _ => expected == got,
    }
}

fn sorted_keys(v: &Value) -> Value {
    let mut keys: Vec<Value> = v.as_array().cloned().unwrap_or_default();
    keys.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    Value::Array(keys)
}

fn event_record(e: &FlagCalledEvent) -> Value {
    json!({
        "flag": e.properties["$feature_flag"],
        "response": e.properties["$feature_flag_response"],
        "error": e.properties.get("$feature_flag_error").cloned().unwrap_or(Value::Null),
    })
}

#[test]
fn client_conformance_corpus() {
    let corpus = corpus();
    let server = start_server(serde_json::to_vec(&corpus["definitions"]).unwrap());
    let mut failures: Vec<String> = Vec::new();
    let cases = corpus["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        server.set_definitions(&serde_json::to_vec(case.get("definitions").unwrap_or(&corpus["definitions"])).unwrap());
        server.clear_faults();
        server.set_quota_limited(case["quota_limited"].as_bool().unwrap_or(false));
        for (id, props) in corpus["persons"].as_object().into_iter().flatten() {
            server.set_person_properties(id, props.as_object().cloned().unwrap_or_default());
        }
        let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
        let sink = events.clone();
        let client_opts = case["client"].as_object().cloned().unwrap_or_default();
        let mut cfg = match client_opts.get("secret_key") {
            None => config(&server.url()),
            // The project key only: as `config`, without a secret.
            Some(Value::Null) => Config::new(PROJECT_KEY)
                .host(server.url())
                .remote_timeout(Duration::from_secs(1))
                .use_system_proxy(false),
            Some(k) => config(&server.url()).secret_key(k.as_str().unwrap()),
        };
        cfg = cfg.on_flag_called(move |e| sink.lock().unwrap().push(e));
        if let Some(b) = client_opts.get("only_evaluate_locally").and_then(Value::as_bool) {
            cfg = cfg.only_evaluate_locally(b);
        }
        let client = match Client::new(cfg) {
            Ok(c) => {
                if let Some(code) = case.get("expect_error") {
                    failures.push(format!("{name}: expected error {code}, the client was created"));
                    continue;
                }
                c
            }
            Err(e) => {
                if case["expect_error"].as_str() != Some(e.code().as_str()) {
                    failures.push(format!("{name}: error {} ({e}), expected {}", e.code(), case["expect_error"]));
                }
                continue;
            }
        };
        if !matches!(client_opts.get("secret_key"), Some(Value::Null)) {
            client.wait_until_ready(Duration::from_secs(5)).expect("definitions load");
        }
        for (i, faults) in case["faults"].as_array().into_iter().flatten().enumerate() {
            let fault: Fault = serde_json::from_value(faults.clone()).unwrap_or_else(|e| panic!("{name}: fault {i}: {e}"));
            server.inject(fault);
        }
        for (i, call) in case["calls"].as_array().into_iter().flatten().enumerate() {
            let before = server.stats().flags_requests;
            events.lock().unwrap().clear();
            let ctx = context(call);
            let only_local = call["only_evaluate_locally"].as_bool().unwrap_or(false);
            let got = match call["call"].as_str() {
                Some("flag") => {
                    let key = call["key"].as_str().unwrap();
                    match client.get_flag_with(key, &ctx, FlagOptions { only_evaluate_locally: only_local, send_event: true }) {
                        Ok(d) => json!({"value": d.value.to_json(), "source": d.source.as_str()}),
                        Err(u) => json!({"kind": u.kind(), "detail": u.detail()}),
                    }
                }
                Some("all") => {
                    let keys: Option<Vec<&str>> =
                        call["flag_keys"].as_array().map(|a| a.iter().map(|k| k.as_str().unwrap()).collect());
                    let all = client.get_all_flags_with(&ctx, AllOptions { only_evaluate_locally: only_local, flag_keys: keys.as_deref() });
                    let flags: Map<String, Value> = all.flags.iter().map(|(k, d)| (k.clone(), d.value.to_json())).collect();
                    let unresolved: Map<String, Value> =
                        all.unresolved.iter().map(|(k, u)| (k.clone(), json!({"kind": u.kind(), "detail": u.detail()}))).collect();
                    json!({"flags": flags, "unresolved": unresolved})
                }
                other => panic!("{name}: unknown call {other:?}"),
            };
            let what = format!("{name} / call {i}");
            if got != call["expect"] {
                failures.push(format!("{what}: answer {got}, expected {}", call["expect"]));
            }
            let mut expected_requests = call["expect_requests"].clone();
            if let Some(k) = expected_requests.get_mut("flag_keys").filter(|k| k.is_array()) {
                *k = sorted_keys(k);
            }
            let got_requests = requests(&server, before);
            if !matches(&expected_requests, &got_requests) {
                failures.push(format!("{what}: /flags requests {got_requests}, expected {expected_requests}"));
            }
            if let Some(expected) = call.get("expect_events") {
                let got: Vec<Value> = events.lock().unwrap().iter().filter(|e| e.event == "$feature_flag_called").map(event_record).collect();
                if Value::Array(got.clone()) != *expected {
                    failures.push(format!("{what}: events {got:?}, expected {expected}"));
                }
            }
        }
        client.shutdown();
    }
    assert!(failures.is_empty(), "{} of the client corpus's expectations failed:\n{}", failures.len(), failures.join("\n"));
    eprintln!("client conformance: {} cases passed", cases.len());
}
