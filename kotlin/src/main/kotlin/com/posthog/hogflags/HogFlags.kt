@file:JvmName("HogFlagsKt")

// The idiomatic Kotlin (and Java) layer over the generated bindings (src/generated/kotlin): plain JVM
// values in and out, a context builder, and accessors on outcomes. Conversions only: every answer, and
// every JSON text, comes from the Rust core.

package com.posthog.hogflags

import java.time.Instant

/** Static entry points, for Java as well as Kotlin. */
object HogFlags {
    /** An engine for a definitions document (the body of `GET /flags/definitions`). */
    @JvmStatic
    @Throws(HogFlagsException::class)
    fun engine(definitionsJson: String): FlagsEngine = FlagsEngine(definitionsJson)

    /** An engine with no flags (every evaluation is inconclusive `UNKNOWN_FLAG` until `updateDefinitions`). */
    @JvmStatic
    fun emptyEngine(): FlagsEngine = FlagsEngine.empty()

    /** A context builder for [distinctId]. */
    @JvmStatic
    fun context(distinctId: String): ContextBuilder = ContextBuilder(distinctId)

    /** Parses the context JSON form (`{"distinct_id", "person_properties", "groups", ...}`) as the core reads it. */
    @JvmStatic
    @Throws(HogFlagsException::class)
    fun contextFromJson(json: String): EvaluationContext = com.posthog.hogflags.contextFromJson(json)

    /**
     * A JVM value as a [JsonValue]: `null`; `Boolean`; `Byte`/`Short`/`Int`/`Long`/`UInt`/`ULong`
     * (integers); `Float`/`Double` (doubles); `BigInteger`/`BigDecimal` (an integer when it is one and
     * fits 64 bits, signed or unsigned; else a double);
     * `CharSequence`/`Char`; `Map` (keys as text), `Iterable`, arrays; a [JsonValue] as it is.
     *
     * @throws IllegalArgumentException for any other type.
     */
    @JvmStatic
    fun json(value: Any?): JsonValue = value.toJsonValue()

    /** Parses JSON text with the core's parser (integers and doubles stay distinct). */
    @JvmStatic
    @Throws(HogFlagsException::class)
    fun parseJson(text: String): JsonValue = jsonValueFromJson(text)

    /** Compact JSON text, written by the core. Throws `InvalidValue` for NaN or infinity. */
    @JvmStatic
    @Throws(HogFlagsException::class)
    fun toJson(value: JsonValue): String = jsonValueToJson(value)

    /** The version of the hogflags core. */
    @JvmStatic
    fun version(): String = hogflagsVersion()
}

/**
 * Builds an [EvaluationContext] from plain JVM values (see [HogFlags.json] for what converts):
 *
 * ```java
 * EvaluationContext ctx = HogFlags.context("user-1")
 *     .personProperty("plan", "pro")
 *     .group("company", "acme").groupProperty("company", "seats", 25)
 *     .build();
 * ```
 */
class ContextBuilder(private val distinctId: String) {
    private val personProperties = LinkedHashMap<String, JsonValue>()
    private val groups = LinkedHashMap<String, String>()
    private val groupProperties = LinkedHashMap<String, MutableMap<String, JsonValue>>()
    private var deviceId: String? = null
    private var now: Instant? = null

    fun personProperty(key: String, value: Any?) = apply { personProperties[key] = value.toJsonValue() }

    fun personProperties(properties: Map<String, *>) = apply {
        for ((k, v) in properties) personProperties[k] = v.toJsonValue()
    }

    /** The user belongs to the group [groupKey] of type [groupType] (e.g. `company` → `acme`). */
    fun group(groupType: String, groupKey: String) = apply { groups[groupType] = groupKey }

    fun groupProperty(groupType: String, key: String, value: Any?) = apply {
        groupProperties.getOrPut(groupType) { LinkedHashMap() }[key] = value.toJsonValue()
    }

    fun groupProperties(groupType: String, properties: Map<String, *>) = apply {
        val map = groupProperties.getOrPut(groupType) { LinkedHashMap() }
        for ((k, v) in properties) map[k] = v.toJsonValue()
    }

    /** The device id, for flags that bucket by device. */
    fun deviceId(deviceId: String?) = apply { this.deviceId = deviceId }

    /** Pins "now" for relative date filters (default: the wall clock). */
    fun now(now: Instant?) = apply { this.now = now }

    fun build(): EvaluationContext =
        EvaluationContext(distinctId, personProperties.toMap(), groups.toMap(), groupProperties.mapValues { it.value.toMap() }, deviceId, now)
}

