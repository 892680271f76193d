//! The definitions poller's response handling with arbitrary responses: any status, any `ETag` and
//! `Retry-After` header text, any body, transport failures, stale and abandoned fetches, reloads, and
//! time jumps, through the public sans-IO machine (`hogflags::client::poller`) with the client's real
//! body loader (`FlagSnapshot::from_json`); each body also goes through the `/flags` response parser.
//! Checks: no panic; the ETag sent is the last one a loaded 200 or a 304 gave (unless a 402 cleared it);
//! a 200 with a loadable body always updates; the next fetch is never in the past and never later than
//! the longest wait the configuration allows, so no response can stall polling forever.
#![no_main]
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use hogflags::client::poller::{parse_retry_after, FetchResult, HttpResponse, PollOutcome, Poller, PollerConfig};
use hogflags::client::{parse_flags_response, PollError, TransportError};
use hogflags::FlagSnapshot;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Failure {
    Timeout,
    Connect(String),
    Body(String),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Seed,
    Truncated(u16),
    Raw(Vec<u8>),
}

/// The forms a `Retry-After` header takes (RFC 9110: seconds or an HTTP date), and anything else.
#[derive(Arbitrary, Debug)]
enum RetryAfter {
    Seconds(u64),
    Decimal(f64),
    Exponent(f64),
    /// An HTTP date this many seconds from the Unix epoch (clamped to years 0..=9999).
    Date(i64),
    Text(String),
}

