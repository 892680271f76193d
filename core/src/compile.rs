//! Definitions → evaluation-ready flags. Everything that can be decided once is decided here: filter
//! values are pre-processed, regexes compiled (and shared), variant boundaries accumulated, payloads
//! parsed, group type indices resolved to names, cohorts compiled into trees, dependencies resolved to flag
//! indices with cycles detected. Evaluation then only reads.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use serde_json::value::RawValue;

use crate::definitions::{ConditionGroup, FlagDefinition, PropertyFilter};
use crate::limits::Limits;
use crate::operators::{Operator, PropertyMatching, RegexCache};
use crate::reasons::InconclusiveKind;

/// Whose properties and identifier a condition (or filter) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Aggregation {
    Person,
    Group(String),
    /// A group type index missing from `group_type_mapping`.
    UnknownGroup,
}

/// Where a property filter reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Person,
    Group(String),
    /// The condition's own aggregation.
    Condition,
}

/// What a `flag_evaluates_to` filter expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expected {
    Bool(bool),
    Variant(String),
}

/// One compiled filter.
#[derive(Debug)]
pub(crate) enum Filter {
    Property { source: Source, key: String, op: Operator },
    Cohort { cohort: CohortRef, member: bool },
    /// `flag` is the dependency's position among the parsed flags.
    Flag { flag: usize, key: String, expected: Expected },
    /// Always this answer (e.g. a dependency filter with the wrong operator never matches).
    Const(bool),
    /// Cannot be decided locally, for this reason (detail: the key involved).
    Undecidable(InconclusiveKind, String),
}

#[derive(Debug)]
pub(crate) struct Condition {
    pub(crate) filters: Vec<Filter>,
    /// `None` ⇒ 100 % without hashing.
    pub(crate) rollout: Option<f64>,
    /// Index into the flag's variants of a valid override.
    pub(crate) variant_override: Option<usize>,
    pub(crate) aggregation: Aggregation,
}

#[derive(Debug)]
pub(crate) struct VariantBound {
    pub(crate) key: String,
    /// Cumulative upper bound (exclusive), accumulated left to right in binary64.
    pub(crate) upper: f64,
}

#[derive(Debug)]
pub(crate) struct Holdout {
    pub(crate) percentage: f64,
    pub(crate) variant: String,
}

#[derive(Debug)]
pub(crate) struct CompiledFlag {
    pub(crate) key: String,
    pub(crate) hash_prefix: String,
    pub(crate) id: Option<i64>,
    pub(crate) version: Option<i64>,
    pub(crate) active: bool,
    pub(crate) continuity: bool,
    /// `filters.version` of a format this engine does not evaluate (the detail of its inconclusive answer).
    pub(crate) other_format: Option<String>,
    pub(crate) has_experiment: Option<bool>,
    pub(crate) aggregation: Aggregation,
    pub(crate) bucket_by_device: bool,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) variants: Vec<VariantBound>,
    pub(crate) payloads: Payloads,
    pub(crate) early_exit: bool,
    pub(crate) holdout: Option<Holdout>,
    /// `$feature_enrollment/<key>` when `feature_enrollment` is on.
    pub(crate) enrollment_property: Option<String>,
    pub(crate) super_condition: Option<Condition>,
    pub(crate) has_dependencies: bool,
    pub(crate) runtime: EvaluationRuntime,
    /// The evaluation contexts the flag is limited to (empty: none, it is evaluated everywhere).
    pub(crate) contexts: Vec<String>,
    /// What evaluating this flag can read, including through its cohorts and (once the snapshot has
    /// resolved them) its dependencies.
    pub(crate) reads: PropertyKeys,
}

/// Where a flag is meant to be evaluated (the flag's `evaluation_runtime`), and where an evaluator runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EvaluationRuntime {
    Server,
    Client,
    /// Both (a flag without a runtime, or with an unknown one).
    #[default]
    All,
}

