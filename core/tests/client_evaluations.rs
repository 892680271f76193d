//! The batch-evaluation object (`Client::evaluate_flags` → `FlagEvaluations`): one evaluation, then reads
//! that report exposures only for the flags read, `only_accessed`, `only`, event properties.
#![cfg(feature = "client")]

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_support::*;
use hogflags::client::{AllOptions, Client, FlagCalledEvent, OwnedFlagValue};
use hogflags::EvaluationContext;
use serde_json::json;

fn client_with_events(server: &TestServer) -> (Client, Arc<Mutex<Vec<FlagCalledEvent>>>) {
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let sink = events.clone();
    let c = Client::new(config(&server.url()).only_evaluate_locally(true).on_flag_called(move |e| sink.lock().unwrap().push(e))).unwrap();
    c.wait_until_ready(Duration::from_secs(5)).unwrap();
    (c, events)
}

fn read(events: &Mutex<Vec<FlagCalledEvent>>) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    events
        .lock()
        .unwrap()
        .drain(..)
        .map(|e| {
            let p = &e.properties;
            (p["$feature_flag"].as_str().unwrap().to_owned(), p["$feature_flag_response"].clone(),
             p.get("$feature_flag_error").cloned().unwrap_or(serde_json::Value::Null))
        })
        .collect()
}

#[test]
fn reads_report_exposures_only_for_the_flags_read() {
    let server = start_server(defs(1, &[("a", true), ("b", false)]));
    let (client, events) = client_with_events(&server);
    let ctx = EvaluationContext::new("u1").with_group("company", "acme");
    let ev = client.evaluate_flags(&ctx, AllOptions::default());
    assert!(read(&events).is_empty(), "evaluating sends nothing");
    assert_eq!(ev.keys().collect::<Vec<_>>(), ["a", "b", "gen"]);
    assert_eq!(ev.unresolved()["beta"].kind(), "missing_property");
    assert!(ev.is_enabled("a", false, true));
    assert!(!ev.is_enabled("b", true, true), "a decided false wins over the default");
    assert_eq!(read(&events), [("a".into(), json!(true), json!(null)), ("b".into(), json!(false), json!(null))]);
    // A second read of the same answer is deduplicated; a read without events records the access only.
    assert_eq!(ev.get_flag("a", true), Some(&OwnedFlagValue::Bool(true)));
    assert_eq!(ev.get_flag("gen", false), Some(&OwnedFlagValue::Bool(true)));
    assert!(read(&events).is_empty());
    // Unresolved and unknown keys: the default, and an event with the error PostHog's SDKs report.
    assert!(ev.is_enabled("beta", true, true));
    assert_eq!(ev.get_flag("nope", true), None);
    assert_eq!(
        read(&events),
        [("beta".into(), json!(null), json!("local_evaluation_inconclusive")), ("nope".into(), json!(null), json!("flag_missing"))]
    );
    assert_eq!(ev.accessed(), ["a", "b", "beta", "gen", "nope"]);
    // Payload reads are not accesses.
    assert_eq!(ev.payload("gen"), Some(&json!({"gen": 1})));
    let accessed = ev.only_accessed();
    assert_eq!(accessed.keys().collect::<Vec<_>>(), ["a", "b", "gen"]);
    assert!(accessed.unresolved().is_empty(), "a slice holds flags with a value only");
    assert_eq!(accessed.accessed(), ev.accessed(), "a slice keeps the reads made so far");
    let only = ev.only(&["a", "missing"]);
    assert_eq!(only.keys().collect::<Vec<_>>(), ["a"]);
    // Reading a key a slice left out reports nothing: the flag was excluded, not missing.
    assert_eq!(only.get_flag("b", true), None);
    assert_eq!(only.get_flag("zzz", true), None);
    assert!(read(&events).is_empty());
    let props = ev.event_properties();
    assert_eq!(props["$feature/a"], json!(true));
    assert_eq!(props["$feature/b"], json!(false));
    assert_eq!(props["$active_feature_flags"], json!(["a", "gen"]));
    assert!(!props.contains_key("$feature/beta"));
    // The events name the user and the groups of the evaluation.
    ev.get_flag("b", true);
    assert!(read(&events).is_empty(), "deduplicated");
    let ev2 = client.evaluate_flags(&EvaluationContext::new("u2").with_group("company", "acme"), AllOptions::default());
    ev2.get_flag("a", true);
    let e = events.lock().unwrap().pop().expect("an event for the new user");
    assert_eq!((e.distinct_id.as_str(), e.groups.get("company").map(String::as_str)), ("u2", Some("acme")));
}

#[test]
fn a_selection_evaluates_and_reports_only_the_listed_keys() {
    let server = start_server(defs(1, &[("a", true), ("b", false)]));
    let (client, events) = client_with_events(&server);
    let keys = ["b", "nope"];
    let ev = client.evaluate_flags(&EvaluationContext::new("u1"), AllOptions { only_evaluate_locally: true, flag_keys: Some(&keys) });
    assert_eq!(ev.keys().collect::<Vec<_>>(), ["b"]);
    assert_eq!(ev.unresolved()["nope"].kind(), "unknown_flag");
    assert_eq!(ev.get_flag("a", true), None, "not selected: no value");
    assert_eq!(ev.get_flag("nope", true), None);
    assert_eq!(read(&events), [("a".into(), json!(null), json!("flag_missing")), ("nope".into(), json!(null), json!("flag_missing"))]);
}

/// An evaluation answered by `/flags` reports its reads with the answer's `minimalFlagCalledEvents`, not
/// with the local definitions' (a client without a secret key has none).
#[test]
fn reads_use_the_minimal_events_setting_of_the_answer_they_came_from() {
    let doc = json!({"minimal_flag_called_events": true, "flags": [
        {"id": 1, "key": "plain", "active": true, "has_experiment": false,
         "filters": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": "{\"a\": 1}"}}}]});
    let server = start_server(serde_json::to_vec(&doc).unwrap());
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let sink = events.clone();
    let keyless = hogflags::client::Config::new(PROJECT_KEY)
        .host(server.url())
        .use_system_proxy(false)
        .on_flag_called(move |e| sink.lock().unwrap().push(e));
    let client = Client::new(keyless).unwrap();
    let ev = client.evaluate_flags(&EvaluationContext::new("u1"), AllOptions::default());
    assert_eq!(ev.get_flag("plain", true), Some(&OwnedFlagValue::Bool(true)));
    let got = events.lock().unwrap().pop().expect("one event");
    assert!(got.properties.keys().all(|k| hogflags::client::MINIMAL_PROPERTIES.contains(&k.as_str())), "{:?}", got.properties);
    assert!(!got.properties.contains_key("$feature_flag_payload"));
}
