//! The Rust row of the cross-language benchmark (`scripts/bench.sh`): runs the workloads written by
//! `gen_workloads` and prints one JSON line per workload with median and p99 time per call (measured over
//! batches of calls, since one call is shorter than the clock's resolution), throughput and peak RSS.
//!
//! `cargo run --release -p hogflags --example bench_harness -- target/bench/workloads`

use std::time::Instant;

use hogflags::{EvaluationContext, FlagSnapshot, Properties};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

fn read(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{dir}/{name}")).unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
}

fn contexts(dir: &str, name: &str) -> Vec<EvaluationContext> {
    let users: Vec<Value> = serde_json::from_slice(&read(dir, name)).unwrap();
    users
        .into_iter()
        .map(|u| {
            let props: Properties = serde_json::from_value(u["person_properties"].clone()).unwrap();
            EvaluationContext::new(u["distinct_id"].as_str().unwrap()).with_person_properties(props)
        })
        .collect()
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Times `f(i)` for i in 0..n in batches of `batch`; returns (median ns/call, p99 ns/call, calls/s).
fn measure(n: usize, batch: usize, mut f: impl FnMut(usize)) -> (f64, f64, f64) {
    for i in 0..n.min(2_000) {
        f(i); // warm-up
    }
    let mut per_call = Vec::with_capacity(n / batch + 1);
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let t = Instant::now();
        let end = (i + batch).min(n);
        for j in i..end {
            f(j);
        }
        per_call.push(t.elapsed().as_nanos() as f64 / (end - i) as f64);
        i = end;
    }
    let total = start.elapsed().as_secs_f64();
    per_call.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| per_call[((per_call.len() - 1) as f64 * p).round() as usize];
    (pct(0.5), pct(0.99), n as f64 / total)
}

fn emit(workload: &str, calls: usize, (median, p99, throughput): (f64, f64, f64), extra: Value) {
    let mut line = json!({"impl": "hogflags-rust", "workload": workload, "calls": calls,
        "median_ns": median, "p99_ns": p99, "throughput_per_s": throughput, "peak_rss_mb": peak_rss_mb()});
    if let (Value::Object(a), Value::Object(b)) = (&mut line, extra) {
        a.extend(b);
    }
    println!("{line}");
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "target/bench/workloads".into());

    let snap = FlagSnapshot::from_json(&read(&dir, "w1_definitions.json")).unwrap();
    let users = contexts(&dir, "w1_users.json");
    let n = users.len();
    emit("w1_one_flag", n, measure(n, 100, |i| {
        std::hint::black_box(snap.evaluate("bench-flag", &users[i]));
    }), json!({}));
    let inputs: Vec<String> = users.iter().map(|u| format!("bench-flag.{}", u.distinct_id())).collect();
    let sha = measure(n, 100, |i| {
        let mut h = Sha1::new();
        h.update(inputs[i].as_bytes());
        std::hint::black_box(h.finalize());
    });
    println!("{}", json!({"impl": "sha1-floor", "workload": "w1_one_flag", "calls": n, "median_ns": sha.0, "p99_ns": sha.1, "throughput_per_s": sha.2}));

    let snap = FlagSnapshot::from_json(&read(&dir, "w2_definitions.json")).unwrap();
    let users = contexts(&dir, "w2_users.json");
    let n = users.len();
    emit("w2_all_flags", n, measure(n, 10, |i| {
        std::hint::black_box(snap.evaluate_all(&users[i]));
    }), json!({}));

    for size in [1_000usize, 10_000] {
        let bytes = read(&dir, &format!("w3_definitions_{size}.json"));
        let reps = if size == 1_000 { 100 } else { 10 };
        let parse = measure(reps, 1, |_| {
            std::hint::black_box(serde_json::from_slice::<Value>(&bytes).unwrap());
        });
        println!("{}", json!({"impl": "serde_json-floor", "workload": format!("w3_load_{size}"), "calls": reps, "median_ns": parse.0, "p99_ns": parse.1, "throughput_per_s": parse.2}));
        emit(&format!("w3_load_{size}"), reps, measure(reps, 1, |_| {
            std::hint::black_box(FlagSnapshot::from_json(&bytes).unwrap());
        }), json!({}));
    }
}