impl RetryAfter {
    fn header(&self) -> String {
        match self {
            RetryAfter::Seconds(n) => n.to_string(),
            RetryAfter::Decimal(f) => format!("{f}"),
            RetryAfter::Exponent(f) => format!("{f:e}"),
            RetryAfter::Date(t) => chrono::DateTime::from_timestamp(t.rem_euclid(253_402_300_800) - 62_167_219_200, 0)
                .map(|d| d.to_rfc2822())
                .unwrap_or_default(),
            RetryAfter::Text(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// A response to the fetch in flight (`stale` answers an older sequence number instead).
    Respond { status: u16, etag: Option<String>, retry_after: Option<RetryAfter>, body: Body, stale: bool },
    Fail(Failure),
    Abandon,
    Reload,
    /// Time passes (milliseconds).
    Wait(u32),
}

#[derive(Arbitrary, Debug)]
struct Input {
    interval_ms: u16,
    max_backoff_s: u16,
    jitter_pct: u8,
    retry_after_cap_s: u16,
    has_cache: Option<Option<String>>,
    steps: Vec<Step>,
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0xFF).unwrap_or(data.len());
    let seed = &data[..split];
    let Ok(input) = Input::arbitrary_take_rest(arbitrary::Unstructured::new(data.get(split + 1..).unwrap_or_default())) else {
        return;
    };
    let mut cfg = PollerConfig::new(Duration::from_millis(1 + u64::from(input.interval_ms) * 10));
    cfg.max_backoff = Duration::from_secs(u64::from(input.max_backoff_s));
    cfg.jitter = f64::from(input.jitter_pct % 101) / 100.0;
    // Half the inputs leave the Retry-After bound at its default (the long backoff's cap).
    if input.retry_after_cap_s % 2 == 1 {
        cfg.max_retry_after = Some(Duration::from_secs(u64::from(input.retry_after_cap_s)));
    }
    // The longest any single wait may be: a capped Retry-After or the long backoff, both stretched by
    // the jitter at most.
    let longest = cfg.retry_after_cap().max(cfg.long_backoff_cap()).max(cfg.interval * 2).mul_f64(1.0 + cfg.jitter)
        + Duration::from_millis(1);

    let start = Instant::now();
    let mut now = start;
    let mut p = Poller::new(cfg, now, 42);
    let mut expected_etag: Option<String> = None;
    if let Some(etag) = input.has_cache {
        p.loaded_from_cache(etag.clone());
        expected_etag = etag;
    }
    let mut in_flight: Option<u64> = None;

    for step in input.steps.into_iter().take(64) {
        match step {
            Step::Wait(ms) => now += Duration::from_millis(u64::from(ms % 3_600_000)),
            Step::Reload => {
                let due = p.request_reload(now);
                assert!(due >= now || in_flight.is_none(), "reload scheduled in the past");
            }
            Step::Abandon => {
                if let Some(seq) = in_flight.take() {
                    p.abandon(now, seq);
                    assert!(!p.in_flight());
                }
            }
            Step::Respond { .. } | Step::Fail(_) => {
                let seq = match in_flight {
                    Some(seq) => seq,
                    None => {
                        // Start a fetch: move to when it is due.
                        now = now.max(p.next_fetch_at());
                        let req = p.begin(now).expect("a due fetch starts");
                        assert_eq!(req.if_none_match, expected_etag, "the ETag sent is the last one stored");
                        assert!(p.begin(now).is_none(), "only one fetch in flight");
                        req.seq
                    }
                };
                let (result, stale) = match step {
                    Step::Respond { status, etag, retry_after, body, stale } => {
                        let retry_after = retry_after.map(|r| r.header());
                        let body = match body {
                            Body::Seed => seed.to_vec(),
                            Body::Truncated(n) => seed[..usize::from(n).min(seed.len())].to_vec(),
                            Body::Raw(b) => b,
                        };
                        if let Some(ra) = &retry_after {
                            let _ = parse_retry_after(ra);
                        }
                        let _ = parse_flags_response(&body);
                        (FetchResult::Response(HttpResponse { status, etag, retry_after, body }), stale)
                    }
                    Step::Fail(f) => (
                        FetchResult::Failed(match f {
                            Failure::Timeout => TransportError::Timeout,
                            Failure::Connect(s) => TransportError::Connect(s),
                            Failure::Body(s) => TransportError::Body(s),
                            Failure::Other(s) => TransportError::Other(s),
                        }),
                        false,
                    ),
                    _ => unreachable!(),
                };
                if stale {
                    assert!(matches!(p.complete(now, seq.wrapping_sub(1), &result, FlagSnapshot::from_json), PollOutcome::Stale));
                    in_flight = Some(seq);
                    continue;
                }
                let loads = matches!(&result, FetchResult::Response(r) if r.status == 200 && FlagSnapshot::from_json(&r.body).is_ok());
                let outcome = p.complete(now, seq, &result, FlagSnapshot::from_json);
                in_flight = None;
                assert!(!p.in_flight());
                match (&outcome, &result) {
                    (PollOutcome::Updated(_), FetchResult::Response(r)) => {
                        assert!(loads);
                        expected_etag = r.etag.clone();
                    }
                    (PollOutcome::NotModified, FetchResult::Response(r)) => {
                        assert_eq!(r.status, 304);
                        if r.etag.is_some() {
                            expected_etag = r.etag.clone();
                        }
                    }
                    (PollOutcome::Cleared(PollError::QuotaLimited), FetchResult::Response(r)) => {
                        assert_eq!(r.status, 402);
                        expected_etag = None;
                        assert!(!p.has_definitions());
                    }
                    (PollOutcome::Failed(e), _) => {
                        assert!(!loads, "a loadable 200 failed: {e}");
                        assert_eq!(p.last_error(), Some(e));
                        let _ = (e.to_string(), e.code(), e.is_transient());
                    }
                    (o, r) => panic!("unexpected outcome {o:?} for {r:?}"),
                }
                assert_eq!(p.etag(), expected_etag.as_deref());
            }
        }
        if in_flight.is_none() {
            let wait = p.next_fetch_at().saturating_duration_since(now);
            assert!(wait <= longest, "next fetch in {wait:?}, more than the longest allowed wait {longest:?}");
        }
        let _ = p.time_until_due(now);
    }
});
