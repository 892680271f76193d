//! The compiled, immutable flag snapshot: what a definitions document becomes once loaded.
//!
//! A snapshot is built once per definitions update (off the hot path) and then shared read-only by every
//! evaluating thread — bindings keep it behind an atomic pointer and swap in a new one when definitions
//! change. Loading never fails because of one bad flag: that flag is skipped and reported, the rest load.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::compile::{CompiledCohort, CompiledFlag, Compiler, EvaluationRuntime, PropertyKeys};

use crate::definitions::{FlagDefinition, RawDocument};
use crate::limits::Limits;
use crate::operators::PropertyMatching;
use crate::regex_match::{LazyRegex, RegexCache};

/// Why a whole document was refused (a single bad flag never refuses the document).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("definitions document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("definitions document is not valid: {0}")]
    Malformed(String),
    #[error("definitions document has {count} flags, over the limit of {limit}")]
    TooManyFlags { count: usize, limit: usize },
}

/// A flag that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedFlag {
    /// The flag key, or `"<flag #N>"` when even the key could not be read.
    pub key: String,
    pub reason: String,
}

/// A cohort that flags reference but that could not be compiled (filters using it are inconclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCohort {
    pub id: String,
    pub reason: String,
}

/// Facts about one loaded flag (for events and listings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagInfo<'s> {
    pub key: &'s str,
    pub id: Option<i64>,
    pub version: Option<i64>,
    pub active: bool,
    pub has_experiment: Option<bool>,
    pub ensure_experience_continuity: bool,
    pub evaluation_runtime: EvaluationRuntime,
}

/// Compiled definitions. Immutable, `Send + Sync`, cheap to share behind an `Arc`.
pub struct FlagSnapshot {
    pub(crate) flags: Vec<CompiledFlag>,
    /// Flag key → position. foldhash: every one-flag evaluation looks its key up here.
    pub(crate) index: HashMap<String, usize, foldhash::fast::RandomState>,
    /// Position among the parsed flags → position among the compiled ones (`None`: skipped).
    pub(crate) parsed_to_compiled: Vec<Option<usize>>,
    pub(crate) cohorts: Vec<CompiledCohort>,
    pub(crate) limits: Limits,
    skipped: Vec<SkippedFlag>,
    broken_cohorts: Vec<SkippedCohort>,
    reads: PropertyKeys,
    group_type_mapping: HashMap<String, String>,
    minimal_flag_called_events: bool,
    property_matching: PropertyMatching,
    /// The runtime this snapshot evaluates in (see `for_runtime`).
    evaluator_runtime: Option<EvaluationRuntime>,
    /// Parsed positions of flags left out for the evaluator's contexts (see `for_contexts`).
    pub(crate) excluded: Vec<bool>,
    /// Regexes left uncompiled by the load budget (see `regex_match`).
    deferred_regexes: Vec<Arc<LazyRegex>>,
}

