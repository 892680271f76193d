//! Remote evaluation: the `/flags` fallback (single and bulk, D31), its request body (D33), retries,
//! timeouts and quota; `$feature_flag_called` events and their bounded dedupe; remote mode for mobile.
#![cfg(feature = "client")]

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{Client, FlagCalledEvent, FlagOptions, OwnedFlagValue, RemoteClient, RemoteError, Source, Unresolved};
use hogflags::{EvaluationContext, InconclusiveKind};

fn ready(server: &TestServer, cfg: hogflags::client::Config) -> Client {
    let _ = server;
    let c = Client::new(cfg).unwrap();
    c.wait_until_ready(Duration::from_secs(5)).unwrap();
    c
}

fn pro_props() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("plan".into(), "pro".into());
    m
}

#[test]
fn inconclusive_flag_falls_back_to_flags_endpoint() {
    let server = start_server(defs(1, &[("a", true)]));
    server.set_person_properties("user-1", pro_props()); // the "database" knows the plan
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-1");
    let d = client.get_flag("beta", &ctx).expect("remote answers");
    assert_eq!(d.source, Source::Remote);
    assert_eq!(d.value, OwnedFlagValue::Bool(true));
    assert_eq!(d.payload, Some(serde_json::json!({"color": "blue"})), "payload string parsed");
    assert_eq!(d.reason.as_ref().map(|r| r.code.as_str()), Some("condition_match"));
    assert_eq!((d.flag_id, d.version), (Some(1), Some(3)));
    assert!(d.request_id.is_some());
    let local = client.get_flag("a", &ctx).unwrap();
    assert_eq!(local.source, Source::Local);
    assert_eq!(server.stats().flags_requests, 1, "decided flags never call /flags");
}

#[test]
fn only_local_and_disabled_fallback_never_call_flags() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-1");
    let opts = FlagOptions { only_evaluate_locally: true, send_event: false };
    match client.get_flag_with("beta", &ctx, opts) {
        Err(Unresolved::Inconclusive { kind, detail }) => {
            assert_eq!(kind, InconclusiveKind::MissingProperty);
            assert_eq!(detail.as_deref(), Some("plan"));
        }
        other => panic!("{other:?}"),
    }
    let strict = ready(&server, config(&server.url()).only_evaluate_locally(true));
    assert!(matches!(strict.get_flag("beta", &ctx), Err(Unresolved::Inconclusive { .. })));
    let all = strict.get_all_flags(&ctx);
    assert!(!all.remote_called && all.flags.contains_key("a") && all.unresolved.contains_key("beta"));
    assert_eq!(server.stats().flags_requests, 0);
}

#[test]
fn bulk_local_results_win_and_remote_fills_only_undecided_keys() {
    let server = start_server(defs(1, &[("a", true), ("b", false)]));
    server.set_person_properties("user-1", pro_props());
    let client = ready(&server, config(&server.url()).poll_interval(Duration::from_secs(60)));
    // The server now disagrees with the client's definitions about `a` and `b`.
    server.set_definitions(&defs(2, &[("a", false), ("b", true)]));
    let all = client.get_all_flags(&EvaluationContext::new("user-1"));
    assert!(all.remote_called);
    assert_eq!(all.flags["a"].value, OwnedFlagValue::Bool(true), "local answer kept (D31)");
    assert_eq!(all.flags["a"].source, Source::Local);
    assert_eq!(all.flags["b"].value, OwnedFlagValue::Bool(false));
    assert_eq!(all.flags["beta"].source, Source::Remote, "undecided key filled remotely");
    assert_eq!(all.flags["beta"].value, OwnedFlagValue::Bool(true));
    assert!(all.unresolved.is_empty(), "{:?}", all.unresolved);
    let sent = server.stats().last_flags_request.unwrap();
    assert_eq!(sent["flag_keys_to_evaluate"], serde_json::json!(["beta"]), "one request, only the undecided keys");
    assert_eq!(server.stats().flags_requests, 1);
}

#[test]
fn bulk_with_nothing_loaded_asks_for_every_flag() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(config(&server.url()).secret_key("phs_wrong")).unwrap();
    let _ = client.wait_until_ready(Duration::from_secs(3));
    let all = client.get_all_flags(&EvaluationContext::new("user-1"));
    assert!(all.remote_called);
    assert_eq!(all.flags["a"].source, Source::Remote);
    assert!(server.stats().last_flags_request.unwrap().get("flag_keys_to_evaluate").is_none());
    // `beta` is undecidable on the server too (no stored plan): reported failed, so it is missing here.
    assert!(!all.flags.contains_key("beta"));
}

