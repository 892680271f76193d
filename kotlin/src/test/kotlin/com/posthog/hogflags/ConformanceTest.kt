package com.posthog.hogflags

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicContainer
import org.junit.jupiter.api.DynamicContainer.dynamicContainer
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance

/** Every case of the shared corpus, each as its own test, through every evaluation API. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConformanceTest {
    private val engines = HashMap<String, FlagsEngine>()

    private fun engine(suite: CorpusSuite): FlagsEngine = engines.getOrPut(suite.file) { FlagsEngine(suite.definitionsJson) }

    @AfterAll
    fun close() = engines.values.forEach { it.close() }

    private fun perCase(check: (FlagsEngine, CorpusCase) -> Unit): List<DynamicContainer> =
        Corpus.suites.map { suite ->
            dynamicContainer(suite.file, suite.cases.map { c -> dynamicTest(c.id) { check(engine(suite), c) } })
        }

    @Test
    fun corpusIsThereAndComplete() {
        assertTrue(Corpus.suites.isNotEmpty(), "no corpus files in ${Corpus.directory}")
        assertTrue(Corpus.caseCount > 0)
        assertEquals(Corpus.caseCount, Corpus.suites.flatMap { s -> s.cases.map { "${s.file}/${it.id}" } }.toSet().size, "case ids are unique")
    }

    /**
     * The typed API: `getFeatureFlagResult` against `expected`; `getFeatureFlag`, `isFeatureEnabled`,
     * `getFeatureFlagPayload`, `getAllFlags` and `evaluateFlags` agree with it.
     */
    @TestFactory
    fun typedApi() = perCase { engine, c ->
        val ctx = contextFromJson(c.contextJson)
        val outcome = engine.getFeatureFlagResult(c.flag, ctx)
        Corpus.difference(outcome, c.expected)?.let { throw AssertionError("${c.name}: $it") }
        assertEquals(outcome.valueOrNull, engine.getFeatureFlag(c.flag, ctx), "getFeatureFlag")
        assertEquals(outcome.valueOrNull?.isEnabled, engine.isFeatureEnabled(c.flag, ctx), "isFeatureEnabled")
        assertEquals(outcome.resultOrNull?.payload, engine.getFeatureFlagPayload(c.flag, ctx), "getFeatureFlagPayload")
        assertEquals(outcome.valueOrNull, engine.getAllFlags(ctx)[c.flag], "getAllFlags")
        if (engine.flag(c.flag) != null) {
            assertEquals(outcome, engine.evaluateFlags(ctx).first { it.key == c.flag }, "evaluateFlags")
        }
    }

    /** The JSON API gives the same outcome, in the core's JSON shape, single and bulk. */
    @TestFactory
    fun jsonApi() = perCase { engine, c ->
        val json = HogFlags.parseJson(engine.getFeatureFlagResultJson(c.flag, c.contextJson))
        val typed = engine.getFeatureFlagResult(c.flag, contextFromJson(c.contextJson))
        Corpus.difference(typed, c.expected)?.let { throw AssertionError("${c.name}: $it") }
        assertEquals(HogFlags.parseJson(typed.toJson()), json, "JSON API vs typed API")
        if (engine.flag(c.flag) != null) {
            val bulk = (HogFlags.parseJson(engine.evaluateFlagsJson(c.contextJson)) as JsonValue.Array).values
                .first { (it as JsonValue.Object).entries["key"] == JsonValue.String(c.flag) }
            assertEquals(json, bulk, "evaluateFlagsJson")
        }
    }

    /**
     * Contexts built on the JVM side from plain values (`Map<String, Any?>` with `Long`/`Double`/...,
     * through [ContextBuilder]) evaluate like the core's reading of the same JSON.
     */
    @TestFactory
    fun contextBuilder() = perCase { engine, c ->
        val core = contextFromJson(c.contextJson)
        val builder = HogFlags.context(core.distinctId)
            .personProperties(core.personProperties.mapValues { it.value.toAny() })
            .deviceId(core.deviceId)
            .now(core.now)
        core.groups.forEach { (type, key) -> builder.group(type, key) }
        core.groupProperties.forEach { (type, props) -> builder.groupProperties(type, props.mapValues { it.value.toAny() }) }
        val ctx = builder.build()
        assertEquals(core, ctx, "the builder rebuilds the same context")
        val outcome = engine.getFeatureFlagResult(c.flag, ctx)
        Corpus.difference(outcome, c.expected)?.let { throw AssertionError("${c.name}: $it") }
    }
}
