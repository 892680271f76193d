//! Evaluating flags against a context: the pre-checks, early-access and holdout gates, and the
//! three-valued condition loop (see `docs/semantics.md`).
//!
//! An `Evaluator` lives for one call. It holds the per-call dependency cache, so that in `evaluate_all`
//! every flag — including one that others depend on — is evaluated exactly once, and it resolves "now"
//! at most once. Nothing here allocates on the path of a flag without dependencies.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::compile::{Aggregation, CohortRef, CompiledFlag, Condition, Expected, Filter, Node, Source};
use crate::context::EvaluationContext;
use crate::hash::{flag_hash, holdout_hash, in_rollout};
use crate::reasons::{Evaluation, FlagResult, FlagValue, Inconclusive, InconclusiveKind, Reason, ReasonCode};
use crate::snapshot::FlagSnapshot;

#[derive(Clone, Copy)]
enum Slot<'s> {
    Empty,
    InProgress,
    Done(Evaluation<'s>),
}

/// What one condition did.
enum ConditionOutcome<'s> {
    Match(FlagValue<'s>),
    NoMatch,
    OutOfRollout,
    /// Its aggregation group was not passed (or is unknown): the condition is skipped.
    Skipped,
    /// Its filters cannot be decided; `could` is the value it would produce if they matched, if that
    /// could change the result.
    Unknown { kind: InconclusiveKind, detail: &'s str, could: Option<FlagValue<'s>> },
}

pub(crate) struct Evaluator<'s, 'c> {
    snap: &'s FlagSnapshot,
    ctx: &'c EvaluationContext,
    now: OnceCell<DateTime<Utc>>,
    slots: Vec<Slot<'s>>,
    depth: usize,
}

fn decided<'s>(flag: &'s CompiledFlag, value: FlagValue<'s>, code: ReasonCode, index: Option<usize>) -> Evaluation<'s> {
    let payload = match value {
        FlagValue::Bool(false) => None,
        FlagValue::Bool(true) => flag.payloads.get("true"),
        FlagValue::Variant(v) => flag.payloads.get(v),
    };
    Evaluation::Decided(FlagResult {
        key: &flag.key,
        value,
        payload,
        reason: Reason { code, condition_index: index },
        flag_id: flag.id,
        version: flag.version,
    })
}

fn inconclusive<'s>(kind: InconclusiveKind, detail: Option<&'s str>) -> Evaluation<'s> {
    Evaluation::Inconclusive(Inconclusive { kind, detail })
}

impl<'s, 'c> Evaluator<'s, 'c> {
    pub(crate) fn new(snap: &'s FlagSnapshot, ctx: &'c EvaluationContext) -> Self {
        Evaluator { snap, ctx, now: OnceCell::new(), slots: Vec::new(), depth: 0 }
    }

    fn now(&self) -> DateTime<Utc> {
        *self.now.get_or_init(|| self.ctx.now().unwrap_or_else(Utc::now))
    }

