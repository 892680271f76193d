package com.posthog.hogflags

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.time.Instant

/** A small document exercising each part of the API. */
val DEFINITIONS = """
{"flags": [
  {"id": 1, "key": "beta", "version": 3, "active": true,
   "filters": {"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person", "operator": "exact"}],
                           "rollout_percentage": 100}],
               "payloads": {"true": "{\"color\": \"blue\", \"limits\": [1, 2.5]}"}}},
  {"id": 2, "key": "layout", "active": true,
   "filters": {"groups": [{"properties": [], "rollout_percentage": 100}],
               "multivariate": {"variants": [{"key": "wide", "rollout_percentage": 100}]},
               "payloads": {"wide": "42"}}},
  {"id": 3, "key": "off", "active": false, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}},
  {"id": 4, "key": "recent", "active": true,
   "filters": {"groups": [{"properties": [{"key": "signup", "value": "-7d", "type": "person", "operator": "is_date_after"}],
                           "rollout_percentage": 100}]}},
  {"id": 5, "key": "company-flag", "active": true,
   "filters": {"aggregation_group_type_index": 0,
               "groups": [{"properties": [{"key": "seats", "value": 10, "type": "group", "group_type_index": 0, "operator": "gt"}],
                           "rollout_percentage": 100}]}},
  {"id": 6, "key": "broken", "active": true, "filters": {"groups": "not a list"}}
 ],
 "group_type_mapping": {"0": "company"}}
"""

class EngineTest {
    private val engine = FlagsEngine(DEFINITIONS)
    private val pro = evaluationContext("user-1") { personProperty("plan", "pro") }

    @Test
    fun decidedResultCarriesValueReasonPayloadAndIds() {
        val r = engine.getFeatureFlagResult("beta", pro).resultOrNull
        assertNotNull(r)
        r!!
        assertEquals("beta", r.key)
        assertEquals(FlagValue.Bool(true), r.value)
        assertTrue(r.enabled)
        assertNull(r.variant)
        assertEquals(ReasonCode.CONDITION_MATCH, r.reason.code)
        assertEquals(0, r.reason.conditionIndex)
        assertEquals("Matched condition set 1", r.reason.description)
        assertEquals(1L, r.flagId)
        assertEquals(3L, r.version)
        assertEquals(mapOf("color" to "blue", "limits" to listOf(1L, 2.5)), r.payload?.toAny())
        assertEquals(true, engine.isFeatureEnabled("beta", pro))
        assertEquals(true, engine.getFeatureFlag("beta", pro)?.toAny())

        val free = evaluationContext("user-1") { personProperty("plan", "free") }
        val no = engine.getFeatureFlagResult("beta", free).resultOrNull!!
        assertEquals(FlagValue.Bool(false), no.value)
        assertEquals(ReasonCode.NO_CONDITION_MATCH, no.reason.code)
        assertNull(engine.getFeatureFlagPayload("beta", free))
    }

    @Test
    fun variantsAndPayloads() {
        val layout = engine.getFeatureFlag("layout", pro)!!
        assertEquals(FlagValue.Variant("wide"), layout)
        assertEquals("wide", layout.variant)
        assertTrue(layout.isEnabled)
        assertEquals(JsonValue.Integer(42), engine.getFeatureFlagPayload("layout", pro))
        assertEquals("{\"color\":\"blue\",\"limits\":[1,2.5]}", engine.getFeatureFlagPayload("beta", pro)!!.toJson())
    }

    @Test
    fun inactiveFlagIsFalseWithFlagDisabled() {
        val r = engine.getFeatureFlagResult("off", evaluationContext("u")).resultOrNull!!
        assertEquals(FlagValue.Bool(false), r.value)
        assertFalse(r.enabled)
        assertEquals(ReasonCode.FLAG_DISABLED, r.reason.code)
        assertNull(r.reason.conditionIndex)
    }

