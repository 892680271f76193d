//! The serde model of PostHog's flag-definitions document (`GET /flags/definitions`).
//!
//! Parsing is deliberately two-level: the document is read with each flag kept as raw JSON, then every
//! flag is parsed on its own. One malformed flag is then skipped and reported, and the rest still load.
//! Fields are lenient where PostHog's own data is (nulls, missing keys), strict where a wrong type would
//! silently change answers.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// The top level, with flags and cohorts still raw so that each can fail alone.
#[derive(Debug, Deserialize)]
pub struct RawDocument<'a> {
    #[serde(borrow)]
    pub flags: Vec<&'a RawValue>,
    #[serde(default)]
    pub group_type_mapping: Option<HashMap<String, String>>,
    #[serde(default, borrow)]
    pub cohorts: Option<HashMap<String, &'a RawValue>>,
    #[serde(default)]
    pub minimal_flag_called_events: Option<bool>,
    /// The team's property-matching mode: `2` compares `exact`/`is_not` against boolean-like filters as
    /// text; anything else (absent, 1, unknown) keeps the legacy truthiness coercion.
    #[serde(default)]
    pub property_matching_version: Option<Value>,
}

/// One flag.
#[derive(Debug, Deserialize)]
pub struct FlagDefinition {
    #[serde(default)]
    pub id: Option<i64>,
    pub key: String,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub deleted: Option<bool>,
    #[serde(default)]
    pub ensure_experience_continuity: Option<bool>,
    #[serde(default, deserialize_with = "filters_of_any_format")]
    pub filters: Option<Filters>,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub bucketing_identifier: Option<String>,
    #[serde(default)]
    pub has_experiment: Option<bool>,
    #[serde(default)]
    pub has_encrypted_payloads: Option<bool>,
    /// `server`, `client` or `all` (anything else reads as `all`).
    #[serde(default)]
    pub evaluation_runtime: Option<Value>,
    /// The evaluation contexts (tags) the flag is limited to; servers before 2026-03 call them
    /// `evaluation_tags`.
    #[serde(default)]
    pub evaluation_contexts: Option<Value>,
    #[serde(default)]
    pub evaluation_tags: Option<Value>,
}

/// `filters` of a flag.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub groups: Option<Vec<ConditionGroup>>,
    #[serde(default)]
    pub multivariate: Option<Multivariate>,
    #[serde(default)]
    pub aggregation_group_type_index: Option<i64>,
    #[serde(default)]
    pub payloads: Option<HashMap<String, Value>>,
    #[serde(default)]
    pub early_exit: Option<bool>,
    #[serde(default)]
    pub super_groups: Option<Vec<ConditionGroup>>,
    #[serde(default)]
    pub feature_enrollment: Option<bool>,
    #[serde(default)]
    pub holdout: Option<Holdout>,
    /// Python also accepts `bucketing_identifier` inside filters.
    #[serde(default)]
    pub bucketing_identifier: Option<String>,
    /// `filters.version` when it names a format other than this one (absent or `1`): the server's newer
    /// rules format, kept opaque (its fields may have other types) and never evaluated locally.
    #[serde(skip)]
    pub other_format: Option<Value>,
}