impl EvaluationRuntime {
    /// A flag's runtime as PostHog reads it: `"server"`, `"client"`, anything else `All`.
    pub fn of_definition(value: Option<&Value>) -> EvaluationRuntime {
        match value.and_then(Value::as_str) {
            Some("server") => EvaluationRuntime::Server,
            Some("client") => EvaluationRuntime::Client,
            _ => EvaluationRuntime::All,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EvaluationRuntime::Server => "server",
            EvaluationRuntime::Client => "client",
            EvaluationRuntime::All => "all",
        }
    }

    /// Whether an evaluator in runtime `evaluator` (`None`: one the server cannot tell) serves a flag of
    /// this runtime: `all` flags everywhere, `server`/`client` flags only there.
    pub fn served_in(self, evaluator: Option<EvaluationRuntime>) -> bool {
        match (self, evaluator) {
            (EvaluationRuntime::All, _) => true,
            (_, Some(EvaluationRuntime::All)) => true,
            (flag, Some(e)) => flag == e,
            (_, None) => false,
        }
    }
}

/// A flag's payloads by value (`"true"` or a variant key), sorted by key. Every decided evaluation looks
/// its value up here; a binary search over a handful of keys costs less than hashing the key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Payloads(Vec<(String, Value)>);

impl Payloads {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| &self.0[i].1)
    }
}

/// The property keys a flag (or a whole snapshot) can read, so a binding converts only those.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyKeys {
    /// Person property keys.
    pub person: BTreeSet<String>,
    /// Group type name → group property keys.
    pub groups: BTreeMap<String, BTreeSet<String>>,
    /// Whether some filter reads properties of the condition's aggregation whose type is only known at
    /// evaluation (kept for completeness; such keys are listed under both person and the group).
    pub any_group: bool,
    /// Flags this one depends on (positions among the parsed flags), directly or through cohorts.
    pub(crate) dependencies: BTreeSet<usize>,
}

impl PropertyKeys {
    pub(crate) fn add(&mut self, aggregation: &Aggregation, source: &Source, key: &str) {
        let target = match source {
            Source::Person => Aggregation::Person,
            Source::Group(g) => Aggregation::Group(g.clone()),
            Source::Condition => aggregation.clone(),
        };
        match target {
            Aggregation::Person => {
                self.person.insert(key.to_owned());
            }
            Aggregation::Group(g) => {
                self.groups.entry(g).or_default().insert(key.to_owned());
            }
            Aggregation::UnknownGroup => {}
        }
    }

    pub(crate) fn merge(&mut self, other: &PropertyKeys) {
        self.person.extend(other.person.iter().cloned());
        for (g, keys) in &other.groups {
            self.groups.entry(g.clone()).or_default().extend(keys.iter().cloned());
        }
        self.any_group |= other.any_group;
        self.dependencies.extend(other.dependencies.iter().copied());
    }
}

/// A reference from a filter to a cohort.
#[derive(Debug, Clone)]
pub(crate) enum CohortRef {
    Compiled(usize),
    /// Not in the definitions (e.g. a static cohort): undecidable locally.
    Missing(String),
    /// In the definitions but unusable (malformed, cyclic, too deep); the snapshot reports why.
    Broken(String),
    /// Referenced with an operator other than `in` / `not_in` (such as `exact`): the server's membership
    /// check answers `false` for it, whatever the membership (D25).
    NeverMatches,
}

#[derive(Debug)]
pub(crate) enum Node {
    Group { all: bool, entries: Vec<Node> },
    Leaf { negate: bool, filter: Filter },
}

#[derive(Debug)]
pub(crate) struct CompiledCohort {
    pub(crate) root: Node,
    pub(crate) reads: PropertyKeys,
}

/// Document-wide compile state shared by all flags.
pub(crate) struct Compiler<'a> {
    pub(crate) limits: &'a Limits,
    pub(crate) group_types: &'a HashMap<String, String>,
    /// Flag key → position among the parsed flags (see `FlagSnapshot::parsed_to_compiled`).
    pub(crate) flag_index: &'a HashMap<String, usize>,
    pub(crate) regexes: RegexCache,
    pub(crate) matching: PropertyMatching,
    pub(crate) raw_cohorts: HashMap<String, &'a RawValue>,
    pub(crate) cohort_index: HashMap<String, CohortRef>,
    pub(crate) cohorts: Vec<CompiledCohort>,
    pub(crate) cohorts_in_progress: Vec<String>,
    /// Every cohort found unusable, with the reason (reported by the snapshot).
    pub(crate) broken_cohorts: Vec<(String, String)>,
}