impl fmt::Debug for FlagSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlagSnapshot")
            .field("flags", &self.flags.len())
            .field("cohorts", &self.cohorts.len())
            .field("skipped", &self.skipped.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct KeyOnly {
    key: serde_json::Value,
}

impl FlagSnapshot {
    /// A snapshot with no flags (every evaluation is inconclusive `unknown_flag`).
    pub fn empty() -> FlagSnapshot {
        FlagSnapshot {
            flags: Vec::new(),
            index: HashMap::default(),
            parsed_to_compiled: Vec::new(),
            cohorts: Vec::new(),
            limits: Limits::default(),
            skipped: Vec::new(),
            broken_cohorts: Vec::new(),
            reads: PropertyKeys::default(),
            group_type_mapping: HashMap::new(),
            minimal_flag_called_events: false,
            property_matching: PropertyMatching::Legacy,
            evaluator_runtime: Some(EvaluationRuntime::Server),
            excluded: Vec::new(),
            deferred_regexes: Vec::new(),
        }
    }

    /// Loads a definitions document (the body of `GET /flags/definitions`) with the default limits.
    pub fn from_json(bytes: &[u8]) -> Result<FlagSnapshot, DocumentError> {
        Self::from_json_with_limits(bytes, Limits::default())
    }

    /// Loads a definitions document with explicit resource limits.
    pub fn from_json_with_limits(bytes: &[u8], limits: Limits) -> Result<FlagSnapshot, DocumentError> {
        if bytes.len() > limits.max_document_bytes {
            return Err(DocumentError::TooLarge { size: bytes.len(), limit: limits.max_document_bytes });
        }
        let doc: RawDocument<'_> =
            serde_json::from_slice(bytes).map_err(|e| DocumentError::Malformed(e.to_string()))?;
        if doc.flags.len() > limits.max_flags {
            return Err(DocumentError::TooManyFlags { count: doc.flags.len(), limit: limits.max_flags });
        }

        let mut skipped = Vec::new();
        let mut parsed: Vec<(usize, FlagDefinition)> = Vec::with_capacity(doc.flags.len());
        let mut flag_index: HashMap<String, usize> = HashMap::with_capacity(doc.flags.len());
        let mut deleted = Vec::new();
        for (n, raw) in doc.flags.iter().enumerate() {
            match serde_json::from_str::<FlagDefinition>(raw.get()) {
                Ok(def) if def.deleted == Some(true) => deleted.push((n, def)),
                Ok(def) if flag_index.contains_key(&def.key) => skipped
                    .push((n, SkippedFlag { reason: "duplicate flag key; the first one is used".into(), key: def.key })),
                Ok(def) => {
                    flag_index.insert(def.key.clone(), parsed.len());
                    parsed.push((n, def));
                }
                Err(_) => {
                    // Parse again with path tracking, only on failure, so the message names the field.
                    let mut de = serde_json::Deserializer::from_str(raw.get());
                    let e = match serde_path_to_error::deserialize::<_, FlagDefinition>(&mut de) {
                        Err(e) if e.path().to_string() != "." => format!("{} (at `{}`)", e.inner(), e.path()),
                        Err(e) => e.inner().to_string(),
                        Ok(_) => "unreadable flag".to_string(),
                    };
                    let key = serde_json::from_str::<KeyOnly>(raw.get())
                        .ok()
                        .and_then(|k| k.key.as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("<flag #{n}>"));
                    skipped.push((n, SkippedFlag { key, reason: format!("malformed flag: {e}") }));
                }
            }
        }

        // A flag marked deleted that the document still carries reads as inactive (false, no request: D5),
        // unless a live flag has its key.
        for (n, mut def) in deleted {
            if !flag_index.contains_key(&def.key) {
                def.active = Some(false);
                flag_index.insert(def.key.clone(), parsed.len());
                parsed.push((n, def));
            }
        }
        let group_type_mapping = doc.group_type_mapping.unwrap_or_default();
        let mut compiler = Compiler {
            limits: &limits,
            group_types: &group_type_mapping,
            flag_index: &flag_index,
            regexes: RegexCache::with_budget(limits.regex_compile_budget),
            matching: PropertyMatching::from_version(doc.property_matching_version.as_ref()),
            raw_cohorts: doc.cohorts.unwrap_or_default(),
            cohort_index: HashMap::new(),
            cohorts: Vec::new(),
            cohorts_in_progress: Vec::new(),
            broken_cohorts: Vec::new(),
        };
        let mut flags = Vec::with_capacity(parsed.len());
        let mut parsed_to_compiled = Vec::with_capacity(parsed.len());
        let mut index = HashMap::with_capacity_and_hasher(parsed.len(), Default::default());
        let mut reads = PropertyKeys::default();
        for (position, def) in parsed {
            let key = def.key.clone();
            match compiler.compile_flag(def) {
                Ok(flag) => {
                    reads.merge(&flag.reads);
                    index.insert(key, flags.len());
                    parsed_to_compiled.push(Some(flags.len()));
                    flags.push(flag);
                }
                Err(reason) => {
                    parsed_to_compiled.push(None);
                    skipped.push((position, SkippedFlag { key, reason }));
                }
            }
        }
        include_dependency_reads(&mut flags, &parsed_to_compiled);
        let cohorts = std::mem::take(&mut compiler.cohorts);
        let deferred_regexes = std::mem::replace(&mut compiler.regexes, RegexCache::new()).into_deferred();
        let property_matching = compiler.matching;
        let mut broken_cohorts: Vec<SkippedCohort> = std::mem::take(&mut compiler.broken_cohorts)
            .into_iter()
            .map(|(id, reason)| SkippedCohort { id, reason })
            .collect();
        broken_cohorts.sort_by(|a, b| a.id.cmp(&b.id));
        broken_cohorts.dedup_by(|a, b| a.id == b.id);
        skipped.sort_by_key(|(position, _)| *position);
        let skipped = skipped.into_iter().map(|(_, s)| s).collect();
        Ok(FlagSnapshot {
            flags,
            index,
            parsed_to_compiled,
            cohorts,
            limits,
            skipped,
            broken_cohorts,
            reads,
            group_type_mapping,
            minimal_flag_called_events: doc.minimal_flag_called_events.unwrap_or(false),
            property_matching,
            evaluator_runtime: Some(EvaluationRuntime::Server),
            excluded: Vec::new(),
            deferred_regexes,
        })
    }

    /// Regexes the load budget left for later that are still not compiled.
    pub fn deferred_regexes(&self) -> usize {
        self.deferred_regexes.iter().filter(|r| !r.is_compiled()).count()
    }

    /// Compiles deferred regexes for about `budget` (at least one, if any is left), so that first uses
    /// do not pay for it. Returns `true` when none is left. The client calls it off the hot path after
    /// swapping in a snapshot; without it each pattern compiles on its first use.
    pub fn compile_deferred_regexes(&self, budget: Duration) -> bool {
        let deadline = Instant::now() + budget;
        for re in &self.deferred_regexes {
            if re.is_compiled() {
                continue;
            }
            re.get();
            if Instant::now() >= deadline {
                return self.deferred_regexes() == 0;
            }
        }
        true
    }

    /// Flags that were not loaded, with the reason for each.
    pub fn skipped(&self) -> &[SkippedFlag] {
        &self.skipped
    }

    /// Referenced cohorts that could not be compiled, with the reason for each.
    pub fn broken_cohorts(&self) -> &[SkippedCohort] {
        &self.broken_cohorts
    }

    /// Number of loaded flags.
    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The loaded flags, in document order.
    pub fn flags(&self) -> impl Iterator<Item = FlagInfo<'_>> {
        self.flags.iter().map(info)
    }

    /// One loaded flag.
    pub fn flag(&self, key: &str) -> Option<FlagInfo<'_>> {
        self.index.get(key).map(|&i| info(&self.flags[i]))
    }

    /// `group_type_mapping` of the document (index as text → group type name).
    pub fn group_type_mapping(&self) -> &HashMap<String, String> {
        &self.group_type_mapping
    }

    /// The same snapshot, evaluating in `runtime` (default: `Server`, as every server SDK; `None`: a
    /// runtime the server cannot tell, where only `all` flags are served). As on the server, a flag not
    /// served in this runtime counts as `false` where another flag depends on it; evaluated directly,
    /// it is still evaluated (as the SDKs do, for bootstrapping clients).
    pub fn for_runtime(mut self, runtime: Option<EvaluationRuntime>) -> FlagSnapshot {
        self.evaluator_runtime = runtime;
        self
    }

    /// The same snapshot for an evaluator limited to `contexts` (posthog-node's `evaluationContexts`):
    /// a flag limited to evaluation contexts (its `evaluation_contexts`, or the older
    /// `evaluation_tags`) that shares none with `contexts` is left out, as if the document did not
    /// have it, and counts as `false` where another flag depends on it, as on the server. No contexts:
    /// every flag stays.
    pub fn for_contexts(mut self, contexts: &[String]) -> FlagSnapshot {
        if contexts.is_empty() {
            return self;
        }
        let keep: Vec<bool> =
            self.flags.iter().map(|f| f.contexts.is_empty() || f.contexts.iter().any(|c| contexts.contains(c))).collect();
        if keep.iter().all(|k| *k) {
            return self;
        }
        let mut new_position = vec![None; self.flags.len()];
        let mut flags = Vec::with_capacity(self.flags.len());
        for (i, flag) in std::mem::take(&mut self.flags).into_iter().enumerate() {
            if keep[i] {
                new_position[i] = Some(flags.len());
                flags.push(flag);
            }
        }
        self.excluded = self.parsed_to_compiled.iter().map(|p| p.is_some_and(|i| !keep[i])).collect();
        for p in &mut self.parsed_to_compiled {
            *p = p.and_then(|i| new_position[i]);
        }
        self.index = flags.iter().enumerate().map(|(i, f)| (f.key.clone(), i)).collect();
        self.flags = flags;
        self
    }

    pub fn evaluator_runtime(&self) -> Option<EvaluationRuntime> {
        self.evaluator_runtime
    }

    /// The document's property-matching mode (`property_matching_version`).
    pub fn property_matching(&self) -> PropertyMatching {
        self.property_matching
    }

    /// The document's `minimal_flag_called_events` gate.
    pub fn minimal_flag_called_events(&self) -> bool {
        self.minimal_flag_called_events
    }

    /// Every property key any flag can read: a binding converts only these from a host's property maps.
    pub fn property_keys(&self) -> &PropertyKeys {
        &self.reads
    }

    /// The property keys evaluating one flag can read: its own filters', its cohorts' and, transitively,
    /// its dependencies'. A binding converting only these gets the same answer as with the full maps.
    pub fn flag_property_keys(&self, key: &str) -> Option<&PropertyKeys> {
        self.index.get(key).map(|&i| &self.flags[i].reads)
    }

    /// The position of a loaded flag among `flags()`. Bindings key per-flag caches by it and evaluate
    /// with [`evaluate_at`](Self::evaluate_at), so that one call hashes the flag key once.
    pub fn position(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// [`flag_property_keys`](Self::flag_property_keys) of the flag at `position`.
    pub fn flag_property_keys_at(&self, position: usize) -> Option<&PropertyKeys> {
        self.flags.get(position).map(|f| &f.reads)
    }
}

