//! Outcomes of evaluating one flag: a decided value with the `/flags` v2 reason, or an inconclusive
//! result that says why local evaluation could not decide (so a caller can ask PostHog's `/flags`).

use std::fmt;

/// The `/flags` v2 reason codes, with the server's priority when conditions disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The wire code, e.g. `condition_match`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::SuperConditionValue => "super_condition_value",
            ReasonCode::HoldoutConditionValue => "holdout_condition_value",
            ReasonCode::ConditionMatch => "condition_match",
            ReasonCode::OutOfRolloutBound => "out_of_rollout_bound",
            ReasonCode::NoConditionMatch => "no_condition_match",
            ReasonCode::NoGroupType => "no_group_type",
            ReasonCode::FlagDisabled => "flag_disabled",
        }
    }

    /// Parses a wire code.
    pub fn parse(code: &str) -> Option<ReasonCode> {
        Some(match code {
            "super_condition_value" => ReasonCode::SuperConditionValue,
            "holdout_condition_value" => ReasonCode::HoldoutConditionValue,
            "condition_match" => ReasonCode::ConditionMatch,
            "out_of_rollout_bound" => ReasonCode::OutOfRolloutBound,
            "no_condition_match" => ReasonCode::NoConditionMatch,
            "no_group_type" => ReasonCode::NoGroupType,
            "flag_disabled" => ReasonCode::FlagDisabled,
            _ => return None,
        })
    }

    /// The server's priority: when several conditions fail, the highest score is reported.
    pub(crate) fn score(self) -> i8 {
        match self {
            ReasonCode::SuperConditionValue => 6,
            ReasonCode::HoldoutConditionValue => 5,
            ReasonCode::ConditionMatch => 4,
            ReasonCode::OutOfRolloutBound => 3,
            ReasonCode::NoConditionMatch => 2,
            ReasonCode::NoGroupType => 1,
            ReasonCode::FlagDisabled => 0,
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a flag has its value: the reason code and, where one applies, the 0-based condition index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub condition_index: Option<usize>,
}

impl Reason {
    /// The server's human-readable description (`/flags` v2 `reason.description`).
    pub fn description(&self) -> String {
        match self.code {
            ReasonCode::ConditionMatch => {
                format!("Matched condition set {}", self.condition_index.unwrap_or(0) + 1)
            }
            ReasonCode::SuperConditionValue => "Super condition value".into(),
            ReasonCode::HoldoutConditionValue => "Holdout condition value".into(),
            ReasonCode::OutOfRolloutBound => "Out of rollout bound".into(),
            ReasonCode::NoConditionMatch => "No matching condition set".into(),
            ReasonCode::NoGroupType => "No group type".into(),
            ReasonCode::FlagDisabled => "Feature flag is disabled".into(),
        }
    }
}

/// A flag's value: `false`, `true` or a variant key borrowed from the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagValue<'s> {
    Bool(bool),
    Variant(&'s str),
}

impl<'s> FlagValue<'s> {
    /// `true` for `true` and for every variant.
    pub fn is_enabled(&self) -> bool {
        !matches!(self, FlagValue::Bool(false))
    }

    /// The variant key, if the value is one.
    pub fn variant(&self) -> Option<&'s str> {
        match self {
            FlagValue::Variant(v) => Some(v),
            FlagValue::Bool(_) => None,
        }
    }

    /// The value as JSON (`true`, `false` or the variant string).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FlagValue::Bool(b) => serde_json::Value::Bool(*b),
            FlagValue::Variant(v) => serde_json::Value::String((*v).to_owned()),
        }
    }
}

/// A decided flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlagResult<'s> {
    pub key: &'s str,
    pub value: FlagValue<'s>,
    /// The parsed payload for this value (variant key, or `"true"` for a boolean match), if any.
    pub payload: Option<&'s serde_json::Value>,
    pub reason: Reason,
    /// The flag's database id and version from the definitions, for `$feature_flag_called` events.
    pub flag_id: Option<i64>,
    pub version: Option<i64>,
}

/// Why local evaluation could not decide a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InconclusiveKind {
    /// A filter needs a property the caller did not pass.
    MissingProperty,
    /// A cohort is not in the definitions (static cohorts never are).
    MissingCohort,
    /// The flag has `ensure_experience_continuity`: only the server keeps the hash-key overrides.
    ExperienceContinuity,
    /// `aggregation_group_type_index` is not in `group_type_mapping`.
    UnknownGroupType,
    /// The flag buckets by device id and none was given.
    MissingDeviceId,
    /// A flag dependency is missing, cyclic or itself inconclusive.
    Dependency,
    /// An operator this engine does not evaluate locally.
    UnknownOperator,
    /// A filter value cannot be evaluated locally (e.g. malformed filter).
    InvalidValue,
    /// The flag is not in the definitions (or failed to compile and was skipped).
    UnknownFlag,
}

impl InconclusiveKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InconclusiveKind::MissingProperty => "missing_property",
            InconclusiveKind::MissingCohort => "missing_cohort",
            InconclusiveKind::ExperienceContinuity => "experience_continuity",
            InconclusiveKind::UnknownGroupType => "unknown_group_type",
            InconclusiveKind::MissingDeviceId => "missing_device_id",
            InconclusiveKind::Dependency => "dependency",
            InconclusiveKind::UnknownOperator => "unknown_operator",
            InconclusiveKind::InvalidValue => "invalid_value",
            InconclusiveKind::UnknownFlag => "unknown_flag",
        }
    }
}

impl fmt::Display for InconclusiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An inconclusive outcome: the kind, and a detail (the property key, cohort id, dependency key, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inconclusive<'s> {
    pub kind: InconclusiveKind,
    pub detail: Option<&'s str>,
}