#[test]
fn remote_failure_leaves_undecided_keys_unresolved_with_a_typed_error() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()));
    server.inject(Fault::status(FaultTarget::Flags, 500));
    let all = client.get_all_flags(&EvaluationContext::new("user-1"));
    assert_eq!(all.remote_error, Some(RemoteError::Status { status: 500 }));
    assert_eq!(all.unresolved["beta"], Unresolved::Remote(RemoteError::Status { status: 500 }));
    assert_eq!(all.flags["a"].value, OwnedFlagValue::Bool(true), "local values still returned");
    assert_eq!(RemoteError::Status { status: 500 }.code(), "api_error_500");
}

#[test]
fn request_body_has_both_key_and_device_id_spellings() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-9")
        .with_person_property("email", "x@example.com")
        .with_group("company", "acme")
        .with_group_properties("company", [("size".to_string(), serde_json::json!(40))].into_iter().collect())
        .with_device_id("dev-1");
    let _ = client.get_flag("beta", &ctx);
    let b = server.stats().last_flags_request.unwrap();
    assert_eq!(b["token"], PROJECT_KEY);
    assert_eq!(b["api_key"], PROJECT_KEY);
    assert_eq!(b["distinct_id"], "user-9");
    assert_eq!(b["groups"], serde_json::json!({"company": "acme"}));
    assert_eq!(b["person_properties"], serde_json::json!({"email": "x@example.com"}));
    assert_eq!(b["group_properties"], serde_json::json!({"company": {"size": 40, "$group_key": "acme"}}));
    assert_eq!(b["geoip_disable"], true);
    assert_eq!(b["flag_keys_to_evaluate"], serde_json::json!(["beta"]));
    assert_eq!(b["device_id"], "dev-1");
    assert_eq!(b["$device_id"], "dev-1");
}

#[test]
fn one_retry_on_502_and_504_none_on_500() {
    let server = start_server(defs(1, &[("a", true)]));
    server.set_person_properties("user-1", pro_props());
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-1");
    let opts = FlagOptions { only_evaluate_locally: false, send_event: false };

    server.inject(Fault::status(FaultTarget::Flags, 502));
    assert!(client.get_flag_with("beta", &ctx, opts).is_ok(), "502 then success");
    assert_eq!(server.stats().flags_requests, 2);

    server.reset_stats();
    server.inject(Fault::status(FaultTarget::Flags, 504).times(2));
    assert_eq!(client.get_flag_with("beta", &ctx, opts), Err(Unresolved::Remote(RemoteError::Status { status: 504 })));
    assert_eq!(server.stats().flags_requests, 2, "exactly one retry");

    server.reset_stats();
    server.inject(Fault::status(FaultTarget::Flags, 500));
    assert_eq!(client.get_flag_with("beta", &ctx, opts), Err(Unresolved::Remote(RemoteError::Status { status: 500 })));
    assert_eq!(server.stats().flags_requests, 1, "no retry on 500");

    server.reset_stats();
    server.inject(Fault::new(FaultTarget::Flags, FaultKind::Drop));
    assert!(client.get_flag_with("beta", &ctx, opts).is_ok(), "a dropped connection is retried");
    assert_eq!(server.stats().flags_requests, 2);
}

#[test]
fn remote_timeout_is_bounded() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()).remote_timeout(Duration::from_millis(300)));
    server.inject(Fault::new(FaultTarget::Flags, FaultKind::Hang { hang_ms: Some(5_000) }).times(2));
    let t = Instant::now();
    let r = client.get_flag("beta", &EvaluationContext::new("user-1"));
    assert_eq!(r, Err(Unresolved::Remote(RemoteError::Timeout)));
    assert!(t.elapsed() < Duration::from_millis(1500), "2 × 300 ms + 300 ms pause: {:?}", t.elapsed());
}

#[test]
fn remote_quota_limited_and_missing_flags() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-1");
    assert_eq!(client.get_flag("beta", &ctx), Err(Unresolved::EvaluationFailed), "server reports it failed");
    assert_eq!(client.get_flag("no-such-flag", &ctx), Err(Unresolved::FlagMissing));
    server.set_quota_limited(true);
    assert_eq!(client.get_flag("beta", &ctx), Err(Unresolved::QuotaLimited));
    assert_eq!(Unresolved::QuotaLimited.error_code().as_deref(), Some("quota_limited"));
}