/// Adds to each flag's `reads` the reads of every flag it depends on, transitively (cycles included).
fn include_dependency_reads(flags: &mut [CompiledFlag], parsed_to_compiled: &[Option<usize>]) {
    let own: Vec<PropertyKeys> = flags.iter().map(|f| f.reads.clone()).collect();
    for (i, flag) in flags.iter_mut().enumerate() {
        if own[i].dependencies.is_empty() {
            continue;
        }
        let mut seen = vec![false; own.len()];
        seen[i] = true;
        let mut stack: Vec<usize> = own[i].dependencies.iter().filter_map(|&p| parsed_to_compiled.get(p).copied().flatten()).collect();
        while let Some(d) = stack.pop() {
            if std::mem::replace(&mut seen[d], true) {
                continue;
            }
            flag.reads.merge(&own[d]);
            stack.extend(own[d].dependencies.iter().filter_map(|&p| parsed_to_compiled.get(p).copied().flatten()));
        }
    }
}

fn info(f: &CompiledFlag) -> FlagInfo<'_> {
    FlagInfo {
        key: &f.key,
        id: f.id,
        version: f.version,
        active: f.active,
        has_experiment: f.has_experiment,
        ensure_experience_continuity: f.continuity,
        evaluation_runtime: f.runtime,
    }
}
