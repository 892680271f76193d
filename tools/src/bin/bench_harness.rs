//! The Rust row of the cross-language benchmark (`scripts/bench.sh`): runs the workloads written by
//! `gen_workloads` and prints one JSON line per workload with median and p99 time per call (measured over
//! batches of calls, since one call is shorter than the clock's resolution), throughput and peak RSS.
//!
//! `cargo run --release -p hogflags-tools --bin bench_harness -- target/bench/workloads [--quick]`
//!
//! With the `client` feature it also runs workload 4 (the poll cycle, against the local test server
//! started in-process); without it, w1–w3 only.

use std::sync::OnceLock;
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
fn measure(n: usize, batch: usize, f: impl FnMut(usize)) -> (f64, f64, f64) {
    measure_with(n, batch, false, f)
}

/// As [`measure`]; with `warm`, each batch first runs once untimed, so that its inputs are in cache as
/// they are in a host that has just built the context it evaluates (100 000 contexts are ~180 MB: read
/// cold, the figure is mostly cache misses on the test's own data). Throughput counts the timed runs.
fn measure_with(n: usize, batch: usize, warm: bool, mut f: impl FnMut(usize)) -> (f64, f64, f64) {
    for i in 0..n.min(2_000) {
        f(i); // warm-up
    }
    let mut per_call = Vec::with_capacity(n / batch + 1);
    let mut timed = std::time::Duration::ZERO;
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        if warm {
            (i..end).for_each(&mut f);
        }
        let t = Instant::now();
        for j in i..end {
            f(j);
        }
        let elapsed = t.elapsed();
        timed += elapsed;
        per_call.push(elapsed.as_nanos() as f64 / (end - i) as f64);
        i = end;
    }
    let total = timed.as_secs_f64();
    per_call.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| per_call[((per_call.len() - 1) as f64 * p).round() as usize];
    (pct(0.5), pct(0.99), n as f64 / total)
}

/// The versions a row was measured with: this crate, and the compiler on PATH (the one `cargo run` used).
fn versions() -> Value {
    static VERSIONS: OnceLock<Value> = OnceLock::new();
    VERSIONS
        .get_or_init(|| {
            let rustc = std::process::Command::new("rustc")
                .arg("-V")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().trim_start_matches("rustc ").to_owned())
                .unwrap_or_default();
            json!({"hogflags": env!("CARGO_PKG_VERSION"), "rustc": rustc})
        })
        .clone()
}