#[test]
fn flag_called_events_are_deduplicated_with_a_bounded_lru() {
    let server = start_server(defs(1, &[("a", true)]));
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let e2 = events.clone();
    let client = ready(
        &server,
        config(&server.url()).dedupe_capacity(32).on_flag_called(move |e| e2.lock().unwrap().push(e)),
    );
    let ctx = EvaluationContext::new("user-1").with_group("company", "acme");
    for _ in 0..5 {
        client.get_flag("a", &ctx).unwrap();
    }
    {
        let ev = events.lock().unwrap();
        assert_eq!(ev.len(), 1, "one event per (user, flag, value, groups)");
        let e = &ev[0];
        assert_eq!(e.event, "$feature_flag_called");
        assert_eq!(e.distinct_id, "user-1");
        let p = &e.properties;
        assert_eq!(p["$feature_flag"], "a");
        assert_eq!(p["$feature_flag_response"], true);
        assert_eq!(p["$feature/a"], true);
        assert_eq!(p["locally_evaluated"], true);
        assert_eq!(p["$feature_flag_id"], 100);
        assert_eq!(p["$feature_flag_version"], 1);
        assert_eq!(p["$feature_flag_reason"], "Matched condition set 1");
        assert_eq!(p["$groups"], serde_json::json!({"company": "acme"}));
        assert!(p.contains_key("$feature_flag_definitions_loaded_at"));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let at = p["$feature_flag_evaluated_at"].as_i64().expect("a local answer carries its evaluation time");
        assert!((now - 60_000..=now).contains(&at), "{at} vs {now}");
    }
    // A remote call that fails: response null, error code.
    server.inject(Fault::status(FaultTarget::Flags, 503));
    let _ = client.get_flag("beta", &EvaluationContext::new("user-1"));
    {
        let ev = events.lock().unwrap();
        let last = ev.last().unwrap();
        assert_eq!(last.properties["$feature_flag_response"], serde_json::Value::Null);
        assert_eq!(last.properties["$feature_flag_error"], "api_error_503");
        assert_eq!(last.properties["locally_evaluated"], false);
    }
    // Bounded: 100 other users evict user-1's entry, which is then reported again.
    for i in 0..100 {
        client.get_flag("a", &EvaluationContext::new(format!("other-{i}"))).unwrap();
    }
    let before = events.lock().unwrap().len();
    client.get_flag("a", &ctx).unwrap();
    assert_eq!(events.lock().unwrap().len(), before + 1, "evicted entries are reported again");
    let no_event = FlagOptions { only_evaluate_locally: false, send_event: false };
    client.get_flag_with("a", &EvaluationContext::new("fresh"), no_event).unwrap();
    assert_eq!(events.lock().unwrap().len(), before + 1, "send_event: false reports nothing");
}

#[test]
fn dedupe_memory_stays_bounded() {
    let d = hogflags::client::EventDedupe::new(1000);
    let groups = Default::default();
    for i in 0..20_000 {
        assert!(d.first_time(&format!("u{i}"), "f", &serde_json::Value::Bool(true), &groups));
    }
    assert!(d.len() <= d.capacity() && d.capacity() <= 1024, "{} / {}", d.len(), d.capacity());
    assert!(!d.first_time("u19999", "f", &serde_json::Value::Bool(true), &groups), "recent entries remembered");
    assert!(d.first_time("u19999", "f", &serde_json::Value::Bool(false), &groups), "a new value is a new event");
}