/** Kotlin: `evaluationContext("user-1") { personProperty("plan", "pro") }`. */
fun evaluationContext(distinctId: String, block: ContextBuilder.() -> Unit = {}): EvaluationContext =
    ContextBuilder(distinctId).apply(block).build()

/** See [HogFlags.json]. */
fun Any?.toJsonValue(): JsonValue = when (this) {
    null -> JsonValue.Null
    is JsonValue -> this
    is Boolean -> JsonValue.Bool(this)
    is Byte, is Short, is Int, is Long -> JsonValue.Integer((this as Number).toLong())
    is Float, is Double -> JsonValue.Double((this as Number).toDouble())
    is ULong -> if (this <= Long.MAX_VALUE.toULong()) JsonValue.Integer(this.toLong()) else JsonValue.Unsigned(this)
    is UInt -> JsonValue.Integer(this.toLong())
    is java.math.BigInteger -> when {
        this.bitLength() < 64 -> JsonValue.Integer(this.toLong())
        this.signum() > 0 && this.bitLength() == 64 -> JsonValue.Unsigned(this.toLong().toULong())
        else -> JsonValue.Double(this.toDouble())
    }
    is java.math.BigDecimal ->
        try {
            this.toBigIntegerExact().toJsonValue()
        } catch (e: ArithmeticException) {
            JsonValue.Double(this.toDouble())
        }
    is CharSequence -> JsonValue.String(this.toString())
    is Char -> JsonValue.String(this.toString())
    is Map<*, *> -> JsonValue.Object(this.entries.associate { (k, v) -> k.toString() to v.toJsonValue() })
    is Iterable<*> -> JsonValue.Array(this.map { it.toJsonValue() })
    is Array<*> -> JsonValue.Array(this.map { it.toJsonValue() })
    is IntArray -> JsonValue.Array(this.map { JsonValue.Integer(it.toLong()) })
    is LongArray -> JsonValue.Array(this.map { JsonValue.Integer(it) })
    is DoubleArray -> JsonValue.Array(this.map { JsonValue.Double(it) })
    is BooleanArray -> JsonValue.Array(this.map { JsonValue.Bool(it) })
    else -> throw IllegalArgumentException("cannot convert ${this.javaClass.name} to a JSON value")
}

/**
 * The plain JVM value: `null`, `Boolean`, `Long`, `Double`, `String`, `List<Any?>`, `Map<String, Any?>`;
 * `BigInteger` for a `Unsigned` (an integer above `Long.MAX_VALUE`).
 */
fun JsonValue.toAny(): Any? = when (this) {
    is JsonValue.Null -> null
    is JsonValue.Bool -> value
    is JsonValue.Integer -> value
    is JsonValue.Unsigned -> java.math.BigInteger(value.toString())
    is JsonValue.Double -> value
    is JsonValue.String -> value
    is JsonValue.Array -> values.map { it.toAny() }
    is JsonValue.Object -> entries.mapValues { it.value.toAny() }
}

/** Compact JSON text, written by the core. */
@Throws(HogFlagsException::class)
fun JsonValue.toJson(): String = jsonValueToJson(this)

/** `true` for `true` and for every variant. */
val FlagValue.isEnabled: Boolean
    get() = !(this is FlagValue.Bool && !this.value)

/** The variant key, when the value is one. */
val FlagValue.variant: String?
    get() = (this as? FlagValue.Variant)?.key

/** `true`/`false` as `Boolean`, a variant as its key (the shape PostHog SDKs return). */
fun FlagValue.toAny(): Any = when (this) {
    is FlagValue.Bool -> value
    is FlagValue.Variant -> key
}

/** The flag key. */
val FlagOutcome.key: String
    get() = when (this) {
        is FlagOutcome.Decided -> result.key
        is FlagOutcome.Inconclusive -> key
    }

/** The decided result, or `null` when inconclusive. */
val FlagOutcome.resultOrNull: FlagResult?
    get() = (this as? FlagOutcome.Decided)?.result

/** The decided value, or `null` when inconclusive. */
val FlagOutcome.valueOrNull: FlagValue?
    get() = resultOrNull?.value

val FlagOutcome.isDecided: Boolean
    get() = this is FlagOutcome.Decided

/** Why local evaluation could not decide, or `null` when decided. */
val FlagOutcome.inconclusiveKindOrNull: InconclusiveKind?
    get() = (this as? FlagOutcome.Inconclusive)?.kind

/** Every loaded flag's outcome, keyed by flag key (document order). */
@Throws(HogFlagsException::class)
fun FlagsEngine.evaluateFlagsByKey(context: EvaluationContext): Map<String, FlagOutcome> =
    evaluateFlags(context).associateBy { it.key }
