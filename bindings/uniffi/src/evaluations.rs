//! [`FlagEvaluations`]: the core's batch-evaluation object (`hogflags::client::FlagEvaluations`) as a
//! UniFFI object. Evaluate once with `FlagsClient.evaluateFlags`, then branch on `isEnabled` /
//! `getFlag`: each read reports its `$feature_flag_called` event (deduplicated) through the client's
//! listener, so exposures are reported for the flags the code read. Conversions only.

use std::collections::HashMap;
use std::sync::Arc;

use hogflags::client as core;

use crate::client::{client_value, core_context, FlagsClient, Unresolved};
use crate::error::ApiResult;
use crate::guard;
use crate::types::{EvaluationContext, FlagValue, JsonValue};

/// The flags of one evaluation for one user, with the reads made of them. Thread-safe.
#[derive(uniffi::Object)]
pub struct FlagEvaluations {
    inner: core::FlagEvaluations,
}

impl FlagEvaluations {
    pub(crate) fn new(inner: core::FlagEvaluations) -> Arc<Self> {
        Arc::new(FlagEvaluations { inner })
    }
}

#[uniffi::export]
impl FlagEvaluations {
    /// The flag's value, `None` when this evaluation has none. A read: records the access and, with
    /// `send_event`, reports the deduplicated `$feature_flag_called` event (`flag_missing` for a key
    /// not evaluated).
    pub fn get_flag(&self, key: String, send_event: bool) -> Option<FlagValue> {
        self.inner.get_flag(&key, send_event).map(client_value)
    }

    /// Whether the flag is enabled; `default_value` when this evaluation has no value for it (a decided
    /// `false` stays `false`). A read, as `get_flag`.
    pub fn is_enabled(&self, key: String, default_value: bool, send_event: bool) -> bool {
        self.inner.is_enabled(&key, default_value, send_event)
    }

    /// The payload of the flag's value. Not a read.
    pub fn payload(&self, key: String) -> Option<JsonValue> {
        self.inner.payload(&key).map(JsonValue::from_serde)
    }

    /// The keys with a value, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.inner.keys().map(str::to_owned).collect()
    }

    /// The flags evaluated without a value, and why. Not a read.
    pub fn unresolved(&self) -> HashMap<String, Unresolved> {
        self.inner.unresolved().iter().map(|(k, u)| (k.clone(), Unresolved::from_core(u))).collect()
    }

    /// The keys read so far, sorted.
    pub fn accessed(&self) -> Vec<String> {
        self.inner.accessed()
    }

    /// A slice holding only the flags with a value read so far, for a captured event: no unresolved
    /// flags but those the server marked failed, the reads made so far kept, and reading a key it left out
    /// reports nothing.
    pub fn only_accessed(&self) -> Arc<FlagEvaluations> {
        FlagEvaluations::new(self.inner.only_accessed())
    }

    /// A slice holding only `keys` (as `only_accessed`; keys without a value are dropped, logged).
    pub fn only(&self, keys: Vec<String>) -> Arc<FlagEvaluations> {
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        FlagEvaluations::new(self.inner.only(&refs))
    }

    /// The properties a captured event carries for these flags: `$feature/<key>` and
    /// `$active_feature_flags`.
    pub fn event_properties(&self) -> HashMap<String, JsonValue> {
        self.inner.event_properties().iter().map(|(k, v)| (k.clone(), JsonValue::from_serde(v))).collect()
    }
}

#[uniffi::export]
impl FlagsClient {
    /// Evaluates every flag, or those of `flag_keys` (with one `/flags` call for the undecided ones unless
    /// `only_evaluate_locally`), into a `FlagEvaluations`: no event is sent until a flag is read.
    pub fn evaluate_flags(
        &self,
        context: EvaluationContext,
        flag_keys: Option<Vec<String>>,
        only_evaluate_locally: bool,
    ) -> ApiResult<Arc<FlagEvaluations>> {
        guard(|| {
            let keys: Option<Vec<&str>> = flag_keys.as_ref().map(|k| k.iter().map(String::as_str).collect());
            let opts = core::AllOptions { only_evaluate_locally, flag_keys: keys.as_deref() };
            Ok(FlagEvaluations::new(self.inner.evaluate_flags(&core_context(context)?, opts)))
        })
    }
}