#[test]
fn remote_mode_fetches_caches_refreshes_and_notifies() {
    let server = start_server(defs(1, &[("a", true), ("b", false)]));
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("flags.cache");
    let changes: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let c2 = changes.clone();
    let cfg = config(&server.url())
        .poll_interval(Duration::from_secs(60))
        .cache_path(&cache)
        .on_flags_changed(move |c| c2.lock().unwrap().push(c.changed.clone()));
    let remote = RemoteClient::new(cfg.clone(), EvaluationContext::new("user-1")).unwrap();
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert_eq!(remote.get_flag("a").unwrap().value, OwnedFlagValue::Bool(true));
    assert_eq!(remote.get_flag("a").unwrap().source, Source::Remote);
    assert_eq!(remote.get_flag("nope"), Err(Unresolved::FlagMissing));
    assert!(server.stats().last_flags_request.unwrap().get("flag_keys_to_evaluate").is_none(), "all flags at once");
    assert!(cache.exists(), "cached on disk");

    server.set_definitions(&defs(2, &[("a", false), ("b", false)]));
    let changed = remote.refresh().unwrap();
    assert!(changed.contains(&"a".to_string()) && changed.contains(&"gen".to_string()), "{changed:?}");
    assert!(!changed.contains(&"b".to_string()));
    assert_eq!(remote.get_flag("a").unwrap().value, OwnedFlagValue::Bool(false));
    assert_eq!(changes.lock().unwrap().last(), Some(&changed), "listener told the same keys");
    assert_eq!(remote.refresh().unwrap(), Vec::<String>::new(), "no change, no keys");
    remote.shutdown();

    // Offline start: the cache answers at once for the same user…
    let offline = RemoteClient::new(cfg.clone().host(refused_url()), EvaluationContext::new("user-1")).unwrap();
    assert!(offline.is_loaded());
    assert_eq!(offline.get_flag("a").unwrap().value, OwnedFlagValue::Bool(false));
    assert!(matches!(offline.refresh(), Err(RemoteError::Connection(_))));
    assert_eq!(offline.get_flag("a").unwrap().value, OwnedFlagValue::Bool(false), "a failed refresh keeps values");
    // …and never for another user.
    let other = RemoteClient::new(cfg.host(refused_url()), EvaluationContext::new("user-2")).unwrap();
    assert!(!other.is_loaded());
    assert_eq!(other.get_flag("a"), Err(Unresolved::NotLoaded));
}

#[test]
fn remote_mode_set_context_refreshes_for_the_new_user() {
    let server = start_server(defs(1, &[("a", true)]));
    server.set_person_properties("user-2", pro_props());
    let remote = RemoteClient::new(config(&server.url()).poll_interval(Duration::from_secs(60)), EvaluationContext::new("user-1")).unwrap();
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert_eq!(remote.get_flag("beta"), Err(Unresolved::EvaluationFailed), "failed on the server for user-1");
    remote.set_context(EvaluationContext::new("user-2"));
    assert!(wait_for(Duration::from_secs(3), || remote.get_flag("beta").is_ok()));
    assert_eq!(remote.get_flag("beta").unwrap().value, OwnedFlagValue::Bool(true));
    assert_eq!(server.stats().last_flags_request.unwrap()["distinct_id"], "user-2");
}

#[test]
fn remote_mode_quota_clears_and_interval_refresh_runs() {
    let server = start_server(defs(1, &[("a", true)]));
    let remote =
        RemoteClient::new(config(&server.url()).poll_interval(Duration::from_millis(100)), EvaluationContext::new("u")).unwrap();
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert!(wait_for(Duration::from_secs(3), || server.stats().flags_requests >= 3), "refreshes on its interval");
    server.set_quota_limited(true);
    assert!(wait_for(Duration::from_secs(3), || remote.get_flag("a") == Err(Unresolved::QuotaLimited)));
    server.set_quota_limited(false);
    assert!(wait_for(Duration::from_secs(3), || remote.get_flag("a").is_ok()));
}

#[test]
fn remote_mode_needs_no_secret_key() {
    let server = start_server(defs(1, &[("a", true)]));
    let cfg = hogflags::client::Config::new(PROJECT_KEY).host(server.url()).use_system_proxy(false);
    let remote = RemoteClient::new(cfg, EvaluationContext::new("u")).unwrap();
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert!(remote.is_enabled("a").unwrap());
    assert_eq!(server.stats().definitions_requests, 0);
}

