package com.posthog.hogflags

import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.time.Duration
import java.util.Collections
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger

/** The networked clients against the local PostHog-compatible test server (tests/server). */
class ClientTest {
    private lateinit var server: TestServer
    private val cleanup = mutableListOf<() -> Unit>()

    /** Collects listener calls. */
    class Recorder : ClientListenerAdapter() {
        val called: MutableList<FlagCalledEvent> = Collections.synchronizedList(mutableListOf())
        val updates: MutableList<DefinitionsUpdate> = Collections.synchronizedList(mutableListOf())
        val changes: MutableList<FlagsChanged> = Collections.synchronizedList(mutableListOf())
        val errors: MutableList<ErrorInfo> = Collections.synchronizedList(mutableListOf())
        override fun onFlagCalled(event: FlagCalledEvent) { called += event }
        override fun onDefinitionsUpdated(update: DefinitionsUpdate) { updates += update }
        override fun onFlagsChanged(change: FlagsChanged) { changes += change }
        override fun onError(error: ErrorInfo) { errors += error }
    }

    @BeforeEach
    fun start() { server = TestServer() }

    @AfterEach
    fun stop() {
        cleanup.forEach { it() }
        server.close()
    }

    private fun config(host: String = server.url) = ClientConfig(TestServer.PROJECT_KEY)
        .secretKey(TestServer.SECRET_KEY).host(host).pollInterval(Duration.ofSeconds(60)).jitter(0.0)

    private fun local(config: ClientConfig, listener: ClientListener? = null) =
        FlagsClient(config, listener).also { c -> cleanup += { c.shutdown(); c.close() } }

    private fun remote(config: ClientConfig, context: EvaluationContext, listener: ClientListener? = null) =
        RemoteFlagsClient(config, context, listener).also { c -> cleanup += { c.shutdown(); c.close() } }

    private fun deadUrl(): String = TestServer().let { s -> s.url.also { s.close() } }

    private val pro = evaluationContext("user-1") { personProperty("plan", "pro") }

    @Test
    fun localClientLoadsEvaluatesLocallyAndReportsEvents() {
        val recorder = Recorder()
        val client = local(config(), recorder)
        client.waitUntilReady(Duration.ofSeconds(10))
        assertTrue(client.status().ready)
        assertEquals(4L, client.status().flagsLoaded)
        val beta = client.getFlag("beta", pro).detailsOrNull!!
        assertEquals(FlagValue.Bool(true), beta.value)
        assertEquals(FlagSource.LOCAL, beta.source)
        assertEquals("condition_match", beta.reason?.code)
        assertEquals(mapOf("color" to "blue"), beta.payload?.toAny())
        assertEquals(true, client.isFeatureEnabled("everyone", pro))
        assertEquals(FlagValue.Bool(false), client.getFeatureFlag("off", pro))
        assertEquals(4L, client.engine().flagCount())

        assertEquals(4L, recorder.updates.first().flags)
        assertFalse(recorder.updates.first().fromCache)
        val event = recorder.called.first { it.properties["\$feature_flag"] == JsonValue.String("beta") }
        assertEquals("\$feature_flag_called", event.event)
        assertEquals("user-1", event.distinctId)
        assertEquals(JsonValue.Bool(true), event.properties["\$feature_flag_response"])
        assertEquals(JsonValue.Bool(true), event.properties["locally_evaluated"])
        client.getFlag("beta", pro)
        assertEquals(1, recorder.called.count { it.properties["\$feature_flag"] == JsonValue.String("beta") }, "deduplicated")
    }

