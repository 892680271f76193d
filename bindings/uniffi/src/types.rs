//! The records and enums that cross the FFI, and their conversions to and from the core's types.
//! Conversions only: every answer is the core's.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Error;

/// A JSON value: how property values go in and payloads come out.
///
/// Integers and doubles are distinct (`1` and `1.0` stringify differently, and the server compares
/// their text), so a host passes what it has. Integers that fit `i64` are always `Integer`; `Unsigned`
/// holds only those above `i64::MAX` (up to `u64::MAX`); larger ones are doubles, as the core reads
/// them. NaN and the infinities are refused (`InvalidValue`): JSON has none.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum JsonValue {
    Null,
    Bool { value: bool },
    Integer { value: i64 },
    Unsigned { value: u64 },
    Double { value: f64 },
    String { value: String },
    Array { values: Vec<JsonValue> },
    Object { entries: HashMap<String, JsonValue> },
}

impl JsonValue {
    /// Into `serde_json`, checking that every double is finite. `path` names the value in errors.
    pub(crate) fn into_serde(self, path: &mut String) -> Result<Value, Error> {
        Ok(match self {
            JsonValue::Null => Value::Null,
            JsonValue::Bool { value } => Value::Bool(value),
            JsonValue::Integer { value } => Value::from(value),
            JsonValue::Unsigned { value } => Value::from(value),
            JsonValue::Double { value } => match serde_json::Number::from_f64(value) {
                Some(n) => Value::Number(n),
                None => return Err(Error::NonFinite(path.clone(), value)),
            },
            JsonValue::String { value } => Value::String(value),
            JsonValue::Array { values } => {
                let mut out = Vec::with_capacity(values.len());
                for (i, v) in values.into_iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(v.into_serde(path)?);
                    path.truncate(len);
                }
                Value::Array(out)
            }
            JsonValue::Object { entries } => Value::Object(map_into_serde(entries, path)?.into_iter().collect()),
        })
    }

    /// From `serde_json` (borrowed: payloads stay in the snapshot).
    pub(crate) fn from_serde(v: &Value) -> JsonValue {
        match v {
            Value::Null => JsonValue::Null,
            Value::Bool(b) => JsonValue::Bool { value: *b },
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => JsonValue::Integer { value: i },
                (None, Some(u)) => JsonValue::Unsigned { value: u },
                // serde_json (without arbitrary precision) holds every other number as a finite f64.
                (None, None) => JsonValue::Double { value: n.as_f64().unwrap_or(0.0) },
            },
            Value::String(s) => JsonValue::String { value: s.clone() },
            Value::Array(a) => JsonValue::Array { values: a.iter().map(JsonValue::from_serde).collect() },
            Value::Object(o) => {
                JsonValue::Object { entries: o.iter().map(|(k, v)| (k.clone(), JsonValue::from_serde(v))).collect() }
            }
        }
    }
}

/// A property map into `serde_json`; `path` is the map's name in errors (`person_properties`).
pub(crate) fn map_into_serde(
    map: HashMap<String, JsonValue>,
    path: &mut String,
) -> Result<hogflags::Properties, Error> {
    let mut out = hogflags::Properties::with_capacity_and_hasher(map.len(), Default::default());
    for (k, v) in map {
        let len = path.len();
        path.push('.');
        path.push_str(&k);
        let v = v.into_serde(path)?;
        path.truncate(len);
        out.insert(k, v);
    }
    Ok(out)
}

fn map_from_serde(map: &hogflags::Properties) -> HashMap<String, JsonValue> {
    map.iter().map(|(k, v)| (k.clone(), JsonValue::from_serde(v))).collect()
}

/// Who is asking: the typed form of the evaluation context. Only `distinct_id` is required.
///
/// `groups` maps a group type (`company`) to the group key; `group_properties` maps a group type to
/// that group's properties (used only for groups also passed in `groups`). `now` pins the clock for
/// relative date filters (default: the wall clock).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EvaluationContext {
    pub distinct_id: String,
    #[uniffi(default)]
    pub person_properties: HashMap<String, JsonValue>,
    #[uniffi(default)]
    pub groups: HashMap<String, String>,
    #[uniffi(default)]
    pub group_properties: HashMap<String, HashMap<String, JsonValue>>,
    #[uniffi(default)]
    pub device_id: Option<String>,
    #[uniffi(default)]
    pub now: Option<SystemTime>,
}