/// `filters` in either format: the classic one (no `version`, or `1`) typed, any other kept opaque,
/// as PostHog's server reads it (`config_format.rs`), so that such a flag is not read as one without
/// conditions. The text is read twice (the version, then the typed fields) rather than through a
/// `Value`, which would allocate every node of every flag's filters.
fn filters_of_any_format<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Filters>, D::Error> {
    /// Only the version of a filters object (other fields are skipped without being built).
    #[derive(Deserialize)]
    struct Format {
        #[serde(default, deserialize_with = "present")]
        version: Option<Value>,
    }
    /// A field that is present, even as `null`, is `Some`.
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Value::deserialize(d).map(Some)
    }
    let Some(raw) = Option::<&'de RawValue>::deserialize(d)? else { return Ok(None) };
    let format: Format = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
    // As the server: absent or the number 1 is this format; anything else (null and `true` included) is not.
    if let Some(v) = format.version.filter(|v| v.as_f64() != Some(1.0)) {
        return Ok(Some(Filters { other_format: Some(v), ..Filters::default() }));
    }
    serde_json::from_str(raw.get()).map(Some).map_err(|_| {
        // Parse again with path tracking, only on failure: a skipped flag's reason names the field.
        let mut de = serde_json::Deserializer::from_str(raw.get());
        match serde_path_to_error::deserialize::<_, Filters>(&mut de) {
            Err(e) if e.path().to_string() != "." => serde::de::Error::custom(format!("{} at `{}`", e.inner(), e.path())),
            Err(e) => serde::de::Error::custom(e.into_inner()),
            Ok(_) => serde::de::Error::custom("unreadable filters"),
        }
    })
}

/// `filters.multivariate`.
#[derive(Debug, Default, Deserialize)]
pub struct Multivariate {
    #[serde(default)]
    pub variants: Vec<Variant>,
}

/// One variant with its share in percent.
#[derive(Debug, Deserialize)]
pub struct Variant {
    pub key: String,
    #[serde(default)]
    pub rollout_percentage: Option<f64>,
}

/// `filters.holdout`.
#[derive(Debug, Deserialize)]
pub struct Holdout {
    pub id: i64,
    #[serde(default)]
    pub exclusion_percentage: Option<f64>,
}

/// One condition group (OR between groups, AND inside).
#[derive(Debug, Deserialize)]
pub struct ConditionGroup {
    #[serde(default)]
    pub properties: Option<Vec<PropertyFilter>>,
    #[serde(default)]
    pub rollout_percentage: Option<f64>,
    #[serde(default)]
    pub variant: Option<String>,
    /// Absent (outer `None`) means "the flag's aggregation"; explicit null (`Some(None)`) means person.
    #[serde(default, deserialize_with = "present_or_null")]
    pub aggregation_group_type_index: Option<Option<i64>>,
}

fn present_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(Option::<i64>::deserialize(d)?))
}

/// One property filter, in a condition or in a cohort.
#[derive(Debug, Clone, Deserialize)]
pub struct PropertyFilter {
    #[serde(default)]
    pub key: Value,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub operator: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub group_type_index: Option<i64>,
    #[serde(default)]
    pub negation: Option<bool>,
    #[serde(default)]
    pub dependency_chain: Option<Vec<String>>,
}

/// A cohort's definition: a property group `{type: AND|OR, values: [...]}` whose values are property
/// filters or nested groups.
#[derive(Debug, Clone)]
pub enum CohortNode {
    Group { all: bool, values: Vec<CohortNode> },
    Filter(PropertyFilter),
}

/// Parses a cohort property group, up to `max_depth` levels of nesting.
pub fn parse_cohort(value: &Value, max_depth: usize) -> Result<CohortNode, String> {
    let obj = value.as_object().ok_or("cohort definition is not an object")?;
    if obj.is_empty() {
        return Ok(CohortNode::Group { all: true, values: Vec::new() });
    }
    if let Some(values) = obj.get("values") {
        if max_depth == 0 {
            return Err("cohort property groups are nested too deeply".into());
        }
        let all = match obj.get("type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("AND") => true,
            Some(t) if t.eq_ignore_ascii_case("OR") => false,
            None => true,
            Some(t) => return Err(format!("unknown property group type {t:?}")),
        };
        let list = values.as_array().ok_or("property group `values` is not a list")?;
        let mut out = Vec::with_capacity(list.len());
        for v in list {
            out.push(parse_cohort(v, max_depth - 1)?);
        }
        return Ok(CohortNode::Group { all, values: out });
    }
    let filter: PropertyFilter =
        serde_json::from_value(value.clone()).map_err(|e| format!("bad cohort filter: {e}"))?;
    Ok(CohortNode::Filter(filter))
}