    @Test
    fun evaluateFlagsReportsExposuresOnlyForTheFlagsRead() {
        val recorder = Recorder()
        val client = local(config(), recorder)
        client.waitUntilReady(Duration.ofSeconds(10))
        val user = evaluationContext("user-batch")
        val ev = client.evaluateFlags(user, null, true)
        assertTrue(recorder.called.isEmpty(), "evaluating sends nothing")
        assertTrue(ev.isEnabled("everyone", false, true))
        assertFalse(ev.isEnabled("off", true, true), "a decided false wins over the default")
        assertTrue(ev.isEnabled("beta", true, true), "no value: the default")
        assertNull(ev.getFlag("nope", true))
        assertEquals(FlagValue.Bool(true), ev.getFlag("everyone", true)) // deduplicated
        assertNull(ev.getFlag("not-loaded", false)) // a read without its event
        fun prop(e: FlagCalledEvent, k: String) = e.properties[k]?.toAny()
        assertEquals(
            listOf(listOf("everyone", true, null), listOf("off", false, null),
                listOf("beta", null, "local_evaluation_inconclusive"), listOf("nope", null, "flag_missing")),
            recorder.called.map { listOf(prop(it, "\$feature_flag"), prop(it, "\$feature_flag_response"), prop(it, "\$feature_flag_error")) },
        )
        assertNull(ev.payload("beta"), "no value, no payload")
        assertEquals(4, recorder.called.size, "payload reads are not reads")
        val accessed = ev.onlyAccessed()
        assertEquals(listOf("everyone", "off"), accessed.keys())
        assertTrue(accessed.unresolved().isEmpty())
        val only = ev.only(listOf("off"))
        assertEquals(FlagValue.Bool(false), only.getFlag("off", true))
        assertNull(only.getFlag("everyone", true), "left out of the slice")
        assertEquals(4, recorder.called.size, "a slice reports nothing for a key it left out")
        assertEquals(true, ev.eventProperties()["\$feature/everyone"]?.toAny())
        for (o in listOf(ev, accessed, only)) o.close()
    }

    @Test
    fun undecidedFlagsFallBackToFlagsAndLocalAnswersWin() {
        val client = local(config())
        client.waitUntilReady(Duration.ofSeconds(10))
        server.control("/_control/persons", """{"distinct_id": "user-2", "properties": {"plan": "pro"}}""")
        val user = evaluationContext("user-2")
        val why = client.getFlag("beta", user, true, false).whyOrNull!!
        assertEquals("missing_property" to "plan", why.kind to why.detail)
        assertEquals("local_evaluation_inconclusive", why.errorCode)
        val remote = client.getFlag("beta", user).detailsOrNull!!
        assertEquals(FlagValue.Bool(true), remote.value)
        assertEquals(FlagSource.REMOTE, remote.source)
        val all = client.getAllFlags(user)
        assertTrue(all.remoteCalled)
        assertEquals(FlagSource.REMOTE, all.flags["beta"]?.source)
        assertEquals(FlagSource.LOCAL, all.flags["everyone"]?.source)
        val onlyLocal = client.getAllFlags(user, true)
        assertFalse(onlyLocal.remoteCalled)
        assertNull(onlyLocal.flags["beta"])
        assertEquals("missing_property" to "plan", onlyLocal.unresolved["beta"]?.let { it.kind to it.detail })
    }

    @Test
    fun maxRetryAfterBoundsRetryAfterOnItsOwn() {
        // A long backoff cap (which would be the default bound) and a short maxRetryAfter: polling resumes
        // within about a second.
        val client = local(config().pollInterval(Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(60)).maxRetryAfter(Duration.ofMillis(500)))
        client.waitUntilReady(Duration.ofSeconds(10))
        server.control("/_control/faults", """[{"target": "definitions", "kind": "status", "status": 429, "retry_after": 1e20}]""")
        assertEquals("rate_limited", assertThrows(HogFlagsException.Definitions::class.java) { client.reload() }.code)
        val before = client.status().fetches
        Thread.sleep(3000)
        assertTrue(client.status().fetches >= before + 3, "polling resumed after maxRetryAfter")
    }

    @Test
    fun reloadUnderRateLimitingIsBoundedAndMaxBackoffBoundsRetryAfter() {
        val client = local(config().pollInterval(Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(1)).definitionsTimeout(Duration.ofSeconds(1)))
        client.waitUntilReady(Duration.ofSeconds(10))
        server.control("/_control/faults", """[{"target": "definitions", "kind": "status", "status": 429, "retry_after": 1e20}]""")
        var t = System.nanoTime()
        val e = assertThrows(HogFlagsException.Definitions::class.java) { client.reload() }
        assertEquals("rate_limited", e.code)
        assertTrue(System.nanoTime() - t < 2_000_000_000L, "reload within definitionsTimeout + 1 s")
        val before = client.status().fetches
        t = System.nanoTime()
        assertThrows(HogFlagsException.Definitions::class.java) { client.reload() }
        assertTrue(System.nanoTime() - t < 200_000_000L, "a reload inside the Retry-After window returns at once")
        assertEquals(before, client.status().fetches)
        // Polling resumes after maxBackoff (1 s), not after the server's 1e20 s.
        Thread.sleep(3000)
        assertTrue(client.status().fetches >= before + 3L, "fetches ${client.status().fetches} vs $before")
    }

