//! The evaluation input: who is asking (distinct id, device id), their person properties, and the groups
//! they belong to with those groups' properties.
//!
//! The context is built once by the caller and then borrowed by every evaluation, so evaluating does not
//! copy property maps. `distinct_id` and each group's `$group_key` are visible as properties without being
//! inserted into the caller's maps (PostHog's SDKs add them the same way).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// Property maps as the engine reads them. Hashed with foldhash (seeded per process) rather than SipHash:
/// building and reading these maps is a fifth of a binding's per-call cost, and the keys a binding inserts
/// are only those the definitions read. Build one with `Properties::default()` or `collect()`.
pub type Properties = HashMap<String, Value, foldhash::fast::RandomState>;

/// One group the user belongs to in this request.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupEntry {
    /// The group key as a JSON string value (so it can be read as the `$group_key` property).
    pub(crate) key: Value,
    pub(crate) properties: Option<Properties>,
}

impl GroupEntry {
    pub(crate) fn key_str(&self) -> &str {
        self.key.as_str().unwrap_or("")
    }
}

/// Everything one evaluation reads about the user.
#[derive(Debug, Clone)]
pub struct EvaluationContext {
    distinct_id: Value,
    device_id: Option<String>,
    person_properties: Properties,
    groups: HashMap<String, GroupEntry, foldhash::fast::RandomState>,
    now: Option<DateTime<Utc>>,
}

impl EvaluationContext {
    /// A context for `distinct_id` with no properties and no groups.
    pub fn new(distinct_id: impl Into<String>) -> Self {
        EvaluationContext {
            distinct_id: Value::String(distinct_id.into()),
            device_id: None,
            person_properties: Properties::default(),
            groups: HashMap::default(),
            now: None,
        }
    }

    /// Sets the person properties (replacing earlier ones).
    pub fn with_person_properties(mut self, properties: Properties) -> Self {
        self.person_properties = properties;
        self
    }

    /// Sets one person property.
    pub fn with_person_property(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.person_properties.insert(key.into(), value.into());
        self
    }

    /// Adds (or replaces) the group of type `group_type` with key `group_key`.
    pub fn with_group(mut self, group_type: impl Into<String>, group_key: impl Into<String>) -> Self {
        let entry = self.groups.entry(group_type.into()).or_default();
        entry.key = Value::String(group_key.into());
        self
    }

    /// Sets the properties of the group of type `group_type`. They are only used if that group is
    /// also passed with [`with_group`](Self::with_group).
    pub fn with_group_properties(mut self, group_type: impl Into<String>, properties: Properties) -> Self {
        let entry = self.groups.entry(group_type.into()).or_default();
        entry.properties = Some(properties);
        self
    }

    /// Sets the device id used by flags that bucket by device.
    pub fn with_device_id(mut self, device_id: impl Into<String>) -> Self {
        self.device_id = Some(device_id.into());
        self
    }

    /// Pins "now" for relative date filters (tests, replays). Default: the wall clock at evaluation.
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    pub fn distinct_id(&self) -> &str {
        self.distinct_id.as_str().unwrap_or("")
    }

    pub fn device_id(&self) -> Option<&str> {
        self.device_id.as_deref()
    }

    pub fn person_properties(&self) -> &Properties {
        &self.person_properties
    }

    /// The groups passed, as type → key.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &str)> {
        self.groups
            .iter()
            .filter(|(_, g)| g.key.is_string())
            .map(|(t, g)| (t.as_str(), g.key_str()))
    }

    /// The properties passed for a group type, if any.
    pub fn group_properties(&self, group_type: &str) -> Option<&Properties> {
        self.groups.get(group_type).and_then(|g| g.properties.as_ref())
    }

    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.now
    }

    /// A person property; `distinct_id` is visible even when the caller did not pass it.
    pub(crate) fn person_property(&self, key: &str) -> Option<&Value> {
        match self.person_properties.get(key) {
            Some(v) => Some(v),
            None if key == "distinct_id" => Some(&self.distinct_id),
            None => None,
        }
    }

    /// The group of a type, only if a non-empty key was passed (the server treats an empty key as absent).
    pub(crate) fn group(&self, group_type: &str) -> Option<&GroupEntry> {
        self.groups.get(group_type).filter(|g| g.key.as_str().is_some_and(|k| !k.is_empty()))
    }
}

impl GroupEntry {
    /// A group property; `$group_key` is visible even when the caller did not pass it.
    pub(crate) fn property(&self, key: &str) -> Option<&Value> {
        match self.properties.as_ref().and_then(|p| p.get(key)) {
            Some(v) => Some(v),
            None if key == "$group_key" => Some(&self.key),
            None => None,
        }
    }
}

/// The JSON form of a context, as the conformance corpus and the JSON entry points of the bindings use it:
/// `{"distinct_id", "person_properties", "groups", "group_properties", "device_id", "now"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextInput {
    pub distinct_id: Value,
    #[serde(default)]
    pub person_properties: Option<Properties>,
    #[serde(default)]
    pub groups: Option<HashMap<String, Value>>,
    #[serde(default)]
    pub group_properties: Option<HashMap<String, Properties>>,
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
}

/// Why a JSON context was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("context is not valid JSON of the expected shape: {0}")]
    Malformed(String),
    #[error("distinct_id must be a string or an integer")]
    BadDistinctId,
}

/// Turns an identifier given as JSON into its text: strings as they are, integers in decimal, floats as
/// their JSON text (`4.0`); booleans, null, arrays and objects have no text (the server treats such a
/// group as absent).
pub fn identifier_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_context_must_be_an_object_with_a_usable_distinct_id() {
        assert!(EvaluationContext::from_json(r#"["u"]"#).is_err());
        assert!(EvaluationContext::from_json(r#"{"distinct_id": true}"#).is_err());
        assert!(EvaluationContext::from_json(r#"{"distinct_id": "u", "bogus": 1}"#).is_err());
        let ctx = EvaluationContext::from_json(r#"{"distinct_id": 42, "groups": {"org": 7, "bad": true}}"#).unwrap();
        assert_eq!(ctx.distinct_id(), "42");
        assert_eq!(ctx.groups().collect::<Vec<_>>(), [("org", "7")]);
    }
}

impl TryFrom<ContextInput> for EvaluationContext {
    type Error = ContextError;

    fn try_from(input: ContextInput) -> Result<Self, ContextError> {
        let distinct_id = identifier_text(&input.distinct_id).ok_or(ContextError::BadDistinctId)?;
        let mut ctx = EvaluationContext::new(distinct_id);
        if let Some(p) = input.person_properties {
            ctx.person_properties = p;
        }
        if let Some(groups) = input.groups {
            for (group_type, key) in groups {
                if let Some(key) = identifier_text(&key) {
                    ctx = ctx.with_group(group_type, key);
                }
            }
        }
        if let Some(gp) = input.group_properties {
            for (group_type, props) in gp {
                ctx = ctx.with_group_properties(group_type, props);
            }
        }
        ctx.device_id = input.device_id;
        ctx.now = input.now;
        Ok(ctx)
    }
}

impl EvaluationContext {
    /// Parses the JSON form (see [`ContextInput`]).
    pub fn from_json(json: &str) -> Result<Self, ContextError> {
        // Only an object is a context (serde would also accept a bare array for a struct).
        if !json.trim_start().starts_with('{') {
            return Err(ContextError::Malformed("a context must be a JSON object".into()));
        }
        let input: ContextInput =
            serde_json::from_str(json).map_err(|e| ContextError::Malformed(e.to_string()))?;
        input.try_into()
    }
}
