//! The sans-IO poller, without a network: what each response means and when the next fetch is due.
#![cfg(feature = "client")]

use std::time::{Duration, Instant};

use hogflags::client::poller::{parse_retry_after, Backoff, FetchResult, HttpResponse, Jitter, PollOutcome, Poller, PollerConfig};
use hogflags::client::{PollError, TransportError};

const I: Duration = Duration::from_secs(30);

fn poller(now: Instant) -> Poller {
    let mut cfg = PollerConfig::new(I);
    cfg.jitter = 0.0;
    cfg.max_backoff = Duration::from_secs(300);
    Poller::new(cfg, now, 7)
}

fn resp(status: u16, etag: Option<&str>, body: &str) -> FetchResult {
    FetchResult::Response(HttpResponse {
        status,
        etag: etag.map(str::to_owned),
        retry_after: None,
        body: body.as_bytes().to_vec(),
    })
}

fn ok_load(body: &[u8]) -> Result<String, String> {
    let s = String::from_utf8(body.to_vec()).map_err(|e| e.to_string())?;
    if s.starts_with('{') { Ok(s) } else { Err("not json".into()) }
}

/// Runs one fetch cycle at `now` and returns the outcome.
fn cycle(p: &mut Poller, now: Instant, r: FetchResult) -> PollOutcome<String> {
    let req = p.begin(now).expect("a fetch is due");
    p.complete(now, req.seq, &r, ok_load)
}

#[test]
fn first_fetch_is_due_immediately_and_only_one_is_in_flight() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    assert!(p.is_due(t0));
    let req = p.begin(t0).unwrap();
    assert_eq!(req.if_none_match, None);
    assert!(p.begin(t0).is_none(), "a second fetch must not start while one is in flight");
    assert!(p.in_flight());
    assert_eq!(p.time_until_due(t0), I);
}

#[test]
fn ok_200_stores_etag_and_schedules_one_interval() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    assert_eq!(cycle(&mut p, t0, resp(200, Some("W/\"a\""), "{}")), PollOutcome::Updated("{}".into()));
    assert_eq!(p.etag(), Some("W/\"a\""));
    assert!(p.has_definitions());
    assert_eq!(p.next_fetch_at(), t0 + I);
    assert!(!p.is_due(t0 + I - Duration::from_millis(1)));
    let req = p.begin(t0 + I).unwrap();
    assert_eq!(req.if_none_match.as_deref(), Some("W/\"a\""), "the ETag is sent verbatim");
}

#[test]
fn ok_200_without_etag_clears_the_stored_one() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("x"), "{}"));
    cycle(&mut p, t0 + I, resp(200, None, "{}"));
    assert_eq!(p.etag(), None);
}

#[test]
fn not_modified_304_keeps_state_and_refreshes_etag() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    assert_eq!(cycle(&mut p, t0 + I, resp(304, None, "")), PollOutcome::NotModified);
    assert_eq!(p.etag(), Some("a"), "304 without ETag keeps the stored one");
    assert_eq!(cycle(&mut p, t0 + I * 2, resp(304, Some("b"), "")), PollOutcome::NotModified);
    assert_eq!(p.etag(), Some("b"));
    assert_eq!(p.next_fetch_at(), t0 + I * 3);
    assert_eq!(p.consecutive_failures(), 0);
}

#[test]
fn not_modified_without_anything_loaded_is_an_error() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    assert_eq!(cycle(&mut p, t0, resp(304, None, "")), PollOutcome::Failed(PollError::UnexpectedNotModified));
}

#[test]
fn malformed_200_keeps_old_definitions_and_etag() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    let out = cycle(&mut p, t0 + I, resp(200, Some("b"), "garbage"));
    assert!(matches!(out, PollOutcome::Failed(PollError::Malformed(_))), "{out:?}");
    assert_eq!(p.etag(), Some("a"), "the ETag of a refused body is not stored");
    assert!(p.has_definitions());
    assert_eq!(p.consecutive_failures(), 1);
}

#[test]
fn transient_failures_back_off_exponentially_capped_at_the_interval() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    let base = PollerConfig::new(I).retry_base();
    assert_eq!(base, Duration::from_millis(3750), "interval / 8");
    let mut now = t0;
    let mut delays = Vec::new();
    for status in [500, 502, 503, 504, 500, 500] {
        let out = cycle(&mut p, now, resp(status, None, ""));
        assert_eq!(out, PollOutcome::Failed(PollError::Server { status }));
        delays.push(p.next_fetch_at() - now);
        now = p.next_fetch_at();
    }
    assert_eq!(
        delays,
        vec![base, base * 2, base * 4, I, I, I],
        "min(interval, base × 2^(n−1)): recovery never takes more than one interval"
    );
    cycle(&mut p, now, resp(200, Some("z"), "{}"));
    assert_eq!(p.consecutive_failures(), 0);
    assert_eq!(p.next_fetch_at() - now, I);
}