#[test]
fn parses_legacy_and_v2_shapes() {
    let v2 = br#"{"flags":{"x":{"key":"x","enabled":true,"variant":"blue","reason":{"code":"condition_match","condition_index":2,"description":"Matched condition set 3"},"metadata":{"id":5,"version":7,"payload":"[1,2]","has_experiment":true}},"y":{"key":"y","enabled":false,"variant":null,"failed":true}},"errorsWhileComputingFlags":true,"requestId":"r1","evaluatedAt":1700000000000}"#;
    let r = hogflags::client::parse_flags_response(v2).unwrap();
    let x = &r.flags["x"];
    assert_eq!(x.value, OwnedFlagValue::Variant("blue".into()));
    assert_eq!(x.payload, Some(serde_json::json!([1, 2])));
    assert_eq!(x.reason.as_ref().unwrap().condition_index, Some(2));
    assert_eq!((x.flag_id, x.version, x.has_experiment), (Some(5), Some(7), Some(true)));
    assert!(x.errors_while_computing && r.errors_while_computing);
    assert!(r.failed.contains("y") && !r.flags.contains_key("y"));
    let legacy = br#"{"featureFlags":{"a":true,"b":"v"},"featureFlagPayloads":{"b":"{\"k\":1}"}}"#;
    let r = hogflags::client::parse_flags_response(legacy).unwrap();
    assert_eq!(r.flags["b"].payload, Some(serde_json::json!({"k": 1})));
    assert_eq!(r.flags["a"].value, OwnedFlagValue::Bool(true));
    assert!(matches!(hogflags::client::parse_flags_response(b"[]"), Err(RemoteError::Malformed(_))));
    assert!(matches!(hogflags::client::parse_flags_response(b"{\"x\":1}"), Err(RemoteError::Malformed(_))));
}

/// `evaluation_runtime` (D14): the client declares `server` on `/flags` (remote mode `client`), so the
/// server answers runtime-tagged flags; a bulk call does not ask `/flags` for an undecided flag of another
/// runtime (the server would not answer it); dependencies on such a flag are false, as on the server.
#[test]
fn evaluation_runtime_is_declared_and_scopes_the_fallback() {
    let flag = |key: &str, runtime: &str, prop: &str| {
        serde_json::json!({"key": key, "active": true, "evaluation_runtime": runtime, "filters": {"groups": [
            {"properties": [{"key": prop, "type": "person", "operator": "exact", "value": "pro"}], "rollout_percentage": 100}]}})
    };
    let doc = serde_json::json!({"flags": [
        flag("server-beta", "server", "plan"), flag("client-beta", "client", "plan"), flag("any-beta", "all", "plan"),
        {"key": "needs-client-flag", "active": true, "filters": {"groups": [{"properties": [
            {"key": "client-beta", "type": "flag", "operator": "flag_evaluates_to", "value": true, "dependency_chain": ["client-beta"]}],
            "rollout_percentage": 100}]}},
    ]});
    let server = start_server(serde_json::to_vec(&doc).unwrap());
    server.set_person_properties("user-1", pro_props());
    let client = ready(&server, config(&server.url()));
    let ctx = EvaluationContext::new("user-1");

    // Single flag: asked with evaluation_runtime "server", and the server answers a server-tagged flag.
    let d = client.get_flag("server-beta", &ctx).unwrap();
    assert_eq!((d.value.clone(), d.source), (OwnedFlagValue::Bool(true), Source::Remote));
    assert_eq!(server.stats().last_flags_request.unwrap()["evaluation_runtime"], "server");
    assert_eq!(server.stats().last_flags_request.unwrap()["geoip_disable"], true);
    let geoip = ready(&server, config(&server.url()).disable_geoip(false));
    let _ = geoip.get_flag("server-beta", &ctx);
    assert_eq!(server.stats().last_flags_request.unwrap()["geoip_disable"], false, "disable_geoip(false) is sent");

    // Bulk: only the server and untagged flags are asked for; the client-only one stays unresolved.
    let all = client.get_all_flags(&ctx);
    let sent = server.stats().last_flags_request.unwrap();
    assert_eq!(sent["flag_keys_to_evaluate"], serde_json::json!(["server-beta", "any-beta"]), "{sent}");
    assert_eq!(all.flags["server-beta"].value, OwnedFlagValue::Bool(true));
    assert_eq!(all.flags["any-beta"].value, OwnedFlagValue::Bool(true));
    assert!(matches!(all.unresolved["client-beta"], Unresolved::Inconclusive { .. }), "{:?}", all.unresolved);
    // The dependent flag is decided locally: its client-only dependency is false for a server.
    assert_eq!(all.flags["needs-client-flag"].value, OwnedFlagValue::Bool(false));
    assert_eq!(all.flags["needs-client-flag"].source, Source::Local);

    // Remote mode is a client runtime.
    let remote = RemoteClient::new(config(&server.url()).poll_interval(Duration::from_secs(60)), ctx.clone()).unwrap();
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert_eq!(server.stats().last_flags_request.unwrap()["evaluation_runtime"], "client");
    assert_eq!(remote.get_flag("client-beta").unwrap().value, OwnedFlagValue::Bool(true));
    assert!(remote.get_flag("server-beta").is_err(), "the server does not serve server flags to a client");
}

