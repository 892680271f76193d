//! # hogflags-uniffi
//!
//! The UniFFI face of the hogflags engine, for Swift (iOS, macOS) and Kotlin (Android, JVM). Proc
//! macros only (no UDL); generated with the workspace's `uniffi-bindgen` in library mode
//! (`scripts/uniffi-generate.sh`).
//!
//! This crate converts types and nothing else: every answer comes from [`hogflags::FlagSnapshot`].
//!
//! - [`FlagsEngine`]: loads a definitions document (the body of `/flags/definitions`) and evaluates it.
//!   Definitions can be replaced at any time ([`FlagsEngine::update_definitions`]); evaluations running
//!   at that moment finish on the snapshot they started with (readers never block).
//! - Contexts go in as the [`EvaluationContext`] record (property values as [`JsonValue`]) or as the
//!   context JSON text of the conformance corpus (the `*_json` methods).
//! - [`FlagsClient`] (local evaluation from polled definitions, `/flags` fallback) and
//!   [`RemoteFlagsClient`] (remote mode for apps) wrap `hogflags::client`; see `client.rs`.
//! - Outcomes come out as [`FlagOutcome`] (decided with a [`FlagResult`], or inconclusive with an
//!   [`InconclusiveKind`]); errors as [`HogFlagsError`].

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use hogflags::FlagSnapshot;

mod client;
mod remote_client;
mod evaluations;
mod error;
mod types;

pub use client::{
    AllFlagsResult, ClientConfig, ClientListener, ClientStatus, DefinitionsUpdate, DriverMode, ErrorInfo, FlagCalledEvent,
    FlagDetails, FlagLookup, FlagReason, FlagSource, FlagsChanged, FlagsClient, TickOutcome, Unresolved,
};
pub use remote_client::RemoteFlagsClient;
pub use evaluations::FlagEvaluations;
pub use error::{ApiResult, HogFlagsError};
use error::{to_i64, Error};
pub use types::{
    EvaluationContext, FlagInfo, FlagOutcome, FlagResult, FlagValue, InconclusiveKind, JsonValue, PropertyKeys,
    Reason, ReasonCode, SkippedCohort, SkippedFlag,
};

uniffi::setup_scaffolding!("hogflags");

/// Runs an entry point, turning a panic (a bug) into `HogFlagsError::Internal` instead of unwinding
/// into the host.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, Error>) -> ApiResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(HogFlagsError::from),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            Err(HogFlagsError::Internal { reason })
        }
    }
}

/// A local-evaluation engine: one compiled definitions snapshot, shared by every thread.
#[derive(uniffi::Object)]
pub struct FlagsEngine {
    snapshot: ArcSwap<FlagSnapshot>,
}

impl std::fmt::Debug for FlagsEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlagsEngine").field("flags", &self.snapshot.load().len()).finish()
    }
}

impl FlagsEngine {
    /// An engine over an existing snapshot (a client's current definitions).
    pub(crate) fn from_snapshot(snapshot: Arc<FlagSnapshot>) -> FlagsEngine {
        FlagsEngine { snapshot: ArcSwap::new(snapshot) }
    }

    fn evaluate_one(&self, key: &str, context: EvaluationContext) -> Result<FlagOutcome, Error> {
        let ctx = context.into_core()?;
        let snapshot = self.snapshot.load();
        Ok(FlagOutcome::from_core(key, &snapshot.evaluate(key, &ctx)))
    }
}

#[uniffi::export]
impl FlagsEngine {
    /// Loads a definitions document (the body of `GET /flags/definitions`). Flags that cannot be
    /// loaded are skipped (see `skipped_flags`); only a document that is not JSON of that shape, or
    /// over the limits, is refused.
    #[uniffi::constructor]
    pub fn new(definitions_json: String) -> ApiResult<Arc<Self>> {
        guard(|| {
            let snapshot = FlagSnapshot::from_json(definitions_json.as_bytes())?;
            Ok(Arc::new(FlagsEngine { snapshot: ArcSwap::from_pointee(snapshot) }))
        })
    }

    /// An engine with no flags: every evaluation is inconclusive `UnknownFlag` until definitions are
    /// loaded with `update_definitions`.
    #[uniffi::constructor]
    pub fn empty() -> Arc<Self> {
        Arc::new(FlagsEngine { snapshot: ArcSwap::from_pointee(FlagSnapshot::empty()) })
    }

    /// Replaces the definitions. On error the engine keeps its current definitions.
    pub fn update_definitions(&self, definitions_json: String) -> ApiResult<()> {
        guard(|| {
            let snapshot = FlagSnapshot::from_json(definitions_json.as_bytes())?;
            self.snapshot.store(Arc::new(snapshot));
            Ok(())
        })
    }