impl EvaluationContext {
    /// Into the core's context (moves the property maps; nothing is copied twice).
    pub(crate) fn into_core(self) -> Result<hogflags::EvaluationContext, Error> {
        let mut path = String::from("person_properties");
        let mut ctx = hogflags::EvaluationContext::new(self.distinct_id)
            .with_person_properties(map_into_serde(self.person_properties, &mut path)?);
        for (group_type, key) in self.groups {
            ctx = ctx.with_group(group_type, key);
        }
        for (group_type, props) in self.group_properties {
            let mut path = format!("group_properties.{group_type}");
            ctx = ctx.with_group_properties(group_type, map_into_serde(props, &mut path)?);
        }
        if let Some(device_id) = self.device_id {
            ctx = ctx.with_device_id(device_id);
        }
        if let Some(now) = self.now {
            ctx = ctx.with_now(system_time_to_utc(now)?);
        }
        Ok(ctx)
    }

    /// From the JSON form (`{"distinct_id", "person_properties", "groups", "group_properties",
    /// "device_id", "now"}`), read by the core (identifiers given as numbers become their text, groups
    /// whose key has no text are dropped, exactly as the core's JSON entry points do).
    pub(crate) fn from_json(json: &str) -> Result<EvaluationContext, Error> {
        let input: hogflags::ContextInput =
            serde_json::from_str(json).map_err(|e| hogflags::ContextError::Malformed(e.to_string()))?;
        let group_properties = input.group_properties.clone().unwrap_or_default();
        let ctx = hogflags::EvaluationContext::try_from(input)?;
        Ok(EvaluationContext {
            distinct_id: ctx.distinct_id().to_owned(),
            person_properties: map_from_serde(ctx.person_properties()),
            groups: ctx.groups().map(|(t, k)| (t.to_owned(), k.to_owned())).collect(),
            group_properties: group_properties.iter().map(|(t, p)| (t.clone(), map_from_serde(p))).collect(),
            device_id: ctx.device_id().map(str::to_owned),
            now: ctx.now().map(utc_to_system_time),
        })
    }
}

fn system_time_to_utc(t: SystemTime) -> Result<DateTime<Utc>, Error> {
    let dt = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs())
            .ok()
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, d.subsec_nanos())),
        Err(e) => {
            let d = e.duration();
            i64::try_from(d.as_secs()).ok().and_then(|s| {
                let (secs, nanos) = if d.subsec_nanos() == 0 {
                    (-s, 0)
                } else {
                    (-s - 1, 1_000_000_000 - d.subsec_nanos())
                };
                DateTime::<Utc>::from_timestamp(secs, nanos)
            })
        }
    };
    dt.ok_or(Error::TimestampOutOfRange)
}

fn utc_to_system_time(dt: DateTime<Utc>) -> SystemTime {
    SystemTime::from(dt)
}

/// A flag's value: `false`, `true`, or the key of the variant the user gets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum FlagValue {
    Bool { value: bool },
    Variant { key: String },
}

impl FlagValue {
    pub(crate) fn from_core(v: hogflags::FlagValue<'_>) -> FlagValue {
        match v {
            hogflags::FlagValue::Bool(value) => FlagValue::Bool { value },
            hogflags::FlagValue::Variant(key) => FlagValue::Variant { key: key.to_owned() },
        }
    }

    pub(crate) fn as_core(&self) -> hogflags::FlagValue<'_> {
        match self {
            FlagValue::Bool { value } => hogflags::FlagValue::Bool(*value),
            FlagValue::Variant { key } => hogflags::FlagValue::Variant(key),
        }
    }
}

/// The `/flags` v2 reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReasonCode {
    SuperConditionValue,
    HoldoutConditionValue,
    ConditionMatch,
    OutOfRolloutBound,
    NoConditionMatch,
    NoGroupType,
    FlagDisabled,
}

impl ReasonCode {
    pub(crate) fn from_core(c: hogflags::ReasonCode) -> ReasonCode {
        use hogflags::ReasonCode as C;
        match c {
            C::SuperConditionValue => ReasonCode::SuperConditionValue,
            C::HoldoutConditionValue => ReasonCode::HoldoutConditionValue,
            C::ConditionMatch => ReasonCode::ConditionMatch,
            C::OutOfRolloutBound => ReasonCode::OutOfRolloutBound,
            C::NoConditionMatch => ReasonCode::NoConditionMatch,
            C::NoGroupType => ReasonCode::NoGroupType,
            C::FlagDisabled => ReasonCode::FlagDisabled,
        }
    }

    pub(crate) fn to_core(self) -> hogflags::ReasonCode {
        use hogflags::ReasonCode as C;
        match self {
            ReasonCode::SuperConditionValue => C::SuperConditionValue,
            ReasonCode::HoldoutConditionValue => C::HoldoutConditionValue,
            ReasonCode::ConditionMatch => C::ConditionMatch,
            ReasonCode::OutOfRolloutBound => C::OutOfRolloutBound,
            ReasonCode::NoConditionMatch => C::NoConditionMatch,
            ReasonCode::NoGroupType => C::NoGroupType,
            ReasonCode::FlagDisabled => C::FlagDisabled,
        }
    }
}

