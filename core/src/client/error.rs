//! Typed errors of the client. None of them carries a key or a URL with a key in it: transport errors are
//! stripped of their URL before they are turned into text.

use std::time::Duration;

/// A request that got no usable HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("request timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    /// The response started but its body could not be read whole (truncated, connection reset).
    #[error("response body could not be read: {0}")]
    Body(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// Why one definitions poll did not produce new definitions. Every one of them keeps the last good
/// definitions, except [`QuotaLimited`](PollError::QuotaLimited), which clears them (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    #[error("definitions request unauthorized (401): the secret key is missing or invalid; keeping the last good definitions")]
    Unauthorized,
    #[error("project is over its feature-flag quota (402): definitions cleared until the quota is restored")]
    QuotaLimited,
    #[error("definitions request forbidden (403): the key lacks feature_flag:read for this project; keeping the last good definitions")]
    Forbidden,
    #[error("definitions request rate limited (429){}", retry_after.map(|d| format!(", Retry-After {} s", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("definitions server error ({status}); keeping the last good definitions")]
    Server { status: u16 },
    #[error("unexpected definitions status {status}; keeping the last good definitions")]
    UnexpectedStatus { status: u16 },
    #[error("definitions request failed: {0}; keeping the last good definitions")]
    Transport(#[from] TransportError),
    #[error("definitions body refused: {0}; keeping the last good definitions")]
    Malformed(String),
    #[error("304 Not Modified although no ETag was sent")]
    UnexpectedNotModified,
}

impl PollError {
    /// A short stable code, e.g. `unauthorized`, `server_error`, `timeout`.
    pub fn code(&self) -> &'static str {
        match self {
            PollError::Unauthorized => "unauthorized",
            PollError::QuotaLimited => "quota_limited",
            PollError::Forbidden => "forbidden",
            PollError::RateLimited { .. } => "rate_limited",
            PollError::Server { .. } => "server_error",
            PollError::UnexpectedStatus { .. } => "unexpected_status",
            PollError::Transport(TransportError::Timeout) => "timeout",
            PollError::Transport(TransportError::Connect(_)) => "connection_error",
            PollError::Transport(_) => "transport_error",
            PollError::Malformed(_) => "malformed_body",
            PollError::UnexpectedNotModified => "unexpected_not_modified",
        }
    }

    /// A fault that retrying soon may cure (5xx, network, bad body), as opposed to one that needs a
    /// person to act (401, 403), a server that asked us to wait (429) or a quota (402).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            PollError::Unauthorized | PollError::Forbidden | PollError::RateLimited { .. } | PollError::QuotaLimited
        )
    }
}

/// Why a `/flags` request gave no flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("/flags request timed out")]
    Timeout,
    #[error("/flags connection failed: {0}")]
    Connection(String),
    #[error("/flags answered {status}")]
    Status { status: u16 },
    #[error("/flags response is malformed: {0}")]
    Malformed(String),
    #[error("/flags: the project is over its feature-flag quota")]
    QuotaLimited,
    #[error("/flags cannot be called from the client's own driver thread (e.g. inside a callback)")]
    OnDriverThread,
    #[error("the client is shut down")]
    ShutDown,
    #[error("remote evaluation is disabled (only_evaluate_locally)")]
    Disabled,
    #[error("/flags request interrupted by the host")]
    Interrupted,
}

impl RemoteError {
    /// The `$feature_flag_error` code of PostHog's SDKs (`timeout`, `connection_error`, `api_error_500`,
    /// `quota_limited`, `unknown_error` for a malformed answer), and hogflags' own for calls that were not
    /// made: `interrupted`, `on_driver_thread`, `shut_down`, `remote_disabled`.
    pub fn code(&self) -> String {
        match self {
            RemoteError::Timeout => "timeout".into(),
            RemoteError::Connection(_) => "connection_error".into(),
            RemoteError::Status { status } => format!("api_error_{status}"),
            RemoteError::QuotaLimited => "quota_limited".into(),
            RemoteError::Interrupted => "interrupted".into(),
            RemoteError::Malformed(_) => "unknown_error".into(),
            RemoteError::OnDriverThread => "on_driver_thread".into(),
            RemoteError::ShutDown => "shut_down".into(),
            RemoteError::Disabled => "remote_disabled".into(),
        }
    }

    pub(crate) fn from_transport(e: TransportError) -> RemoteError {
        match e {
            TransportError::Timeout => RemoteError::Timeout,
            TransportError::Connect(m) => RemoteError::Connection(m),
            TransportError::Body(m) => RemoteError::Malformed(m),
            TransportError::Other(m) => RemoteError::Connection(m),
        }
    }

    /// Worth the one retry PostHog's SDKs make: transport errors, timeouts, 502 and 504.
    pub(crate) fn retryable(&self) -> bool {
        matches!(self, RemoteError::Timeout | RemoteError::Connection(_) | RemoteError::Status { status: 502 | 504 })
    }
}

/// Errors of the client as a whole, as passed to the `on_error` callback and returned by its methods.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot start the client's runtime: {0}")]
    Runtime(String),
    #[error(transparent)]
    Poll(#[from] PollError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("disk cache: {0}")]
    Cache(String),
    #[error("the client is shut down")]
    ShutDown,
    #[error("tick() is only for DriverMode::Manual clients")]
    NotManual,
    #[error("a manual-mode client cannot run network calls inside an async runtime; use DriverMode::Background")]
    InsideAsyncRuntime,
    /// The host's interrupt check asked a blocking call to stop (e.g. Ctrl-C in Python).
    #[error("interrupted by the host")]
    Interrupted,
}

impl ClientError {
    /// The one stable code of every client error, used by every binding: a [`PollError::code`], a
    /// [`RemoteError::code`], or `config`, `runtime`, `cache`, `shut_down`, `not_manual`,
    /// `inside_async_runtime`, `interrupted`.
    pub fn code(&self) -> String {
        match self {
            ClientError::Config(_) => "config".into(),
            ClientError::Runtime(_) => "runtime".into(),
            ClientError::Poll(p) => p.code().into(),
            ClientError::Remote(r) => r.code(),
            ClientError::Cache(_) => "cache".into(),
            ClientError::ShutDown => "shut_down".into(),
            ClientError::NotManual => "not_manual".into(),
            ClientError::InsideAsyncRuntime => "inside_async_runtime".into(),
            ClientError::Interrupted => "interrupted".into(),
        }
    }
}

/// Why `wait_until_ready` returned without definitions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaitError {
    #[error("not ready after {waited:?}{}", last_error.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default())]
    Timeout { waited: Duration, last_error: Option<ClientError> },
    /// A failure that will not cure itself soon (401, 403, 402) before anything was loaded.
    #[error("cannot become ready: {0}")]
    Failed(ClientError),
    #[error("the client is shut down")]
    ShutDown,
}
