//! Resource limits applied while loading a document, so that no definitions PostHog (or anyone) sends
//! can exhaust memory or the stack, or stall evaluation.

/// Limits on what a definitions document may contain. Exceeding one skips the offending flag (or refuses
/// the document, for the document-wide limits) with a clear error; everything else keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document accepted, in bytes.
    pub max_document_bytes: usize,
    /// Most flags in one document.
    pub max_flags: usize,
    /// Longest regex pattern, in bytes.
    pub max_regex_bytes: usize,
    /// Compiled size limit handed to the regex engines, in bytes.
    pub max_regex_compiled_bytes: usize,
    /// Time one document may spend compiling regexes while it loads; patterns past it are compiled once,
    /// on first use or when the client compiles them off the hot path. The answers are the same.
    pub regex_compile_budget: std::time::Duration,
    /// Deepest nesting of cohort property groups (including cohorts referencing cohorts).
    pub max_cohort_depth: usize,
    /// Longest flag-dependency chain.
    pub max_dependency_depth: usize,
}

impl Limits {
    /// The default [`max_document_bytes`](Self::max_document_bytes): 64 MiB.
    pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_document_bytes: Self::DEFAULT_MAX_DOCUMENT_BYTES,
            max_flags: 100_000,
            max_regex_bytes: 10_000,
            max_regex_compiled_bytes: 1 << 20,
            regex_compile_budget: std::time::Duration::from_millis(200),
            max_cohort_depth: 32,
            max_dependency_depth: 64,
        }
    }
}
