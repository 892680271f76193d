//! A bounded stress test of the client: many threads evaluate through `Client` while the local test server
//! publishes new definitions every few milliseconds and clients are created, shut down and dropped while
//! other threads are still reading through them (and while their fetches are in flight).
//!
//! Checks, for every read of every thread:
//! - no panic (every thread is joined and its result checked);
//! - no torn state: a bulk read sees one whole snapshot (`a` and `b` are both on for odd generations and
//!   both off for even ones, and `gen` carries the generation), never half of an update;
//! - every read resolves once a client is ready, also after that client was shut down (evaluation goes
//!   on with the last definitions);
//! - no thread ever goes back to an older generation on the same client;
//! - when publishing stops, the long-lived client reaches the final generation, and once every client
//!   is gone the process's driver thread exits (nothing left running).
//!
//! Loopback only (the in-process test server on 127.0.0.1). The publishing phase lasts
//! `HOGFLAGS_STRESS_SECS` (default 6 s; the whole test stays under 15 s by default); it prints its figures.
#![cfg(feature = "client")]

mod client_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{driver_threads, Client, ClientError, FlagOptions, OwnedFlagValue};
use hogflags::EvaluationContext;

const LOCAL: FlagOptions = FlagOptions { only_evaluate_locally: true, send_event: false };

