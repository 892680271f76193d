//! A bounded fault soak: 4 threads evaluate while the server injects random faults (5xx, 401, 403, 429,
//! hangs past the timeout, delays, malformed and truncated bodies, dropped connections) and publishes new
//! definitions. Checks: no panic, every local read resolves (last good flags served throughout), no
//! thread goes back in time, and after the server heals the newest definitions arrive within one
//! interval (plus one request timeout). Prints the figures.
//!
//! Default length 10 s; set `HOGFLAGS_SOAK_SECS` for a longer run (e.g. 60).
#![cfg(feature = "client")]

mod client_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{Client, FlagOptions};
use hogflags::EvaluationContext;

const INTERVAL: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_millis(400);

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn random_fault(rng: &mut Lcg) -> Fault {
    let target = if rng.next(5) == 0 { FaultTarget::Flags } else { FaultTarget::Definitions };
    let kind = match rng.next(12) {
        0 => FaultKind::Status { status: 500, retry_after: None, body: None },
        1 => FaultKind::Status { status: 502, retry_after: None, body: None },
        2 => FaultKind::Status { status: 503, retry_after: None, body: None },
        3 => FaultKind::Status { status: 504, retry_after: None, body: None },
        4 => FaultKind::Status { status: 401, retry_after: None, body: None },
        5 => FaultKind::Status { status: 403, retry_after: None, body: None },
        6 => FaultKind::Status { status: 429, retry_after: None, body: None },
        7 => FaultKind::Hang { hang_ms: Some(2_000) },
        8 => FaultKind::Delay { delay_ms: 150 },
        9 => FaultKind::Malformed,
        10 => FaultKind::Truncated,
        _ => FaultKind::Drop,
    };
    Fault { target, count: 1 + rng.next(2) as u32, kind }
}

