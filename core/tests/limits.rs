//! Resource limits: every limit, when exceeded, gives a clear error for that flag or document (or an
//! inconclusive answer for the filter involved) and everything else keeps working. No input overflows
//! the stack.

use hogflags::{DocumentError, Evaluation, EvaluationContext, FlagSnapshot, InconclusiveKind, Limits};
use serde_json::{json, Value};

fn ok_flag(key: &str) -> Value {
    json!({"key": key, "active": true, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}})
}

fn kind(e: Evaluation<'_>) -> Option<InconclusiveKind> {
    match e {
        Evaluation::Inconclusive(i) => Some(i.kind),
        Evaluation::Decided(_) => None,
    }
}

#[test]
fn document_over_the_size_limit_is_refused() {
    let limits = Limits { max_document_bytes: 100, ..Limits::default() };
    let doc = json!({"flags": [ok_flag("a"), ok_flag("b")]}).to_string();
    let err = FlagSnapshot::from_json_with_limits(doc.as_bytes(), limits).unwrap_err();
    assert!(matches!(err, DocumentError::TooLarge { .. }));
    assert!(err.to_string().contains("over the limit"), "{err}");
}

#[test]
fn too_many_flags_is_refused() {
    let limits = Limits { max_flags: 2, ..Limits::default() };
    let doc = json!({"flags": [ok_flag("a"), ok_flag("b"), ok_flag("c")]}).to_string();
    assert!(matches!(
        FlagSnapshot::from_json_with_limits(doc.as_bytes(), limits),
        Err(DocumentError::TooManyFlags { count: 3, limit: 2 })
    ));
}