#[test]
fn transport_errors_are_transient() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    for e in [TransportError::Timeout, TransportError::Connect("refused".into()), TransportError::Body("truncated".into())] {
        let now = p.next_fetch_at();
        let out = cycle(&mut p, now, FetchResult::Failed(e.clone()));
        assert_eq!(out, PollOutcome::Failed(PollError::Transport(e)));
        assert!(p.next_fetch_at() - now <= I);
    }
    assert_eq!(p.consecutive_failures(), 3);
}

#[test]
fn unauthorized_and_forbidden_use_the_long_backoff_and_keep_definitions() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    let mut now = t0 + I;
    let mut delays = Vec::new();
    for status in [401, 403, 401, 401, 401] {
        let out = cycle(&mut p, now, resp(status, None, ""));
        let want = if status == 401 { PollError::Unauthorized } else { PollError::Forbidden };
        assert_eq!(out, PollOutcome::Failed(want));
        delays.push(p.next_fetch_at() - now);
        now = p.next_fetch_at();
    }
    // interval × 2^n, capped at max_backoff (300 s).
    assert_eq!(delays, vec![I * 2, I * 4, I * 8, Duration::from_secs(300), Duration::from_secs(300)]);
    assert!(p.has_definitions(), "401/403 keep the last good definitions (D30)");
    assert_eq!(p.etag(), Some("a"));
}

#[test]
fn quota_limited_402_clears_definitions_and_etag_and_polls_normally() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    let out = cycle(&mut p, t0 + I, resp(402, None, ""));
    assert_eq!(out, PollOutcome::Cleared(PollError::QuotaLimited));
    assert!(!p.has_definitions());
    assert_eq!(p.etag(), None);
    assert_eq!(p.next_fetch_at(), t0 + I * 2);
    assert_eq!(p.begin(t0 + I * 2).unwrap().if_none_match, None);
}

#[test]
fn rate_limited_429_waits_for_retry_after_even_on_reload() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    let now = t0 + I;
    let req = p.begin(now).unwrap();
    let r = FetchResult::Response(HttpResponse { status: 429, etag: None, retry_after: Some("120".into()), body: vec![] });
    let out = p.complete(now, req.seq, &r, ok_load);
    assert_eq!(out, PollOutcome::Failed(PollError::RateLimited { retry_after: Some(Duration::from_secs(120)) }));
    assert_eq!(p.next_fetch_at(), now + Duration::from_secs(120));
    let due = p.request_reload(now + Duration::from_secs(1));
    assert_eq!(due, now + Duration::from_secs(120), "reload() cannot jump a Retry-After");
    assert!(!p.is_due(now + Duration::from_secs(119)));
    assert!(p.is_due(now + Duration::from_secs(120)));
}

#[test]
fn retry_after_is_bounded_by_max_backoff_unless_raised() {
    let t0 = Instant::now();
    let huge = |p: &mut Poller, now: Instant| {
        let req = p.begin(now).unwrap();
        let r = FetchResult::Response(HttpResponse { status: 429, etag: None, retry_after: Some("1e20".into()), body: vec![] });
        p.complete(now, req.seq, &r, ok_load)
    };
    // Default: the long backoff's cap (max_backoff 300 s here).
    let mut p = poller(t0);
    assert_eq!(huge(&mut p, t0), PollOutcome::Failed(PollError::RateLimited { retry_after: Some(Duration::from_secs(300)) }));
    assert_eq!(p.next_fetch_at(), t0 + Duration::from_secs(300));
    assert_eq!(p.rate_limited_for(t0 + Duration::from_secs(100)), Some(Duration::from_secs(200)));
    assert_eq!(p.rate_limited_for(t0 + Duration::from_secs(300)), None);
    // A small max_backoff bounds it too (never below the interval).
    let mut cfg = PollerConfig::new(Duration::from_millis(200));
    cfg.jitter = 0.0;
    cfg.max_backoff = Duration::from_secs(1);
    let mut p = Poller::new(cfg, t0, 7);
    huge(&mut p, t0);
    assert_eq!(p.next_fetch_at(), t0 + Duration::from_secs(1));
    // The user can ask for longer waits explicitly.
    cfg.max_retry_after = Some(Duration::from_secs(7200));
    let mut p = Poller::new(cfg, t0, 7);
    huge(&mut p, t0);
    assert_eq!(p.next_fetch_at(), t0 + Duration::from_secs(7200));
}