    @Test
    fun projectKeyOnlyClientEvaluatesEveryFlagThroughFlags() {
        val client = local(ClientConfig(TestServer.PROJECT_KEY).host(server.url))
        val t = System.nanoTime()
        assertThrows(HogFlagsException.NotReady::class.java) { client.waitUntilReady(Duration.ofSeconds(10)) }
        assertTrue(System.nanoTime() - t < 500_000_000L, "says at once that nothing will load")
        val beta = client.getFlag("beta", pro).detailsOrNull!!
        assertEquals(FlagValue.Bool(true), beta.value)
        assertEquals(FlagSource.REMOTE, beta.source)
        assertThrows(HogFlagsException.InvalidConfig::class.java) { client.reload() }
        assertFalse(client.status().ready)
    }

    @Test
    fun remoteConfigPayloadsAndContextSettings() {
        val client = local(config().evaluationContexts(listOf("web")).disableGeoip(false))
        client.waitUntilReady(Duration.ofSeconds(10))
        assertEquals(mapOf("color" to "blue"), client.remoteConfigPayload("beta")?.toAny())
        assertNull(client.remoteConfigPayload("everyone"))
        val keyless = local(ClientConfig(TestServer.PROJECT_KEY).host(server.url))
        assertThrows(HogFlagsException.InvalidConfig::class.java) { keyless.remoteConfigPayload("beta") }
        client.getFlag("no-such-flag", pro)
        val sent = server.stats()
        assertTrue(sent.contains("\"geoip_disable\":false"), sent)
        assertTrue(sent.contains("\"evaluation_contexts\":[\"web\"]"), sent)
    }

    @Test
    fun reloadPicksUpNewDefinitions() = runBlocking {
        val recorder = Recorder()
        val client = local(config(), recorder)
        client.waitUntilReadySuspending(Duration.ofSeconds(10))
        val user = evaluationContext("u")
        assertEquals("unknown_flag" to null, client.getFlag("new-flag", user, true, false).whyOrNull?.let { it.kind to it.detail })
        server.control(
            "/_control/definitions",
            """{"flags": [{"id": 9, "key": "new-flag", "active": true, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}}]}""",
        )
        client.reloadSuspending()
        assertEquals(FlagValue.Bool(true), client.getFlagSuspending("new-flag", user).valueOrNull)
        assertEquals(1L, client.status().flagsLoaded)
        assertEquals(1L, recorder.updates.last().flags)
    }

    @Test
    fun errorsAreTypedAndKeysNeverShow() {
        assertEquals("config", assertThrows(HogFlagsException.InvalidConfig::class.java) { FlagsClient(ClientConfig(""), null) }.code)
        assertEquals("config", assertThrows(HogFlagsException.InvalidConfig::class.java) { FlagsClient(ClientConfig("phc_x").secretKey("phc_y"), null) }.code)
        val recorder = Recorder()
        val bad = local(config().secretKey("phs_wrong"), recorder)
        val e = assertThrows(HogFlagsException.Definitions::class.java) { bad.waitUntilReady(Duration.ofSeconds(10)) }
        assertEquals("unauthorized", e.code)
        assertFalse(e.toString().contains("phs_wrong"), e.toString())
        assertEquals("unauthorized", bad.status().lastError?.code)
        assertEquals("unauthorized", recorder.errors.first().code)
        val text = config().secretKey("phs_very_secret").toString()
        assertFalse(text.contains("very_secret"), text)
        assertFalse(text.contains("test_project_key"), text)
    }

    @Test
    fun diskCacheServesWhenTheServerIsDown() {
        val path = Files.createTempDirectory("hogflags-kotlin").resolve("definitions.json").toString()
        local(config().cachePath(path)).apply { waitUntilReady(Duration.ofSeconds(10)); shutdown() }
        assertTrue(java.io.File(path).exists())
        val recorder = Recorder()
        val offline = local(config(deadUrl()).cachePath(path), recorder)
        offline.waitUntilReady(Duration.ofSeconds(5))
        assertEquals(FlagValue.Bool(true), offline.getFeatureFlag("everyone", evaluationContext("u")))
        assertTrue(recorder.updates.first().fromCache)
    }

    @Test
    fun threadsEvaluateWhileTheClientReloads() {
        val client = local(config())
        client.waitUntilReady(Duration.ofSeconds(10))
        val done = AtomicBoolean(false)
        val reloads = AtomicInteger()
        val reloader = Thread { while (!done.get()) { runCatching { client.reload() }.onSuccess { reloads.incrementAndGet() } } }
        reloader.start()
        val pool = Executors.newFixedThreadPool(8)
        try {
            val bad = pool.invokeAll((0 until 8).map {
                Callable { (0 until 300).count { client.getFlag("beta", pro, true, false).valueOrNull != FlagValue.Bool(true) } }
            }).sumOf { it.get() }
            assertEquals(0, bad)
        } finally {
            done.set(true)
            pool.shutdown()
            pool.awaitTermination(1, TimeUnit.MINUTES)
            reloader.join()
        }
        assertTrue(reloads.get() > 0)
    }