/// Evaluation contexts (posthog-node's `evaluationContexts`, D14): flags limited to other contexts are
/// left out locally and count as false for dependencies; the contexts are sent on `/flags`, where the
/// server leaves out the same flags.
#[test]
fn evaluation_contexts_leave_out_other_contexts_flags() {
    let flag = |key: &str, field: &str, tags: serde_json::Value| {
        let mut f = serde_json::json!({"key": key, "active": true, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}});
        if !tags.is_null() {
            f[field] = tags;
        }
        f
    };
    let doc = serde_json::json!({"flags": [
        flag("web-only", "evaluation_contexts", serde_json::json!(["web"])),
        flag("mobile-only", "evaluation_contexts", serde_json::json!(["mobile"])),
        flag("mobile-legacy-tags", "evaluation_tags", serde_json::json!(["mobile"])),
        flag("untagged", "", serde_json::Value::Null),
        {"key": "needs-mobile", "active": true, "filters": {"groups": [{"properties": [
            {"key": "mobile-only", "type": "flag", "operator": "flag_evaluates_to", "value": true, "dependency_chain": ["mobile-only"]}],
            "rollout_percentage": 100}]}},
        {"key": "beta", "active": true, "evaluation_contexts": ["web"], "filters": {"groups": [{"properties": [
            {"key": "plan", "type": "person", "operator": "exact", "value": "pro"}], "rollout_percentage": 100}]}},
    ]});
    let server = start_server(serde_json::to_vec(&doc).unwrap());
    server.set_person_properties("user-1", pro_props());
    let client = ready(&server, config(&server.url()).evaluation_contexts(["web"]));
    let ctx = EvaluationContext::new("user-1");
    let all = client.get_all_flags_with(&ctx, LOCAL_ONLY);
    let mut keys: Vec<&str> = all.flags.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["needs-mobile", "untagged", "web-only"]);
    assert_eq!(all.flags["needs-mobile"].value, OwnedFlagValue::Bool(false), "a left-out dependency is false");
    assert!(!all.unresolved.contains_key("mobile-only"), "left out, not unresolved");
    // The fallback carries the contexts; the server leaves out the same flags.
    let remote = client.get_all_flags(&ctx);
    assert_eq!(remote.flags["beta"].source, Source::Remote);
    assert_eq!(server.stats().last_flags_request.unwrap()["evaluation_contexts"], serde_json::json!(["web"]));
    assert_eq!(client.get_flag("mobile-only", &ctx).unwrap_err(), Unresolved::FlagMissing);
    // Without contexts, every flag is evaluated.
    let plain = ready(&server, config(&server.url()));
    assert_eq!(plain.get_all_flags_with(&ctx, LOCAL_ONLY).flags.len(), 5);
}

/// Remote-config payloads (`get_remote_config_payload`): read from PostHog with the secret key, the
/// double JSON encoding undone; `None` for a flag without one; a configuration error without a secret.
#[test]
fn remote_config_payloads() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = ready(&server, config(&server.url()));
    assert_eq!(client.remote_config_payload("beta").unwrap(), Some(serde_json::json!({"color": "blue"})));
    assert_eq!(client.remote_config_payload("gen").unwrap(), Some(serde_json::json!({"gen": 1})));
    assert_eq!(client.remote_config_payload("a").unwrap(), None, "no payload: 404");
    assert_eq!(client.remote_config_payload("no-such-flag").unwrap(), None);
    assert_eq!(server.stats().remote_config_requests, 4);
    let wrong = Client::new(config(&server.url()).secret_key("phs_wrong")).unwrap();
    assert_eq!(
        wrong.remote_config_payload("beta").unwrap_err(),
        hogflags::client::ClientError::Remote(RemoteError::Status { status: 401 })
    );
    let keyless = Client::new(hogflags::client::Config::new(PROJECT_KEY).host(server.url())).unwrap();
    assert!(matches!(keyless.remote_config_payload("beta"), Err(hogflags::client::ClientError::Config(_))));
}

