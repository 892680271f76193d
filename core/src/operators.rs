//! Property operators, compiled once at load time and matched per evaluation.
//!
//! Each filter value is pre-processed when the definitions are compiled (lower-cased, parsed as a number,
//! date, version or regex), so matching does the least work possible and allocates nothing for the
//! common string and number cases. Semantics follow PostHog's server (see `docs/semantics.md`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use semver::{Version, VersionReq};
use serde_json::Value;

use crate::dates::{self, DateSpec};
use crate::limits::Limits;
use crate::reasons::InconclusiveKind;
pub(crate) use crate::regex_match::RegexCache;
use crate::regex_match::{LazyRegex, RegexError};
use crate::semver_match::{self, RangeOp};
use crate::values::{to_number, to_text};

fn is_truthy_or_falsy(value: &Value) -> bool {
    match value {
        Value::Bool(_) => true,
        // No non-ASCII character lower-cases into these ASCII words, so an ASCII comparison is exact.
        Value::String(s) => s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"),
        Value::Array(a) => a.iter().all(is_truthy_or_falsy),
        _ => false,
    }
}

fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Array(a) => a.iter().all(is_truthy),
        _ => false,
    }
}

/// Unicode lower-case equality of `text` with an already lower-cased `target`, allocating only for
/// non-ASCII text.
fn lower_eq(text: &str, target: &str) -> bool {
    if text.is_ascii() {
        text.len() == target.len()
            && text.bytes().zip(target.bytes()).all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        text.to_lowercase() == target
    }
}

/// ASCII-case-insensitive substring test against an ASCII-lower-cased needle, without allocating.
fn ascii_icontains(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return true;
    }
    if n.len() > h.len() {
        return false;
    }
    h.windows(n.len()).any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

fn ascii_istarts(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay.as_bytes()[..needle.len()].iter().zip(needle.as_bytes()).all(|(a, b)| a.to_ascii_lowercase() == *b)
}

fn ascii_iends(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay.as_bytes()[hay.len() - needle.len()..]
            .iter()
            .zip(needle.as_bytes())
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// `exact` / `is_not` filter value, pre-processed.
#[derive(Debug)]
pub(crate) enum ExactValue {
    /// Boolean-like filter value: compare truthiness.
    Truthy(bool),
    /// Lower-cased alternatives (one for a scalar, several for an array).
    OneOf(Vec<String>),
}

/// How `exact`/`is_not` treat boolean-like filter values: the document's `property_matching_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PropertyMatching {
    /// Version 1 (and absent or unknown versions): a filter of `true`/`false` (bools, their texts, or
    /// lists of them) compares truthiness, so `exact false` matches `"banana"`.
    #[default]
    Legacy,
    /// Version 2: such filters compare as text like any other (`exact false` matches only `false` or
    /// `"false"`, `["true", "false"]` matches `"true"`). An empty list keeps truthiness in both modes.
    Explicit,
}

impl PropertyMatching {
    /// The mode of a document's `property_matching_version`: only the integer 2 selects `Explicit`.
    pub fn from_version(version: Option<&Value>) -> PropertyMatching {
        match version.and_then(Value::as_i64) {
            Some(2) => PropertyMatching::Explicit,
            _ => PropertyMatching::Legacy,
        }
    }
}

impl ExactValue {
    fn new(v: &Value, matching: PropertyMatching) -> ExactValue {
        let empty_list = v.as_array().is_some_and(|a| a.is_empty());
        if empty_list || (matching == PropertyMatching::Legacy && is_truthy_or_falsy(v)) {
            return ExactValue::Truthy(is_truthy(v));
        }
        match v {
            Value::Array(items) => ExactValue::OneOf(items.iter().map(|i| to_text(i).to_lowercase()).collect()),
            other => ExactValue::OneOf(vec![to_text(other).to_lowercase()]),
        }
    }

