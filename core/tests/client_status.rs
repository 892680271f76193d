//! The client against the test server, one test per row of the status table: 200, 304, 401, 402, 403,
//! 429 with Retry-After, 5xx, timeout, connection refused, truncated and malformed bodies, dropped
//! connections. Every fault keeps the last good definitions except 402.
#![cfg(feature = "client")]

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_support::*;
use hogflags::client::{Client, ClientError, PollError, TransportError, Unresolved, WaitError};
use hogflags::EvaluationContext;

fn ctx() -> EvaluationContext {
    EvaluationContext::new("user-1")
}

fn enabled(client: &Client, key: &str) -> Option<bool> {
    client.get_flag(key, &ctx()).ok().map(|d| d.value.is_enabled())
}

/// A server serving generation 1 (`a` on) and a ready client polling every `interval`.
fn ready_pair(interval_ms: u64) -> (TestServer, Client, Arc<Mutex<Vec<ClientError>>>) {
    let server = start_server(defs(1, &[("a", true)]));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let e2 = errors.clone();
    let client = Client::new(
        config(&server.url())
            .poll_interval(Duration::from_millis(interval_ms))
            .fallback_to_remote(false)
            .on_error(move |e| e2.lock().unwrap().push(e.clone())),
    )
    .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).expect("ready");
    (server, client, errors)
}

#[test]
fn ok_200_loads_then_304_with_etag_reuses_the_snapshot() {
    let (server, client, _) = ready_pair(60_000);
    assert_eq!(enabled(&client, "a"), Some(true));
    let first = client.snapshot();
    assert_eq!(client.status().etag.as_deref(), Some(server.etag().as_str()));
    client.reload().expect("304 is a success");
    let stats = server.stats();
    assert_eq!(stats.definitions_200, 1, "{stats:?}");
    assert_eq!(stats.definitions_304, 1);
    assert_eq!(stats.last_if_none_match.as_deref(), Some(server.etag().as_str()), "If-None-Match is the ETag, verbatim");
    assert!(Arc::ptr_eq(&first, &client.snapshot()), "304: nothing re-parsed, same snapshot");
    assert_eq!(stats.gzip_responses, 1, "definitions travel gzipped");
}

#[test]
fn changed_definitions_are_swapped_in_within_an_interval() {
    let (server, client, _) = ready_pair(100);
    assert_eq!(enabled(&client, "a"), Some(true));
    let t = Instant::now();
    server.set_definitions(&defs(2, &[("a", false)]));
    assert!(wait_for(Duration::from_secs(3), || enabled(&client, "a") == Some(false)));
    assert!(t.elapsed() < Duration::from_millis(1500), "picked up in {:?}", t.elapsed());
    let d = client.get_flag("gen", &ctx()).unwrap();
    assert_eq!(gen_of(&d.payload), Some(2));
}

#[test]
fn unauthorized_401_keeps_last_good_definitions_and_backs_off() {
    let (server, client, errors) = ready_pair(100);
    server.inject(Fault::status(FaultTarget::Definitions, 401).times(1000));
    let err = client.reload().unwrap_err();
    assert_eq!(err, ClientError::Poll(PollError::Unauthorized));
    assert_eq!(enabled(&client, "a"), Some(true), "a bad key must not switch flags off (D30)");
    assert!(errors.lock().unwrap().contains(&ClientError::Poll(PollError::Unauthorized)));
    // Long backoff: interval × 2^n = 200, 400, 800 ms… — far fewer than 10 requests a second.
    let before = server.stats().definitions_requests;
    std::thread::sleep(Duration::from_millis(1000));
    let during = server.stats().definitions_requests - before;
    assert!(during <= 3, "{during} requests in 1 s under 401: not backing off");
    assert!(client.status().consecutive_failures >= 2);
    server.clear_faults();
    server.set_definitions(&defs(2, &[("a", false)]));
    assert!(wait_for(Duration::from_secs(5), || enabled(&client, "a") == Some(false)), "recovers once the key works");
    assert_eq!(client.status().consecutive_failures, 0);
}