#[test]
fn deeply_nested_json_is_a_clear_error_not_a_stack_overflow() {
    let mut nested = String::from("1");
    for _ in 0..100_000 {
        nested = format!("[{nested}]");
    }
    let doc = format!(r#"{{"flags":[{{"key":"a","filters":{{"payloads":{{"true":{nested}}}}}}},{{"key":"b","active":true}}]}}"#);
    let snap = FlagSnapshot::from_json(doc.as_bytes()).unwrap();
    assert_eq!(snap.skipped()[0].key, "a");
    assert!(snap.skipped()[0].reason.contains("recursion limit"), "{:?}", snap.skipped());
    assert!(snap.flag("b").is_some());
}

#[test]
fn malformed_flags_are_skipped_and_the_rest_load() {
    let doc = json!({"flags": [
        ok_flag("good"),
        {"key": "bad-rollout", "active": true, "filters": {"groups": [{"rollout_percentage": "fifty"}]}},
        {"active": true},
        {"key": "bad-variant", "active": true, "filters": {"multivariate": {"variants": [{"key": "a"}]}}},
        42,
        ok_flag("good")
    ]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    assert_eq!(snap.len(), 1);
    let skipped: Vec<&str> = snap.skipped().iter().map(|s| s.key.as_str()).collect();
    assert_eq!(skipped, ["bad-rollout", "<flag #2>", "bad-variant", "<flag #4>", "good"]);
    assert!(snap.skipped()[0].reason.contains("rollout_percentage"), "{:?}", snap.skipped()[0]);
    let ctx = EvaluationContext::new("u");
    assert!(snap.evaluate("good", &ctx).value().unwrap().is_enabled());
    assert_eq!(kind(snap.evaluate("bad-rollout", &ctx)), Some(InconclusiveKind::UnknownFlag));
}

fn cohort_flag() -> Value {
    json!({"key": "c", "active": true, "filters": {"groups": [{"properties": [{"key": "id", "value": 1, "type": "cohort"}]}]}})
}

#[test]
fn over_deep_cohort_nesting_makes_only_that_filter_inconclusive() {
    let mut group = json!({"key": "plan", "value": "pro", "type": "person"});
    for _ in 0..40 {
        group = json!({"type": "AND", "values": [group]});
    }
    let doc = json!({"flags": [cohort_flag(), ok_flag("other")], "cohorts": {"1": group}});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u").with_person_property("plan", "pro");
    assert_eq!(kind(snap.evaluate("c", &ctx)), Some(InconclusiveKind::InvalidValue));
    assert!(snap.broken_cohorts()[0].reason.contains("nested too deeply"));
    assert!(snap.evaluate("other", &ctx).value().unwrap().is_enabled());
}

#[test]
fn cohort_cycles_and_long_cohort_chains_are_refused() {
    let mut cohorts = serde_json::Map::new();
    for i in 1..=100 {
        cohorts.insert(i.to_string(), json!({"type": "AND", "values": [{"key": "id", "value": i + 1, "type": "cohort"}]}));
    }
    cohorts.insert("200".into(), json!({"type": "OR", "values": [{"key": "id", "value": 201, "type": "cohort"}]}));
    cohorts.insert("201".into(), json!({"type": "OR", "values": [{"key": "id", "value": 200, "type": "cohort"}]}));
    let cyc = json!({"key": "cyc", "active": true, "filters": {"groups": [{"properties": [{"key": "id", "value": 200, "type": "cohort"}]}]}});
    let doc = json!({"flags": [cohort_flag(), cyc, ok_flag("other")], "cohorts": cohorts});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u");
    assert_eq!(kind(snap.evaluate("c", &ctx)), Some(InconclusiveKind::InvalidValue));
    assert_eq!(kind(snap.evaluate("cyc", &ctx)), Some(InconclusiveKind::InvalidValue));
    assert!(snap.broken_cohorts().iter().any(|c| c.reason.contains("cycle")));
    assert!(snap.evaluate("other", &ctx).value().unwrap().is_enabled());
}

fn depends_on(key: &str, dep: &str) -> Value {
    json!({"key": key, "active": true, "filters": {"groups": [{"properties": [
        {"key": dep, "value": true, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": [dep]}]}]}})
}

#[test]
fn dependency_chains_beyond_the_limit_and_cycles_are_inconclusive() {
    let mut flags: Vec<Value> = (0..200).map(|i| depends_on(&format!("f{i}"), &format!("f{}", i + 1))).collect();
    flags.push(ok_flag("f200"));
    flags.push(depends_on("x", "y"));
    flags.push(depends_on("y", "x"));
    flags.push(depends_on("short", "f190"));
    let snap = FlagSnapshot::from_json(json!({"flags": flags}).to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u");
    assert_eq!(kind(snap.evaluate("f0", &ctx)), Some(InconclusiveKind::Dependency));
    assert_eq!(kind(snap.evaluate("x", &ctx)), Some(InconclusiveKind::Dependency));
    assert!(snap.evaluate("short", &ctx).value().unwrap().is_enabled());
    // The bulk path agrees, and evaluates without overflowing.
    let all = snap.evaluate_all(&ctx);
    assert_eq!(all.len(), 204);
}

#[test]
fn oversized_regex_is_inconclusive_and_invalid_regex_is_false() {
    let big = "a".repeat(20_000);
    let doc = json!({"flags": [
        {"key": "big", "active": true, "filters": {"groups": [{"properties": [{"key": "p", "value": big, "operator": "regex", "type": "person"}]}]}},
        {"key": "bad", "active": true, "filters": {"groups": [{"properties": [{"key": "p", "value": "(", "operator": "not_regex", "type": "person"}]}]}}
    ]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u").with_person_property("p", "aaa");
    assert_eq!(kind(snap.evaluate("big", &ctx)), Some(InconclusiveKind::InvalidValue));
    assert!(!snap.evaluate("bad", &ctx).value().unwrap().is_enabled());
}

#[test]
fn catastrophic_regex_finishes_in_microseconds() {
    let doc = json!({"flags": [{"key": "evil", "active": true, "filters": {"groups": [{"properties": [
        {"key": "p", "value": "(a+)+$", "operator": "regex", "type": "person"}]}]}}]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u").with_person_property("p", format!("{}b", "a".repeat(30)));
    assert!(!snap.evaluate("evil", &ctx).value().unwrap().is_enabled());
}

#[test]
fn flag_property_keys_include_cohorts_and_dependencies() {
    let doc = json!({"flags": [
        {"key": "top", "active": true, "filters": {"groups": [{"properties": [
            {"key": "plan", "value": "pro", "type": "person"},
            {"key": "mid", "value": true, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": ["leaf", "mid"]}]}]}},
        {"key": "mid", "active": true, "filters": {"groups": [{"properties": [{"key": "id", "value": 1, "type": "cohort"}]}]}},
        {"key": "leaf", "active": true, "filters": {"groups": [{"properties": [{"key": "age", "value": 3, "operator": "gt", "type": "person"}]}]}},
        {"key": "other", "active": true, "filters": {"groups": [{"properties": [{"key": "country", "value": "de", "type": "person"}]}]}}
    ], "cohorts": {"1": {"type": "AND", "values": [
        {"key": "email", "value": "x", "operator": "icontains", "type": "person"},
        {"key": "leaf", "value": true, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": ["leaf"]}]}}});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let keys: Vec<&str> = snap.flag_property_keys("top").unwrap().person.iter().map(String::as_str).collect();
    assert_eq!(keys, ["age", "email", "plan"]);
    // Evaluating with only those keys gives the same answer as with everything.
    let full = EvaluationContext::new("u").with_person_property("plan", "pro").with_person_property("email", "x@y")
        .with_person_property("age", 5).with_person_property("country", "de");
    let trimmed = EvaluationContext::new("u").with_person_property("plan", "pro").with_person_property("email", "x@y")
        .with_person_property("age", 5);
    assert_eq!(snap.evaluate("top", &full), snap.evaluate("top", &trimmed));
    assert!(snap.evaluate("top", &full).value().unwrap().is_enabled());
}

#[test]
fn positional_api_matches_keyed_api() {
    let doc = json!({"flags": [
        {"key": "a", "active": true, "filters": {"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person"}], "rollout_percentage": 100}]}},
        {"key": "b", "active": true, "filters": {"groups": [{"properties": [{"key": "age", "value": 3, "operator": "gt", "type": "person"}]}]}}
    ]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("u").with_person_property("plan", "pro").with_person_property("age", 1);
    for (i, info) in snap.flags().enumerate() {
        assert_eq!(snap.position(info.key), Some(i));
        assert_eq!(snap.evaluate_at(i, &ctx), snap.evaluate(info.key, &ctx));
        assert_eq!(snap.flag_property_keys_at(i), snap.flag_property_keys(info.key));
    }
    assert_eq!(snap.position("missing"), None);
    assert_eq!(snap.evaluate_at(2, &ctx), snap.evaluate("missing", &ctx));
    assert!(snap.flag_property_keys_at(2).is_none());
}

/// A document of many large regexes (alternations of ~9 KB) loads within its regex budget plus a little:
/// the patterns past the budget are compiled later, once, and every answer is the one of a load that
/// compiled everything at once.
#[test]
fn many_large_regexes_do_not_stall_loading_and_answer_the_same() {
    let words = |flag: usize| (0..1000).map(|w| format!("w{flag}x{w}")).collect::<Vec<_>>().join("|");
    let flags: Vec<Value> = (0..60)
        .map(|i| {
            let pattern = format!("^({})$", words(i));
            json!({"key": format!("re-{i}"), "active": true, "filters": {"groups": [{"properties": [
                {"key": "tag", "value": pattern, "operator": if i % 2 == 0 { "regex" } else { "not_regex" }, "type": "person"}],
                "rollout_percentage": 100}]}})
        })
        .collect();
    let doc = json!({"flags": flags}).to_string();
    assert!(doc.len() > 60 * 6_000);

    let budget = std::time::Duration::from_millis(50);
    let t = std::time::Instant::now();
    let lazy = FlagSnapshot::from_json_with_limits(doc.as_bytes(), Limits { regex_compile_budget: budget, ..Limits::default() }).unwrap();
    let load = t.elapsed();
    assert!(lazy.deferred_regexes() > 0, "the budget deferred some patterns");
    assert!(load < budget + std::time::Duration::from_secs(1), "loading took {load:?}");
    let eager = FlagSnapshot::from_json_with_limits(
        doc.as_bytes(),
        Limits { regex_compile_budget: std::time::Duration::from_secs(3600), ..Limits::default() },
    )
    .unwrap();
    assert_eq!(eager.deferred_regexes(), 0);

    let answers = |snap: &FlagSnapshot| -> Vec<String> {
        ["w3x17", "w4x999", "nothing", "w59x0"]
            .iter()
            .flat_map(|tag| {
                let ctx = EvaluationContext::new("u").with_person_property("tag", *tag);
                (0..60).map(move |i| (format!("re-{i}"), ctx.clone()))
            })
            .map(|(key, ctx)| format!("{key}: {:?}", snap.evaluate(&key, &ctx).decided().map(|r| r.value.clone())))
            .collect()
    };
    let half = lazy.deferred_regexes();
    assert_eq!(answers(&lazy), answers(&eager));
    assert_eq!(lazy.deferred_regexes(), 0, "first uses compiled the rest ({half} were deferred)");

    // The client's warm-up path compiles what is left, off the hot path.
    let again = FlagSnapshot::from_json_with_limits(doc.as_bytes(), Limits { regex_compile_budget: budget, ..Limits::default() }).unwrap();
    assert!(again.deferred_regexes() > 0);
    while !again.compile_deferred_regexes(std::time::Duration::from_millis(10)) {}
    assert_eq!(again.deferred_regexes(), 0);
    assert_eq!(answers(&again), answers(&eager));
}
