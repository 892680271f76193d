//! Cohorts: property groups (AND/OR, nested, with negation) that flags reference by id.
//!
//! Only dynamic cohorts are in the definitions; a cohort that is absent (static cohorts never are) makes
//! the filter undecidable locally. Cohorts are compiled once per document, on first reference, into trees
//! of compiled filters; cycles and over-deep nesting are refused with a reason instead of overflowing the
//! stack. The compiled shapes (`CohortRef`, `CompiledCohort`, `Node`) are part of the compiled model in
//! `compile`; evaluation (three-valued: a decisive entry decides a group even when another is
//! undecidable) is in `evaluate`.

use crate::compile::{Aggregation, CohortRef, CompiledCohort, Compiler, Filter, Node, PropertyKeys};
use crate::definitions::{parse_cohort, CohortNode};

impl Compiler<'_> {
    /// The compiled cohort for `id`, compiling it (and the cohorts it references) on first use.
    pub(crate) fn cohort(&mut self, id: &str) -> CohortRef {
        if let Some(r) = self.cohort_index.get(id) {
            return r.clone();
        }
        if self.cohorts_in_progress.iter().any(|c| c == id) {
            return self.broken(id, "cohorts reference each other in a cycle".into());
        }
        if self.cohorts_in_progress.len() >= self.limits.max_cohort_depth {
            return self.broken(id, "cohorts are nested too deeply".into());
        }
        let Some(raw) = self.raw_cohorts.get(id).copied() else {
            return CohortRef::Missing(id.to_owned());
        };
        self.cohorts_in_progress.push(id.to_owned());
        let result = serde_json::from_str(raw.get())
            .map_err(|e| format!("cohort {id} is not valid JSON: {e}"))
            .and_then(|value| parse_cohort(&value, self.limits.max_cohort_depth))
            .and_then(|tree| {
                let mut reads = PropertyKeys::default();
                let root = self.compile_node(&tree, &mut reads)?;
                Ok(CompiledCohort { root, reads })
            });
        self.cohorts_in_progress.pop();
        let r = match result {
            Ok(c) => {
                self.cohorts.push(c);
                CohortRef::Compiled(self.cohorts.len() - 1)
            }
            Err(why) => self.broken(id, why),
        };
        self.cohort_index.insert(id.to_owned(), r.clone());
        r
    }

    fn broken(&mut self, id: &str, why: String) -> CohortRef {
        self.broken_cohorts.push((id.to_owned(), why));
        CohortRef::Broken(id.to_owned())
    }

    fn compile_node(&mut self, node: &CohortNode, reads: &mut PropertyKeys) -> Result<Node, String> {
        match node {
            CohortNode::Group { all, values } => {
                let mut entries = Vec::with_capacity(values.len());
                for v in values {
                    let mut node = self.compile_node(v, reads)?;
                    // As on the server: inside an OR group, `negation` on a cohort entry is not applied.
                    if let Node::Leaf { negate, filter: Filter::Cohort { .. } } = &mut node {
                        if !*all {
                            *negate = false;
                        }
                    }
                    entries.push(node);
                }
                Ok(Node::Group { all: *all, entries })
            }
            CohortNode::Filter(f) => {
                let filter = self.compile_filter(f, &Aggregation::Person)?;
                match &filter {
                    Filter::Property { source, key, .. } => reads.add(&Aggregation::Person, source, key),
                    Filter::Cohort { cohort: CohortRef::Compiled(i), .. } => reads.merge(&self.cohorts[*i].reads),
                    Filter::Flag { flag, .. } => {
                        reads.dependencies.insert(*flag);
                    }
                    _ => {}
                }
                Ok(Node::Leaf { negate: f.negation.unwrap_or(false), filter })
            }
        }
    }
}