#[test]
fn wrong_secret_key_fails_wait_until_ready_at_once() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(config(&server.url()).secret_key("phs_wrong")).unwrap();
    let t = Instant::now();
    let err = client.wait_until_ready(Duration::from_secs(5)).unwrap_err();
    assert_eq!(err, WaitError::Failed(ClientError::Poll(PollError::Unauthorized)));
    assert!(t.elapsed() < Duration::from_secs(2), "does not wait for the timeout: {:?}", t.elapsed());
    assert_eq!(server.stats().definitions_unauthorized, 1, "the server checked the Bearer secret");
    let d = client.get_flag_with("a", &ctx(), hogflags::client::FlagOptions { only_evaluate_locally: true, send_event: false });
    assert!(matches!(d, Err(Unresolved::Inconclusive { .. })), "nothing loaded: {d:?}");
}

#[test]
fn wrong_project_token_is_refused_by_the_server() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(
        hogflags::client::Config::new("phc_other")
            .secret_key(SECRET_KEY)
            .host(server.url())
            .use_system_proxy(false),
    )
    .unwrap();
    let err = client.wait_until_ready(Duration::from_secs(5)).unwrap_err();
    assert_eq!(err, WaitError::Failed(ClientError::Poll(PollError::Unauthorized)));
}

#[test]
fn quota_limited_402_clears_definitions_until_restored() {
    let (server, client, errors) = ready_pair(100);
    server.inject(Fault::status(FaultTarget::Definitions, 402));
    assert_eq!(client.reload().unwrap_err(), ClientError::Poll(PollError::QuotaLimited));
    assert_eq!(client.snapshot().len(), 0, "402 clears the definitions, as PostHog's SDKs do");
    assert!(!client.status().ready);
    assert!(matches!(client.get_flag("a", &ctx()), Err(Unresolved::Inconclusive { .. })));
    assert!(errors.lock().unwrap().contains(&ClientError::Poll(PollError::QuotaLimited)));
    assert!(wait_for(Duration::from_secs(3), || enabled(&client, "a") == Some(true)), "back at the next poll");
    assert_eq!(server.stats().last_if_none_match, None, "the ETag was cleared with the definitions");
}

#[test]
fn forbidden_403_keeps_last_good_definitions() {
    let (server, client, _) = ready_pair(100);
    server.inject(Fault::status(FaultTarget::Definitions, 403).times(3));
    assert_eq!(client.reload().unwrap_err(), ClientError::Poll(PollError::Forbidden));
    assert_eq!(enabled(&client, "a"), Some(true));
    assert_eq!(client.status().last_error, Some(ClientError::Poll(PollError::Forbidden)));
}

#[test]
fn rate_limited_429_honours_retry_after() {
    let (server, client, _) = ready_pair(100);
    server.inject(Fault::new(
        FaultTarget::Definitions,
        FaultKind::Status { status: 429, retry_after: Some("1".into()), body: None },
    ));
    assert_eq!(
        client.reload().unwrap_err(),
        ClientError::Poll(PollError::RateLimited { retry_after: Some(Duration::from_secs(1)) })
    );
    let after_429 = server.stats().definitions_requests;
    // A reload inside the window neither fetches nor waits: it says how long is left.
    let t = Instant::now();
    match client.reload().unwrap_err() {
        ClientError::Poll(PollError::RateLimited { retry_after: Some(left) }) => assert!(left <= Duration::from_secs(1), "{left:?}"),
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_millis(100), "{:?}", t.elapsed());
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(server.stats().definitions_requests, after_429, "no request inside the Retry-After window");
    assert_eq!(enabled(&client, "a"), Some(true));
    // The poller fetches again by itself once the window ends.
    assert!(wait_for(Duration::from_secs(3), || server.stats().definitions_requests > after_429));
    client.reload().expect("after the window a reload fetches");
}

