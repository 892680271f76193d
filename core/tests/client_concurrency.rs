//! Several threads evaluating while definitions are swapped underneath them: every read resolves, every
//! bulk read sees one whole snapshot (never half of one update), and no thread ever goes back in time.
#![cfg(feature = "client")]

mod client_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{Client, OwnedFlagValue};
use hogflags::EvaluationContext;

/// Generation g: flags `a` and `b` are both on for odd g, both off for even g; `gen` carries g.
fn generation(g: u64) -> Vec<u8> {
    defs(g, &[("a", g % 2 == 1), ("b", g % 2 == 1)])
}

#[test]
fn threads_evaluate_while_definitions_swap() {
    const SWAPS: u64 = 40;
    let server = start_server(generation(1));
    let client = Arc::new(Client::new(config(&server.url()).poll_interval(Duration::from_secs(60))).unwrap());
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(AtomicU64::new(0));
    let seen: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (client, stop, total, seen) = (client.clone(), stop.clone(), total.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut last_gen = 0;
                let mut n = 0u64;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let ctx = EvaluationContext::new(format!("user-{t}-{i}"));
                    i += 1;
                    // Bulk: one snapshot per call, so a, b and gen always agree.
                    let all = client.get_all_flags_with(&ctx, LOCAL_ONLY);
                    let g = gen_of(&all.flags["gen"].payload).expect("gen payload");
                    let on = g % 2 == 1;
                    assert_eq!(all.flags["a"].value, OwnedFlagValue::Bool(on), "generation {g}: half an update seen");
                    assert_eq!(all.flags["b"].value, OwnedFlagValue::Bool(on), "generation {g}: half an update seen");
                    assert!(g >= last_gen, "went back from generation {last_gen} to {g}");
                    last_gen = g;
                    seen[t].store(g, Ordering::Release);
                    // Single: always resolved.
                    let d = client.get_flag("a", &ctx).expect("never unresolved during a swap");
                    assert!(matches!(d.value, OwnedFlagValue::Bool(_)));
                    n += 2;
                }
                total.fetch_add(n, Ordering::Relaxed);
                last_gen
            })
        })
        .collect();
    let t0 = Instant::now();
    for g in 2..=SWAPS {
        server.set_definitions(&generation(g));
        client.reload().unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(wait_for(Duration::from_secs(10), || seen.iter().all(|g| g.load(Ordering::Acquire) == SWAPS)));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        assert_eq!(t.join().expect("no evaluating thread panicked"), SWAPS, "every thread saw the last generation");
    }
    let n = total.load(Ordering::Relaxed);
    println!("concurrency: {n} evaluations by 4 threads across {} swaps in {:?}", SWAPS - 1, t0.elapsed());
    assert!(n > 1000, "threads were not blocked by swaps: only {n} evaluations");
    assert_eq!(server.stats().definitions_200, SWAPS);
}

#[test]
fn evaluation_is_not_blocked_by_a_hanging_poll() {
    let server = start_server(generation(1));
    let client = Arc::new(Client::new(config(&server.url()).poll_interval(Duration::from_millis(50))).unwrap());
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Hang { hang_ms: Some(1_500) }));
    assert!(wait_for(Duration::from_secs(2), || server.stats().faults_injected == 1));
    // A poll is now stuck in flight; evaluations go on at full speed.
    let t = Instant::now();
    let mut n = 0;
    while t.elapsed() < Duration::from_millis(200) {
        assert!(client.get_flag("a", &EvaluationContext::new(format!("u{n}"))).is_ok());
        n += 1;
    }
    assert!(n > 1000, "only {n} evaluations in 200 ms while a poll hung");
}

const LOCAL_ONLY: hogflags::client::AllOptions<'static> = hogflags::client::AllOptions { only_evaluate_locally: true, flag_keys: None };