    @Test
    fun inconclusiveOutcomesNameTheirKindAndDetail() {
        val ctx = evaluationContext("user-1")
        val missing = engine.getFeatureFlagResult("beta", ctx)
        assertEquals(FlagOutcome.Inconclusive("beta", InconclusiveKind.MISSING_PROPERTY, "plan"), missing)
        assertEquals("missing_property", missing.inconclusiveKindOrNull?.wireName())
        assertNull(engine.getFeatureFlag("beta", ctx))
        assertNull(engine.isFeatureEnabled("beta", ctx))
        assertNull(engine.getFeatureFlagPayload("beta", ctx))
        assertEquals(InconclusiveKind.UNKNOWN_FLAG, engine.getFeatureFlagResult("nope", ctx).inconclusiveKindOrNull)
        // The flag that failed to compile is reported and unknown; the rest of the document loaded.
        assertEquals(InconclusiveKind.UNKNOWN_FLAG, engine.getFeatureFlagResult("broken", ctx).inconclusiveKindOrNull)
    }

    @Test
    fun groupsAndGroupProperties() {
        val noGroup = engine.getFeatureFlagResult("company-flag", evaluationContext("u")).resultOrNull!!
        assertEquals(FlagValue.Bool(false), noGroup.value)
        assertEquals(ReasonCode.NO_GROUP_TYPE, noGroup.reason.code)
        val big = HogFlags.context("u").group("company", "acme").groupProperty("company", "seats", 25).build()
        assertEquals(FlagValue.Bool(true), engine.getFeatureFlag("company-flag", big))
        val small = HogFlags.context("u").group("company", "acme").groupProperties("company", mapOf("seats" to 5)).build()
        assertEquals(FlagValue.Bool(false), engine.getFeatureFlag("company-flag", small))
    }

    @Test
    fun nowPinsTheClockForRelativeDates() {
        fun at(now: String) = evaluationContext("u") { personProperty("signup", "2026-01-10T00:00:00Z"); now(Instant.parse(now)) }
        assertEquals(FlagValue.Bool(true), engine.getFeatureFlag("recent", at("2026-01-15T12:00:00Z")))
        assertEquals(FlagValue.Bool(false), engine.getFeatureFlag("recent", at("2026-03-01T00:00:00Z")))
    }

    @Test
    fun bulkApisCoverEveryLoadedFlagInDocumentOrder() {
        val outcomes = engine.evaluateFlags(pro)
        assertEquals(listOf("beta", "layout", "off", "recent", "company-flag"), outcomes.map { it.key })
        assertEquals(InconclusiveKind.MISSING_PROPERTY, outcomes[3].inconclusiveKindOrNull)
        assertEquals(
            mapOf("beta" to true, "layout" to "wide", "off" to false, "company-flag" to false),
            engine.getAllFlags(pro).mapValues { it.value.toAny() },
        )
        assertEquals(FlagValue.Variant("wide"), engine.evaluateFlagsByKey(pro)["layout"]?.valueOrNull)
    }

    @Test
    fun documentFacts() {
        assertEquals(5L, engine.flagCount())
        assertEquals(listOf("beta", "layout", "off", "recent", "company-flag"), engine.flags().map { it.key })
        val off = engine.flag("off")!!
        assertFalse(off.active)
        assertEquals(3L, off.id)
        assertNull(engine.flag("broken"))
        assertEquals(listOf("broken"), engine.skippedFlags().map { it.key })
        assertTrue(engine.skippedFlags()[0].reason.isNotEmpty())
        assertTrue(engine.brokenCohorts().isEmpty())
        assertEquals(listOf("plan", "signup"), engine.propertyKeys().person)
        assertEquals(mapOf("company" to listOf("seats")), engine.propertyKeys().groups)
        assertEquals(mapOf("0" to "company"), engine.groupTypeMapping())
        assertTrue(HogFlags.version().isNotEmpty())
    }

    @Test
    fun updateDefinitionsSwapsAndAFailedUpdateKeepsTheOldOnes() {
        HogFlags.emptyEngine().use { e ->
            assertEquals(0L, e.flagCount())
            assertEquals(InconclusiveKind.UNKNOWN_FLAG, e.getFeatureFlagResult("beta", pro).inconclusiveKindOrNull)
            e.updateDefinitions(DEFINITIONS)
            assertEquals(FlagValue.Bool(true), e.getFeatureFlag("beta", pro))
            assertThrows(HogFlagsException.InvalidDefinitions::class.java) { e.updateDefinitions("{\"flags\": 7}") }
            assertEquals(5L, e.flagCount())
            assertEquals(FlagValue.Bool(true), e.getFeatureFlag("beta", pro))
        }
    }

