//! Each operator with arbitrary filter and property values (any JSON: strings, numbers, dates, versions,
//! regexes, arrays): matching must never panic or stall.
#![no_main]
use arbitrary::Arbitrary;
use hogflags::{EvaluationContext, FlagSnapshot};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const OPERATORS: &[&str] = &[
    "exact", "is_not", "is_set", "is_not_set", "icontains", "not_icontains", "starts_with", "not_starts_with",
    "ends_with", "not_ends_with", "icontains_multi", "not_icontains_multi", "regex", "not_regex", "gt", "gte",
    "lt", "lte", "between", "not_between", "is_date_before", "is_date_after", "is_date_exact", "semver_eq",
    "semver_neq", "semver_gt", "semver_gte", "semver_lt", "semver_lte", "semver_tilde", "semver_caret",
    "semver_wildcard", "in", "not_in", "flag_evaluates_to", "unknown",
];

#[derive(Arbitrary, Debug)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<String>),
}

impl Val {
    fn json(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => json!(b),
            Val::Int(i) => json!(i),
            Val::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            Val::Str(s) => json!(s),
            Val::List(l) => json!(l),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    operator: u8,
    filter: Val,
    property: Option<Val>,
    rollout: Option<u8>,
}

fuzz_target!(|input: Input| {
    let op = OPERATORS[input.operator as usize % OPERATORS.len()];
    let doc = json!({"flags": [{"key": "f", "active": true, "filters": {"groups": [{
        "properties": [{"key": "p", "value": input.filter.json(), "operator": op, "type": "person"}],
        "rollout_percentage": input.rollout.map(|r| r % 101)}]}}]});
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).expect("a well-formed one-flag document loads");
    let mut ctx = EvaluationContext::new("u");
    if let Some(p) = &input.property {
        ctx = ctx.with_person_property("p", p.json());
    }
    let _ = snap.evaluate("f", &ctx);
});
