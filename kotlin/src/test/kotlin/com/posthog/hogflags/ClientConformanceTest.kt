package com.posthog.hogflags

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.time.Duration
import java.util.Collections

/**
 * The client conformance corpus (tests/client/cases.json; see the README there) through [FlagsClient]
 * against the test server: the answers, the `/flags` requests each call makes, the `$feature_flag_called`
 * events and the configuration errors, as every binding checks them (the reference runner is
 * core/tests/client_conformance.rs). One test per case.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientConformanceTest {
    companion object {
        /**
         * tests/client/cases.json, found from the repository folder as [TestServer] finds tests/server
         * (`HOGFLAGS_CLIENT_CORPUS` names another file).
         */
        val file: File = System.getenv("HOGFLAGS_CLIENT_CORPUS")?.takeIf { it.isNotEmpty() }?.let(::File)
            ?: File(TestServer.repository, "tests/client/cases.json")

        /** Read with the core's JSON parser, so values compare exactly as the core writes them. */
        val corpus: Map<String, JsonValue> by lazy { obj(HogFlags.parseJson(file.readText())) }

        private fun obj(v: JsonValue?): Map<String, JsonValue> = (v as? JsonValue.Object)?.entries ?: emptyMap()
        private fun arr(v: JsonValue?): List<JsonValue> = (v as? JsonValue.Array)?.values ?: emptyList()
        private fun str(v: JsonValue?): String? = (v as? JsonValue.String)?.value
        private fun bool(v: JsonValue?): Boolean? = (v as? JsonValue.Bool)?.value

        private fun json(v: JsonValue): String = HogFlags.toJson(v)
        private fun jsonObject(vararg entries: Pair<String, JsonValue>) = JsonValue.Object(linkedMapOf(*entries))
        private fun string(s: String?): JsonValue = s?.let { JsonValue.String(it) } ?: JsonValue.Null

        /** The code a configuration (or other) error carries, as the corpus's `expect_error` names it. */
        fun codeOf(e: HogFlagsException): String = when (e) {
            is HogFlagsException.InvalidConfig -> e.code
            is HogFlagsException.Definitions -> e.code
            is HogFlagsException.Remote -> e.code
            is HogFlagsException.Usage -> e.code
            else -> e.javaClass.simpleName
        }

        /** Whether `got` has every field of `expected` with the same value (objects compared field by field). */
        fun matches(expected: JsonValue, got: JsonValue?): Boolean = when (expected) {
            is JsonValue.Object -> got is JsonValue.Object &&
                expected.entries.all { (k, v) -> matches(v, got.entries[k] ?: JsonValue.Null) }
            else -> expected == (got ?: JsonValue.Null)
        }

        private fun sortedKeys(v: JsonValue): JsonValue =
            JsonValue.Array(arr(v).sortedBy { str(it) })

        private fun value(v: FlagValue): JsonValue = when (v) {
            is FlagValue.Bool -> JsonValue.Bool(v.value)
            is FlagValue.Variant -> JsonValue.String(v.key)
        }

        private fun unresolved(u: Unresolved): JsonValue = jsonObject("kind" to JsonValue.String(u.kind), "detail" to string(u.detail))

        private fun allJson(r: AllFlagsResult): JsonValue = jsonObject(
            "flags" to JsonValue.Object(r.flags.mapValues { value(it.value.value) }),
            "unresolved" to JsonValue.Object(r.unresolved.mapValues { unresolved(it.value) }),
        )

        /** The call's context: its `distinct_id` and `person_properties`, read by the core. */
        private fun context(call: Map<String, JsonValue>): EvaluationContext {
            val ctx = linkedMapOf("distinct_id" to call.getValue("distinct_id"))
            call["person_properties"]?.let { ctx["person_properties"] = it }
            return HogFlags.contextFromJson(json(JsonValue.Object(ctx)))
        }
    }

    private lateinit var server: TestServer

    @BeforeAll
    fun start() { server = TestServer() }

    @AfterAll
    fun stop() = server.close()

    private fun stats(): Map<String, JsonValue> = obj(HogFlags.parseJson(server.stats()))

    private fun flagsRequests(): Long = (stats()["flags_requests"] as JsonValue.Integer).value

    /** The `/flags` requests since `before`, as the corpus describes them: the count, the last one's keys and properties. */
    private fun requestsMade(before: Long): JsonValue {
        val s = stats()
        val body = obj(s["last_flags_request"])
        val keys = body["flag_keys_to_evaluate"]
        return jsonObject(
            "count" to JsonValue.Integer((s["flags_requests"] as JsonValue.Integer).value - before),
            "flag_keys" to if (keys is JsonValue.Array) sortedKeys(keys) else JsonValue.Null,
            "person_properties" to (body["person_properties"] ?: JsonValue.Null),
        )
    }

    private fun makeClient(case: Map<String, JsonValue>, listener: ClientListener): FlagsClient {
        val opts = obj(case["client"])
        var config = ClientConfig(TestServer.PROJECT_KEY).host(server.url)
            .pollInterval(Duration.ofMillis(200)).jitter(0.0)
            .remoteTimeout(Duration.ofSeconds(1)).useSystemProxy(false)
        // Absent: the test secret; null: the project key only; a string: that key.
        when (val secret = opts["secret_key"]) {
            null -> config = config.secretKey(TestServer.SECRET_KEY)
            is JsonValue.Null -> {}
            else -> config = config.secretKey(str(secret) ?: error("client.secret_key: $secret"))
        }
        bool(opts["only_evaluate_locally"])?.let { config = config.onlyEvaluateLocally(it) }
        return FlagsClient(config, listener)
    }

    private fun runCall(client: FlagsClient, call: Map<String, JsonValue>): JsonValue {
        val ctx = context(call)
        val onlyLocal = bool(call["only_evaluate_locally"]) ?: false
        return when (val kind = str(call["call"])) {
            "flag" -> when (val lookup = client.getFlag(str(call["key"])!!, ctx, onlyLocal, true)) {
                is FlagLookup.Resolved -> jsonObject(
                    "value" to value(lookup.details.value),
                    "source" to JsonValue.String(if (lookup.details.source == FlagSource.LOCAL) "local" else "remote"),
                )
                is FlagLookup.Unresolved -> unresolved(lookup.why)
            }
            "all" -> {
                val keys = call["flag_keys"]
                if (keys is JsonValue.Array) allJson(client.getFlags(ctx, keys.values.map { str(it)!! }, onlyLocal))
                else allJson(client.getAllFlags(ctx, onlyLocal))
            }
            else -> error("unknown call $kind")
        }
    }

    /** Runs one case; returns what differed (empty when it passed). */
    private fun runCase(case: Map<String, JsonValue>): List<String> {
        val failures = mutableListOf<String>()
        server.control("/_control/reset")
        server.control("/_control/definitions", json(case["definitions"] ?: corpus.getValue("definitions")))
        for ((id, props) in obj(corpus["persons"])) {
            server.control("/_control/persons", json(jsonObject("distinct_id" to JsonValue.String(id), "properties" to props)))
        }
        if (bool(case["quota_limited"]) == true) server.control("/_control/quota_limited", """{"enabled": true}""")

        val events: MutableList<FlagCalledEvent> = Collections.synchronizedList(mutableListOf())
        val listener = clientListener(onFlagCalled = { events += it })
        val expectError = case["expect_error"]
        val client = try {
            makeClient(case, listener)
        } catch (e: HogFlagsException) {
            if (expectError == null) return listOf("creating the client failed: ${codeOf(e)} ($e)")
            if (codeOf(e) != str(expectError)) failures += "error ${codeOf(e)} ($e), expected ${json(expectError)}"
            return failures
        }
        try {
            if (expectError != null) return listOf("expected error ${json(expectError)}, the client was created")
            if (obj(case["client"])["secret_key"] !is JsonValue.Null) client.waitUntilReady(Duration.ofSeconds(5))
            val faults = arr(case["faults"])
            if (faults.isNotEmpty()) server.control("/_control/faults", json(JsonValue.Array(faults)))
            for ((i, c) in arr(case["calls"]).withIndex()) {
                val call = obj(c)
                val what = "call $i (${json(c)})"
                val before = flagsRequests()
                events.clear()
                val got = try {
                    runCall(client, call)
                } catch (e: HogFlagsException) {
                    failures += "$what: threw $e"
                    continue
                }
                val expected = call.getValue("expect")
                if (got != expected) failures += "$what: answer ${json(got)}, expected ${json(expected)}"

                val want = obj(call["expect_requests"]).toMutableMap()
                want["flag_keys"]?.let { if (it is JsonValue.Array) want["flag_keys"] = sortedKeys(it) }
                val made = requestsMade(before)
                if (!matches(JsonValue.Object(want), made)) {
                    failures += "$what: /flags requests ${json(made)}, expected ${json(JsonValue.Object(want))}"
                }

                call["expect_events"]?.let { expectedEvents ->
                    // Listeners are called synchronously, on the calling thread, before the call returns.
                    val gotEvents = JsonValue.Array(synchronized(events) { events.toList() }
                        .filter { it.event == "\$feature_flag_called" }
                        .map { e ->
                            jsonObject(
                                "flag" to (e.properties["\$feature_flag"] ?: JsonValue.Null),
                                "response" to (e.properties["\$feature_flag_response"] ?: JsonValue.Null),
                                "error" to (e.properties["\$feature_flag_error"] ?: JsonValue.Null),
                            )
                        })
                    if (gotEvents != expectedEvents) failures += "$what: events ${json(gotEvents)}, expected ${json(expectedEvents)}"
                }
            }
        } catch (e: HogFlagsException) {
            failures += "threw $e"
        } finally {
            client.shutdown()
            client.close()
        }
        return failures
    }

    @Test
    fun corpusIsThere() {
        assertTrue(file.isFile, "no client corpus at ${file.absolutePath}")
        assertTrue(arr(corpus["cases"]).isNotEmpty(), "no cases in ${file.absolutePath}")
    }

    @TestFactory
    fun clientCorpus(): List<DynamicTest> = arr(corpus["cases"]).mapIndexed { i, c ->
        val case = obj(c)
        val name = str(case["name"]) ?: "case $i"
        dynamicTest(name) {
            val failures = runCase(case)
            if (failures.isNotEmpty()) {
                throw AssertionError("client corpus case \"$name\": ${failures.size} expectation(s) failed:\n  " + failures.joinToString("\n  "))
            }
        }
    }
}