#[uniffi::export]
impl ReasonCode {
    /// The wire code, e.g. `condition_match`.
    pub fn wire_name(&self) -> String {
        self.to_core().as_str().to_owned()
    }
}

/// Why a flag has its value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reason {
    pub code: ReasonCode,
    /// The 0-based index of the deciding condition, where one applies.
    pub condition_index: Option<i32>,
    /// The server's description, e.g. `Matched condition set 1`.
    pub description: String,
}

/// A decided flag.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlagResult {
    pub key: String,
    pub value: FlagValue,
    /// `true` for `true` and for every variant.
    pub enabled: bool,
    /// The variant key, when the value is one.
    pub variant: Option<String>,
    /// The payload for this value, if the flag has one (a stored payload that is not JSON arrives as a
    /// string).
    pub payload: Option<JsonValue>,
    pub reason: Reason,
    /// The flag's id and version in PostHog (for `$feature_flag_called` events).
    pub flag_id: Option<i64>,
    pub version: Option<i64>,
}

/// Why local evaluation could not decide a flag (ask PostHog's `/flags` instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum InconclusiveKind {
    MissingProperty,
    MissingCohort,
    ExperienceContinuity,
    UnknownGroupType,
    MissingDeviceId,
    Dependency,
    UnknownOperator,
    InvalidValue,
    UnknownFlag,
}

impl InconclusiveKind {
    pub(crate) fn from_core(k: hogflags::InconclusiveKind) -> InconclusiveKind {
        use hogflags::InconclusiveKind as K;
        match k {
            K::MissingProperty => InconclusiveKind::MissingProperty,
            K::MissingCohort => InconclusiveKind::MissingCohort,
            K::ExperienceContinuity => InconclusiveKind::ExperienceContinuity,
            K::UnknownGroupType => InconclusiveKind::UnknownGroupType,
            K::MissingDeviceId => InconclusiveKind::MissingDeviceId,
            K::Dependency => InconclusiveKind::Dependency,
            K::UnknownOperator => InconclusiveKind::UnknownOperator,
            K::InvalidValue => InconclusiveKind::InvalidValue,
            K::UnknownFlag => InconclusiveKind::UnknownFlag,
        }
    }

    pub(crate) fn to_core(self) -> hogflags::InconclusiveKind {
        use hogflags::InconclusiveKind as K;
        match self {
            InconclusiveKind::MissingProperty => K::MissingProperty,
            InconclusiveKind::MissingCohort => K::MissingCohort,
            InconclusiveKind::ExperienceContinuity => K::ExperienceContinuity,
            InconclusiveKind::UnknownGroupType => K::UnknownGroupType,
            InconclusiveKind::MissingDeviceId => K::MissingDeviceId,
            InconclusiveKind::Dependency => K::Dependency,
            InconclusiveKind::UnknownOperator => K::UnknownOperator,
            InconclusiveKind::InvalidValue => K::InvalidValue,
            InconclusiveKind::UnknownFlag => K::UnknownFlag,
        }
    }
}

#[uniffi::export]
impl InconclusiveKind {
    /// The wire name, e.g. `missing_property`.
    pub fn wire_name(&self) -> String {
        self.to_core().as_str().to_owned()
    }
}

/// The outcome of evaluating one flag locally.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FlagOutcome {
    /// Local evaluation decided: this is the answer PostHog's `/flags` gives for the same inputs.
    Decided { result: FlagResult },
    /// Local evaluation cannot decide; `detail` names the property key, cohort id, dependency, ….
    Inconclusive { key: String, kind: InconclusiveKind, detail: Option<String> },
}

impl FlagOutcome {
    pub(crate) fn from_core(key: &str, e: &hogflags::Evaluation<'_>) -> FlagOutcome {
        match e {
            hogflags::Evaluation::Decided(r) => FlagOutcome::Decided {
                result: FlagResult {
                    key: r.key.to_owned(),
                    value: FlagValue::from_core(r.value),
                    enabled: r.value.is_enabled(),
                    variant: r.value.variant().map(str::to_owned),
                    payload: r.payload.map(JsonValue::from_serde),
                    reason: Reason {
                        code: ReasonCode::from_core(r.reason.code),
                        condition_index: r.reason.condition_index.map(|i| i32::try_from(i).unwrap_or(i32::MAX)),
                        description: r.reason.description(),
                    },
                    flag_id: r.flag_id,
                    version: r.version,
                },
            },
            hogflags::Evaluation::Inconclusive(i) => FlagOutcome::Inconclusive {
                key: key.to_owned(),
                kind: InconclusiveKind::from_core(i.kind),
                detail: i.detail.map(str::to_owned),
            },
        }
    }
}

