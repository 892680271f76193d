//! Errors, in the style of Mozilla's application-services: a rich *internal* error type that the
//! binding's Rust code uses with `?`, and a small, stable *public* error enum that crosses the FFI
//! (`HogFlagsException` in Kotlin, `HogFlagsError` in Swift). Every public entry point returns
//! [`ApiResult`], and the one `From` impl below is the only place where internal errors become public.
//!
//! Messages never contain API keys or other secrets: they describe the input that was refused.

use hogflags::{ContextError, DocumentError};

/// What the host sees. Each variant carries a human-readable `reason` (or the numbers involved) so a
/// host can log it; match on the variant to decide what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum HogFlagsError {
    /// The definitions document is not JSON of the `/flags/definitions` shape. Single bad flags never
    /// cause this: they are skipped and listed by `skippedFlags()`.
    #[error("invalid definitions: {reason}")]
    InvalidDefinitions { reason: String },
    /// The definitions document is larger than the engine accepts.
    #[error("definitions document is {size} bytes, over the limit of {limit} bytes")]
    DefinitionsTooLarge { size: i64, limit: i64 },
    /// The definitions document has more flags than the engine accepts.
    #[error("definitions document has {count} flags, over the limit of {limit}")]
    TooManyFlags { count: i64, limit: i64 },
    /// The evaluation context was refused (malformed context JSON, a `distinct_id` that is neither a
    /// string nor an integer, a `now` out of range).
    #[error("invalid context: {reason}")]
    InvalidContext { reason: String },
    /// A property value (or other JSON value) cannot be represented in JSON, e.g. a NaN or infinite
    /// double; `path` names where it was (`person_properties.score`).
    #[error("invalid value at {path}: {reason}")]
    InvalidValue { path: String, reason: String },
    /// Text that should have been JSON is not.
    #[error("invalid JSON: {reason}")]
    InvalidJson { reason: String },
    /// A client's configuration is not usable (empty key, bad host, a `phc_` key as the secret, …).
    #[error("invalid configuration: {reason}")]
    InvalidConfig { code: String, reason: String },
    /// Fetching definitions failed (`code`: `unauthorized`, `forbidden`, `quota_limited`,
    /// `rate_limited`, `server_error`, `timeout`, `connection_error`, `malformed_body`, …); the client
    /// keeps its last good definitions.
    #[error("{reason}")]
    Definitions { code: String, reason: String },
    /// A `/flags` request failed (`code`: `timeout`, `connection_error`, `api_error_<status>`,
    /// `quota_limited`, `unknown_error`).
    #[error("{reason}")]
    Remote { code: String, reason: String },
    /// The disk cache could not be read or written.
    #[error("{reason}")]
    Cache { reason: String },
    /// The client is shut down.
    #[error("the client is shut down")]
    ShutDown,
    /// Not ready within the time given (`wait_until_ready`).
    #[error("{reason}")]
    NotReady { reason: String },
    /// A call the client's mode or thread does not allow (`code`: `not_manual`, `inside_async_runtime`,
    /// `runtime`, `on_driver_thread`, `remote_disabled`).
    #[error("{reason}")]
    Usage { code: String, reason: String },
    /// A bug in hogflags: please report it.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

/// The result type of every public entry point.
pub type ApiResult<T> = Result<T, HogFlagsError>;

/// The binding's internal errors, with their sources kept.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("{0} is not a finite number")]
    NonFinite(String, f64),
    #[error("timestamp is out of range")]
    TimestampOutOfRange,
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

impl From<Error> for HogFlagsError {
    fn from(e: Error) -> Self {
        match e {
            Error::Document(DocumentError::Malformed(reason)) => HogFlagsError::InvalidDefinitions { reason },
            Error::Document(DocumentError::TooLarge { size, limit }) => {
                HogFlagsError::DefinitionsTooLarge { size: to_i64(size), limit: to_i64(limit) }
            }
            Error::Document(DocumentError::TooManyFlags { count, limit }) => {
                HogFlagsError::TooManyFlags { count: to_i64(count), limit: to_i64(limit) }
            }
            Error::Context(e) => HogFlagsError::InvalidContext { reason: e.to_string() },
            Error::TimestampOutOfRange => HogFlagsError::InvalidContext { reason: "now is out of range".into() },
            Error::NonFinite(path, v) => {
                HogFlagsError::InvalidValue { path, reason: format!("{v} is not a finite number (JSON has no NaN or infinity)") }
            }
            Error::Json(e) => HogFlagsError::InvalidJson { reason: e.to_string() },
        }
    }
}

pub(crate) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
