//! The definitions poller as a sans-IO state machine.
//!
//! It decides *when* to fetch, *what* to send (`If-None-Match`) and *what a response means* (replace,
//! keep, clear, back off), and nothing else: no clock (every call takes `now`), no network, no thread.
//! The background driver, the host-driven `tick()` and the tests all run the same machine, so the
//! behaviour per status is tested once, without a network.
//!
//! # Behaviour per response (decided deliberately; see docs/semantics.md D30)
//!
//! | response | definitions | ETag | next fetch |
//! |---|---|---|---|
//! | 200, body loads | replaced | the response's (cleared if none) | one interval |
//! | 200, body refused (malformed, truncated, no `flags`) | kept | kept | transient backoff |
//! | 304 | kept | refreshed if the response has one | one interval |
//! | 401, 403 | **kept** (a bad or rotated key must not switch every flag off) | kept | long backoff |
//! | 402 (quota) | **cleared** (as every PostHog SDK does: the project has no flags until the quota is restored) | cleared | one interval |
//! | 429 | kept | kept | `Retry-After` if given, at most `max_retry_after` (default: the long backoff's cap); else long backoff |
//! | 5xx, other status, timeout, connection error | kept | kept | transient backoff |
//!
//! *Transient backoff*: `min(interval, base × 2^(n−1))` with `base = interval / 8` (clamped to 50 ms..5 s),
//! so a failing server is retried quickly at first and never less often than the normal interval —
//! recovery after the server heals takes at most one interval. *Long backoff* (401/403/429 without
//! `Retry-After`): `min(max(max_backoff, interval), interval × 2^n)`, as PostHog's Node SDK does, since
//! hammering does not fix a key. Every delay is spread by ±`jitter`; a `Retry-After` is only ever
//! lengthened by it. Any 200/304 resets the failure count.
//!
//! *Retry-After bound*: a server (or a proxy in front of it) can ask for any wait, up to `1e20` seconds.
//! It is honoured up to `max_retry_after`, which by default is the long backoff's cap
//! (`max(max_backoff, interval)`, 300 s by default), so one 429 never freezes updates for longer than the
//! user allowed. A user who wants to honour longer waits raises `max_retry_after` explicitly. A
//! `reload()` asked for while a `Retry-After` is in force does not jump it (the server asked us to wait)
//! and does not wait for it either: the host gets `RateLimited` with the time left at once.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::{PollError, TransportError};

/// Timing parameters of the poller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollerConfig {
    pub interval: Duration,
    /// Cap of the long backoff (401/403/429); never below `interval`.
    pub max_backoff: Duration,
    /// Spread of each delay as a fraction (0.1 = ±10 %).
    pub jitter: f64,
    /// Longest `Retry-After` honoured; `None`: the long backoff's cap, `max(max_backoff, interval)`.
    pub max_retry_after: Option<Duration>,
}

impl PollerConfig {
    pub fn new(interval: Duration) -> PollerConfig {
        PollerConfig { interval, max_backoff: Duration::from_secs(300), jitter: 0.1, max_retry_after: None }
    }

    /// Cap of the long backoff (401/403/429 without `Retry-After`).
    pub fn long_backoff_cap(&self) -> Duration {
        self.max_backoff.max(self.interval)
    }

    /// Longest wait a `Retry-After` can impose.
    pub fn retry_after_cap(&self) -> Duration {
        self.max_retry_after.unwrap_or_else(|| self.long_backoff_cap())
    }

    /// First delay of the transient backoff.
    pub fn retry_base(&self) -> Duration {
        (self.interval / 8).clamp(Duration::from_millis(50), Duration::from_secs(5)).min(self.interval)
    }
}

/// A small deterministic PRNG (SplitMix64) for jitter: seedable in tests, no dependency.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    /// A seed that differs between processes and clients.
    pub fn seed_from_environment() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ ((std::process::id() as u64) << 32) ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `d` spread by ±`fraction`.
    pub fn spread(&mut self, d: Duration, fraction: f64) -> Duration {
        if fraction <= 0.0 {
            return d;
        }
        let factor = 1.0 - fraction + 2.0 * fraction * self.next_f64();
        d.mul_f64(factor.max(0.0))
    }

    /// `d` lengthened by up to `fraction` (never shortened).
    pub fn stretch(&mut self, d: Duration, fraction: f64) -> Duration {
        if fraction <= 0.0 {
            return d;
        }
        d.mul_f64(1.0 + fraction * self.next_f64())
    }
}

/// Exponential backoff shared by the definitions poller and the remote-mode refresher.
#[derive(Debug, Clone)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff { failures: 0 }
    }
    pub fn failures(&self) -> u32 {
        self.failures
    }
    pub fn reset(&mut self) {
        self.failures = 0;
    }
    /// Records a failure and returns `min(cap, base × 2^(n−1))` for the n-th consecutive one.
    pub fn fail(&mut self, base: Duration, cap: Duration) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let exp = (self.failures - 1).min(20);
        base.saturating_mul(1u32 << exp).min(cap)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// A definitions request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionsRequest {
    /// Sequence number to hand back with the response (responses to superseded requests are ignored).
    pub seq: u64,
    /// The stored ETag, to send verbatim as `If-None-Match`.
    pub if_none_match: Option<String>,
}