/// A 429 with an absurd `Retry-After` (1e20 s): `reload` returns at once with `rate_limited`, within its
/// bound; polling resumes after `max_backoff` (1 s here), not after an hour; every answer stays served.
#[test]
fn huge_retry_after_is_bounded_by_max_backoff_and_polling_recovers() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(
        config(&server.url())
            .poll_interval(Duration::from_millis(200))
            .max_backoff(Duration::from_secs(1))
            .definitions_timeout(Duration::from_secs(1))
            .fallback_to_remote(false),
    )
    .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.inject(Fault::new(
        FaultTarget::Definitions,
        FaultKind::Status { status: 429, retry_after: Some("1e20".into()), body: None },
    ));
    let t = Instant::now();
    assert_eq!(
        client.reload().unwrap_err(),
        ClientError::Poll(PollError::RateLimited { retry_after: Some(Duration::from_secs(1)) })
    );
    assert!(t.elapsed() < client.reload_bound(false), "{:?}", t.elapsed());
    let t = Instant::now();
    assert!(matches!(client.reload(), Err(ClientError::Poll(PollError::RateLimited { .. }))));
    assert!(t.elapsed() < Duration::from_millis(100), "a reload inside the window returns at once: {:?}", t.elapsed());
    // The server is healthy again at once: with max_backoff 1 s and a 200 ms interval, polls resume
    // within ~1.1 s and keep going.
    server.set_definitions(&defs(2, &[("a", false)]));
    let before = server.stats().definitions_requests;
    assert!(wait_for(Duration::from_secs(5), || enabled(&client, "a") == Some(false)), "new definitions within 5 s");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    std::thread::sleep(Duration::from_secs(1));
    assert!(server.stats().definitions_requests >= before + 3, "polling continues at its interval");
}

/// `max_retry_after` lets a user honour a longer `Retry-After` than `max_backoff`.
#[test]
fn max_retry_after_raises_the_bound() {
    let (server, client, _) = ready_pair(100);
    drop(client);
    let client = Client::new(
        config(&server.url()).max_backoff(Duration::from_secs(1)).max_retry_after(Duration::from_secs(60)).fallback_to_remote(false),
    )
    .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.inject(Fault::new(
        FaultTarget::Definitions,
        FaultKind::Status { status: 429, retry_after: Some("30".into()), body: None },
    ));
    assert_eq!(
        client.reload().unwrap_err(),
        ClientError::Poll(PollError::RateLimited { retry_after: Some(Duration::from_secs(30)) })
    );
    let after = server.stats().definitions_requests;
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(server.stats().definitions_requests, after, "the 30 s window is honoured");
}

/// A reload against a server that never answers returns within its documented bound.
#[test]
fn reload_against_a_hanging_server_ends_within_its_bound() {
    let server = start_server(defs(1, &[("a", true)]));
    let client =
        Client::new(config(&server.url()).definitions_timeout(Duration::from_millis(500)).poll_interval(Duration::from_secs(60)).fallback_to_remote(false))
            .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Hang { hang_ms: Some(20_000) }));
    let t = Instant::now();
    let err = client.reload().unwrap_err();
    assert_eq!(err.code(), "timeout", "{err:?}");
    assert!(t.elapsed() <= client.reload_bound(false), "{:?} > {:?}", t.elapsed(), client.reload_bound(false));
    assert_eq!(enabled(&client, "a"), Some(true));
}

/// The host's interrupt check ends blocking calls within one check period (Ctrl-C in Python).
#[test]
fn interrupt_check_ends_blocking_calls() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = start_server(defs(1, &[("a", true)]));
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let client = Client::new(config(&server.url()).definitions_timeout(Duration::from_secs(10)).interrupt_check(move || s2.load(Ordering::SeqCst)))
        .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    let interrupt_after = |ms: u64| {
        stop.store(false, Ordering::SeqCst);
        let s = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            s.store(true, Ordering::SeqCst);
        });
    };
    // reload, waiting for a hanging fetch
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Hang { hang_ms: Some(20_000) }));
    interrupt_after(300);
    let t = Instant::now();
    assert_eq!(client.reload().unwrap_err(), ClientError::Interrupted);
    assert!(t.elapsed() < Duration::from_millis(600), "{:?}", t.elapsed());
    // a /flags fallback against a hanging server
    server.inject(Fault::new(FaultTarget::Flags, FaultKind::Hang { hang_ms: Some(20_000) }));
    interrupt_after(300);
    let t = Instant::now();
    let r = client.get_flag("not-local", &ctx());
    assert_eq!(r.unwrap_err(), Unresolved::Remote(hogflags::client::RemoteError::Interrupted));
    assert!(t.elapsed() < Duration::from_millis(600), "{:?}", t.elapsed());
    // wait_until_ready of a client that cannot become ready
    let never = Client::new(config("http://127.0.0.1:9").interrupt_check({
        let s = stop.clone();
        move || s.load(Ordering::SeqCst)
    }))
    .unwrap();
    interrupt_after(300);
    let t = Instant::now();
    assert_eq!(never.wait_until_ready(Duration::from_secs(10)).unwrap_err(), WaitError::Failed(ClientError::Interrupted));
    assert!(t.elapsed() < Duration::from_millis(600), "{:?}", t.elapsed());
}