    /// The flag's value, or `None` when local evaluation cannot decide it (or the flag is unknown).
    pub fn get_feature_flag(&self, key: String, context: EvaluationContext) -> ApiResult<Option<FlagValue>> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            Ok(snapshot.evaluate(&key, &ctx).value().map(FlagValue::from_core))
        })
    }

    /// Whether the flag is on (`true` or any variant), or `None` when undecided.
    pub fn is_feature_enabled(&self, key: String, context: EvaluationContext) -> ApiResult<Option<bool>> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            Ok(snapshot.evaluate(&key, &ctx).value().map(|v| v.is_enabled()))
        })
    }

    /// The payload of the flag's value, or `None` (undecided, or no payload for that value).
    pub fn get_feature_flag_payload(&self, key: String, context: EvaluationContext) -> ApiResult<Option<JsonValue>> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            let outcome = snapshot.evaluate(&key, &ctx);
            Ok(outcome.decided().and_then(|r| r.payload).map(JsonValue::from_serde))
        })
    }

    /// The full outcome: decided (value, payload, reason, flag id and version) or inconclusive (why).
    pub fn get_feature_flag_result(&self, key: String, context: EvaluationContext) -> ApiResult<FlagOutcome> {
        guard(|| self.evaluate_one(&key, context))
    }

    /// Every decided flag's value (undecided flags are left out), each flag evaluated once.
    pub fn get_all_flags(&self, context: EvaluationContext) -> ApiResult<HashMap<String, FlagValue>> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            Ok(snapshot
                .evaluate_all(&ctx)
                .into_iter()
                .filter_map(|(k, e)| e.value().map(|v| (k.to_owned(), FlagValue::from_core(v))))
                .collect())
        })
    }

    /// Every loaded flag's outcome, in document order, each flag (also as a dependency) evaluated once.
    pub fn evaluate_flags(&self, context: EvaluationContext) -> ApiResult<Vec<FlagOutcome>> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            Ok(snapshot.evaluate_all(&ctx).iter().map(|(k, e)| FlagOutcome::from_core(k, e)).collect())
        })
    }

    /// `get_feature_flag_result` with the context as JSON text, answering JSON text in the core's
    /// shape (see `FlagOutcome.to_json`). For hosts that already hold JSON.
    pub fn get_feature_flag_result_json(&self, key: String, context_json: String) -> ApiResult<String> {
        guard(|| {
            let ctx = hogflags::EvaluationContext::from_json(&context_json)?;
            let snapshot = self.snapshot.load();
            Ok(snapshot.evaluate(&key, &ctx).to_json_string(&key))
        })
    }

    /// `evaluate_flags` with the context as JSON text, answering a JSON array of outcomes.
    pub fn evaluate_flags_json(&self, context_json: String) -> ApiResult<String> {
        guard(|| {
            let ctx = hogflags::EvaluationContext::from_json(&context_json)?;
            let snapshot = self.snapshot.load();
            let all = snapshot.evaluate_all(&ctx);
            let items: Vec<hogflags::EvaluationJson> =
                all.iter().map(|(key, e)| hogflags::EvaluationJson { key, evaluation: e }).collect();
            Ok(serde_json::to_string(&items).unwrap_or_default())
        })
    }

    /// Number of loaded flags.
    pub fn flag_count(&self) -> i64 {
        to_i64(self.snapshot.load().len())
    }

    /// The loaded flags, in document order.
    pub fn flags(&self) -> Vec<FlagInfo> {
        self.snapshot.load().flags().map(FlagInfo::from_core).collect()
    }

    /// One loaded flag, if it is there.
    pub fn flag(&self, key: String) -> Option<FlagInfo> {
        self.snapshot.load().flag(&key).map(FlagInfo::from_core)
    }

    /// Flags of the current document that were not loaded, with the reason for each.
    pub fn skipped_flags(&self) -> Vec<SkippedFlag> {
        self.snapshot
            .load()
            .skipped()
            .iter()
            .map(|s| SkippedFlag { key: s.key.clone(), reason: s.reason.clone() })
            .collect()
    }

    /// Cohorts referenced by flags that could not be compiled.
    pub fn broken_cohorts(&self) -> Vec<SkippedCohort> {
        self.snapshot
            .load()
            .broken_cohorts()
            .iter()
            .map(|s| SkippedCohort { id: s.id.clone(), reason: s.reason.clone() })
            .collect()
    }

    /// Every property key any flag reads: pass only these from large property maps.
    pub fn property_keys(&self) -> PropertyKeys {
        PropertyKeys::from_core(self.snapshot.load().property_keys())
    }

    /// The document's `group_type_mapping` (index as text → group type name).
    pub fn group_type_mapping(&self) -> HashMap<String, String> {
        self.snapshot.load().group_type_mapping().clone()
    }

    /// Diagnostics for benchmarks: evaluates `key` (or, when `key` is `None`, every flag as
    /// `evaluate_flags` does) `iterations` times inside Rust, with no FFI crossing and no conversion of
    /// the outcome, and returns the total nanoseconds. Host benchmarks report their cost against it.
    pub fn time_native_evaluation(
        &self,
        key: Option<String>,
        context: EvaluationContext,
        iterations: i64,
    ) -> ApiResult<i64> {
        guard(|| {
            let ctx = context.into_core()?;
            let snapshot = self.snapshot.load();
            let start = Instant::now();
            for _ in 0..iterations.max(0) {
                match &key {
                    Some(key) => {
                        std::hint::black_box(snapshot.evaluate(std::hint::black_box(key), &ctx));
                    }
                    None => {
                        std::hint::black_box(snapshot.evaluate_all(&ctx));
                    }
                }
            }
            Ok(i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX))
        })
    }
}

/// Parses the context JSON form (`{"distinct_id", "person_properties", "groups", "group_properties",
/// "device_id", "now"}`) into the typed context, as the core reads it.
#[uniffi::export]
pub fn context_from_json(json: String) -> ApiResult<EvaluationContext> {
    guard(|| EvaluationContext::from_json(&json))
}

/// Parses JSON text into a `JsonValue`.
#[uniffi::export]
pub fn json_value_from_json(json: String) -> ApiResult<JsonValue> {
    guard(|| Ok(JsonValue::from_serde(&serde_json::from_str::<serde_json::Value>(&json)?)))
}

/// Serializes a `JsonValue` as compact JSON text (refuses NaN and the infinities).
#[uniffi::export]
pub fn json_value_to_json(value: JsonValue) -> ApiResult<String> {
    guard(|| Ok(value.into_serde(&mut String::from("value"))?.to_string()))
}

/// The version of hogflags.
#[uniffi::export]
pub fn hogflags_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