impl Compiler<'_> {
    fn group_name(&self, index: i64) -> Aggregation {
        match self.group_types.get(&index.to_string()) {
            Some(name) => Aggregation::Group(name.clone()),
            None => Aggregation::UnknownGroup,
        }
    }

    fn aggregation(&self, index: Option<i64>) -> Aggregation {
        match index {
            None => Aggregation::Person,
            Some(i) => self.group_name(i),
        }
    }

    /// Compiles one flag. `Err` skips the flag with that reason.
    pub(crate) fn compile_flag(&mut self, def: FlagDefinition) -> Result<CompiledFlag, String> {
        let filters = def.filters.unwrap_or_default();
        let aggregation = self.aggregation(filters.aggregation_group_type_index);

        let mut variants = Vec::new();
        let mut upper = 0.0f64;
        if let Some(mv) = &filters.multivariate {
            for v in &mv.variants {
                let pct = v
                    .rollout_percentage
                    .ok_or_else(|| format!("variant {:?} has no rollout_percentage", v.key))?;
                if !pct.is_finite() {
                    return Err(format!("variant {:?} has a non-finite rollout_percentage", v.key));
                }
                upper += pct / 100.0;
                variants.push(VariantBound { key: v.key.clone(), upper });
            }
        }

        let mut reads = PropertyKeys::default();
        let mut conditions = Vec::new();
        for group in filters.groups.as_deref().unwrap_or_default() {
            conditions.push(self.compile_condition(group, &aggregation, &variants, &mut reads)?);
        }
        let super_condition = match filters.super_groups.as_deref() {
            Some([first, ..]) if first.properties.as_ref().is_some_and(|p| !p.is_empty()) => {
                Some(self.compile_condition(first, &Aggregation::Person, &variants, &mut reads)?)
            }
            _ => None,
        };
        let has_dependencies = !reads.dependencies.is_empty();

        let mut payloads = BTreeMap::new();
        for (k, v) in filters.payloads.unwrap_or_default() {
            let parsed = match v {
                Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                Value::Null => continue,
                other => other,
            };
            payloads.insert(k, parsed);
        }
        let payloads = Payloads(payloads.into_iter().collect());

        let holdout = filters.holdout.map(|h| Holdout {
            percentage: h.exclusion_percentage.unwrap_or(0.0).clamp(0.0, 100.0),
            variant: format!("holdout-{}", h.id),
        });
        let enrollment_property =
            (filters.feature_enrollment == Some(true)).then(|| format!("$feature_enrollment/{}", def.key));
        if let Some(p) = &enrollment_property {
            reads.person.insert(p.clone());
        }
        let bucketing = def.bucketing_identifier.as_deref().or(filters.bucketing_identifier.as_deref());
        let bucket_by_device = bucketing == Some("device_id") && aggregation == Aggregation::Person;
        if bucket_by_device {
            reads.person.insert("$device_id".into());
        }

        Ok(CompiledFlag {
            hash_prefix: format!("{}.", def.key),
            key: def.key,
            id: def.id,
            version: def.version,
            active: def.active.unwrap_or(false),
            continuity: def.ensure_experience_continuity.unwrap_or(false),
            other_format: filters.other_format.as_ref().map(|v| format!("filters.version {v}")),
            has_experiment: def.has_experiment,
            aggregation,
            bucket_by_device,
            conditions,
            variants,
            payloads,
            early_exit: filters.early_exit.unwrap_or(false),
            holdout,
            enrollment_property,
            super_condition,
            has_dependencies,
            runtime: EvaluationRuntime::of_definition(def.evaluation_runtime.as_ref()),
            contexts: def
                .evaluation_contexts
                .as_ref()
                .or(def.evaluation_tags.as_ref())
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            reads,
        })
    }

    fn compile_condition(
        &mut self,
        group: &ConditionGroup,
        flag_aggregation: &Aggregation,
        variants: &[VariantBound],
        reads: &mut PropertyKeys,
    ) -> Result<Condition, String> {
        let aggregation = match group.aggregation_group_type_index {
            Some(index) => self.aggregation(index),
            None => flag_aggregation.clone(),
        };
        let rollout = match group.rollout_percentage {
            Some(p) if !p.is_finite() => return Err("rollout_percentage is not a finite number".into()),
            Some(100.0) => None,
            other => other,
        };
        let variant_override = group
            .variant
            .as_deref()
            .and_then(|name| variants.iter().position(|v| v.key == name));
        let mut filters = Vec::new();
        for f in group.properties.as_deref().unwrap_or_default() {
            let compiled = self.compile_filter(f, &aggregation)?;
            match &compiled {
                Filter::Property { source, key, .. } => reads.add(&aggregation, source, key),
                Filter::Cohort { cohort: CohortRef::Compiled(i), .. } => reads.merge(&self.cohorts[*i].reads),
                Filter::Flag { flag, .. } => {
                    reads.dependencies.insert(*flag);
                }
                _ => {}
            }
            filters.push(compiled);
        }
        Ok(Condition { filters, rollout, variant_override, aggregation })
    }

    pub(crate) fn compile_filter(&mut self, f: &PropertyFilter, aggregation: &Aggregation) -> Result<Filter, String> {
        let key = match &f.key {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err("property filter has no key".into()),
        };
        let operator = f.operator.as_deref().unwrap_or("exact");
        match f.kind.as_deref().unwrap_or("person") {
            "cohort" => {
                // The server accepts only `in` / `not_in` (or none): any other operator, `exact` included,
                // is a membership check that answers false (the SDKs read `exact` as `in`; D25 follows the
                // server).
                let member = match f.operator.as_deref() {
                    None | Some("in") => true,
                    Some("not_in") => false,
                    Some(_) => return Ok(Filter::Cohort { cohort: CohortRef::NeverMatches, member: true }),
                };
                let id = match &f.value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err("cohort filter value is not a cohort id".into()),
                };
                let cohort = self.cohort(&id);
                Ok(Filter::Cohort { cohort, member })
            }
            "flag" => Ok(self.compile_dependency(f, key, operator)),
            "person" => self.property(key, Source::Person, operator, &f.value),
            "group" => {
                let source = match f.group_type_index {
                    Some(i) => match self.group_name(i) {
                        Aggregation::Group(g) => Source::Group(g),
                        _ => return Ok(Filter::Undecidable(InconclusiveKind::UnknownGroupType, key)),
                    },
                    None => match aggregation {
                        Aggregation::Group(g) => Source::Group(g.clone()),
                        _ => Source::Condition,
                    },
                };
                self.property(key, source, operator, &f.value)
            }
            // person_metadata, event, … : the server reads these from its own stores.
            _ => Ok(Filter::Undecidable(InconclusiveKind::MissingProperty, key)),
        }
    }

    fn property(&mut self, key: String, source: Source, operator: &str, value: &Value) -> Result<Filter, String> {
        if matches!(operator, "in" | "not_in" | "flag_evaluates_to") {
            return Ok(Filter::Undecidable(InconclusiveKind::UnknownOperator, operator.to_owned()));
        }
        let op = Operator::compile(operator, value, self.limits, self.matching, &mut self.regexes);
        Ok(Filter::Property { source, key, op })
    }

    pub(crate) fn compile_dependency(&mut self, f: &PropertyFilter, key: String, operator: &str) -> Filter {
        if operator != "flag_evaluates_to" || key.is_empty() {
            return Filter::Const(false);
        }
        let expected = match &f.value {
            Value::Bool(b) => Expected::Bool(*b),
            Value::String(s) => Expected::Variant(s.clone()),
            _ => return Filter::Const(false),
        };
        match &f.dependency_chain {
            Some(chain) if !chain.is_empty() => {}
            _ => return Filter::Undecidable(InconclusiveKind::Dependency, key),
        }
        match self.flag_index.get(&key) {
            Some(&flag) => Filter::Flag { flag, key, expected },
            None => Filter::Undecidable(InconclusiveKind::Dependency, key),
        }
    }
}