/// `/flags?v=4`: typed values (boolean, variant, null, number or object), rule attribution; the client
/// asks for v4 and reads it (the test server answers v4 with config version 1).
#[test]
fn parses_v4_typed_records_and_asks_for_v4() {
    let v4 = br#"{"flags":{
        "b":{"key":"b","value":true,"reason":{"code":"targeting_match","condition_index":0},"metadata":{"id":1,"version":2,"config_version":2,"rule_type":"targeted_release","rule_id":"0e6f7a3c-1111-4222-8333-944455556666","payload":"{\"k\":1}"}},
        "v":{"key":"v","value":"test","reason":{"code":"experiment_split"},"metadata":{"config_version":2,"rule_type":"experiment","rule_id":"0e6f7a3c-1111-4222-8333-944455556667","variant_key":"test"}},
        "off":{"key":"off","value":null,"metadata":{"config_version":2}},
        "num":{"key":"num","value":42.5,"metadata":{"config_version":2}},
        "obj":{"key":"obj","value":{"color":"blue"},"metadata":{"config_version":2,"payload":"\"ignored\""}},
        "bad":{"key":"bad","value":null,"failed":true},
        "arr":{"key":"arr","value":[1]}
    },"errorsWhileComputingFlags":false,"requestId":"r4"}"#;
    let r = hogflags::client::parse_flags_response(v4).unwrap();
    assert_eq!(r.flags["b"].value, OwnedFlagValue::Bool(true));
    assert_eq!(r.flags["b"].payload, Some(serde_json::json!({"k": 1})));
    let a = r.flags["b"].attribution.clone().unwrap();
    assert_eq!((a.config_version, a.rule_type.as_deref()), (Some(2), Some("targeted_release")));
    assert_eq!(r.flags["v"].value, OwnedFlagValue::Variant("test".into()));
    assert_eq!(r.flags["v"].attribution.as_ref().unwrap().variant_key.as_deref(), Some("test"));
    assert_eq!(r.flags["off"].value, OwnedFlagValue::Bool(false));
    assert_eq!((r.flags["num"].value.clone(), r.flags["num"].payload.clone()), (OwnedFlagValue::Bool(true), Some(serde_json::json!(42.5))));
    assert_eq!(r.flags["obj"].payload, Some(serde_json::json!({"color": "blue"})), "an object value is its own payload");
    assert!(r.failed.contains("bad") && r.failed.contains("arr"));

    let server = start_server(defs(1, &[("a", true)]));
    server.set_person_properties("user-1", pro_props());
    let client = ready(&server, config(&server.url()));
    let d = client.get_flag("beta", &EvaluationContext::new("user-1")).unwrap();
    assert_eq!((d.value.clone(), d.source), (OwnedFlagValue::Bool(true), Source::Remote));
    assert_eq!(d.attribution.and_then(|a| a.config_version), Some(1), "the v4 record was asked for and read");
}

/// Config-version-2 answers (`/flags?v=4`): `$feature_flag_called` carries the rule attribution instead
/// of `$feature_flag_reason`, and an experiment split also sends `$experiment_exposure`, once per
/// assignment; a malformed rule id reports no rule and sends no exposure.
#[test]
fn config_version_2_events_carry_attribution_and_exposure() {
    let server = start_server(defs(1, &[("a", true)]));
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let e2 = events.clone();
    let client = ready(&server, config(&server.url()).on_flag_called(move |e| e2.lock().unwrap().push(e)));
    let rule = "0e6f7a3c-1111-4222-8333-944455556667";
    let split = |id: &str| {
        format!(
            r#"{{"flags":{{"exp":{{"key":"exp","value":"test","reason":{{"code":"experiment_split","description":"x"}},
                "metadata":{{"id":9,"version":3,"config_version":2,"rule_type":"experiment","rule_id":"{id}","variant_key":"test"}}}}}},
                "errorsWhileComputingFlags":false,"requestId":"req-1","evaluatedAt":1700000000000}}"#
        )
    };
    let answer = |body: String| {
        server.inject(Fault::new(FaultTarget::Flags, FaultKind::Status { status: 200, retry_after: None, body: Some(body) }));
    };
    let ctx = EvaluationContext::new("user-1");
    for _ in 0..2 {
        answer(split(rule));
        assert_eq!(client.get_flag("exp", &ctx).unwrap().value, OwnedFlagValue::Variant("test".into()));
    }
    {
        let ev = events.lock().unwrap();
        assert_eq!(ev.len(), 2, "one $feature_flag_called and one $experiment_exposure, not repeated: {ev:#?}");
        let called = &ev[0].properties;
        assert_eq!(ev[0].event, "$feature_flag_called");
        assert_eq!(called["$feature_flag_config_version"], 2);
        assert_eq!(called["$feature_flag_reason_code"], "experiment_split");
        assert_eq!(called["$feature_flag_rule_id"], rule);
        assert_eq!(called["$feature_flag_rule_type"], "experiment");
        assert_eq!(called["$feature_flag_variant_key"], "test");
        assert!(!called.contains_key("$feature_flag_reason"));
        assert_eq!(ev[1].event, "$experiment_exposure");
        let exposure = &ev[1].properties;
        assert_eq!(exposure["$feature_flag"], "exp");
        assert_eq!(exposure["$feature_flag_response"], "test");
        assert_eq!(exposure["$feature_flag_variant_key"], "test");
        assert_eq!(exposure["$feature_flag_rule_id"], rule);
        assert_eq!(exposure["$feature_flag_request_id"], "req-1");
        assert_eq!(exposure["locally_evaluated"], false);
        assert!(!exposure.contains_key("$feature_flag_config_version"));
    }
    // A rule id that is not a UUID: the reason is reported, no rule and no exposure.
    answer(split("not-a-uuid"));
    let _ = client.get_flag("exp", &EvaluationContext::new("user-2"));
    let ev = events.lock().unwrap();
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[2].properties["$feature_flag_reason_code"], "experiment_split");
    assert!(!ev[2].properties.contains_key("$feature_flag_rule_id") && !ev[2].properties.contains_key("$feature_flag_variant_key"));
}

