//! [`RemoteFlagsClient`]: remote mode for apps as a UniFFI object: one user's flags from `/flags`, cached
//! on disk, refreshed, with a change listener (mobile apps). Conversions only; the client is the core's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hogflags::client as core;

use crate::client::{
    api, client_value, core_context, with_listener, ClientConfig, ClientListener, ErrorInfo, FlagDetails, FlagLookup, TickOutcome,
};
use crate::error::{ApiResult, HogFlagsError};
use crate::guard;
use crate::types::{EvaluationContext, FlagValue, JsonValue};

/// Remote mode for apps: one user's flags from `/flags`, kept in memory and (with `cache_path`) on
/// disk, refreshed in the background; reads never wait for the network.
#[derive(uniffi::Object)]
pub struct RemoteFlagsClient {
    inner: core::RemoteClient,
}

#[uniffi::export]
impl RemoteFlagsClient {
    /// Creates the client for `context`'s user (loads that user's cached flags) and, in background
    /// mode, starts refreshing at once.
    #[uniffi::constructor]
    pub fn new(
        config: Arc<ClientConfig>,
        context: EvaluationContext,
        listener: Option<Arc<dyn ClientListener>>,
    ) -> ApiResult<Arc<Self>> {
        let ctx = core_context(context).map_err(HogFlagsError::from)?;
        let config = with_listener(config.get(), listener);
        Ok(Arc::new(RemoteFlagsClient { inner: api(core::RemoteClient::new(config, ctx))? }))
    }

    /// One flag from the last answer, with a deduplicated `$feature_flag_called` event.
    pub fn get_flag(&self, key: String) -> FlagLookup {
        FlagLookup::from_core(&key, &self.inner.get_flag(&key))
    }

    pub fn get_feature_flag(&self, key: String) -> Option<FlagValue> {
        self.inner.get_flag(&key).ok().map(|d| client_value(&d.value))
    }

    pub fn is_feature_enabled(&self, key: String) -> Option<bool> {
        self.inner.is_enabled(&key)
    }

    pub fn get_feature_flag_payload(&self, key: String) -> Option<JsonValue> {
        self.inner.all_flags().get(&key).and_then(|d| d.payload.as_ref().map(JsonValue::from_serde))
    }

    /// Every flag of the last answer (empty before the first one).
    pub fn all_flags(&self) -> HashMap<String, FlagDetails> {
        self.inner.all_flags().iter().map(|(k, d)| (k.clone(), FlagDetails::from_core(d))).collect()
    }

    pub fn is_loaded(&self) -> bool {
        self.inner.is_loaded()
    }

    /// Replaces the user; a refresh is scheduled at once (flags stay those of the last answer until it
    /// completes).
    pub fn set_context(&self, context: EvaluationContext) -> ApiResult<()> {
        guard(|| {
            self.inner.set_context(core_context(context)?);
            Ok(())
        })
    }

    /// Fetches the user's flags now and waits; returns the keys that changed. Blocks: call it off the
    /// main thread (the Swift and Kotlin layers offer `async`/`suspend` forms).
    pub fn refresh(&self) -> ApiResult<Vec<String>> {
        api(self.inner.refresh())
    }

    /// Waits until flags are loaded (network or cache).
    pub fn wait_until_ready(&self, timeout: Duration) -> ApiResult<()> {
        api(self.inner.wait_until_ready(timeout))
    }

    /// Manual mode: refreshes if due; says when to call again.
    pub fn tick(&self) -> ApiResult<TickOutcome> {
        Ok(TickOutcome::from_core(&api(self.inner.tick())?))
    }

    pub fn last_error(&self) -> Option<ErrorInfo> {
        self.inner.last_error().as_ref().map(ErrorInfo::from_remote)
    }

    /// Stops refreshing (bounded wait). Idempotent; reads keep working.
    pub fn shutdown(&self) {
        self.inner.shutdown()
    }
}