    /// Evaluates the compiled flag at `index`, reusing a result already computed in this call.
    pub(crate) fn flag(&mut self, index: usize) -> Evaluation<'s> {
        if let Some(Slot::Done(e)) = self.slots.get(index) {
            return *e;
        }
        let flag = &self.snap.flags[index];
        if !flag.has_dependencies && self.slots.is_empty() {
            return self.evaluate_flag(flag);
        }
        self.ensure_slots();
        self.slots[index] = Slot::InProgress;
        let result = self.evaluate_flag(flag);
        self.slots[index] = Slot::Done(result);
        result
    }

    /// Prepares the cache for evaluating every flag (so each is evaluated once).
    pub(crate) fn for_all(mut self) -> Self {
        self.ensure_slots();
        self
    }

    fn ensure_slots(&mut self) {
        if self.slots.is_empty() {
            self.slots = vec![Slot::Empty; self.snap.flags.len()];
        }
    }

    fn evaluate_flag(&mut self, flag: &'s CompiledFlag) -> Evaluation<'s> {
        if !flag.active {
            return decided(flag, FlagValue::Bool(false), ReasonCode::FlagDisabled, None);
        }
        if let Some(format) = &flag.other_format {
            // The server's newer rules format: not evaluated here rather than read as no conditions.
            return inconclusive(InconclusiveKind::InvalidValue, Some(format));
        }
        if flag.continuity {
            return inconclusive(InconclusiveKind::ExperienceContinuity, Some(&flag.key));
        }
        if flag.aggregation == Aggregation::UnknownGroup {
            return inconclusive(InconclusiveKind::UnknownGroupType, Some(&flag.key));
        }
        let ctx = self.ctx;
        let person_bucket: &'c str = if flag.bucket_by_device {
            let device = ctx
                .device_id()
                .or_else(|| ctx.person_property("$device_id").and_then(Value::as_str))
                .filter(|d| !d.is_empty());
            match device {
                Some(d) => d,
                None => return inconclusive(InconclusiveKind::MissingDeviceId, Some(&flag.key)),
            }
        } else {
            ctx.distinct_id()
        };

        if let Some(prop) = &flag.enrollment_property {
            // The server decides by the stored enrollment when the person has one, before anything else.
            // Absent here, it may still be stored there (set by the browser): undecidable locally (D6).
            let Some(v) = ctx.person_property(prop) else {
                return inconclusive(InconclusiveKind::MissingProperty, Some(prop));
            };
            let on = matches!(v, Value::Bool(true)) || v.as_str() == Some("true");
            let mut result = decided(flag, FlagValue::Bool(on), ReasonCode::SuperConditionValue, Some(0));
            if let Evaluation::Decided(r) = &mut result {
                r.payload = flag.payloads.get("true");
            }
            return result;
        }
        if let Some(sc) = &flag.super_condition {
            let present = sc.filters.iter().any(|f| match f {
                Filter::Property { key, .. } => ctx.person_property(key).is_some(),
                _ => false,
            });
            if present {
                return match self.condition(flag, sc, person_bucket) {
                    ConditionOutcome::Match(v) => decided(flag, v, ReasonCode::SuperConditionValue, Some(0)),
                    ConditionOutcome::Unknown { kind, detail, .. } => inconclusive(kind, Some(detail)),
                    _ => decided(flag, FlagValue::Bool(false), ReasonCode::SuperConditionValue, Some(0)),
                };
            }
        }
        if let Some(h) = &flag.holdout {
            let bucket = match &flag.aggregation {
                Aggregation::Group(g) => ctx.group(g).map(|e| e.key_str()),
                _ => Some(person_bucket),
            };
            if let Some(id) = bucket {
                if h.percentage == 100.0 || holdout_hash(id) <= h.percentage / 100.0 {
                    return decided(flag, FlagValue::Variant(&h.variant), ReasonCode::HoldoutConditionValue, None);
                }
            }
        }

        // The condition loop. `best` is the server's reason bookkeeping; `could` collects the values that
        // undecidable conditions could have produced instead.
        let mut best: Option<(ReasonCode, usize)> = None;
        let note = |best: &mut Option<(ReasonCode, usize)>, code: ReasonCode, i: usize| {
            if best.is_none_or(|(c, _)| code.score() >= c.score()) {
                *best = Some((code, i));
            }
        };
        let mut could: Option<FlagValue<'s>> = None;
        let mut conflict = false;
        let mut first_unknown: Option<(InconclusiveKind, &'s str)> = None;
        let mut final_value = None;
        for (i, cond) in flag.conditions.iter().enumerate() {
            match self.condition(flag, cond, person_bucket) {
                ConditionOutcome::Match(v) => {
                    final_value = Some((v, ReasonCode::ConditionMatch, Some(i)));
                    break;
                }
                ConditionOutcome::NoMatch => note(&mut best, ReasonCode::NoConditionMatch, i),
                ConditionOutcome::Skipped => note(&mut best, ReasonCode::NoGroupType, i),
                ConditionOutcome::OutOfRollout => {
                    note(&mut best, ReasonCode::OutOfRolloutBound, i);
                    if flag.early_exit {
                        final_value = Some((FlagValue::Bool(false), ReasonCode::OutOfRolloutBound, Some(i)));
                        break;
                    }
                }
                ConditionOutcome::Unknown { kind, detail, could: alternative } => {
                    first_unknown.get_or_insert((kind, detail));
                    if let Some(v) = alternative {
                        match could {
                            None => could = Some(v),
                            Some(c) if c != v => conflict = true,
                            _ => {}
                        }
                    }
                }
            }
        }
        let (value, code, index) = final_value.unwrap_or(match best {
            Some((code, i)) => (FlagValue::Bool(false), code, Some(i)),
            // The server seeds its reason with `no_group_type`: a flag without conditions reports it.
            None => (FlagValue::Bool(false), ReasonCode::NoGroupType, None),
        });
        if let Some((kind, detail)) = first_unknown {
            if conflict || could.is_some_and(|c| c != value) {
                return inconclusive(kind, Some(detail));
            }
        }
        decided(flag, value, code, index)
    }

    fn match_value(flag: &'s CompiledFlag, cond: &'s Condition, bucket: &str) -> FlagValue<'s> {
        if let Some(i) = cond.variant_override {
            return FlagValue::Variant(&flag.variants[i].key);
        }
        if flag.variants.is_empty() {
            return FlagValue::Bool(true);
        }
        let h = flag_hash(&flag.hash_prefix, bucket, "variant");
        match flag.variants.iter().find(|v| h < v.upper) {
            Some(v) => FlagValue::Variant(&v.key),
            None => FlagValue::Bool(true),
        }
    }

    fn condition(&mut self, flag: &'s CompiledFlag, cond: &'s Condition, person_bucket: &str) -> ConditionOutcome<'s> {
        let ctx = self.ctx;
        let bucket: &str = match &cond.aggregation {
            Aggregation::Person => person_bucket,
            Aggregation::Group(g) => match ctx.group(g) {
                Some(e) => e.key_str(),
                None => return ConditionOutcome::Skipped,
            },
            Aggregation::UnknownGroup => return ConditionOutcome::Skipped,
        };
        let matched = combine(true, cond.filters.iter().map(|f| self.filter(f, &cond.aggregation)));
        let in_rollout = || match cond.rollout {
            None => true,
            Some(p) => in_rollout(p, || flag_hash(&flag.hash_prefix, bucket, "")),
        };
        match matched {
            Tri::False => ConditionOutcome::NoMatch,
            Tri::True if in_rollout() => ConditionOutcome::Match(Self::match_value(flag, cond, bucket)),
            Tri::True => ConditionOutcome::OutOfRollout,
            Tri::Unknown(kind, detail) => {
                let could = if in_rollout() {
                    Some(Self::match_value(flag, cond, bucket))
                } else if flag.early_exit {
                    Some(FlagValue::Bool(false))
                } else {
                    None
                };
                ConditionOutcome::Unknown { kind, detail, could }
            }
        }
    }

    fn property(&self, source: &Source, aggregation: &Aggregation, key: &str) -> Option<&'c Value> {
        let ctx = self.ctx;
        let group = |g: &str| ctx.group(g).and_then(|e| e.property(key));
        match source {
            Source::Person => ctx.person_property(key),
            Source::Group(g) => group(g),
            Source::Condition => match aggregation {
                Aggregation::Group(g) => group(g),
                _ => ctx.person_property(key),
            },
        }
    }

    fn filter(&mut self, filter: &'s Filter, aggregation: &Aggregation) -> Tri<'s> {
        match filter {
            Filter::Property { source, key, op } => {
                let value = self.property(source, aggregation, key);
                match op.matches(value, || self.now()) {
                    Ok(b) => Tri::from_bool(b),
                    Err(kind) => Tri::Unknown(kind, key),
                }
            }
            Filter::Cohort { cohort, member } => match cohort {
                CohortRef::Compiled(i) => {
                    let snap = self.snap;
                    self.node(&snap.cohorts[*i].root).negate_if(!member)
                }
                CohortRef::Missing(id) => Tri::Unknown(InconclusiveKind::MissingCohort, id),
                CohortRef::Broken(id) => Tri::Unknown(InconclusiveKind::InvalidValue, id),
                CohortRef::NeverMatches => Tri::False,
            },
            Filter::Flag { flag, key, expected } => self.dependency(*flag, key, expected),
            Filter::Const(b) => Tri::from_bool(*b),
            Filter::Undecidable(kind, detail) => Tri::Unknown(*kind, detail),
        }
    }

    fn node(&mut self, node: &'s Node) -> Tri<'s> {
        match node {
            Node::Group { entries, .. } if entries.is_empty() => Tri::True,
            Node::Group { all, entries } => combine(*all, entries.iter().map(|e| self.node(e))),
            Node::Leaf { negate, filter } => self.filter(filter, &Aggregation::Person).negate_if(*negate),
        }
    }

    fn dependency(&mut self, parsed: usize, key: &'s str, expected: &Expected) -> Tri<'s> {
        let unknown = Tri::Unknown(InconclusiveKind::Dependency, key);
        let Some(index) = self.snap.parsed_to_compiled.get(parsed).copied().flatten() else {
            if self.snap.excluded.get(parsed).copied().unwrap_or(false) {
                // Left out for the evaluator's contexts: false, as on the server (D14).
                return Tri::from_bool(matches!(expected, Expected::Bool(false)));
            }
            return unknown;
        };
        if !self.snap.flags[index].runtime.served_in(self.snap.evaluator_runtime()) {
            // The server does not evaluate a flag of another runtime, and reads it as false (D14).
            return Tri::from_bool(matches!(expected, Expected::Bool(false)));
        }
        self.ensure_slots();
        let result = match self.slots[index] {
            Slot::Done(e) => e,
            Slot::InProgress => return unknown, // a cycle
            Slot::Empty => {
                if self.depth >= self.snap.limits.max_dependency_depth {
                    return unknown;
                }
                self.slots[index] = Slot::InProgress;
                self.depth += 1;
                let e = self.evaluate_flag(&self.snap.flags[index]);
                self.depth -= 1;
                self.slots[index] = Slot::Done(e);
                e
            }
        };
        let Evaluation::Decided(r) = result else {
            return unknown;
        };
        Tri::from_bool(match expected {
            Expected::Bool(true) => r.value.is_enabled(),
            Expected::Bool(false) => !r.value.is_enabled(),
            Expected::Variant(s) => r.value == FlagValue::Variant(s),
        })
    }
}

/// Evaluation entry points of a snapshot (the snapshot itself only loads and describes definitions).
impl FlagSnapshot {
    /// Evaluates the flag at `position` (see [`position`](Self::position)); a position out of range is
    /// an unknown flag.
    pub fn evaluate_at(&self, position: usize, ctx: &EvaluationContext) -> Evaluation<'_> {
        if position < self.flags.len() {
            Evaluator::new(self, ctx).flag(position)
        } else {
            Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::UnknownFlag, detail: None })
        }
    }

    /// Evaluates one flag.
    pub fn evaluate(&self, key: &str, ctx: &EvaluationContext) -> Evaluation<'_> {
        match self.index.get(key) {
            Some(&i) => Evaluator::new(self, ctx).flag(i),
            None => Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::UnknownFlag, detail: None }),
        }
    }

    /// Evaluates the flags named by `keys`, in that order (a key not loaded is `unknown_flag`); each flag,
    /// also as a dependency, is evaluated once.
    pub fn evaluate_keys<'k>(&self, ctx: &EvaluationContext, keys: &[&'k str]) -> Vec<(&'k str, Evaluation<'_>)> {
        let mut ev = Evaluator::new(self, ctx).for_all();
        keys.iter()
            .map(|&k| match self.index.get(k) {
                Some(&i) => (k, ev.flag(i)),
                None => (k, Evaluation::Inconclusive(Inconclusive { kind: InconclusiveKind::UnknownFlag, detail: None })),
            })
            .collect()
    }

    /// Evaluates every loaded flag, in document order; each flag (also as a dependency) is evaluated once.
    pub fn evaluate_all(&self, ctx: &EvaluationContext) -> Vec<(&str, Evaluation<'_>)> {
        let mut ev = Evaluator::new(self, ctx).for_all();
        (0..self.flags.len()).map(|i| (self.flags[i].key.as_str(), ev.flag(i))).collect()
    }
}