#[test]
fn server_errors_5xx_keep_definitions_back_off_and_recover() {
    let (server, client, errors) = ready_pair(400);
    server.set_definitions(&defs(2, &[("a", false)]));
    for status in [500, 502, 503, 504] {
        server.inject(Fault::status(FaultTarget::Definitions, status));
    }
    let err = client.reload().unwrap_err();
    assert_eq!(err, ClientError::Poll(PollError::Server { status: 500 }));
    assert_eq!(enabled(&client, "a"), Some(true), "last good definitions during 5xx");
    // Transient backoff from 50 ms; the fourth fault is past within ~50+100+200 ms, then it loads.
    assert!(wait_for(Duration::from_secs(3), || enabled(&client, "a") == Some(false)));
    let seen: Vec<_> = errors.lock().unwrap().iter().map(|e| e.to_string()).collect();
    for status in [500, 502, 503, 504] {
        assert!(seen.iter().any(|e| e.contains(&format!("({status})"))), "{seen:?}");
    }
}

#[test]
fn timeout_keeps_last_good_definitions() {
    let server = start_server(defs(1, &[("a", true)]));
    let client = Client::new(
        config(&server.url()).poll_interval(Duration::from_secs(60)).definitions_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    client.wait_until_ready(Duration::from_secs(5)).unwrap();
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Hang { hang_ms: Some(5_000) }));
    let t = Instant::now();
    assert_eq!(client.reload().unwrap_err(), ClientError::Poll(PollError::Transport(TransportError::Timeout)));
    assert!(t.elapsed() < Duration::from_secs(2), "bounded by the request timeout: {:?}", t.elapsed());
    assert_eq!(enabled(&client, "a"), Some(true));
}

#[test]
fn slow_response_within_the_timeout_succeeds() {
    let (server, client, _) = ready_pair(60_000);
    server.set_definitions(&defs(2, &[("a", false)]));
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Delay { delay_ms: 300 }));
    client.reload().unwrap();
    assert_eq!(enabled(&client, "a"), Some(false));
}

#[test]
fn connection_refused_is_a_typed_transient_error() {
    let client = Client::new(config(&refused_url())).unwrap();
    let err = client.wait_until_ready(Duration::from_millis(800)).unwrap_err();
    match err {
        WaitError::Timeout { last_error: Some(ClientError::Poll(PollError::Transport(TransportError::Connect(_)))), .. } => {}
        other => panic!("expected a timeout after connection errors, got {other:?}"),
    }
    assert!(client.status().consecutive_failures >= 2, "retried with backoff");
}

#[test]
fn truncated_body_keeps_last_good_definitions_and_etag() {
    let (server, client, _) = ready_pair(60_000);
    let etag = client.status().etag;
    server.set_definitions(&defs(2, &[("a", false)]));
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Truncated));
    let err = client.reload().unwrap_err();
    assert!(
        matches!(err, ClientError::Poll(PollError::Transport(_)) | ClientError::Poll(PollError::Malformed(_))),
        "{err:?}"
    );
    assert_eq!(enabled(&client, "a"), Some(true));
    assert_eq!(client.status().etag, etag);
    client.reload().unwrap();
    assert_eq!(enabled(&client, "a"), Some(false));
}

#[test]
fn malformed_body_keeps_last_good_definitions_and_etag() {
    let (server, client, _) = ready_pair(60_000);
    let etag = client.status().etag.clone().unwrap();
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Malformed));
    assert!(matches!(client.reload().unwrap_err(), ClientError::Poll(PollError::Malformed(_))));
    assert_eq!(enabled(&client, "a"), Some(true));
    // A 200 that is JSON but not a definitions document (no `flags`) is refused too.
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Status { status: 200, retry_after: None, body: Some("{}".into()) }));
    assert!(matches!(client.reload().unwrap_err(), ClientError::Poll(PollError::Malformed(_))));
    assert_eq!(enabled(&client, "a"), Some(true));
    client.reload().unwrap();
    assert_eq!(server.stats().last_if_none_match.as_deref(), Some(etag.as_str()), "the old ETag is still sent");
}