    @Test
    fun remoteClientLoadsAndServesOneUsersFlags() = runBlocking {
        val client = remote(config(), pro)
        client.waitUntilReadySuspending(Duration.ofSeconds(10))
        assertTrue(client.isLoaded())
        assertEquals(FlagValue.Bool(true), client.getFeatureFlag("beta"))
        assertEquals(true, client.isFeatureEnabled("everyone"))
        assertEquals(mapOf("color" to "blue"), client.getFeatureFlagPayload("beta")?.toAny())
        val details = client.getFlag("beta").detailsOrNull!!
        assertEquals(FlagSource.REMOTE, details.source)
        assertNotNull(details.requestId)
        val missing = client.getFlag("missing").whyOrNull!!
        assertEquals("flag_missing" to null, missing.kind to missing.detail)
        assertEquals("flag_missing", missing.errorCode)
        assertEquals(setOf("beta", "everyone", "checkout"), client.allFlags().keys)
    }

    @Test
    fun listenerIsCalledOncePerChange() = runBlocking {
        val recorder = Recorder()
        val client = remote(config(), evaluationContext("user-3"), recorder)
        client.waitUntilReady(Duration.ofSeconds(10))
        assertNull(client.getFeatureFlag("beta"))
        // The first answer is one change (its flags appeared); the listener runs on the driver thread.
        val deadline = System.nanoTime() + 5_000_000_000
        while (recorder.changes.isEmpty() && System.nanoTime() < deadline) Thread.sleep(10)
        assertEquals(1, recorder.changes.size)
        assertEquals(setOf("everyone", "checkout"), recorder.changes[0].changed.toSet())
        assertEquals(emptyList<String>(), client.refreshSuspending())
        assertEquals(1, recorder.changes.size)
        server.control("/_control/persons", """{"distinct_id": "user-3", "properties": {"plan": "pro"}}""")
        assertEquals(listOf("beta"), client.refreshSuspending())
        assertEquals(2, recorder.changes.size)
        assertEquals(listOf("beta"), recorder.changes[1].changed)
        assertEquals(FlagValue.Bool(true), recorder.changes[1].flags["beta"]?.value)
        assertEquals(FlagValue.Bool(true), client.getFeatureFlag("beta"))
        assertEquals(emptyList<String>(), client.refresh())
        assertEquals(2, recorder.changes.size)
    }

    @Test
    fun remoteErrorsAreTypedAndKeepTheLastFlags() {
        val client = remote(config(), pro)
        client.waitUntilReady(Duration.ofSeconds(10))
        server.control("/_control/faults", """[{"target": "flags", "kind": "status", "status": 500, "count": 5}]""")
        val e = assertThrows(HogFlagsException.Remote::class.java) { client.refresh() }
        assertEquals("api_error_500", e.code)
        assertEquals("api_error_500", client.lastError()?.code)
        assertEquals(FlagValue.Bool(true), client.getFeatureFlag("beta"))
    }

    @Test
    fun remoteCacheServesAtStartWhenTheServerIsDown() {
        val path = Files.createTempDirectory("hogflags-kotlin").resolve("remote.json").toString()
        remote(config().cachePath(path), pro).apply { waitUntilReady(Duration.ofSeconds(10)); shutdown() }
        val offline = remote(config(deadUrl()).cachePath(path), pro)
        assertTrue(offline.isLoaded(), "the cached flags are there at once")
        assertEquals(FlagValue.Bool(true), offline.getFeatureFlag("beta"))
        assertThrows(HogFlagsException.Remote::class.java) { offline.refresh() }
        assertEquals(FlagValue.Bool(true), offline.getFeatureFlag("beta"))
    }

    @Test
    fun coroutinesReadWhileTheRemoteClientRefreshes() = runBlocking {
        val client = remote(config(), pro)
        client.waitUntilReady(Duration.ofSeconds(10))
        val refresher = async { repeat(10) { client.refreshSuspending() }; 0 }
        val readers = (0 until 6).map {
            async(kotlinx.coroutines.Dispatchers.Default) { (0 until 500).count { client.getFeatureFlag("beta") != FlagValue.Bool(true) } }
        }
        assertEquals(0, (readers + refresher).awaitAll().sum())
    }
}
