//! Writes a differential corpus: random definitions and contexts of mixed JSON types, with the Rust core's
//! own answers as the expected values, in the conformance-corpus format. Every binding runs it through its
//! own API (its conformance runner reads the folder named by `HOGFLAGS_EXTRA_CORPUS`), which proves that
//! type conversion at each boundary is faithful: all must agree exactly with the core.
//!
//! `cargo run --release -p hogflags-tools --bin gen_differential -- target/differential [suites] [seed]`
//!
//! Values include integers (also beyond 2^53 and 2^64), non-integral floats, booleans, null, empty and
//! Unicode strings, nested lists and objects. Filter values also include integral floats (`42.0`,
//! `1e2`): the server compares them as written (`"42.0"` is not `"42"`), and every binding must load a
//! document's numbers exactly as written (Python from a dict, every binding from JSON text). Contexts do
//! not hold integral floats: JavaScript and Foundation cannot tell them from integers, so in those
//! languages the value a caller passes *is* the integer, as their JSON would send it to `/flags`.

use std::path::PathBuf;

use hogflags::{Evaluation, EvaluationContext, FlagSnapshot, FlagValue};
use serde_json::{json, Map, Value};

#[allow(dead_code)]
#[path = "../../../core/benches/workload.rs"]
mod workload;
use workload::Rng;

const OPERATORS: &[&str] = &[
    "exact", "is_not", "is_set", "is_not_set", "icontains", "not_icontains", "starts_with", "ends_with",
    "regex", "not_regex", "gt", "gte", "lt", "lte", "is_date_before", "is_date_after", "semver_gt",
    "semver_eq", "semver_tilde", "semver_caret", "semver_wildcard",
];
const KEYS: &[&str] = &["a", "b", "plan", "$app_version", "ünï", ""];
const STRINGS: &[&str] = &[
    "", "pro", "PRO", "Straße", "STRASSE", "ünï", "😀", "true", "False", "null", "1.2.3", "v2.0", "01.2",
    "2024-06-01", "2024-06-01T10:00:00+02:00", "-7d", "12", "12.5", "1e3", "inf", "NaN", "^p", "(a+)+$", "[",
    " spaced ", "a,b",
];

fn value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth > 1 { 7 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => {
            // Small integers, and the integral values the filters write as floats (`42.0` vs `42`).
            let ints = [rng.below(200) as i64 - 100, 42, 2, 100, -7, 0];
            json!(ints[rng.below(6) as usize])
        }
        3 => match rng.below(4) {
            0 => json!(9_007_199_254_740_993u64), // 2^53 + 1
            1 => json!(i64::MIN),
            2 => serde_json::from_str("18446744073709551616").unwrap(), // 2^64: parsed as a float
            _ => json!(u64::MAX),
        },
        4 => {
            let f = (rng.below(2_000_000) as f64 - 1_000_000.0) / 1000.0 + 0.5;
            json!([f, 1e300, -0.25, 3.25e-7][rng.below(4) as usize])
        }
        5 | 6 => json!(STRINGS[rng.below(STRINGS.len() as u64) as usize]),
        7 => Value::Array((0..rng.below(3)).map(|_| value(rng, depth + 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(3) {
                m.insert(KEYS[rng.below(KEYS.len() as u64) as usize].to_string(), value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// A filter value: as [`value`], or an integral float written as such (`42.0`, `1e2`), next to the
/// integers that contexts hold.
fn filter_value(rng: &mut Rng) -> Value {
    if rng.below(5) == 0 {
        let text = ["42.0", "2.0", "1e2", "-7.0", "[42.0, 3]", "0.0"][rng.below(6) as usize];
        return serde_json::from_str(text).unwrap();
    }
    value(rng, 0)
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.below(items.len() as u64) as usize]
}

fn suite(rng: &mut Rng, n: usize) -> Value {
    let mut flags = Vec::new();
    for f in 0..8 {
        let mut groups = Vec::new();
        for _ in 0..1 + rng.below(2) {
            let props: Vec<Value> = (0..1 + rng.below(3))
                .map(|_| {
                    let (kind, gti) = if rng.below(4) == 0 { ("group", json!(0)) } else { ("person", Value::Null) };
                    json!({"key": pick(rng, KEYS), "value": filter_value(rng), "operator": pick(rng, OPERATORS),
                           "type": kind, "group_type_index": gti})
                })
                .collect();
            let rollout = [Value::Null, json!(100), json!(50), json!(12.5)][rng.below(4) as usize].clone();
            groups.push(json!({"properties": props, "rollout_percentage": rollout}));
        }
        let mut filters = json!({"groups": groups, "payloads": {"true": "{\"n\": 1}", "x": "\"ü\""}});
        if rng.below(3) == 0 {
            filters["multivariate"] = json!({"variants": [{"key": "x", "rollout_percentage": 30}, {"key": "y", "rollout_percentage": 70}]});
        }
        flags.push(json!({"id": f, "key": format!("f{f}"), "active": rng.below(8) != 0, "filters": filters}));
    }
    let definitions = json!({"flags": flags, "group_type_mapping": {"0": "company"}});
    let snap = FlagSnapshot::from_json(definitions.to_string().as_bytes()).expect("generated document loads");
    let mut cases = Vec::new();
    for c in 0..n {
        let mut person = Map::new();
        for _ in 0..rng.below(5) {
            person.insert(pick(rng, KEYS).to_string(), value(rng, 0));
        }
        let distinct_id = if rng.below(5) == 0 { json!(rng.below(1000)) } else { json!(format!("u-{}-ü", rng.below(1000))) };
        let mut context = json!({"distinct_id": distinct_id, "person_properties": person,
                                 "now": "2026-06-01T12:00:00Z"});
        if rng.below(2) == 0 {
            let mut gp = Map::new();
            for _ in 0..rng.below(4) {
                gp.insert(pick(rng, KEYS).to_string(), value(rng, 0));
            }
            let key = [json!("acme"), json!(42), json!(""), json!(7.5)][rng.below(4) as usize].clone();
            context["groups"] = json!({"company": key});
            context["group_properties"] = json!({"company": gp});
        }
        let ctx = EvaluationContext::from_json(&context.to_string()).expect("generated context parses");
        for (key, outcome) in snap.evaluate_all(&ctx) {
            let expected = match outcome {
                Evaluation::Decided(r) => json!({
                    "value": match r.value { FlagValue::Bool(b) => json!(b), FlagValue::Variant(v) => json!(v) },
                    "payload": r.payload,
                    "reason": {"code": r.reason.code.as_str(), "condition_index": r.reason.condition_index}}),
                Evaluation::Inconclusive(i) => json!({"inconclusive": i.kind.as_str()}),
            };
            cases.push(json!({"id": format!("c{c}-{key}"), "flag": key, "context": context, "expected": expected}));
        }
    }
    json!({"description": "differential: random definitions and mixed-type contexts; expected = the Rust core",
           "provenance": "generated by tools/src/bin/gen_differential.rs", "definitions": definitions, "cases": cases})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "target/differential".into()));
    let suites: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(25);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(20261125);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(seed);
    let mut total = 0;
    for s in 0..suites {
        let suite = suite(&mut rng, 20);
        total += suite["cases"].as_array().unwrap().len();
        std::fs::write(dir.join(format!("differential_{s:03}.json")), serde_json::to_vec_pretty(&suite).unwrap()).unwrap();
    }
    println!("{total} differential cases in {suites} files under {}", dir.display());
}