#[test]
fn dropped_connection_keeps_last_good_definitions() {
    let (server, client, _) = ready_pair(60_000);
    server.inject(Fault::new(FaultTarget::Definitions, FaultKind::Drop).times(3));
    assert!(matches!(client.reload().unwrap_err(), ClientError::Poll(PollError::Transport(_))));
    assert_eq!(enabled(&client, "a"), Some(true));
}

#[test]
fn keys_never_appear_in_debug_errors_or_logs() {
    capture_logs();
    let server = start_server(defs(1, &[("a", true)]));
    let cfg = config(&server.url()).secret_key("phs_SUPERSECRET123");
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("SUPERSECRET") && !dbg.contains(PROJECT_KEY), "{dbg}");
    assert!(dbg.contains("phs_…(redacted)"), "{dbg}");
    let client = Client::new(cfg).unwrap();
    let err = client.wait_until_ready(Duration::from_secs(3)).unwrap_err();
    let refused = Client::new(config(&refused_url()).secret_key("phs_SUPERSECRET123")).unwrap();
    let err2 = refused.wait_until_ready(Duration::from_millis(300)).unwrap_err();
    refused.shutdown();
    // A transport error whose URL carried the token.
    let texts = [format!("{err} {err:?}"), format!("{err2} {err2:?}"), format!("{client:?}")];
    for t in &texts {
        assert!(!t.contains("SUPERSECRET") && !t.contains(PROJECT_KEY), "{t}");
    }
    assert!(texts[1].contains("connection"), "{}", texts[1]);
    let lines = logged_lines();
    assert!(!lines.is_empty(), "the client logs through the log facade");
    for l in &lines {
        assert!(!l.contains("SUPERSECRET") && !l.contains(PROJECT_KEY), "key in a log line: {l}");
    }
}

#[test]
fn config_refuses_a_project_key_as_secret() {
    let err = Client::new(hogflags::client::Config::new(PROJECT_KEY).secret_key("phc_abc")).unwrap_err();
    assert!(matches!(err, ClientError::Config(_)));
    assert!(!err.to_string().contains("phc_abc"));
    assert_eq!(hogflags::client::normalize_host("https://app.posthog.com/"), "https://us.i.posthog.com");
    assert_eq!(hogflags::client::normalize_host("https://eu.posthog.com"), "https://eu.i.posthog.com");
    assert_eq!(hogflags::client::normalize_host("http://127.0.0.1:8000/"), "http://127.0.0.1:8000");
}

/// Only a project API key (no secret or personal key): nothing is polled, every flag is evaluated by
/// `/flags` (single and bulk), `wait_until_ready` says at once that nothing will load, `reload` refuses.
#[test]
fn project_key_only_client_evaluates_every_flag_remotely() {
    let server = start_server(defs(1, &[("a", true), ("b", false)]));
    let client = Client::new(hogflags::client::Config::new(PROJECT_KEY).host(server.url()).use_system_proxy(false)).unwrap();
    let t = Instant::now();
    match client.wait_until_ready(Duration::from_secs(5)).unwrap_err() {
        WaitError::Timeout { waited, last_error: Some(ClientError::Config(why)) } => {
            assert_eq!(waited, Duration::ZERO);
            assert!(why.contains("no secret key"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed() < Duration::from_millis(100));
    assert!(matches!(client.reload(), Err(ClientError::Config(_))));
    let d = client.get_flag("a", &ctx()).unwrap();
    assert_eq!(d.value, hogflags::client::OwnedFlagValue::Bool(true));
    assert_eq!(d.source, hogflags::client::Source::Remote);
    let all = client.get_all_flags(&ctx());
    assert!(all.remote_called);
    assert_eq!(all.flags["b"].value, hogflags::client::OwnedFlagValue::Bool(false));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.stats().definitions_requests, 0, "nothing polled");
    assert_eq!(server.stats().flags_requests, 2);
    assert!(!client.status().ready);
}
