//! Regex filters that can never stall the host.
//!
//! Patterns run in the linear-time `regex` crate. A pattern it rejects only because it needs backtracking
//! features (look-around, back-references) runs in `fancy-regex` with the server's 10 000-step backtrack
//! limit. A pattern neither accepts, or a search that hits the limit, does not match — for `regex` and
//! `not_regex` alike, as on the server.
//!
//! Compilation is bounded per document: a document of many large patterns (1,500 alternations of 9 KB
//! take seconds to compile) must not stall loading. Patterns are compiled while loading until
//! [`Limits::regex_compile_budget`](crate::Limits::regex_compile_budget) is spent; the rest are
//! [`LazyRegex`]es compiled once, on first use or when the client compiles them off the hot path
//! ([`FlagSnapshot::compile_deferred_regexes`](crate::FlagSnapshot::compile_deferred_regexes)). Either
//! way the compiled pattern, and so every answer, is the same.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The server's backtrack limit.
pub const BACKTRACK_LIMIT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegexError {
    Invalid,
    TooLarge,
}

#[derive(Debug)]
pub(crate) enum CompiledRegex {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

impl CompiledRegex {
    /// Compiles `pattern`. A pattern both engines reject is `Invalid` (never matches, as on the server);
    /// one over our size limits is `TooLarge` (we refuse to evaluate it locally: the server might).
    pub(crate) fn new(pattern: &str, max_pattern_bytes: usize, size_limit: usize) -> Result<CompiledRegex, RegexError> {
        if pattern.len() > max_pattern_bytes {
            return Err(RegexError::TooLarge);
        }
        match regex::RegexBuilder::new(pattern).size_limit(size_limit).build() {
            Ok(re) => Ok(CompiledRegex::Linear(re)),
            Err(regex::Error::CompiledTooBig(_)) => Err(RegexError::TooLarge),
            Err(_) => fancy_regex::RegexBuilder::new(pattern)
                .backtrack_limit(BACKTRACK_LIMIT)
                .delegate_size_limit(size_limit)
                .build()
                .map(CompiledRegex::Backtracking)
                .map_err(|e| match e {
                    fancy_regex::Error::CompileError(fancy_regex::CompileError::InnerError(inner))
                        if inner.size_limit().is_some() =>
                    {
                        RegexError::TooLarge
                    }
                    _ => RegexError::Invalid,
                }),
        }
    }

    /// `Some(found)`, or `None` when the backtrack limit was hit.
    pub(crate) fn find(&self, haystack: &str) -> Option<bool> {
        match self {
            CompiledRegex::Linear(re) => Some(re.is_match(haystack)),
            CompiledRegex::Backtracking(re) => re.is_match(haystack).ok(),
        }
    }
}

/// A pattern compiled at load time or, past the document's budget, once on first use.
#[derive(Debug)]
pub(crate) struct LazyRegex {
    pattern: Box<str>,
    max_pattern_bytes: usize,
    size_limit: usize,
    compiled: OnceLock<Result<CompiledRegex, RegexError>>,
}

impl LazyRegex {
    fn new(pattern: &str, max_pattern_bytes: usize, size_limit: usize) -> LazyRegex {
        LazyRegex { pattern: pattern.into(), max_pattern_bytes, size_limit, compiled: OnceLock::new() }
    }

    /// The compiled pattern (compiling it now if it was deferred; concurrent callers wait for one
    /// compilation).
    pub(crate) fn get(&self) -> &Result<CompiledRegex, RegexError> {
        self.compiled.get_or_init(|| CompiledRegex::new(&self.pattern, self.max_pattern_bytes, self.size_limit))
    }

    pub(crate) fn is_compiled(&self) -> bool {
        self.compiled.get().is_some()
    }
}

/// The regexes of one document being loaded: one per distinct pattern, shared by every filter that uses
/// it, compiled eagerly until the budget is spent.
pub(crate) struct RegexCache {
    by_pattern: std::collections::HashMap<String, Arc<LazyRegex>>,
    deadline: Option<Instant>,
    deferred: Vec<Arc<LazyRegex>>,
}

impl RegexCache {
    /// A cache that compiles every pattern at once.
    pub(crate) fn new() -> RegexCache {
        RegexCache { by_pattern: Default::default(), deadline: None, deferred: Vec::new() }
    }

    /// A cache that compiles eagerly for `budget` from now, then defers.
    pub(crate) fn with_budget(budget: Duration) -> RegexCache {
        RegexCache { deadline: Instant::now().checked_add(budget), ..RegexCache::new() }
    }

    pub(crate) fn get(&mut self, pattern: &str, max_pattern_bytes: usize, size_limit: usize) -> Arc<LazyRegex> {
        if let Some(re) = self.by_pattern.get(pattern) {
            return re.clone();
        }
        let re = Arc::new(LazyRegex::new(pattern, max_pattern_bytes, size_limit));
        if self.deadline.is_none_or(|d| Instant::now() < d) || pattern.len() > max_pattern_bytes {
            re.get();
        } else {
            self.deferred.push(re.clone());
        }
        self.by_pattern.insert(pattern.to_owned(), re.clone());
        re
    }

    /// The patterns left for later.
    pub(crate) fn into_deferred(self) -> Vec<Arc<LazyRegex>> {
        self.deferred
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catastrophic_pattern_is_fast_and_correct() {
        let re = CompiledRegex::new("(a+)+$", 10_000, 1 << 20).unwrap();
        assert_eq!(CompiledRegex::new("a{1000}{1000}", 10_000, 1 << 20).unwrap_err(), RegexError::TooLarge);
        assert!(matches!(re, CompiledRegex::Linear(_)));
        assert_eq!(re.find(&format!("{}b", "a".repeat(30))), Some(false));
        assert_eq!(re.find(&"a".repeat(30)), Some(true));
    }

    #[test]
    fn lookaround_uses_backtracking_engine_with_limit() {
        let re = CompiledRegex::new(r"^(?=.*pro)\w+$", 10_000, 1 << 20).unwrap();
        assert!(matches!(re, CompiledRegex::Backtracking(_)));
        assert_eq!(re.find("superpro"), Some(true));
        assert_eq!(re.find("basic"), Some(false));
        let evil = CompiledRegex::new(r"^(?=a)(a|a)+(?!x)$", 10_000, 1 << 20).unwrap();
        assert_eq!(evil.find(&format!("{}b", "a".repeat(40))), None);
    }

    #[test]
    fn invalid_patterns_are_none() {
        assert_eq!(CompiledRegex::new("(unclosed", 10_000, 1 << 20).unwrap_err(), RegexError::Invalid);
        assert_eq!(CompiledRegex::new(&"a".repeat(20_000), 10_000, 1 << 20).unwrap_err(), RegexError::TooLarge);
    }
}
