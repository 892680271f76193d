//! The one serialised shape of every client result, for the bindings that hand results over as JSON
//! (C, Node) and for the client conformance corpus: snake_case keys, the codes of `code()`/`kind()`.
//!
//! Written once here so that a binding never invents a field or a code: C passes these texts through,
//! Node's JS layer only renames keys to camelCase.

use std::time::UNIX_EPOCH;

use serde::Serialize;
use serde_json::{json, Value};

use super::error::{ClientError, RemoteError};
use super::events::FlagCalledEvent;
use super::types::{AllFlags, ClientStatus, DefinitionsUpdate, FlagDetails, OwnedFlagValue, Source, Unresolved};

impl Source {
    /// `"local"` or `"remote"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Remote => "remote",
        }
    }
}

/// A value as JSON: `false`, `true` or the variant's text.
#[derive(Serialize)]
#[serde(untagged)]
enum ValueWire<'a> {
    Bool(bool),
    Text(&'a str),
}

#[derive(Serialize)]
struct ReasonWire<'a> {
    code: &'a str,
    condition_index: Option<usize>,
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct DetailsWire<'a> {
    key: &'a str,
    value: ValueWire<'a>,
    enabled: bool,
    variant: Option<&'a str>,
    payload: &'a Option<Value>,
    reason: Option<ReasonWire<'a>>,
    flag_id: Option<i64>,
    version: Option<i64>,
    has_experiment: Option<bool>,
    source: &'static str,
    request_id: Option<&'a str>,
    evaluated_at: Option<i64>,
    errors_while_computing: bool,
}

impl FlagDetails {
    fn wire(&self) -> DetailsWire<'_> {
        DetailsWire {
            key: &self.key,
            value: match &self.value {
                OwnedFlagValue::Bool(b) => ValueWire::Bool(*b),
                OwnedFlagValue::Variant(v) => ValueWire::Text(v),
            },
            enabled: self.value.is_enabled(),
            variant: self.value.variant(),
            payload: &self.payload,
            reason: self.reason.as_ref().map(|r| ReasonWire {
                code: &r.code,
                condition_index: r.condition_index,
                description: r.description.as_deref(),
            }),
            flag_id: self.flag_id,
            version: self.version,
            has_experiment: self.has_experiment,
            source: self.source.as_str(),
            request_id: self.request_id.as_deref(),
            evaluated_at: self.evaluated_at,
            errors_while_computing: self.errors_while_computing,
        }
    }

    /// `{"key", "value", "enabled", "variant", "payload", "reason": {"code", "condition_index",
    /// "description"}, "flag_id", "version", "has_experiment", "source", "request_id", "evaluated_at",
    /// "errors_while_computing"}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.wire()).unwrap_or(Value::Null)
    }
}

#[derive(Serialize)]
struct UnresolvedWire<'a> {
    key: &'a str,
    kind: &'static str,
    detail: Option<String>,
    error_code: Option<String>,
    message: Option<String>,
}

impl Unresolved {
    /// `{"key", "kind", "detail", "error_code", "message"}` (see [`kind`](Self::kind),
    /// [`detail`](Self::detail), [`error_code`](Self::error_code), [`message`](Self::message)).
    pub fn to_json(&self, key: &str) -> Value {
        serde_json::to_value(self.wire(key)).unwrap_or(Value::Null)
    }

