@file:JvmName("HogFlagsClients")

// The Kotlin/Java layer over the generated client objects: a listener with every method optional,
// `suspend` forms of the calls that wait for the network, and accessors on lookups.

package com.posthog.hogflags

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.time.Duration

/**
 * A [ClientListener] whose methods all do nothing: extend it (also from Java) and override what you
 * need. Called on the client's driver thread: return quickly.
 */
open class ClientListenerAdapter : ClientListener {
    override fun onFlagCalled(event: FlagCalledEvent) {}
    override fun onDefinitionsUpdated(update: DefinitionsUpdate) {}
    override fun onFlagsChanged(change: FlagsChanged) {}
    override fun onError(error: ErrorInfo) {}
}

/** Kotlin: `clientListener(onFlagsChanged = { refreshUi(it.changed) })`. */
fun clientListener(
    onFlagCalled: (FlagCalledEvent) -> Unit = {},
    onDefinitionsUpdated: (DefinitionsUpdate) -> Unit = {},
    onFlagsChanged: (FlagsChanged) -> Unit = {},
    onError: (ErrorInfo) -> Unit = {},
): ClientListener = object : ClientListener {
    override fun onFlagCalled(event: FlagCalledEvent) = onFlagCalled(event)
    override fun onDefinitionsUpdated(update: DefinitionsUpdate) = onDefinitionsUpdated(update)
    override fun onFlagsChanged(change: FlagsChanged) = onFlagsChanged(change)
    override fun onError(error: ErrorInfo) = onError(error)
}

/** The flag key. */
val FlagLookup.key: String
    get() = when (this) {
        is FlagLookup.Resolved -> details.key
        is FlagLookup.Unresolved -> key
    }

/** The resolved details, or `null`. */
val FlagLookup.detailsOrNull: FlagDetails?
    get() = (this as? FlagLookup.Resolved)?.details

/** The resolved value, or `null`. */
val FlagLookup.valueOrNull: FlagValue?
    get() = detailsOrNull?.value

/** Why the flag did not resolve, or `null` when it did. */
val FlagLookup.whyOrNull: Unresolved?
    get() = (this as? FlagLookup.Unresolved)?.why

/** One flag with the defaults: fall back to `/flags`, report a `$feature_flag_called` event. */
@Throws(HogFlagsException::class)
fun FlagsClient.getFlag(key: String, context: EvaluationContext): FlagLookup = getFlag(key, context, false, true)

/** Every flag, with the `/flags` fallback for undecided keys. */
@Throws(HogFlagsException::class)
fun FlagsClient.getAllFlags(context: EvaluationContext): AllFlagsResult = getAllFlags(context, false)

/** [FlagsClient.getFlag] on [Dispatchers.IO] (it may wait for `/flags`). */
suspend fun FlagsClient.getFlagSuspending(
    key: String,
    context: EvaluationContext,
    onlyEvaluateLocally: Boolean = false,
    sendEvent: Boolean = true,
): FlagLookup = withContext(Dispatchers.IO) { getFlag(key, context, onlyEvaluateLocally, sendEvent) }

suspend fun FlagsClient.getAllFlagsSuspending(context: EvaluationContext, onlyEvaluateLocally: Boolean = false): AllFlagsResult =
    withContext(Dispatchers.IO) { getAllFlags(context, onlyEvaluateLocally) }

suspend fun FlagsClient.reloadSuspending() = withContext(Dispatchers.IO) { reload() }

suspend fun FlagsClient.waitUntilReadySuspending(timeout: Duration) = withContext(Dispatchers.IO) { waitUntilReady(timeout) }

/** Fetches the user's flags now, on [Dispatchers.IO]; returns the keys that changed. */
suspend fun RemoteFlagsClient.refreshSuspending(): List<String> = withContext(Dispatchers.IO) { refresh() }

suspend fun RemoteFlagsClient.waitUntilReadySuspending(timeout: Duration) = withContext(Dispatchers.IO) { waitUntilReady(timeout) }