/// Generation g: flags `a` and `b` are both on for odd g and both off for even g; `gen` carries g.
fn generation(g: u64) -> Vec<u8> {
    defs(g, &[("a", g % 2 == 1), ("b", g % 2 == 1)])
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[derive(Default)]
struct Counters {
    bulk_reads: AtomicU64,
    single_reads: AtomicU64,
    reads_after_shutdown: AtomicU64,
    clients_created: AtomicU64,
    clients_shut_down_mid_flight: AtomicU64,
    clients_dropped_mid_flight: AtomicU64,
    clients_dropped_before_ready: AtomicU64,
    manual_ticks: AtomicU64,
    publishes: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_err: AtomicU64,
}

/// One read of each kind through `client`, checked. Returns the generation the bulk read saw.
fn read_once(client: &Client, ctx: &EvaluationContext, last: u64, counters: &Counters) -> u64 {
    let all = client.get_all_flags_with(ctx, LOCAL_ONLY);
    assert!(all.unresolved.is_empty(), "a bulk read left flags unresolved: {:?}", all.unresolved);
    let g = gen_of(&all.flags["gen"].payload).expect("gen payload");
    let on = g % 2 == 1;
    assert_eq!(all.flags["a"].value, OwnedFlagValue::Bool(on), "generation {g}: half an update seen (a)");
    assert_eq!(all.flags["b"].value, OwnedFlagValue::Bool(on), "generation {g}: half an update seen (b)");
    assert!(g >= last, "went back from generation {last} to {g}");
    let single = client.get_flag_with("a", ctx, LOCAL).expect("a single read resolves");
    assert!(matches!(single.value, OwnedFlagValue::Bool(_)));
    let gen_single = gen_of(&client.get_flag_with("gen", ctx, LOCAL).expect("gen resolves").payload).expect("gen payload");
    assert!(gen_single >= g, "single read older than the bulk read before it ({gen_single} < {g})");
    counters.bulk_reads.fetch_add(1, Ordering::Relaxed);
    counters.single_reads.fetch_add(2, Ordering::Relaxed);
    gen_single
}

/// Readers on a short-lived client: they read until `until`, across its shutdown or the drop of every
/// other handle to it, and return how many reads they made after `shut` was set.
fn spawn_readers(client: &Arc<Client>, n: usize, until: Instant, shut: &Arc<AtomicBool>, counters: &Arc<Counters>, tag: u64) -> Vec<std::thread::JoinHandle<()>> {
    (0..n)
        .map(|r| {
            let (client, shut, counters) = (client.clone(), shut.clone(), counters.clone());
            std::thread::spawn(move || {
                let mut last = 0;
                let mut i = 0u64;
                while Instant::now() < until {
                    i += 1;
                    let ctx = EvaluationContext::new(format!("c{tag}-r{r}-{i}")).with_person_property("plan", "pro");
                    let was_shut = shut.load(Ordering::Acquire);
                    last = read_once(&client, &ctx, last, &counters);
                    if was_shut {
                        counters.reads_after_shutdown.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // This thread may hold the last handle: the client is dropped here, mid-run of the others.
            })
        })
        .collect()
}

#[test]
fn evaluations_race_swaps_shutdowns_and_drops() {
    let secs: f64 = std::env::var("HOGFLAGS_STRESS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(6.0);
    let phase = Duration::from_secs_f64(secs);
    let t0 = Instant::now();
    let server = Arc::new(start_server(generation(1)));
    let url = server.url();
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));

    // The long-lived client: polls every 20 ms, and a reloader asks for more.
    let main = Arc::new(Client::new(config(&url).poll_interval(Duration::from_millis(20))).unwrap());
    main.wait_until_ready(Duration::from_secs(5)).expect("ready");
    let readers: Vec<_> = (0..6)
        .map(|t| {
            let (main, stop, counters) = (main.clone(), stop.clone(), counters.clone());
            std::thread::spawn(move || {
                let mut last = 0;
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let ctx = EvaluationContext::new(format!("m{t}-{i}")).with_person_property("plan", if i % 2 == 0 { "pro" } else { "free" });
                    last = read_once(&main, &ctx, last, &counters);
                    if t == 0 && i % 64 == 0 {
                        let _ = (main.status(), main.snapshot().len());
                    }
                }
                last
            })
        })
        .collect();

    // The publisher: a new document every 2-6 ms.
    let publisher = {
        let (server, stop, counters) = (server.clone(), stop.clone(), counters.clone());
        std::thread::spawn(move || {
            let mut rng = Lcg(7);
            let mut g = 1;
            while !stop.load(Ordering::Relaxed) {
                g += 1;
                server.set_definitions(&generation(g));
                counters.publishes.fetch_add(1, Ordering::Relaxed);
                if rng.next(40) == 0 {
                    // A slow response now and then, so some clients are dropped with a fetch in flight.
                    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Delay { delay_ms: 30 + rng.next(50) }));
                }
                std::thread::sleep(Duration::from_millis(2 + rng.next(5)));
            }
            g
        })
    };
    let reloader = {
        let (main, stop, counters) = (main.clone(), stop.clone(), counters.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match main.reload() {
                    Ok(()) => counters.reloads_ok.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        assert!(!matches!(e, ClientError::ShutDown), "main client shut down unexpectedly");
                        counters.reloads_err.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        })
    };

    // Churners: short-lived clients, shut down or dropped while readers use them.
    let churners: Vec<_> = (0..2)
        .map(|c| {
            let (url, counters) = (url.clone(), counters.clone());
            std::thread::spawn(move || {
                let mut rng = Lcg(1000 + c);
                let end = t0 + phase;
                let mut n = 0u64;
                while Instant::now() < end {
                    n += 1;
                    let tag = c * 1_000_000 + n;
                    counters.clients_created.fetch_add(1, Ordering::Relaxed);
                    let interval = Duration::from_millis(5 + rng.next(40));
                    match rng.next(8) {
                        0 => {
                            // Dropped at once: its first fetch is in flight (or not yet started).
                            let client = Client::new(config(&url).poll_interval(interval)).unwrap();
                            std::thread::sleep(Duration::from_millis(rng.next(5)));
                            drop(client);
                            counters.clients_dropped_before_ready.fetch_add(1, Ordering::Relaxed);
                        }
                        1 => {
                            // Manual mode: ticks from several threads at once, then a shutdown mid-flight.
                            let client = Arc::new(Client::new(manual(config(&url))).unwrap());
                            client.wait_until_ready(Duration::from_secs(5)).expect("manual client ready");
                            let shut = Arc::new(AtomicBool::new(false));
                            let until = Instant::now() + Duration::from_millis(30 + rng.next(70));
                            let mut hs = spawn_readers(&client, 2, until, &shut, &counters, tag);
                            for _ in 0..2 {
                                let (client, counters) = (client.clone(), counters.clone());
                                hs.push(std::thread::spawn(move || {
                                    while Instant::now() < until {
                                        // After the shutdown a tick may fail; it must never panic.
                                        let _ = client.tick();
                                        counters.manual_ticks.fetch_add(1, Ordering::Relaxed);
                                    }
                                }));
                            }
                            std::thread::sleep(Duration::from_millis(rng.next(30)));
                            client.shutdown();
                            shut.store(true, Ordering::Release);
                            counters.clients_shut_down_mid_flight.fetch_add(1, Ordering::Relaxed);
                            drop(client);
                            for h in hs {
                                h.join().expect("no thread panicked");
                            }
                        }
                        k => {
                            let client = Arc::new(Client::new(config(&url).poll_interval(interval)).unwrap());
                            client.wait_until_ready(Duration::from_secs(5)).expect("short-lived client ready");
                            let shut = Arc::new(AtomicBool::new(false));
                            let until = Instant::now() + Duration::from_millis(20 + rng.next(80));
                            let readers = spawn_readers(&client, 3, until, &shut, &counters, tag);
                            std::thread::sleep(Duration::from_millis(rng.next(40)));
                            if k % 2 == 0 {
                                // Shut down while three threads read through it; they go on reading.
                                client.shutdown();
                                shut.store(true, Ordering::Release);
                                counters.clients_shut_down_mid_flight.fetch_add(1, Ordering::Relaxed);
                            } else {
                                counters.clients_dropped_mid_flight.fetch_add(1, Ordering::Relaxed);
                            }
                            // Either way this handle goes now; the last reader to finish drops the client.
                            drop(client);
                            for h in readers {
                                h.join().expect("no reader panicked");
                            }
                        }
                    }
                }
            })
        })
        .collect();

    for h in churners {
        h.join().expect("no churner panicked");
    }
    stop.store(true, Ordering::Relaxed);
    let last_published = publisher.join().expect("publisher did not panic");
    reloader.join().expect("reloader did not panic");
    let busy = t0.elapsed();

    // Publishing stopped: the long-lived client gets the final generation, and so does every reader.
    server.clear_faults();
    let final_gen = last_published + 1;
    server.set_definitions(&generation(final_gen));
    main.reload().expect("final reload");
    let got = gen_of(&main.get_flag_with("gen", &EvaluationContext::new("probe"), LOCAL).unwrap().payload);
    assert_eq!(got, Some(final_gen), "main client has the final definitions");
    let lasts: Vec<u64> = readers.into_iter().map(|h| h.join().expect("no main reader panicked")).collect();
    assert!(lasts.iter().all(|&g| g <= final_gen && g > 1), "readers saw generations {lasts:?}");

    let c = &*counters;
    let figures = [
        ("bulk reads", c.bulk_reads.load(Ordering::Relaxed)),
        ("single reads", c.single_reads.load(Ordering::Relaxed)),
        ("reads through a client already shut down", c.reads_after_shutdown.load(Ordering::Relaxed)),
        ("definitions published", c.publishes.load(Ordering::Relaxed)),
        ("reloads ok", c.reloads_ok.load(Ordering::Relaxed)),
        ("reloads failed", c.reloads_err.load(Ordering::Relaxed)),
        ("clients created", c.clients_created.load(Ordering::Relaxed)),
        ("clients shut down mid-flight", c.clients_shut_down_mid_flight.load(Ordering::Relaxed)),
        ("clients dropped mid-flight by a reader", c.clients_dropped_mid_flight.load(Ordering::Relaxed)),
        ("clients dropped before ready", c.clients_dropped_before_ready.load(Ordering::Relaxed)),
        ("manual ticks", c.manual_ticks.load(Ordering::Relaxed)),
        ("definitions requests served", server.stats().definitions_requests),
    ];
    for (what, n) in figures {
        println!("stress: {what}: {n}");
    }
    println!("stress: {busy:?} under load (HOGFLAGS_STRESS_SECS={secs}), main client final generation {final_gen}");

    // Every client gone: the driver thread exits.
    main.shutdown();
    drop(main);
    assert!(wait_for(Duration::from_secs(5), || driver_threads() == 0), "driver thread still running: {}", driver_threads());
    println!("stress: total {:?}", t0.elapsed());

    assert!(c.bulk_reads.load(Ordering::Relaxed) > 1_000, "too few reads to mean anything");
    assert!(c.publishes.load(Ordering::Relaxed) > 100);
    assert!(c.clients_shut_down_mid_flight.load(Ordering::Relaxed) > 0);
    assert!(c.clients_dropped_mid_flight.load(Ordering::Relaxed) > 0);
    assert!(c.reads_after_shutdown.load(Ordering::Relaxed) > 0);
}

const LOCAL_ONLY: hogflags::client::AllOptions<'static> = hogflags::client::AllOptions { only_evaluate_locally: true, flag_keys: None };