/// What came back: an HTTP response, or none.
#[derive(Clone, PartialEq, Eq)]
pub enum FetchResult {
    Response(HttpResponse),
    Failed(TransportError),
}

/// The parts of an HTTP response the poller reads.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub etag: Option<String>,
    /// The raw `Retry-After` header (seconds, or an HTTP date).
    pub retry_after: Option<String>,
    /// The (decompressed) body.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("etag", &self.etag)
            .field("retry_after", &self.retry_after)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl fmt::Debug for FetchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchResult::Response(r) => r.fmt(f),
            FetchResult::Failed(e) => write!(f, "Failed({e:?})"),
        }
    }
}

/// What a completed fetch means for the definitions.
#[derive(Debug, PartialEq)]
pub enum PollOutcome<T> {
    /// A new document loaded: swap it in.
    Updated(T),
    /// 304: keep what is loaded.
    NotModified,
    /// 402: clear the definitions.
    Cleared(PollError),
    /// Keep what is loaded; report the error.
    Failed(PollError),
    /// The response belongs to a superseded request; nothing changed.
    Stale,
}

/// The poller state.
#[derive(Debug, Clone)]
pub struct Poller {
    cfg: PollerConfig,
    etag: Option<String>,
    next_at: Instant,
    in_flight: Option<u64>,
    seq: u64,
    backoff: Backoff,
    rate_limited_until: Option<Instant>,
    has_definitions: bool,
    jitter: Jitter,
    last_error: Option<PollError>,
    last_success: Option<Instant>,
    reload_pending: bool,
}

impl Poller {
    /// A poller whose first fetch is due at `now`.
    pub fn new(cfg: PollerConfig, now: Instant, seed: u64) -> Poller {
        Poller {
            cfg,
            etag: None,
            next_at: now,
            in_flight: None,
            seq: 0,
            backoff: Backoff::new(),
            rate_limited_until: None,
            has_definitions: false,
            jitter: Jitter::new(seed),
            last_error: None,
            last_success: None,
            reload_pending: false,
        }
    }

    /// Definitions were loaded from elsewhere (the disk cache) with this ETag: the next fetch sends it, so
    /// an unchanged document costs a 304.
    pub fn loaded_from_cache(&mut self, etag: Option<String>) {
        self.has_definitions = true;
        self.etag = etag;
    }

