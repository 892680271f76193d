//! One driver thread per process for all background clients; `shutdown` joins it; `drop` never hangs,
//! even with a request hanging in flight. (Its own test binary: it counts the process's threads.)
#![cfg(feature = "client")]

mod client_support;

use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{driver_threads, Client, RemoteClient};
use hogflags::EvaluationContext;

/// Threads of this process named `hogflags-driver`, read from /proc.
fn os_driver_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|c| c.trim() == "hogflags-driver")
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn one_driver_thread_shutdown_joins_and_drop_never_hangs() {
    let server = start_server(defs(1, &[("a", true)]));
    assert_eq!(os_driver_threads(), 0);

    // Five local clients and a remote one share one thread.
    let clients: Vec<Client> = (0..5).map(|_| Client::new(config(&server.url())).unwrap()).collect();
    let remote = RemoteClient::new(config(&server.url()), EvaluationContext::new("u")).unwrap();
    for c in &clients {
        c.wait_until_ready(Duration::from_secs(5)).unwrap();
    }
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert_eq!(driver_threads(), 1);
    assert_eq!(os_driver_threads(), 1, "one OS thread for six clients");

    // shutdown() of one client leaves the others polling.
    clients[0].shutdown();
    let before = server.stats().definitions_requests;
    assert!(wait_for(Duration::from_secs(2), || server.stats().definitions_requests > before + 4));
    assert!(clients[0].get_flag("a", &EvaluationContext::new("u")).unwrap().value.is_enabled(), "reads go on after shutdown");

    // Drop with a request hanging in flight returns at once.
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Hang { hang_ms: Some(30_000) }).times(100));
    std::thread::sleep(Duration::from_millis(300)); // let polls get stuck
    let mut rest = clients.into_iter().skip(1);
    let t = Instant::now();
    drop(rest.next());
    assert!(t.elapsed() < Duration::from_millis(100), "drop took {:?}", t.elapsed());

    // shutdown() with a hung request cancels it and returns quickly.
    let c = rest.next().unwrap();
    let t = Instant::now();
    c.shutdown();
    c.shutdown(); // idempotent
    assert!(t.elapsed() < Duration::from_secs(1), "shutdown took {:?}", t.elapsed());
    drop(c);

    // The last users gone: the thread is joined by shutdown.
    let rest: Vec<Client> = rest.collect();
    for c in &rest {
        c.shutdown();
    }
    assert_eq!(driver_threads(), 1, "the remote client still uses it");
    let t = Instant::now();
    remote.shutdown();
    assert!(t.elapsed() < Duration::from_secs(3), "joining took {:?}", t.elapsed());
    assert_eq!(driver_threads(), 0);
    assert!(wait_for(Duration::from_secs(1), || os_driver_threads() == 0), "the OS thread is gone");
    drop(rest);
    drop(remote);

    // A new client starts a new driver; dropping the last one stops it without joining.
    server.clear_faults();
    let again = Client::new(config(&server.url())).unwrap();
    again.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert_eq!(os_driver_threads(), 1);
    let t = Instant::now();
    drop(again);
    assert!(t.elapsed() < Duration::from_millis(100));
    assert!(wait_for(Duration::from_secs(3), || os_driver_threads() == 0), "the thread ends by itself after drop");
}
