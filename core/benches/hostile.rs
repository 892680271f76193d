//! Time per evaluation of flags whose regex filters are classic catastrophic-backtracking patterns
//! (docs/reliability.md lists the figures beside what PostHog's SDKs do with the same patterns).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hogflags::{EvaluationContext, FlagSnapshot};
use serde_json::json;

pub const HOSTILE: &[(&str, &str, fn() -> String)] = &[
    ("nested_plus", "(a+)+$", || format!("{}b", "a".repeat(30))),
    ("alternation", "(a|aa)+$", || format!("{}b", "a".repeat(40))),
    ("words", r"^(\w+\s?)*$", || format!("{}!", "word ".repeat(12))),
    ("repeat_group", "(.*a){20}", || "a".repeat(25)),
    ("lookahead_backtracking", "^(?=a)((?=a)a|a)+(?!x)$", || format!("{}!", "a".repeat(40))),
];

fn hostile(c: &mut Criterion) {
    let mut g = c.benchmark_group("hostile_regex");
    for (name, pattern, input) in HOSTILE {
        let doc = json!({"flags": [{"key": "f", "active": true, "filters": {"groups": [{"properties": [
            {"key": "p", "value": pattern, "operator": "regex", "type": "person"}], "rollout_percentage": 100}]}}]});
        let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
        let ctx = EvaluationContext::new("u").with_person_property("p", input());
        assert!(snap.evaluate("f", &ctx).decided().is_some());
        g.bench_function(*name, |b| b.iter(|| black_box(snap.evaluate("f", &ctx))));
    }
    g.finish();
}

criterion_group!(benches, hostile);
criterion_main!(benches);