#[test]
fn fault_soak() {
    let secs: u64 = std::env::var("HOGFLAGS_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let server = Arc::new(start_server(defs(1, &[("a", true)])));
    let client = Arc::new(
        Client::new(
            config(&server.url())
                .poll_interval(INTERVAL)
                .definitions_timeout(TIMEOUT)
                .remote_timeout(TIMEOUT)
                .max_backoff(INTERVAL)
                .jitter(0.1),
        )
        .unwrap(),
    );
    client.wait_until_ready(Duration::from_secs(5)).unwrap();

    let published: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(vec![Instant::now(), Instant::now()])); // index = generation
    let current = Arc::new(AtomicU64::new(1));
    let stop = Arc::new(AtomicBool::new(false));
    let evaluations = Arc::new(AtomicU64::new(0));
    let max_stale_us = Arc::new(AtomicU64::new(0));
    let remote_ok = Arc::new(AtomicU64::new(0));
    let remote_err = Arc::new(AtomicU64::new(0));
    let seen: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());

    let threads: Vec<_> = (0..4)
        .map(|t| {
            let seen = seen.clone();
            let (client, published, current, stop, evaluations, max_stale_us, remote_ok, remote_err) = (
                client.clone(),
                published.clone(),
                current.clone(),
                stop.clone(),
                evaluations.clone(),
                max_stale_us.clone(),
                remote_ok.clone(),
                remote_err.clone(),
            );
            std::thread::spawn(move || {
                let mut last = 0;
                let mut i = 0u64;
                let local = FlagOptions { only_evaluate_locally: true, send_event: false };
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let ctx = EvaluationContext::new(format!("u{t}-{i}"));
                    let newest = current.load(Ordering::Acquire);
                    let d = client.get_flag_with("gen", &ctx, local).expect("last good flags served throughout");
                    let g = gen_of(&d.payload).unwrap();
                    assert!(g >= last, "went back from generation {last} to {g}");
                    last = g;
                    seen[t].store(g, Ordering::Release);
                    if g < newest {
                        let since = published.lock().unwrap()[(g + 1) as usize].elapsed();
                        max_stale_us.fetch_max(since.as_micros() as u64, Ordering::Relaxed);
                    }
                    assert!(client.get_flag_with("a", &ctx, local).is_ok());
                    evaluations.fetch_add(2, Ordering::Relaxed);
                    #[allow(clippy::manual_is_multiple_of)]
                    let every_200th = i % 200 == 0;
                    if t == 0 && every_200th {
                        // The remote fallback under faults: errors are typed, never panics.
                        match client.get_flag("beta", &ctx) {
                            Err(hogflags::client::Unresolved::Remote(_)) => remote_err.fetch_add(1, Ordering::Relaxed),
                            _ => remote_ok.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                }
                last
            })
        })
        .collect();

    let mut rng = Lcg(0x5eed_1234);
    let t0 = Instant::now();
    let mut generation = 1;
    let mut injected_actions = 0u64;
    while t0.elapsed() < Duration::from_secs(secs) {
        // Faults arrive about as fast as requests do (a new one only once the last is used up), so the
        // client sees runs of failures mixed with successes rather than a wall of faults.
        if rng.next(10) < 3 {
            generation += 1;
            published.lock().unwrap().push(Instant::now());
            server.set_definitions(&defs(generation, &[("a", generation % 2 == 1)]));
            current.store(generation, Ordering::Release);
        } else if server.stats().faults_pending == 0 {
            server.inject(random_fault(&mut rng));
            injected_actions += 1;
        }
        std::thread::sleep(Duration::from_millis(100 + rng.next(200)));
    }

    // Heal, publish once more, and time the recovery.
    server.clear_faults();
    generation += 1;
    let healed = Instant::now();
    published.lock().unwrap().push(healed);
    server.set_definitions(&defs(generation, &[("a", true)]));
    current.store(generation, Ordering::Release);
    let recovered = wait_for(Duration::from_secs(10), || {
        client
            .get_flag_with("gen", &EvaluationContext::new("probe"), FlagOptions { only_evaluate_locally: true, send_event: false })
            .ok()
            .and_then(|d| gen_of(&d.payload))
            == Some(generation)
    });
    let recovery = healed.elapsed();
    // Every evaluating thread gets there too (allowing for a slow scheduler or a fallback call in flight).
    let all_seen = wait_for(Duration::from_secs(10), || seen.iter().all(|g| g.load(Ordering::Acquire) == generation));
    stop.store(true, Ordering::Relaxed);
    let lasts: Vec<u64> = threads.into_iter().map(|t| t.join().expect("no evaluating thread panicked")).collect();

    let stats = server.stats();
    let status = client.status();
    println!("soak: {secs} s, 4 threads");
    println!("soak: evaluations {}", evaluations.load(Ordering::Relaxed));
    println!("soak: faults injected {} ({injected_actions} fault runs of 1-2 requests)", stats.faults_injected);
    println!(
        "soak: definitions published {generation}; polls {} of which successful {} (200: {}, 304: {}), the rest faulted",
        stats.definitions_requests,
        stats.definitions_200 + stats.definitions_304,
        stats.definitions_200,
        stats.definitions_304
    );
    println!("soak: responses by status {:?}", stats.by_status);
    println!("soak: remote fallbacks ok {} / failed {}", remote_ok.load(Ordering::Relaxed), remote_err.load(Ordering::Relaxed));
    println!("soak: max staleness {:?}", Duration::from_micros(max_stale_us.load(Ordering::Relaxed)));
    println!("soak: recovery after heal {recovery:?} (interval {INTERVAL:?}, timeout {TIMEOUT:?})");
    println!("soak: client status at end {status:?}");

    assert!(recovered, "not recovered within 10 s of healing");
    assert!(
        recovery <= INTERVAL.mul_f64(1.1) + TIMEOUT + Duration::from_millis(300),
        "recovery took {recovery:?}: more than one interval (+ one request timeout)"
    );
    assert!(all_seen && lasts.iter().all(|&g| g == generation), "every thread saw the final generation: {lasts:?}");
    assert!(stats.faults_injected > 0);
    assert!(evaluations.load(Ordering::Relaxed) > 10_000);
    client.shutdown();
}