#[uniffi::export]
impl FlagOutcome {
    /// The outcome as JSON text, in the core's shape (`Evaluation::to_json`): decided `{"key", "value",
    /// "enabled", "variant", "payload", "reason": {"code", "condition_index", "description"},
    /// "flag_id", "version"}`, or inconclusive `{"key", "inconclusive", "detail"}`.
    pub fn to_json(&self) -> String {
        match self {
            FlagOutcome::Decided { result } => {
                let payload = result.payload.clone().map(|p| {
                    // A payload that came out of the core is always finite.
                    p.into_serde(&mut String::new()).unwrap_or(Value::Null)
                });
                let e = hogflags::Evaluation::Decided(hogflags::FlagResult {
                    key: &result.key,
                    value: result.value.as_core(),
                    payload: payload.as_ref(),
                    reason: hogflags::Reason {
                        code: result.reason.code.to_core(),
                        condition_index: result.reason.condition_index.and_then(|i| usize::try_from(i).ok()),
                    },
                    flag_id: result.flag_id,
                    version: result.version,
                });
                e.to_json_string(&result.key)
            }
            FlagOutcome::Inconclusive { key, kind, detail } => {
                let e = hogflags::Evaluation::Inconclusive(hogflags::Inconclusive {
                    kind: kind.to_core(),
                    detail: detail.as_deref(),
                });
                e.to_json_string(key)
            }
        }
    }
}

/// Facts about one loaded flag.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlagInfo {
    pub key: String,
    pub id: Option<i64>,
    pub version: Option<i64>,
    pub active: bool,
    pub has_experiment: Option<bool>,
    pub ensure_experience_continuity: bool,
}

impl FlagInfo {
    pub(crate) fn from_core(f: hogflags::FlagInfo<'_>) -> FlagInfo {
        FlagInfo {
            key: f.key.to_owned(),
            id: f.id,
            version: f.version,
            active: f.active,
            has_experiment: f.has_experiment,
            ensure_experience_continuity: f.ensure_experience_continuity,
        }
    }
}

/// A flag that was not loaded, and why (the rest of the document loads).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedFlag {
    pub key: String,
    pub reason: String,
}

/// A referenced cohort that could not be compiled (filters using it are inconclusive).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedCohort {
    pub id: String,
    pub reason: String,
}

/// Every property key any flag can read: a host with large property maps passes only these.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PropertyKeys {
    /// Person property keys, sorted.
    pub person: Vec<String>,
    /// Group type → group property keys, sorted.
    pub groups: HashMap<String, Vec<String>>,
}

impl PropertyKeys {
    pub(crate) fn from_core(k: &hogflags::PropertyKeys) -> PropertyKeys {
        PropertyKeys {
            person: k.person.iter().cloned().collect(),
            groups: k.groups.iter().map(|(g, keys)| (g.clone(), keys.iter().cloned().collect())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_doubles_are_refused_with_their_path() {
        let mut props = HashMap::new();
        props.insert(
            "scores".to_string(),
            JsonValue::Array { values: vec![JsonValue::Integer { value: 1 }, JsonValue::Double { value: f64::NAN }] },
        );
        let ctx = EvaluationContext {
            distinct_id: "u".into(),
            person_properties: props,
            groups: HashMap::new(),
            group_properties: HashMap::new(),
            device_id: None,
            now: None,
        };
        match ctx.into_core() {
            Err(Error::NonFinite(path, _)) => assert_eq!(path, "person_properties.scores[1]"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }

    #[test]
    fn timestamps_round_trip_before_and_after_the_epoch() {
        for s in ["2026-01-15T12:00:00.25Z", "1969-07-20T20:17:40.5Z", "1970-01-01T00:00:00Z"] {
            let dt: DateTime<Utc> = s.parse().unwrap();
            let back = system_time_to_utc(utc_to_system_time(dt)).unwrap();
            assert_eq!(back, dt, "{s}");
        }
    }

    #[test]
    fn integers_and_doubles_stay_distinct() {
        let text = "[1,1.0,-9223372036854775808,18446744073709551615,18446744073709551616]";
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            JsonValue::from_serde(&v),
            JsonValue::Array {
                values: vec![
                    JsonValue::Integer { value: 1 },
                    JsonValue::Double { value: 1.0 },
                    JsonValue::Integer { value: i64::MIN },
                    JsonValue::Unsigned { value: u64::MAX },
                    JsonValue::Double { value: 18446744073709551616.0 }
                ]
            }
        );
        let back = JsonValue::from_serde(&v).into_serde(&mut String::new()).unwrap();
        assert_eq!(back, v, "the conversion is lossless both ways");
    }
}