/// An unresolved flag's event carries PostHog's error codes: `local_evaluation_inconclusive` when local
/// evaluation could not decide and `/flags` was not asked.
#[test]
fn inconclusive_events_carry_local_evaluation_inconclusive() {
    let server = start_server(defs(1, &[("a", true)]));
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let e2 = events.clone();
    let client =
        ready(&server, config(&server.url()).only_evaluate_locally(true).on_flag_called(move |e| e2.lock().unwrap().push(e)));
    assert!(client.get_flag("beta", &EvaluationContext::new("user-1")).is_err());
    let ev = events.lock().unwrap();
    assert_eq!(ev[0].properties["$feature_flag_error"], "local_evaluation_inconclusive");
    assert_eq!(ev[0].properties["$feature_flag_response"], serde_json::Value::Null);
    assert_eq!(ev[0].properties["locally_evaluated"], true);
}

/// Minimal `$feature_flag_called` events (the project's `minimal_flag_called_events`): for a flag known
/// to have no experiment only PostHog's allowlist is kept (no payload, no `$feature/<key>`, no
/// definitions time); with an experiment, or with the gate off, every property stays.
#[test]
fn minimal_flag_called_events_keep_only_the_allowlist() {
    let doc = serde_json::json!({"minimal_flag_called_events": true, "flags": [
        {"id": 1, "key": "plain", "active": true, "has_experiment": false,
         "filters": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": "{\"a\": 1}"}}},
        {"id": 2, "key": "exp", "active": true, "has_experiment": true,
         "filters": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": "{\"a\": 1}"}}},
    ]});
    let server = start_server(serde_json::to_vec(&doc).unwrap());
    let events: Arc<Mutex<Vec<FlagCalledEvent>>> = Arc::default();
    let e2 = events.clone();
    let client = ready(&server, config(&server.url()).on_flag_called(move |e| e2.lock().unwrap().push(e)));
    let ctx = EvaluationContext::new("user-1").with_group("company", "acme");
    client.get_flag("plain", &ctx).unwrap();
    client.get_flag("exp", &ctx).unwrap();
    let ev = events.lock().unwrap();
    let plain = &ev[0].properties;
    assert!(plain.keys().all(|k| hogflags::client::MINIMAL_PROPERTIES.contains(&k.as_str())), "{plain:?}");
    for gone in ["$feature_flag_payload", "$feature/plain", "$feature_flag_definitions_loaded_at"] {
        assert!(!plain.contains_key(gone), "{gone} kept: {plain:?}");
    }
    assert_eq!(plain["$feature_flag_response"], true);
    assert_eq!(plain["$groups"], serde_json::json!({"company": "acme"}));
    let exp = &ev[1].properties;
    assert!(exp.contains_key("$feature_flag_payload") && exp.contains_key("$feature/exp"), "an experiment keeps every property");
}

const LOCAL_ONLY: hogflags::client::AllOptions<'static> = hogflags::client::AllOptions { only_evaluate_locally: true, flag_keys: None };