impl fmt::Display for Inconclusive<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail {
            Some(d) => write!(f, "{} ({d})", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// The outcome of evaluating one flag locally.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evaluation<'s> {
    Decided(FlagResult<'s>),
    Inconclusive(Inconclusive<'s>),
}

impl<'s> Evaluation<'s> {
    pub fn decided(&self) -> Option<&FlagResult<'s>> {
        match self {
            Evaluation::Decided(r) => Some(r),
            Evaluation::Inconclusive(_) => None,
        }
    }
    pub fn value(&self) -> Option<FlagValue<'s>> {
        self.decided().map(|r| r.value)
    }
}

impl Evaluation<'_> {
    /// The outcome as JSON, the shape every binding's JSON entry point uses:
    /// decided `{"key", "value", "enabled", "variant", "payload", "reason": {"code", "condition_index",
    /// "description"}, "flag_id", "version"}`, or inconclusive `{"key", "inconclusive", "detail"}`.
    pub fn to_json(&self, key: &str) -> serde_json::Value {
        // One definition of the shape: `EvaluationJson` (these types always serialize).
        serde_json::to_value(EvaluationJson { key, evaluation: self }).unwrap_or(serde_json::Value::Null)
    }

    /// [`to_json`](Self::to_json) as text, written directly (see [`EvaluationJson`]).
    pub fn to_json_string(&self, key: &str) -> String {
        // Cannot fail: string keys only, and a `Value` payload holds no non-finite float.
        serde_json::to_string(&EvaluationJson { key, evaluation: self }).unwrap_or_default()
    }
}

/// An outcome with its flag key, serialized straight to JSON text (the shape of [`Evaluation::to_json`],
/// keys in sorted order as a `Value` object writes them) without building a `serde_json::Value` tree
/// first: the JSON entry points of the bindings spent most of their time building and dropping those trees.
pub struct EvaluationJson<'a, 's> {
    pub key: &'a str,
    pub evaluation: &'a Evaluation<'s>,
}

impl serde::Serialize for EvaluationJson<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Keys in sorted order, so that the text equals that of the `Value` from `to_json` (a sorted map).
        match self.evaluation {
            Evaluation::Decided(r) => {
                let mut m = serializer.serialize_map(Some(8))?;
                m.serialize_entry("enabled", &r.value.is_enabled())?;
                m.serialize_entry("flag_id", &r.flag_id)?;
                m.serialize_entry("key", self.key)?;
                m.serialize_entry("payload", &r.payload)?;
                m.serialize_entry("reason", &ReasonJson(&r.reason))?;
                match r.value {
                    FlagValue::Bool(b) => m.serialize_entry("value", &b)?,
                    FlagValue::Variant(v) => m.serialize_entry("value", v)?,
                }
                m.serialize_entry("variant", &r.value.variant())?;
                m.serialize_entry("version", &r.version)?;
                m.end()
            }
            Evaluation::Inconclusive(i) => {
                let mut m = serializer.serialize_map(Some(3))?;
                m.serialize_entry("detail", &i.detail)?;
                m.serialize_entry("inconclusive", i.kind.as_str())?;
                m.serialize_entry("key", self.key)?;
                m.end()
            }
        }
    }
}

struct ReasonJson<'a>(&'a Reason);

impl serde::Serialize for ReasonJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(3))?;
        m.serialize_entry("code", self.0.code.as_str())?;
        m.serialize_entry("condition_index", &self.0.condition_index)?;
        m.serialize_entry("description", &self.0.description())?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_written_directly_equals_the_value_tree() {
        let payload = serde_json::json!({"z": [1, {"b": null, "a": "x"}], "a": 1.5});
        let reasons = [
            Reason { code: ReasonCode::ConditionMatch, condition_index: Some(2) },
            Reason { code: ReasonCode::NoConditionMatch, condition_index: None },
        ];
        let mut cases = Vec::new();
        for reason in reasons {
            for value in [FlagValue::Bool(true), FlagValue::Bool(false), FlagValue::Variant("v\"q\u{e9}")] {
                for payload in [None, Some(&payload)] {
                    cases.push(Evaluation::Decided(FlagResult {
                        key: "k",
                        value,
                        payload,
                        reason,
                        flag_id: Some(7),
                        version: None,
                    }));
                }
            }
        }
        cases.push(Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::MissingProperty, detail: Some("email") }));
        cases.push(Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::UnknownFlag, detail: None }));
        for e in &cases {
            assert_eq!(e.to_json_string("fl\"ag"), e.to_json("fl\"ag").to_string());
        }
        let list: Vec<EvaluationJson> = cases.iter().map(|e| EvaluationJson { key: "k", evaluation: e }).collect();
        let values: Vec<serde_json::Value> = cases.iter().map(|e| e.to_json("k")).collect();
        assert_eq!(serde_json::to_string(&list).unwrap(), serde_json::Value::Array(values).to_string());
    }

    #[test]
    fn json_shapes() {
        let payload = serde_json::json!({"a": 1});
        let e = Evaluation::Decided(FlagResult {
            key: "k",
            value: FlagValue::Variant("b"),
            payload: Some(&payload),
            reason: Reason { code: ReasonCode::ConditionMatch, condition_index: Some(1) },
            flag_id: Some(3),
            version: None,
        });
        let j = e.to_json("k");
        assert_eq!(j["value"], "b");
        assert_eq!(j["enabled"], true);
        assert_eq!(j["reason"]["description"], "Matched condition set 2");
        let i = Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::MissingCohort, detail: Some("7") });
        assert_eq!(i.to_json("k")["inconclusive"], "missing_cohort");
    }
}
