//! Criterion benches for the engine, each beside the floor it competes with, measured in the same run:
//! - one flag (3 filters, 50 % rollout) vs one SHA-1 of its hash input;
//! - all flags of a 100-flag document for one user;
//! - parse + compile of 1 000 and 10 000 flags vs a bare `serde_json` parse of the same bytes.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hogflags::{EvaluationContext, FlagSnapshot};
use serde_json::json;
use sha1::{Digest, Sha1};

#[path = "workload.rs"]
mod workload;

fn one_flag(c: &mut Criterion) {
    let snap = FlagSnapshot::from_json(workload::single_flag_document().to_string().as_bytes()).unwrap();
    let ctx = EvaluationContext::new("user-12345")
        .with_person_property("plan", "pro")
        .with_person_property("email", "user-12345@example.com")
        .with_person_property("age", 30)
        .with_person_property("country", "DE")
        .with_person_property("$browser", "Firefox");
    assert!(snap.evaluate("bench-flag", &ctx).decided().is_some());
    let mut g = c.benchmark_group("one_flag");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sha1_floor", |b| {
        b.iter(|| {
            let mut h = Sha1::new();
            h.update(black_box(b"bench-flag.user-12345"));
            black_box(h.finalize())
        })
    });
    g.bench_function("evaluate", |b| b.iter(|| black_box(snap.evaluate(black_box("bench-flag"), &ctx))));
    g.finish();
}

fn all_flags(c: &mut Criterion) {
    let doc = workload::mixed_document(100, 7);
    let snap = FlagSnapshot::from_json(doc.to_string().as_bytes()).unwrap();
    let mut rng = workload::Rng::new(11);
    let props = workload::full_properties(&mut rng, 77).into_iter().collect();
    let ctx = EvaluationContext::new("user-77").with_person_properties(props);
    let mut g = c.benchmark_group("all_flags_100");
    g.throughput(Throughput::Elements(100));
    g.bench_function("evaluate_all", |b| b.iter(|| black_box(snap.evaluate_all(&ctx))));
    g.finish();
}

fn load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.sample_size(20);
    for n in [1_000usize, 10_000] {
        let bytes = workload::mixed_document(n, 3).to_string().into_bytes();
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("serde_json_floor", n), &bytes, |b, bytes| {
            b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap()))
        });
        g.bench_with_input(BenchmarkId::new("parse_compile", n), &bytes, |b, bytes| {
            b.iter(|| black_box(FlagSnapshot::from_json(black_box(bytes)).unwrap()))
        });
    }
    g.finish();
    let _ = json!(null);
}

criterion_group!(benches, one_flag, all_flags, load);
criterion_main!(benches);
