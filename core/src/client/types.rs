//! Owned result types of the client.
//!
//! The engine's [`Evaluation`](crate::Evaluation) borrows the snapshot it came from; a client swaps
//! snapshots underneath its callers, so what it returns is owned.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::Value;

use crate::{FlagResult, InconclusiveKind};

use super::error::RemoteError;

/// A flag value owned by the client's results: `false`, `true` or a variant key. The engine's
/// [`FlagValue`](crate::FlagValue) borrows the snapshot it came from; this one outlives snapshot swaps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedFlagValue {
    Bool(bool),
    Variant(String),
}

impl OwnedFlagValue {
    pub fn is_enabled(&self) -> bool {
        !matches!(self, OwnedFlagValue::Bool(false))
    }
    pub fn variant(&self) -> Option<&str> {
        match self {
            OwnedFlagValue::Variant(v) => Some(v),
            OwnedFlagValue::Bool(_) => None,
        }
    }
    pub fn to_json(&self) -> Value {
        match self {
            OwnedFlagValue::Bool(b) => Value::Bool(*b),
            OwnedFlagValue::Variant(v) => Value::String(v.clone()),
        }
    }
}

impl From<crate::FlagValue<'_>> for OwnedFlagValue {
    fn from(v: crate::FlagValue<'_>) -> Self {
        match v {
            crate::FlagValue::Bool(b) => OwnedFlagValue::Bool(b),
            crate::FlagValue::Variant(s) => OwnedFlagValue::Variant(s.to_owned()),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Evaluated here from the polled definitions.
    Local,
    /// Answered by PostHog's `/flags` (or, in remote mode, its cached answer).
    Remote,
}

/// The `/flags` v2 reason of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagReason {
    pub code: String,
    pub condition_index: Option<usize>,
    pub description: Option<String>,
}

/// A resolved flag.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagDetails {
    pub key: String,
    pub value: OwnedFlagValue,
    pub payload: Option<Value>,
    pub reason: Option<FlagReason>,
    pub flag_id: Option<i64>,
    pub version: Option<i64>,
    pub has_experiment: Option<bool>,
    pub source: Source,
    /// `/flags` request id and evaluation time (epoch ms), for remote values.
    pub request_id: Option<String>,
    pub evaluated_at: Option<i64>,
    /// The `/flags` response said `errorsWhileComputingFlags` (the value is still used).
    pub errors_while_computing: bool,
    /// A `/flags?v=4` record's rule attribution (config version, rule, variant), when it has one.
    pub attribution: Option<RuleAttribution>,
}

/// What a `/flags?v=4` record says produced its value: the flag's configuration format and the rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleAttribution {
    pub config_version: Option<i64>,
    pub rule_type: Option<String>,
    pub rule_id: Option<String>,
    pub variant_key: Option<String>,
}

impl FlagDetails {
    pub(crate) fn from_local(r: &FlagResult<'_>, has_experiment: Option<bool>) -> FlagDetails {
        FlagDetails {
            key: r.key.to_owned(),
            value: r.value.into(),
            payload: r.payload.cloned(),
            reason: Some(FlagReason {
                code: r.reason.code.as_str().to_owned(),
                condition_index: r.reason.condition_index,
                description: Some(r.reason.description()),
            }),
            flag_id: r.flag_id,
            version: r.version,
            has_experiment,
            attribution: None,
            source: Source::Local,
            request_id: None,
            evaluated_at: None,
            errors_while_computing: false,
        }
    }
}

/// Why a flag has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// Local evaluation could not decide and the remote fallback is off (or only-local was asked).
    Inconclusive { kind: InconclusiveKind, detail: Option<String> },
    /// `/flags` answered, without this flag (unknown key or inactive flag).
    FlagMissing,
    /// `/flags` answered with this flag marked `failed`: the server could not evaluate it.
    EvaluationFailed,
    /// `/flags` reported the project over its quota.
    QuotaLimited,
    /// `/flags` could not be asked or did not answer.
    Remote(RemoteError),
    /// Remote mode: no flags have been loaded yet (no cache, no successful refresh).
    NotLoaded,
}