    fn matches(&self, o: &Value) -> bool {
        match self {
            ExactValue::Truthy(t) => is_truthy(o) == *t,
            ExactValue::OneOf(options) => {
                let text = to_text(o);
                options.iter().any(|opt| lower_eq(&text, opt))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateOp {
    Before,
    After,
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SemverCmp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A compiled property operator with its pre-processed filter value.
#[derive(Debug)]
pub(crate) enum Operator {
    Exact(ExactValue),
    IsNot(ExactValue),
    IsSet,
    IsNotSet,
    Contains { needle: String, negate: bool },
    StartsWith { needle: String, negate: bool },
    EndsWith { needle: String, negate: bool },
    ContainsAny { needles: Vec<String>, negate: bool },
    /// `Err(Invalid)`: never matches, for `regex` and `not_regex` alike (server parity);
    /// `Err(TooLarge)`: over our limits, undecidable locally.
    Regex { re: Arc<LazyRegex>, negate: bool },
    /// `None` = the filter value is not a number: never matches.
    Numeric { cmp: Cmp, value: Option<f64> },
    /// `None` = malformed bounds: never matches.
    Between { bounds: Option<(f64, f64)>, negate: bool },
    Date { op: DateOp, value: DateSpec },
    Semver { cmp: SemverCmp, value: Option<Version> },
    SemverRange { req: Option<VersionReq> },
    /// The filter has no value (null or missing): value operators never match.
    NoValue,
    /// An operator this engine does not know.
    Unknown,
}

impl Operator {
    /// Compiles `operator` with filter value `value`.
    pub(crate) fn compile(
        operator: &str,
        value: &Value,
        limits: &Limits,
        matching: PropertyMatching,
        regexes: &mut RegexCache,
    ) -> Operator {
        match operator {
            "is_set" => return Operator::IsSet,
            "is_not_set" => return Operator::IsNotSet,
            _ => {}
        }
        if value.is_null() {
            return if Self::is_known(operator) { Operator::NoValue } else { Operator::Unknown };
        }
        let ascii_lower = || to_text(value).to_ascii_lowercase();
        match operator {
            "exact" => Operator::Exact(ExactValue::new(value, matching)),
            "is_not" => Operator::IsNot(ExactValue::new(value, matching)),
            "icontains" => Operator::Contains { needle: ascii_lower(), negate: false },
            "not_icontains" => Operator::Contains { needle: ascii_lower(), negate: true },
            "starts_with" => Operator::StartsWith { needle: ascii_lower(), negate: false },
            "not_starts_with" => Operator::StartsWith { needle: ascii_lower(), negate: true },
            "ends_with" => Operator::EndsWith { needle: ascii_lower(), negate: false },
            "not_ends_with" => Operator::EndsWith { needle: ascii_lower(), negate: true },
            "icontains_multi" | "not_icontains_multi" => {
                let needles = match value {
                    Value::Array(items) => items.iter().map(|i| to_text(i).to_ascii_lowercase()).collect(),
                    single => vec![to_text(single).to_ascii_lowercase()],
                };
                Operator::ContainsAny { needles, negate: operator == "not_icontains_multi" }
            }
            "regex" | "not_regex" => {
                let re = regexes.get(&to_text(value), limits.max_regex_bytes, limits.max_regex_compiled_bytes);
                Operator::Regex { re, negate: operator == "not_regex" }
            }
            "gt" => Operator::Numeric { cmp: Cmp::Gt, value: to_number(value) },
            "gte" => Operator::Numeric { cmp: Cmp::Gte, value: to_number(value) },
            "lt" => Operator::Numeric { cmp: Cmp::Lt, value: to_number(value) },
            "lte" => Operator::Numeric { cmp: Cmp::Lte, value: to_number(value) },
            "between" | "not_between" => {
                let bounds = value.as_array().filter(|b| b.len() == 2).and_then(|b| {
                    match (to_number(&b[0]), to_number(&b[1])) {
                        (Some(lo), Some(hi)) if !lo.is_nan() && !hi.is_nan() && lo <= hi => Some((lo, hi)),
                        _ => None,
                    }
                });
                Operator::Between { bounds, negate: operator == "not_between" }
            }
            "is_date_before" => Operator::Date { op: DateOp::Before, value: dates::parse_filter_value(value) },
            "is_date_after" => Operator::Date { op: DateOp::After, value: dates::parse_filter_value(value) },
            "is_date_exact" => Operator::Date { op: DateOp::Exact, value: dates::parse_filter_value(value) },
            "semver_eq" => Self::semver(SemverCmp::Eq, value),
            "semver_neq" => Self::semver(SemverCmp::Neq, value),
            "semver_gt" => Self::semver(SemverCmp::Gt, value),
            "semver_gte" => Self::semver(SemverCmp::Gte, value),
            "semver_lt" => Self::semver(SemverCmp::Lt, value),
            "semver_lte" => Self::semver(SemverCmp::Lte, value),
            "semver_tilde" => Operator::SemverRange { req: semver_match::parse_requirement(RangeOp::Tilde, value) },
            "semver_caret" => Operator::SemverRange { req: semver_match::parse_requirement(RangeOp::Caret, value) },
            "semver_wildcard" => {
                Operator::SemverRange { req: semver_match::parse_requirement(RangeOp::Wildcard, value) }
            }
            _ => Operator::Unknown,
        }
    }

    fn semver(cmp: SemverCmp, value: &Value) -> Operator {
        Operator::Semver { cmp, value: semver_match::parse_version(value) }
    }

    fn is_known(op: &str) -> bool {
        matches!(
            op,
            "exact" | "is_not" | "icontains" | "not_icontains" | "starts_with" | "not_starts_with"
                | "ends_with" | "not_ends_with" | "icontains_multi" | "not_icontains_multi" | "regex"
                | "not_regex" | "gt" | "gte" | "lt" | "lte" | "between" | "not_between"
                | "is_date_before" | "is_date_after" | "is_date_exact" | "semver_eq" | "semver_neq"
                | "semver_gt" | "semver_gte" | "semver_lt" | "semver_lte" | "semver_tilde"
                | "semver_caret" | "semver_wildcard"
        )
    }

    /// Matches a property value (`None` = the key is absent). `Err` = cannot be decided locally.
    pub(crate) fn matches(&self, o: Option<&Value>, now: impl FnOnce() -> DateTime<Utc>) -> Result<bool, InconclusiveKind> {
        if let Operator::Unknown = self {
            return Err(InconclusiveKind::UnknownOperator);
        }
        let Some(o) = o else {
            return Err(InconclusiveKind::MissingProperty);
        };
        Ok(match self {
            Operator::IsSet => true,
            Operator::IsNotSet => false,
            Operator::NoValue => false,
            Operator::Exact(v) => v.matches(o),
            Operator::IsNot(v) => !v.matches(o),
            Operator::Contains { needle, negate } => ascii_icontains(&to_text(o), needle) != *negate,
            Operator::StartsWith { needle, negate } => ascii_istarts(&to_text(o), needle) != *negate,
            Operator::EndsWith { needle, negate } => ascii_iends(&to_text(o), needle) != *negate,
            Operator::ContainsAny { needles, negate } => {
                let text = to_text(o);
                needles.iter().any(|n| ascii_icontains(&text, n)) != *negate
            }
            Operator::Regex { re, negate } => match re.get() {
                Err(RegexError::TooLarge) => return Err(InconclusiveKind::InvalidValue),
                Err(RegexError::Invalid) => false,
                Ok(re) => match re.find(&to_text(o)) {
                    Some(found) => found != *negate,
                    None => false,
                },
            },
            Operator::Numeric { cmp, value } => match (to_number(o), value) {
                (Some(lhs), Some(rhs)) => match cmp {
                    Cmp::Gt => lhs > *rhs,
                    Cmp::Gte => lhs >= *rhs,
                    Cmp::Lt => lhs < *rhs,
                    Cmp::Lte => lhs <= *rhs,
                },
                _ => false,
            },
            Operator::Between { bounds, negate } => match (bounds, to_number(o)) {
                (Some((lo, hi)), Some(x)) if !x.is_nan() => (x >= *lo && x <= *hi) != *negate,
                _ => false,
            },
            Operator::Date { op, value } => {
                let prop = dates::parse_property_value(o);
                let now_cell = std::cell::OnceCell::new();
                let mut now_fn = Some(now);
                let mut get_now = || *now_cell.get_or_init(|| (now_fn.take().expect("now taken once"))());
                let (Some(p), Some(f)) = (resolve(prop, &mut get_now), resolve(*value, &mut get_now)) else {
                    return Ok(false);
                };
                match op {
                    DateOp::Before => p < f,
                    DateOp::After => p > f,
                    DateOp::Exact => p == f,
                }
            }
            Operator::Semver { cmp, value } => match (semver_match::parse_version(o), value) {
                (Some(p), Some(f)) => match cmp {
                    SemverCmp::Eq => p == *f,
                    SemverCmp::Neq => p != *f,
                    SemverCmp::Gt => p > *f,
                    SemverCmp::Gte => p >= *f,
                    SemverCmp::Lt => p < *f,
                    SemverCmp::Lte => p <= *f,
                },
                _ => false,
            },
            Operator::SemverRange { req } => match (semver_match::parse_version(o), req) {
                (Some(p), Some(r)) => r.matches(&p),
                _ => false,
            },
            Operator::Unknown => unreachable!("handled above"),
        })
    }
}

fn resolve(spec: DateSpec, now: &mut impl FnMut() -> DateTime<Utc>) -> Option<DateTime<Utc>> {
    match spec {
        DateSpec::Relative { .. } => spec.resolve(now()),
        other => other.resolve(DateTime::<Utc>::MIN_UTC),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(name: &str, v: Value) -> Operator {
        Operator::compile(name, &v, &Limits::default(), PropertyMatching::Legacy, &mut RegexCache::new())
    }
    fn m(o: &Operator, v: Value) -> Result<bool, InconclusiveKind> {
        o.matches(Some(&v), Utc::now)
    }

    #[test]
    fn exact_truthiness_and_arrays() {
        let f = op("exact", json!(false));
        assert_eq!(m(&f, json!("")), Ok(true));
        assert_eq!(m(&f, json!(0)), Ok(true));
        assert_eq!(m(&f, json!(null)), Ok(true));
        assert_eq!(m(&f, json!("TRUE")), Ok(false));
        let arr = op("exact", json!(["US", "ca"]));
        assert_eq!(m(&arr, json!("us")), Ok(true));
        assert_eq!(m(&arr, json!("de")), Ok(false));
        assert_eq!(m(&op("exact", json!([])), json!("x")), Ok(false));
        assert_eq!(m(&op("exact", json!("ÄBC")), json!("äbc")), Ok(true));
        assert_eq!(m(&op("exact", json!(1)), json!(1.0)), Ok(false));
    }

    #[test]
    fn null_property_compares_as_text_null() {
        assert_eq!(m(&op("is_not", json!("v")), json!(null)), Ok(true));
        assert_eq!(m(&op("not_icontains", json!("x")), json!(null)), Ok(true));
        assert_eq!(m(&op("icontains", json!("nul")), json!(null)), Ok(true));
    }

    #[test]
    fn missing_property_is_inconclusive() {
        assert_eq!(op("exact", json!("a")).matches(None, Utc::now), Err(InconclusiveKind::MissingProperty));
        assert_eq!(op("is_not_set", json!(null)).matches(None, Utc::now), Err(InconclusiveKind::MissingProperty));
        assert_eq!(m(&op("is_not_set", json!(null)), json!(1)), Ok(false));
        assert_eq!(m(&op("is_set", json!(null)), json!(null)), Ok(true));
    }

    #[test]
    fn numeric_is_numeric_only() {
        assert_eq!(m(&op("lt", json!("30")), json!("100")), Ok(false));
        assert_eq!(m(&op("gt", json!(1)), json!("23")), Ok(true));
        assert_eq!(m(&op("gt", json!("123aloha")), json!(129)), Ok(false));
        assert_eq!(m(&op("lte", json!("43")), json!(42)), Ok(true));
        assert_eq!(m(&op("gt", json!(1)), json!(true)), Ok(false));
    }

    #[test]
    fn contains_is_ascii_case_insensitive() {
        assert_eq!(m(&op("icontains", json!("valUe")), json!("343tfvalue5")), Ok(true));
        assert_eq!(m(&op("icontains", json!("3")), json!(323)), Ok(true));
        assert_eq!(m(&op("icontains", json!("Ä")), json!("ä")), Ok(false));
        assert_eq!(m(&op("starts_with", json!("Val")), json!("value")), Ok(true));
        assert_eq!(m(&op("not_ends_with", json!("UE")), json!("value")), Ok(false));
    }

    #[test]
    fn invalid_regex_never_matches() {
        assert_eq!(m(&op("regex", json!("(bad")), json!("x")), Ok(false));
        assert_eq!(m(&op("not_regex", json!("(bad")), json!("x")), Ok(false));
        assert_eq!(m(&op("not_regex", json!("^a")), json!("b")), Ok(true));
        assert_eq!(m(&op("regex", json!(r"\d+")), json!(42)), Ok(true));
    }

    #[test]
    fn server_only_operators() {
        let any = op("icontains_multi", json!(["FOO", "bar"]));
        assert_eq!(m(&any, json!("xfoox")), Ok(true));
        assert_eq!(m(&any, json!("baz")), Ok(false));
        assert_eq!(m(&op("not_icontains_multi", json!(["foo"])), json!("baz")), Ok(true));
        let between = op("between", json!([1, "10"]));
        assert_eq!(m(&between, json!(10)), Ok(true));
        assert_eq!(m(&between, json!("0.5")), Ok(false));
        assert_eq!(m(&op("not_between", json!([1, 10])), json!(11)), Ok(true));
        assert_eq!(m(&op("not_between", json!([1, 10])), json!("NaN")), Ok(false));
        assert_eq!(m(&op("between", json!([10, 1])), json!(5)), Ok(false), "min > max never matches");
        assert_eq!(m(&op("between", json!(5)), json!(5)), Ok(false), "bounds must be a pair");
    }

    #[test]
    fn unknown_operator_is_inconclusive() {
        assert_eq!(m(&op("bogus", json!(1)), json!(1)), Err(InconclusiveKind::UnknownOperator));
    }
}
