//! A fixed amount of evaluation work for profilers: callgrind counts instructions, so two builds can be
//! compared exactly even on a busy machine (BENCHMARKS.md, "Profiling").
//!
//! `valgrind --tool=callgrind target/release/examples/profile_eval target/bench/workloads w2 2000`
//!
//! `w1`: the single-flag workload, one `evaluate` per user; `w2`: `evaluate_all` of the 100-flag document
//! per user. Users are taken in order from the workload files written by `gen_workloads`.

use hogflags::{EvaluationContext, FlagSnapshot, Properties};
use serde_json::Value;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "target/bench/workloads".into());
    let which = args.next().unwrap_or_else(|| "w2".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2_000);
    let read = |name: &str| std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));

    let snap = FlagSnapshot::from_json(&read(&format!("{which}_definitions.json"))).expect("definitions");
    let users: Vec<Value> = serde_json::from_slice(&read(&format!("{which}_users.json"))).expect("users");
    let contexts: Vec<EvaluationContext> = users
        .iter()
        .cycle()
        .take(n)
        .map(|u| {
            let props: Properties = serde_json::from_value(u["person_properties"].clone()).expect("properties");
            EvaluationContext::new(u["distinct_id"].as_str().unwrap_or_default()).with_person_properties(props)
        })
        .collect();
    let mut decided = 0usize;
    for ctx in &contexts {
        if which == "w1" {
            decided += usize::from(snap.evaluate("bench-flag", ctx).decided().is_some());
        } else {
            decided += snap.evaluate_all(ctx).iter().filter(|(_, e)| e.decided().is_some()).count();
        }
    }
    println!("{n} contexts, {decided} decided evaluations");
}
