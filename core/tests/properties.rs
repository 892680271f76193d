//! Property tests for the invariants the hash and the evaluator must keep, on generated inputs.

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue};
use proptest::prelude::*;
use serde_json::{json, Value};

fn rollout_doc(key: &str, pct: f64) -> FlagSnapshot {
    let doc = json!({"flags": [{"key": key, "active": true,
        "filters": {"groups": [{"properties": [], "rollout_percentage": pct}]}}]});
    FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap()
}

fn enabled(snap: &FlagSnapshot, key: &str, id: &str) -> bool {
    snap.evaluate(key, &EvaluationContext::new(id)).value().unwrap().is_enabled()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A user inside a rollout of p % stays inside every rollout q > p.
    #[test]
    fn rollout_is_monotone(key in "[a-z-]{1,20}", id in "\\PC{0,40}", p in 0.0f64..100.0, dq in 0.0f64..100.0) {
        let q = (p + dq).min(100.0);
        let at_p = enabled(&rollout_doc(&key, p), &key, &id);
        let at_q = enabled(&rollout_doc(&key, q), &key, &id);
        prop_assert!(!at_p || at_q, "in at {p} but out at {q}");
    }

    /// The same inputs always give the same answer, and `evaluate_all` agrees with `evaluate`.
    #[test]
    fn evaluation_is_deterministic(doc in arbitrary_document(), ctx in arbitrary_context()) {
        let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
        let all = snap.evaluate_all(&ctx);
        for (key, bulk) in &all {
            let one = snap.evaluate(key, &ctx);
            prop_assert_eq!(&one, bulk);
            prop_assert_eq!(one, snap.evaluate(key, &ctx));
        }
    }
}

/// Variant shares converge to their weights over many users.
#[test]
fn variant_shares_converge_to_weights() {
    let weights = [50.0, 20.0, 20.0, 5.0, 5.0];
    let variants: Vec<Value> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| json!({"key": format!("v{i}"), "rollout_percentage": w}))
        .collect();
    let doc = json!({"flags": [{"key": "mv", "active": true, "filters": {
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {"variants": variants}}}]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let n = 40_000;
    let mut counts = [0usize; 5];
    for u in 0..n {
        match snap.evaluate("mv", &EvaluationContext::new(format!("user-{u}"))).value() {
            Some(FlagValue::Variant(v)) => counts[v[1..].parse::<usize>().unwrap()] += 1,
            other => panic!("expected a variant, got {other:?}"),
        }
    }
    for (i, w) in weights.iter().enumerate() {
        let p = w / 100.0;
        let share = counts[i] as f64 / n as f64;
        let sigma = (p * (1.0 - p) / n as f64).sqrt();
        assert!((share - p).abs() < 5.0 * sigma, "variant {i}: share {share}, weight {p}");
    }
}

fn arbitrary_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec!["1.2.3", "v2.0", "2024-01-01", "-7d", "true", "FALSE", "(a+)+$", "^\\d+$"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| prop::collection::vec(inner, 0..4).prop_map(Value::from))
}

fn arbitrary_filter() -> impl Strategy<Value = Value> {
    let operators = prop_oneof![
        Just("exact"), Just("is_not"), Just("is_set"), Just("is_not_set"), Just("icontains"),
        Just("not_icontains"), Just("regex"), Just("not_regex"), Just("gt"), Just("lte"),
        Just("is_date_before"), Just("is_date_after"), Just("is_date_exact"), Just("semver_gt"),
        Just("semver_tilde"), Just("semver_caret"), Just("semver_wildcard"), Just("between"), Just("bogus"),
    ];
    (prop_oneof![Just("a"), Just("b"), Just("c")], arbitrary_value(), operators, 0..4u8).prop_map(
        |(key, value, op, kind)| match kind {
            0 => json!({"key": key, "value": value, "operator": op, "type": "person"}),
            1 => json!({"key": key, "value": value, "operator": op, "type": "group", "group_type_index": 0}),
            2 => json!({"key": "id", "value": 1, "operator": "in", "type": "cohort"}),
            _ => json!({"key": "f0", "value": true, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": ["f0"]}),
        },
    )
}

fn arbitrary_document() -> impl Strategy<Value = Value> {
    let condition = (prop::collection::vec(arbitrary_filter(), 0..3), prop::option::of(0.0f64..=100.0),
        prop::option::of(prop_oneof![Just("a"), Just("zzz")]))
        .prop_map(|(props, rollout, variant)| json!({"properties": props, "rollout_percentage": rollout, "variant": variant}));
    let flag = (prop::collection::vec(condition, 0..3), any::<bool>(), any::<bool>(), prop::option::of(0..2i64), any::<bool>())
        .prop_map(|(groups, active, multivariate, agg, early_exit)| {
            let mv = multivariate.then(|| json!({"variants": [{"key": "a", "rollout_percentage": 60}, {"key": "b", "rollout_percentage": 40}]}));
            json!({"filters": {"groups": groups, "multivariate": mv, "aggregation_group_type_index": agg,
                    "early_exit": early_exit, "payloads": {"a": "{\"x\":1}", "true": "not json"}}, "active": active})
        });
    prop::collection::vec(flag, 1..5).prop_map(|flags| {
        let flags: Vec<Value> = flags
            .into_iter()
            .enumerate()
            .map(|(i, mut f)| {
                f["key"] = json!(format!("f{i}"));
                f
            })
            .collect();
        json!({"flags": flags, "group_type_mapping": {"0": "company"},
               "cohorts": {"1": {"type": "OR", "values": [{"type": "AND", "values": [
                   {"key": "a", "value": "x", "operator": "icontains", "type": "person", "negation": true}]}]}}})
    })
}

fn arbitrary_context() -> impl Strategy<Value = EvaluationContext> {
    (
        "\\PC{0,10}",
        prop::collection::hash_map(prop_oneof![Just("a".to_string()), Just("b".to_string())], arbitrary_value(), 0..3),
        prop::option::of("[a-z0-9]{0,6}"),
    )
        .prop_map(|(id, props, company)| {
            let props: hogflags::Properties = props.into_iter().collect();
            let mut ctx = EvaluationContext::new(id).with_person_properties(props.clone());
            if let Some(c) = company {
                ctx = ctx.with_group("company", c).with_group_properties("company", props);
            }
            ctx
        })
}

#[test]
fn inconclusive_is_a_value_not_a_panic() {
    let snap = FlagSnapshot::from_json(br#"{"flags":[{"key":"x","active":true,"ensure_experience_continuity":true}]}"#).unwrap();
    assert!(matches!(snap.evaluate("x", &EvaluationContext::new("u")), Evaluation::Inconclusive(_)));
}
