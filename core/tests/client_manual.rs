//! Host-driven mode: no thread at all; the host calls `tick()` from its own timer. (Its own test binary:
//! it checks that no driver thread exists.)
#![cfg(feature = "client")]

mod client_support;

use std::time::Duration;

use client_support::*;
use hogflags::client::{driver_threads, Client, ClientError, PollError, RemoteClient};
use hogflags::EvaluationContext;

#[test]
fn tick_drives_polling_without_any_thread() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(manual(config(&server.url()).poll_interval(Duration::from_millis(300)))).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.stats().definitions_requests, 0, "nothing happens until the host ticks");
    assert_eq!(driver_threads(), 0);

    let t = client.tick().unwrap();
    assert!(t.fetched && t.error.is_none());
    assert!(t.next_tick_in > Duration::from_millis(250) && t.next_tick_in <= Duration::from_millis(300), "{:?}", t.next_tick_in);
    assert!(client.get_flag("a", &EvaluationContext::new("u")).unwrap().value.is_enabled());
    let t = client.tick().unwrap();
    assert!(!t.fetched, "not due yet");
    assert_eq!(server.stats().definitions_requests, 1);

    server.set_definitions(&defs(2, &[("a", false)]));
    client.reload().unwrap();
    assert!(!client.get_flag("a", &EvaluationContext::new("u")).unwrap().value.is_enabled());

    server.inject(Fault::status(FaultTarget::Definitions, 503));
    std::thread::sleep(Duration::from_millis(310));
    let t = client.tick().unwrap();
    assert_eq!(t.error, Some(ClientError::Poll(PollError::Server { status: 503 })));
    assert!(t.next_tick_in <= Duration::from_millis(100), "transient backoff starts short: {:?}", t.next_tick_in);
    assert_eq!(driver_threads(), 0, "still no thread");
    client.shutdown();
    assert_eq!(client.tick(), Err(ClientError::ShutDown));
}

#[test]
fn wait_until_ready_drives_ticks_and_remote_calls_run_inline() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(manual(config(&server.url()))).unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    let d = client.get_flag("beta", &EvaluationContext::new("u"));
    assert!(d.is_err(), "fallback ran on the calling thread (server reports the flag failed)");
    assert_eq!(server.stats().flags_requests, 1);

    let remote = RemoteClient::new(manual(config(&server.url())), EvaluationContext::new("u")).unwrap();
    assert!(!remote.is_loaded());
    remote.wait_until_ready(Duration::from_secs(5)).unwrap();
    assert!(remote.is_enabled("a").unwrap());
    assert!(!remote.tick().unwrap().fetched);
    assert_eq!(driver_threads(), 0);
}

#[test]
fn misuse_is_a_typed_error_not_a_panic() {
    let server = start_server(defs(1, &[("a", true)]));
    let background = Client::new(config(&server.url())).unwrap();
    assert_eq!(background.tick(), Err(ClientError::NotManual));
    drop(background);
    let client = Client::new(manual(config(&server.url()))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let r = rt.block_on(async { client.tick() });
    assert_eq!(r, Err(ClientError::InsideAsyncRuntime));
}
