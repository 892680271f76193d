//! # hogflags
//!
//! PostHog feature flags, evaluated locally with the server's exact semantics.
//!
//! The engine is pure: a definitions document goes in, an immutable compiled [`FlagSnapshot`] comes out,
//! and [`FlagSnapshot::evaluate`] reads it with an [`EvaluationContext`]. There is no I/O, no thread and no
//! global state here; polling and remote evaluation live behind the `client` feature.
//!
//! ```
//! use hogflags::{EvaluationContext, FlagSnapshot, FlagValue};
//! let doc = br#"{"flags":[{"key":"beta","active":true,
//!     "filters":{"groups":[{"properties":[{"key":"plan","value":"pro","type":"person"}],
//!                           "rollout_percentage":100}]}}]}"#;
//! let snapshot = FlagSnapshot::from_json(doc).unwrap();
//! let ctx = EvaluationContext::new("user-1").with_person_property("plan", "pro");
//! assert_eq!(snapshot.evaluate("beta", &ctx).value(), Some(FlagValue::Bool(true)));
//! ```

mod compile;
mod cohorts;
mod context;
pub mod definitions;
mod evaluate;
pub mod hash;
mod limits;
mod operators;
mod reasons;
mod regex_match;
mod dates;
mod semver_match;
mod snapshot;
mod values;

pub use context::{identifier_text, ContextError, ContextInput, EvaluationContext, Properties};
pub use limits::Limits;
pub use operators::PropertyMatching;
pub use reasons::{
    Evaluation, EvaluationJson, FlagResult, FlagValue, Inconclusive, InconclusiveKind, Reason, ReasonCode,
};
pub use compile::{EvaluationRuntime, PropertyKeys};
pub use snapshot::{DocumentError, FlagInfo, FlagSnapshot, SkippedCohort, SkippedFlag};
#[cfg(feature = "client")]
pub mod client;