    pub fn config(&self) -> &PollerConfig {
        &self.cfg
    }
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }
    pub fn has_definitions(&self) -> bool {
        self.has_definitions
    }
    pub fn consecutive_failures(&self) -> u32 {
        self.backoff.failures()
    }
    pub fn last_error(&self) -> Option<&PollError> {
        self.last_error.as_ref()
    }
    pub fn last_success(&self) -> Option<Instant> {
        self.last_success
    }
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }
    /// When the next fetch is due (meaningless while one is in flight).
    pub fn next_fetch_at(&self) -> Instant {
        self.next_at
    }
    pub fn is_due(&self, now: Instant) -> bool {
        self.in_flight.is_none() && now >= self.next_at
    }
    /// How long to sleep before the next fetch (zero if due; the interval while one is in flight).
    pub fn time_until_due(&self, now: Instant) -> Duration {
        if self.in_flight.is_some() {
            return self.cfg.interval;
        }
        self.next_at.saturating_duration_since(now)
    }

    /// Starts a fetch if one is due and none is in flight.
    pub fn begin(&mut self, now: Instant) -> Option<DefinitionsRequest> {
        if !self.is_due(now) {
            return None;
        }
        self.seq += 1;
        self.in_flight = Some(self.seq);
        Some(DefinitionsRequest { seq: self.seq, if_none_match: self.etag.clone() })
    }

    /// Asks for a fetch as soon as possible. A `Retry-After` still in force is honoured (the fetch is
    /// moved to its end). Returns the time the fetch is now due.
    ///
    /// [`rate_limited_for`](Self::rate_limited_for) tells a caller beforehand whether to wait at all.
    pub fn request_reload(&mut self, now: Instant) -> Instant {
        if self.in_flight.is_some() {
            // Fetch again once the current one completes (it may have started before the change).
            self.reload_pending = true;
            return now;
        }
        let earliest = match self.rate_limited_until {
            Some(t) if t > now => t,
            _ => now,
        };
        if earliest < self.next_at {
            self.next_at = earliest;
        }
        self.next_at
    }

    /// The time left of a `Retry-After` in force, if any.
    pub fn rate_limited_for(&self, now: Instant) -> Option<Duration> {
        self.rate_limited_until.filter(|t| *t > now).map(|t| t - now)
    }

    /// Forgets a fetch that can never complete (the process forked while it was in flight) and makes the
    /// next fetch due now.
    pub fn reset_in_flight(&mut self, now: Instant) {
        self.in_flight = None;
        self.next_at = now;
    }

    /// The in-flight fetch was abandoned (cancelled, shut down): retry after the transient backoff.
    pub fn abandon(&mut self, now: Instant, seq: u64) {
        if self.in_flight == Some(seq) {
            self.in_flight = None;
            self.next_at = now + self.cfg.retry_base();
        }
    }

    /// Completes fetch `seq` with its result. `load` turns a 200 body into definitions (it runs only for
    /// a 200; a refusal keeps the old definitions and ETag).
    pub fn complete<T, E: fmt::Display>(
        &mut self,
        now: Instant,
        seq: u64,
        result: &FetchResult,
        load: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> PollOutcome<T> {
        if self.in_flight != Some(seq) {
            return PollOutcome::Stale;
        }
        self.in_flight = None;
        let outcome = self.settle(now, result, load);
        if std::mem::take(&mut self.reload_pending) {
            self.request_reload(now);
        }
        outcome
    }

    fn settle<T, E: fmt::Display>(
        &mut self,
        now: Instant,
        result: &FetchResult,
        load: impl FnOnce(&[u8]) -> Result<T, E>,
    ) -> PollOutcome<T> {
        let resp = match result {
            FetchResult::Failed(e) => return self.transient(now, PollError::Transport(e.clone())),
            FetchResult::Response(r) => r,
        };
        match resp.status {
            200 => match load(&resp.body) {
                Ok(v) => {
                    self.etag = resp.etag.clone();
                    self.has_definitions = true;
                    self.succeeded(now);
                    PollOutcome::Updated(v)
                }
                Err(e) => self.transient(now, PollError::Malformed(e.to_string())),
            },
            304 => {
                if self.etag.is_none() && !self.has_definitions {
                    return self.transient(now, PollError::UnexpectedNotModified);
                }
                if let Some(tag) = &resp.etag {
                    self.etag = Some(tag.clone());
                }
                self.succeeded(now);
                PollOutcome::NotModified
            }
            401 => self.long(now, PollError::Unauthorized),
            403 => self.long(now, PollError::Forbidden),
            402 => {
                self.etag = None;
                self.has_definitions = false;
                self.backoff.reset();
                self.rate_limited_until = None;
                self.next_at = now + self.jitter.spread(self.cfg.interval, self.cfg.jitter);
                self.last_error = Some(PollError::QuotaLimited);
                PollOutcome::Cleared(PollError::QuotaLimited)
            }
            429 => {
                let retry_after = resp.retry_after.as_deref().and_then(parse_retry_after).map(|d| d.min(self.cfg.retry_after_cap()));
                let err = PollError::RateLimited { retry_after };
                match retry_after {
                    Some(d) => {
                        self.backoff.fail(self.cfg.interval, self.cfg.interval);
                        let wait = self.jitter.stretch(d, self.cfg.jitter);
                        self.rate_limited_until = Some(now + d);
                        self.next_at = now + wait;
                        self.last_error = Some(err.clone());
                        PollOutcome::Failed(err)
                    }
                    None => self.long(now, err),
                }
            }
            s if s >= 500 => self.transient(now, PollError::Server { status: s }),
            s => self.transient(now, PollError::UnexpectedStatus { status: s }),
        }
    }

    fn succeeded(&mut self, now: Instant) {
        self.backoff.reset();
        self.rate_limited_until = None;
        self.last_error = None;
        self.last_success = Some(now);
        self.next_at = now + self.jitter.spread(self.cfg.interval, self.cfg.jitter);
    }

    fn transient<T>(&mut self, now: Instant, err: PollError) -> PollOutcome<T> {
        let d = self.backoff.fail(self.cfg.retry_base(), self.cfg.interval);
        self.next_at = now + self.jitter.spread(d, self.cfg.jitter);
        self.last_error = Some(err.clone());
        PollOutcome::Failed(err)
    }

    fn long<T>(&mut self, now: Instant, err: PollError) -> PollOutcome<T> {
        let cap = self.cfg.long_backoff_cap();
        // n-th failure waits interval × 2^n (Node's formula), so the first waits two intervals.
        let d = self.backoff.fail(self.cfg.interval.saturating_mul(2), cap);
        self.next_at = now + self.jitter.spread(d, self.cfg.jitter);
        self.last_error = Some(err.clone());
        PollOutcome::Failed(err)
    }
}

/// `Retry-After` as seconds, or as an HTTP date (then the time from now until it).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            // Absurdly large values saturate (the caller caps them at `retry_after_cap`).
            return Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX));
        }
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let now = chrono::Utc::now();
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}