    fn wire<'a>(&self, key: &'a str) -> UnresolvedWire<'a> {
        UnresolvedWire { key, kind: self.kind(), detail: self.detail(), error_code: self.error_code(), message: self.message() }
    }

    /// What went wrong when `/flags` was asked and failed (the error's text, which `kind` and `detail`
    /// cannot say); `None` for every other outcome, which `kind` and `detail` describe fully.
    pub fn message(&self) -> Option<String> {
        match self {
            Unresolved::Remote(e) => Some(e.to_string()),
            _ => None,
        }
    }
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Inconclusive { kind, detail: Some(d) } => write!(f, "local evaluation is inconclusive: {kind} ({d})"),
            Unresolved::Inconclusive { kind, detail: None } => write!(f, "local evaluation is inconclusive: {kind}"),
            Unresolved::FlagMissing => f.write_str("/flags answered without this flag"),
            Unresolved::EvaluationFailed => f.write_str("/flags could not evaluate this flag"),
            Unresolved::QuotaLimited => f.write_str("/flags reported the project over its feature-flag quota"),
            Unresolved::Remote(e) => write!(f, "{e}"),
            Unresolved::NotLoaded => f.write_str("no flags loaded yet"),
        }
    }
}

/// A one-flag outcome: the flag's details, or its unresolved record.
pub fn outcome_json(key: &str, outcome: &Result<FlagDetails, Unresolved>) -> Value {
    match outcome {
        Ok(d) => d.to_json(),
        Err(u) => u.to_json(key),
    }
}

fn code_message(code: impl Into<String>, message: String) -> Value {
    json!({ "code": code.into(), "message": message })
}

impl RemoteError {
    /// `{"code", "message"}`.
    pub fn to_json(&self) -> Value {
        code_message(self.code(), self.to_string())
    }
}

impl ClientError {
    /// `{"code", "message"}`.
    pub fn to_json(&self) -> Value {
        code_message(self.code(), self.to_string())
    }
}

/// A map written straight from an iterator (no intermediate map).
struct MapWire<I>(std::cell::Cell<Option<I>>);

impl<K: Serialize, V: Serialize, I: Iterator<Item = (K, V)>> Serialize for MapWire<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.take().into_iter().flatten())
    }
}

impl AllFlags {
    /// `{"flags": {key: details}, "unresolved": {key: unresolved}, "remote_called", "remote_error"}`.
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.to_json_string()).unwrap_or(Value::Null)
    }

    /// [`to_json`](Self::to_json) as text, written directly (the bulk answer can be large).
    pub fn to_json_string(&self) -> String {
        #[derive(Serialize)]
        struct AllWire<F, U> {
            flags: F,
            unresolved: U,
            remote_called: bool,
            remote_error: Option<Value>,
        }
        let wire = AllWire {
            flags: MapWire(std::cell::Cell::new(Some(self.flags.iter().map(|(k, d)| (k, d.wire()))))),
            unresolved: MapWire(std::cell::Cell::new(Some(self.unresolved.iter().map(|(k, u)| (k, u.wire(k)))))),
            remote_called: self.remote_called,
            remote_error: self.remote_error.as_ref().map(RemoteError::to_json),
        };
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

impl FlagCalledEvent {
    /// `{"event", "distinct_id", "groups", "properties"}`.
    pub fn to_json(&self) -> Value {
        json!({ "event": self.event, "distinct_id": self.distinct_id, "groups": self.groups, "properties": self.properties })
    }
}

impl DefinitionsUpdate {
    /// `{"flags", "skipped": [{"key", "reason"}], "etag", "cleared", "from_cache"}`.
    pub fn to_json(&self) -> Value {
        let skipped: Vec<Value> = self.skipped.iter().map(|(k, r)| json!({ "key": k, "reason": r })).collect();
        json!({ "flags": self.flags, "skipped": skipped, "etag": self.etag, "cleared": self.cleared, "from_cache": self.from_cache })
    }
}

impl ClientStatus {
    /// `{"ready", "flags_loaded", "etag", "consecutive_failures", "last_error": {"code", "message"},
    /// "last_success_ms", "fetches"}` (`last_success_ms`: epoch milliseconds).
    pub fn to_json(&self) -> Value {
        let last_success_ms = self
            .last_success
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        json!({
            "ready": self.ready,
            "flags_loaded": self.flags_loaded,
            "etag": self.etag,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error.as_ref().map(ClientError::to_json),
            "last_success_ms": last_success_ms,
            "fetches": self.fetches,
        })
    }
}