/// Prints one `hogflags-rust` JSON line; `extra` (an object) is merged into it.
fn emit(workload: &str, calls: usize, (median, p99, throughput): (f64, f64, f64), extra: Value) {
    let mut line = json!({"impl": "hogflags-rust", "workload": workload, "calls": calls,
        "median_ns": median, "p99_ns": p99, "throughput_per_s": throughput, "peak_rss_mb": peak_rss_mb(),
        "versions": versions()});
    if let (Value::Object(a), Value::Object(b)) = (&mut line, extra) {
        a.extend(b);
    }
    println!("{line}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let dir = args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "target/bench/workloads".into());

    // Each workload in its own function, so that its data is freed before the next one is timed (the
    // loads of w3 measured 3–4× slower with w1's 180 MB of contexts still allocated).
    w3(&dir);
    w1(&dir);
    w2(&dir);

    poll::run(&dir, quick);
}

/// w1: one flag per call, 100 000 users; and the SHA-1 floor on the same hash inputs.
fn w1(dir: &str) {
    let snap = FlagSnapshot::from_json(&read(dir, "w1_definitions.json")).unwrap();
    let users = contexts(dir, "w1_users.json");
    let n = users.len();
    let cold = measure(n, 100, |i| {
        std::hint::black_box(snap.evaluate("bench-flag", &users[i]));
    });
    emit("w1_one_flag", n, measure_with(n, 100, true, |i| {
        std::hint::black_box(snap.evaluate("bench-flag", &users[i]));
    }), json!({"contexts": "in cache (each batch of 100 runs once untimed first)", "cold_median_ns": cold.0, "cold_p99_ns": cold.1}));
    let inputs: Vec<String> = users.iter().map(|u| format!("bench-flag.{}", u.distinct_id())).collect();
    let sha = measure_with(n, 100, true, |i| {
        let mut h = Sha1::new();
        h.update(inputs[i].as_bytes());
        std::hint::black_box(h.finalize());
    });
    println!("{}", json!({"impl": "sha1-floor", "workload": "w1_one_flag", "calls": n, "median_ns": sha.0, "p99_ns": sha.1, "throughput_per_s": sha.2}));
}

/// w2: all flags, and one rotating flag, of the 100-flag document.
fn w2(dir: &str) {
    let snap = FlagSnapshot::from_json(&read(dir, "w2_definitions.json")).unwrap();
    let users = contexts(dir, "w2_users.json");
    let n = users.len();
    emit("w2_all_flags", n, measure(n, 10, |i| {
        std::hint::black_box(snap.evaluate_all(&users[i]));
    }), json!({}));
    // One flag per call in the 100-flag document, rotating over the flags as the Python and Node rows do.
    let keys: Vec<&str> = snap.flags().map(|f| f.key).collect();
    let calls = n * 5;
    emit("w2_one_flag", calls, measure(calls, 100, |i| {
        std::hint::black_box(snap.evaluate(keys[(i * 7) % keys.len()], &users[i % n]));
    }), json!({}));
}

/// w3: parse + compile of 1 000 and 10 000 flags, and the bare `serde_json` parse of the same bytes.
fn w3(dir: &str) {
    for size in [1_000usize, 10_000] {
        let bytes = read(dir, &format!("w3_definitions_{size}.json"));
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

/// Workload 4: the client's poll cycle against the local test server (in-process, loopback), manual driver.
///
/// * `w4_poll_304`: `reload()` when the server answers 304. Proves nothing was re-parsed: the snapshot
///   `Arc` is the same object afterwards and `on_definitions_updated` never fired.
/// * `w4_poll_200`: `reload()` fetching a changed document (two versions of w2 alternate: flag-0's rollout
///   and version flip) while two threads evaluate all flags of the w2 users on the current snapshot. Reports
///   the cycle time, the evaluators' per-call median/p99 during the swaps against a run without polling, and
///   which versions the evaluators saw.
mod poll {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use hogflags::client::{Client, Config, DriverMode};
    use hogflags::EvaluationContext;
    use hogflags_test_server::{ServerConfig, TestServer, DEFAULT_PROJECT_API_KEY, DEFAULT_SECRET_KEY};
    use serde_json::{json, Value};

    /// Median, p99 and calls/s of individually timed calls (ns each) that took `total` seconds in all.
    fn summarize(mut samples: Vec<f64>, total: f64) -> (f64, f64, f64) {
        samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
        (pct(0.5), pct(0.99), samples.len() as f64 / total)
    }

    /// A manual-mode client of `server`, counting how many documents it parsed and swapped in.
    fn client(server: &TestServer, parses: Arc<AtomicU64>) -> Client {
        let config = Config::new(DEFAULT_PROJECT_API_KEY)
            .secret_key(DEFAULT_SECRET_KEY)
            .host(server.url())
            .driver(DriverMode::Manual)
            .use_system_proxy(false)
            .fallback_to_remote(false)
            .on_definitions_updated(move |_| {
                parses.fetch_add(1, Ordering::Relaxed);
            });
        let client = Client::new(config).expect("client");
        client.wait_until_ready(Duration::from_secs(10)).expect("first fetch from the test server");
        client
    }

    /// Version B of the w2 document: flag-0 (no property filters) moves from its rollout to 100 − it,
    /// and its `version` from 1 to 2, so an evaluator can tell which document a snapshot came from.
    fn flipped(doc: &[u8]) -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(doc).unwrap();
        let flag = v["flags"].as_array_mut().unwrap().iter_mut().find(|f| f["key"] == "flag-0").expect("flag-0 in w2");
        let rollout = flag["filters"]["groups"][0]["rollout_percentage"].as_f64().unwrap_or(100.0);
        flag["filters"]["groups"][0]["rollout_percentage"] = json!(100.0 - rollout);
        flag["version"] = json!(flag["version"].as_i64().unwrap_or(1) + 1);
        serde_json::to_vec(&v).unwrap()
    }

    fn poll_304(server: &TestServer, client: &Client, parses: &AtomicU64, cycles: usize) {
        let before = client.snapshot();
        let parsed_before = parses.load(Ordering::Relaxed);
        let served_before = server.stats().definitions_304;
        for _ in 0..cycles.min(200) {
            client.reload().expect("304 poll"); // warm-up: connection pool, allocator
        }
        let mut samples = Vec::with_capacity(cycles);
        let start = Instant::now();
        for _ in 0..cycles {
            let t = Instant::now();
            client.reload().expect("304 poll");
            samples.push(t.elapsed().as_nanos() as f64);
        }
        let total = start.elapsed().as_secs_f64();
        let same_snapshot = Arc::ptr_eq(&before, &client.snapshot());
        let reparsed = parses.load(Ordering::Relaxed) - parsed_before;
        let served_304 = server.stats().definitions_304 - served_before;
        assert!(same_snapshot && reparsed == 0, "a 304 must not re-parse (reparsed {reparsed})");
        super::emit("w4_poll_304", cycles, summarize(samples, total), json!({
            "poll": {"server_304": served_304, "reparsed": reparsed, "snapshot_unchanged": same_snapshot}}));
    }

    /// flag-0's `version` in a snapshot: tells which of the two documents it was compiled from.
    fn version_of(snap: &hogflags::FlagSnapshot) -> Option<i64> {
        snap.flag("flag-0").and_then(|f| f.version)
    }

    /// Two threads calling `evaluate_all` on the client's current snapshot until `stop`; returns each
    /// call's time (ns) and how many calls used document A (`[0]`) or any other version (`[1]`).
    fn evaluators(client: &Arc<Client>, users: &Arc<Vec<EvaluationContext>>, stop: &Arc<AtomicBool>)
        -> Vec<std::thread::JoinHandle<(Vec<f64>, [u64; 2])>> {
        let version_a = version_of(&client.snapshot());
        (0..2)
            .map(|t| {
                let (client, users, stop) = (client.clone(), users.clone(), stop.clone());
                std::thread::spawn(move || {
                    let (mut samples, mut seen) = (Vec::with_capacity(1 << 16), [0u64; 2]);
                    let mut i = t * 5_000;
                    while !stop.load(Ordering::Relaxed) {
                        let t0 = Instant::now();
                        let snap = client.snapshot();
                        std::hint::black_box(snap.evaluate_all(&users[i % users.len()]));
                        samples.push(t0.elapsed().as_nanos() as f64);
                        seen[usize::from(version_of(&snap) != version_a)] += 1;
                        i += 1;
                    }
                    (samples, seen)
                })
            })
            .collect()
    }

    /// Runs the evaluators for `duration`, calling `during` in a loop meanwhile; returns their samples
    /// (both threads together) and the per-version counts.
    fn with_evaluators(client: &Arc<Client>, users: &Arc<Vec<EvaluationContext>>, duration: Duration,
                       mut during: impl FnMut()) -> (Vec<f64>, [u64; 2], f64) {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let handles = evaluators(client, users, &stop);
        while start.elapsed() < duration {
            during();
        }
        stop.store(true, Ordering::Relaxed);
        let (mut all, mut seen) = (Vec::new(), [0u64; 2]);
        for h in handles {
            let (s, v) = h.join().unwrap();
            all.extend(s);
            seen[0] += v[0];
            seen[1] += v[1];
        }
        (all, seen, start.elapsed().as_secs_f64())
    }

    /// One 200 poll: the server gets the other version, then `reload()` fetches, parses and swaps it in.
    /// Returns the time of `reload()` in ns.
    fn swap_cycle(server: &TestServer, client: &Client, docs: [&[u8]; 2], next: &mut usize) -> f64 {
        server.set_definitions(docs[*next]);
        *next = 1 - *next;
        let t = Instant::now();
        client.reload().expect("200 poll");
        t.elapsed().as_nanos() as f64
    }

    fn poll_200(server: &TestServer, client: Arc<Client>, parses: &AtomicU64, doc_a: &[u8], users: Vec<EvaluationContext>,
                alone: usize, duration: Duration) {
        let doc_b = flipped(doc_a);
        let (docs, mut next) = ([doc_b.as_slice(), doc_a], 0);
        let users = Arc::new(users);
        let pause = Duration::from_millis(10); // between polls: swaps at up to ~50/s, far above a real poll rate
        let parsed_before = parses.load(Ordering::Relaxed);
        // The cycle on its own: fetch, parse + compile, swap.
        let start = Instant::now();
        let cycles: Vec<f64> = (0..alone).map(|_| swap_cycle(server, &client, docs, &mut next)).collect();
        let cycle_alone = summarize(cycles, start.elapsed().as_secs_f64());
        // Baseline: the evaluators, nothing polled.
        let (base, _, base_total) = with_evaluators(&client, &users, duration, || std::thread::sleep(pause));
        let base = summarize(base, base_total);
        // The same evaluators while a changed document is fetched, parsed and swapped in every cycle.
        let mut cycles = Vec::new();
        let (during, seen, total) = with_evaluators(&client, &users, duration, || {
            cycles.push(swap_cycle(server, &client, docs, &mut next));
            std::thread::sleep(pause);
        });
        let swaps = parses.load(Ordering::Relaxed) - parsed_before;
        let n = cycles.len();
        let cycle_total = cycles.iter().sum::<f64>() / 1e9;
        let (cycle_busy, during) = (summarize(cycles, cycle_total), summarize(during, total));
        assert_eq!(swaps as usize, alone + n, "every 200 poll must swap in a new snapshot");
        super::emit("w4_poll_200", alone, cycle_alone, json!({"poll": {
            "swaps": swaps, "pause_between_polls_ms": pause.as_millis() as u64, "evaluator_threads": 2,
            "cycle_during_evaluation": {"calls": n, "median_ns": cycle_busy.0, "p99_ns": cycle_busy.1},
            "evaluate_all_baseline": {"median_ns": base.0, "p99_ns": base.1, "throughput_per_s": base.2},
            "evaluate_all_during_swaps": {"median_ns": during.0, "p99_ns": during.1, "throughput_per_s": during.2},
            "median_ratio": during.0 / base.0, "p99_ratio": during.1 / base.1,
            "evaluations_by_version": {"a": seen[0], "b": seen[1]},
            "saw_both_versions": seen[0] > 0 && seen[1] > 0}}));
    }

    pub fn run(dir: &str, quick: bool) {
        let doc = super::read(dir, "w2_definitions.json");
        let server = TestServer::start(ServerConfig::default().with_definitions(doc.clone())).expect("test server");
        let parses = Arc::new(AtomicU64::new(0));
        let client = Arc::new(client(&server, parses.clone()));
        poll_304(&server, &client, &parses, if quick { 500 } else { 3_000 });
        let users = super::contexts(dir, "w2_users.json");
        let (alone, secs) = if quick { (50, 1) } else { (300, 4) };
        poll_200(&server, client.clone(), &parses, &doc, users, alone, Duration::from_secs(secs));
        client.shutdown();
    }
}