#[test]
fn rate_limited_429_without_retry_after_uses_long_backoff() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    let out = cycle(&mut p, t0, resp(429, None, ""));
    assert_eq!(out, PollOutcome::Failed(PollError::RateLimited { retry_after: None }));
    assert_eq!(p.next_fetch_at() - t0, I * 2);
}

#[test]
fn reload_pulls_the_next_fetch_forward() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    cycle(&mut p, t0, resp(200, Some("a"), "{}"));
    let later = t0 + Duration::from_secs(3);
    assert!(!p.is_due(later));
    assert_eq!(p.request_reload(later), later);
    assert!(p.is_due(later));
}

#[test]
fn reload_during_a_fetch_fetches_again_right_after_it() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    let req = p.begin(t0).unwrap();
    p.request_reload(t0);
    let done = t0 + Duration::from_millis(10);
    p.complete(done, req.seq, &resp(200, Some("a"), "{}"), ok_load);
    assert!(p.is_due(done), "a reload asked during a fetch is not lost");
}

#[test]
fn stale_responses_are_ignored() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    let req = p.begin(t0).unwrap();
    assert_eq!(p.complete(t0, req.seq + 1, &resp(200, Some("x"), "{}"), ok_load), PollOutcome::Stale);
    assert!(p.in_flight());
    assert_eq!(p.etag(), None);
    p.abandon(t0, req.seq);
    assert!(!p.in_flight());
    assert_eq!(p.complete(t0, req.seq, &resp(200, Some("x"), "{}"), ok_load), PollOutcome::Stale);
}

#[test]
fn cache_etag_is_sent_on_the_first_fetch() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    p.loaded_from_cache(Some("W/\"cached\"".into()));
    assert_eq!(p.begin(t0).unwrap().if_none_match.as_deref(), Some("W/\"cached\""));
}

#[test]
fn reset_in_flight_after_fork_makes_a_fetch_due() {
    let t0 = Instant::now();
    let mut p = poller(t0);
    p.begin(t0).unwrap();
    p.reset_in_flight(t0);
    assert!(p.is_due(t0));
}

#[test]
fn jitter_spreads_within_bounds_and_is_deterministic_per_seed() {
    let mut cfg = PollerConfig::new(I);
    cfg.jitter = 0.2;
    let t0 = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let mut p = Poller::new(cfg, t0, seed);
        cycle(&mut p, t0, resp(200, None, "{}"));
        let d = p.next_fetch_at() - t0;
        assert!(d >= I.mul_f64(0.8) && d <= I.mul_f64(1.2), "{d:?}");
        seen.insert(d.as_millis());
        let mut again = Poller::new(cfg, t0, seed);
        cycle(&mut again, t0, resp(200, None, "{}"));
        assert_eq!(again.next_fetch_at(), p.next_fetch_at());
    }
    assert!(seen.len() > 100, "jitter actually spreads: {} distinct delays", seen.len());
    let mut j = Jitter::new(1);
    for _ in 0..1000 {
        let d = j.stretch(Duration::from_secs(10), 0.1);
        assert!(d >= Duration::from_secs(10) && d <= Duration::from_secs(11));
    }
}

#[test]
fn backoff_counts_and_caps() {
    let mut b = Backoff::new();
    let d: Vec<_> = (0..5).map(|_| b.fail(Duration::from_secs(1), Duration::from_secs(5))).collect();
    assert_eq!(d, [1, 2, 4, 5, 5].map(Duration::from_secs));
    assert_eq!(b.failures(), 5);
    b.reset();
    assert_eq!(b.fail(Duration::from_secs(1), Duration::from_secs(5)), Duration::from_secs(1));
}

#[test]
fn retry_after_parses_seconds_and_dates() {
    assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO), "a past date means now");
    let future = (chrono::Utc::now() + chrono::Duration::seconds(100)).to_rfc2822();
    let d = parse_retry_after(&future).unwrap();
    assert!(d > Duration::from_secs(95) && d <= Duration::from_secs(100), "{d:?}");
    assert_eq!(parse_retry_after("soon"), None);
}

/// Found by the `poller_response` fuzz target: a huge fractional `Retry-After` must not panic.
#[test]
fn huge_retry_after_saturates_instead_of_panicking() {
    use hogflags::client::poller::parse_retry_after;
    assert_eq!(parse_retry_after("3333333333333333333333.3"), Some(std::time::Duration::MAX));
    assert_eq!(parse_retry_after("1e400"), None);
    assert_eq!(parse_retry_after("2.5"), Some(std::time::Duration::from_millis(2500)));
}