impl Unresolved {
    /// The one name of this outcome, in every binding: the inconclusive kind (`missing_property`,
    /// `missing_cohort`, …), or `flag_missing`, `evaluation_failed`, `quota_limited`, `remote_error`,
    /// `not_loaded`.
    pub fn kind(&self) -> &'static str {
        match self {
            Unresolved::Inconclusive { kind, .. } => kind.as_str(),
            Unresolved::FlagMissing => "flag_missing",
            Unresolved::EvaluationFailed => "evaluation_failed",
            Unresolved::QuotaLimited => "quota_limited",
            Unresolved::Remote(_) => "remote_error",
            Unresolved::NotLoaded => "not_loaded",
        }
    }

    /// What the kind refers to: the inconclusive detail (the missing property, cohort, operator, …) or,
    /// for `remote_error`, the error's code (`timeout`, `api_error_500`, …).
    pub fn detail(&self) -> Option<String> {
        match self {
            Unresolved::Inconclusive { detail, .. } => detail.clone(),
            Unresolved::Remote(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The `$feature_flag_error` code (PostHog's vocabulary for events), if this outcome has one.
    pub fn error_code(&self) -> Option<String> {
        match self {
            // No definition of this key: PostHog's SDKs report a missing flag.
            Unresolved::Inconclusive { kind: InconclusiveKind::UnknownFlag, .. } => Some("flag_missing".into()),
            // The flag has a local definition the local inputs cannot decide (PostHog's SDKs report the same).
            Unresolved::Inconclusive { .. } => Some("local_evaluation_inconclusive".into()),
            Unresolved::FlagMissing => Some("flag_missing".into()),
            Unresolved::EvaluationFailed => Some("evaluation_failed".into()),
            Unresolved::QuotaLimited => Some("quota_limited".into()),
            Unresolved::Remote(e) => Some(e.code()),
            Unresolved::NotLoaded => Some("flags_not_loaded".into()),
        }
    }
}

/// The result of a bulk call: what resolved, what did not and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllFlags {
    pub flags: BTreeMap<String, FlagDetails>,
    pub unresolved: BTreeMap<String, Unresolved>,
    /// Whether `/flags` was asked (once at most).
    pub remote_called: bool,
    pub remote_error: Option<RemoteError>,
    /// The `/flags` answer's `minimalFlagCalledEvents`, when `/flags` answered.
    pub remote_minimal_flag_called_events: Option<bool>,
}

impl AllFlags {
    /// Key → value of every resolved flag.
    pub fn values(&self) -> BTreeMap<&str, &OwnedFlagValue> {
        self.flags.iter().map(|(k, d)| (k.as_str(), &d.value)).collect()
    }
}

/// Passed to `on_definitions_updated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionsUpdate {
    /// Number of flags now loaded.
    pub flags: usize,
    /// Flags of the document that were skipped (key and reason).
    pub skipped: Vec<(String, String)>,
    pub etag: Option<String>,
    /// `true` when the definitions were cleared (402).
    pub cleared: bool,
    /// `true` when they came from the disk cache rather than the network.
    pub from_cache: bool,
}

/// Passed to `on_flags_changed` (remote mode).
#[derive(Debug, Clone, PartialEq)]
pub struct FlagsChanged {
    /// Keys whose value or payload changed, appeared or disappeared.
    pub changed: Vec<String>,
    pub flags: BTreeMap<String, FlagDetails>,
}

/// A snapshot of a client's polling state.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientStatus {
    pub ready: bool,
    pub flags_loaded: usize,
    pub etag: Option<String>,
    pub consecutive_failures: u32,
    pub last_error: Option<super::ClientError>,
    /// Wall-clock time of the last successful fetch (200 or 304) or cache load.
    pub last_success: Option<SystemTime>,
    pub fetches: u64,
}

/// What a `tick()` did.
#[derive(Debug, Clone, PartialEq)]
pub struct TickOutcome {
    /// A request was made during this tick.
    pub fetched: bool,
    /// Call `tick()` again after this long.
    pub next_tick_in: std::time::Duration,
    pub error: Option<super::ClientError>,
}