    @Test
    fun badInputSurfacesAsTypedExceptions() {
        val bad = assertThrows(HogFlagsException.InvalidDefinitions::class.java) { FlagsEngine("not json") }
        assertTrue(bad.reason.isNotEmpty())
        assertTrue(bad.toString().startsWith("invalid definitions:"), bad.toString())
        assertThrows(HogFlagsException.InvalidContext::class.java) {
            engine.getFeatureFlagResultJson("beta", "{\"distinct_id\": true}")
        }
        assertThrows(HogFlagsException.InvalidContext::class.java) { engine.evaluateFlagsJson("{\"user\": 1}") }
        assertThrows(HogFlagsException.InvalidContext::class.java) { HogFlags.contextFromJson("[") }
        val nan = evaluationContext("u") { personProperty("score", mapOf("a" to listOf(1, Double.NaN))) }
        val e = assertThrows(HogFlagsException.InvalidValue::class.java) { engine.getFeatureFlag("beta", nan) }
        assertEquals("person_properties.score.a[1]", e.path)
        assertThrows(HogFlagsException.InvalidJson::class.java) { HogFlags.parseJson("{") }
        assertThrows(HogFlagsException.InvalidValue::class.java) { HogFlags.toJson(JsonValue.Double(Double.POSITIVE_INFINITY)) }
        assertThrows(IllegalArgumentException::class.java) { HogFlags.json(Any()) }
    }

    @Test
    fun contextFromJsonReadsIdentifiersAsTheCoreDoes() {
        val ctx = HogFlags.contextFromJson(
            """{"distinct_id": 42, "groups": {"company": 7, "team": true}, "group_properties": {"company": {"seats": 3}},
                "person_properties": {"n": 1.0, "m": 1}, "device_id": "d", "now": "2026-01-15T12:00:00Z"}""",
        )
        assertEquals("42", ctx.distinctId)
        assertEquals(mapOf("company" to "7"), ctx.groups)
        assertEquals(mapOf("company" to mapOf("seats" to JsonValue.Integer(3))), ctx.groupProperties)
        assertEquals(mapOf("n" to JsonValue.Double(1.0), "m" to JsonValue.Integer(1)), ctx.personProperties)
        assertEquals("d", ctx.deviceId)
        assertEquals(Instant.parse("2026-01-15T12:00:00Z"), ctx.now)
    }

    @Test
    fun jvmValuesConvertToJsonAndBack() {
        val v = HogFlags.json(mapOf("a" to listOf(1, 2.5, "x", true, null), "big" to java.math.BigInteger.TEN.pow(30)))
        assertEquals("{\"a\":[1,2.5,\"x\",true,null],\"big\":1e+30}", v.toJson())
        assertEquals(v, HogFlags.parseJson(v.toJson()))
        assertEquals(mapOf("a" to listOf(1L, 2.5, "x", true, null), "big" to 1e30), v.toAny())
        assertEquals(JsonValue.Integer(7), HogFlags.json(java.math.BigDecimal("7.000")))
        assertEquals(JsonValue.Array(listOf(JsonValue.Integer(1), JsonValue.Integer(2))), HogFlags.json(intArrayOf(1, 2)))
        val max = java.math.BigInteger("18446744073709551615")
        assertEquals(JsonValue.Unsigned(ULong.MAX_VALUE), HogFlags.json(max))
        assertEquals("[18446744073709551615,-9223372036854775808]", HogFlags.json(listOf(max, Long.MIN_VALUE)).toJson())
        assertEquals(JsonValue.Unsigned(ULong.MAX_VALUE), HogFlags.parseJson("18446744073709551615"))
        assertEquals(max, HogFlags.parseJson("18446744073709551615").toAny())
        assertEquals("condition_match", ReasonCode.CONDITION_MATCH.wireName())
        assertEquals(9, InconclusiveKind.entries.size)
    }
}