/// A three-valued answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri<'s> {
    True,
    False,
    Unknown(InconclusiveKind, &'s str),
}

impl<'s> Tri<'s> {
    pub(crate) fn from_bool(b: bool) -> Tri<'s> {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }

    pub(crate) fn negate_if(self, negate: bool) -> Tri<'s> {
        match self {
            Tri::True if negate => Tri::False,
            Tri::False if negate => Tri::True,
            other => other,
        }
    }
}

/// Three-valued AND/OR over lazily computed entries: a decisive entry (false for AND, true for OR) wins
/// over undecidable ones; otherwise the first undecidable entry is the answer.
pub(crate) fn combine<'s, I: Iterator<Item = Tri<'s>>>(all: bool, entries: I) -> Tri<'s> {
    let mut unknown = None;
    for t in entries {
        match (all, t) {
            (true, Tri::False) => return Tri::False,
            (false, Tri::True) => return Tri::True,
            (_, Tri::Unknown(..)) if unknown.is_none() => unknown = Some(t),
            _ => {}
        }
    }
    unknown.unwrap_or(Tri::from_bool(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_valued_logic() {
        let u = Tri::Unknown(InconclusiveKind::MissingProperty, "x");
        assert_eq!(combine(true, [u, Tri::False].into_iter()), Tri::False);
        assert_eq!(combine(true, [u, Tri::True].into_iter()), u);
        assert_eq!(combine(false, [u, Tri::True].into_iter()), Tri::True);
        assert_eq!(combine(false, [Tri::False, u].into_iter()), u);
        assert_eq!(combine(true, std::iter::empty()), Tri::True);
        assert_eq!(combine(false, std::iter::empty()), Tri::False);
        assert_eq!(u.negate_if(true), u);
    }
}
