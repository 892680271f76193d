//! # The client: polling, remote evaluation and events (feature `client`)
//!
//! The engine (`FlagSnapshot`) is pure; this module keeps it fed and falls back to PostHog when it cannot
//! decide. It is what every binding exposes, built once here.
//!
//! * [`Client`] — local evaluation from definitions polled from `GET /flags/definitions` (ETag, gzip,
//!   backoff with jitter; behaviour per status in [`poller`]), compiled off the hot path and swapped in
//!   atomically; `/flags` as the fallback for inconclusive flags (bulk merge rule D31: local wins, remote
//!   fills only the undecided keys); optional disk cache; `reload`, `wait_until_ready`, `shutdown`.
//! * [`RemoteClient`] — remote mode for mobile: all of one user's flags from `POST /flags/?v=4`, kept in
//!   memory and on disk, refreshed on an interval or on demand, with a change listener.
//! * [`FlagCalledEvent`] — the `$feature_flag_called` records a host SDK captures, deduplicated by a
//!   bounded LRU ([`EventDedupe`]).
//!
//! **Threads.** In [`DriverMode::Background`] (default) every client of the process shares one thread
//! with a current-thread tokio runtime; in [`DriverMode::Manual`] there is none and the host calls
//! `tick()` from its own timer. Reads never take a lock and never wait for the network. Fork safety: see
//! [`driver`](self#threads) — a forked child restarts its worker lazily on first use.
//!
//! **Logging** goes through the `log` facade, target `hogflags`. Keys never appear in logs, errors or
//! `Debug` output: [`Key`] redacts itself and transport errors are stripped of their URL.

mod cache;
mod call;
mod config;
mod driver;
mod error;
mod evaluations;
mod events;
mod local;
pub mod poller;
mod remote;
mod remote_mode;
mod settings;
mod transport;
mod types;
mod wire;

pub use cache::{read as read_cache, write as write_cache, CacheEntry, CacheError};
pub use config::{normalize_host, Config, DriverMode, Key, DEFAULT_HOST};
pub use driver::driver_threads;
pub use error::{ClientError, PollError, RemoteError, TransportError, WaitError};
pub use events::{
    flag_called_event, flag_events, EventDedupe, FlagCalledEvent, EXPERIMENT_EXPOSURE, FEATURE_FLAG_CALLED, MINIMAL_PROPERTIES,
};
pub use call::{AllOptions, AllStep, FlagOptions, FlagStep, PendingAll, PendingFlag};
pub use evaluations::FlagEvaluations;
pub use local::Client;
pub use remote::{parse_response as parse_flags_response, request_body as flags_request_body, RemoteFlags};
pub use remote_mode::RemoteClient;
pub use settings::Settings;
pub use wire::outcome_json;
pub use types::{
    AllFlags, ClientStatus, DefinitionsUpdate, FlagDetails, FlagReason, OwnedFlagValue, FlagsChanged, RuleAttribution, Source,
    TickOutcome, Unresolved,
};
