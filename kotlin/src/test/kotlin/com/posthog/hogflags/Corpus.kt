package com.posthog.hogflags

import java.io.File

/** One case of the shared conformance corpus (tests/conformance, every .json file). */
data class CorpusCase(val file: String, val id: String, val flag: String, val contextJson: String, val expected: JsonValue) {
    val name: String get() = "$file/$id [$flag]"
}

data class CorpusSuite(val file: String, val definitionsJson: String, val cases: List<CorpusCase>)

/** The corpus, read with the core's JSON parser so numbers reach the engine exactly as written. */
object Corpus {
    val directory: File = File(System.getProperty("hogflags.corpus") ?: "../tests/conformance")

    /** The folder named by `HOGFLAGS_EXTRA_CORPUS` (e.g. the differential corpus), when set. */
    val extraDirectory: File? = System.getenv("HOGFLAGS_EXTRA_CORPUS")?.takeIf { it.isNotEmpty() }?.let(::File)

    val suites: List<CorpusSuite> by lazy {
        val files = listOfNotNull(directory, extraDirectory).flatMap { dir ->
            dir.listFiles { f -> f.isFile && f.name.endsWith(".json") }?.toList()
                ?: error("no corpus in ${dir.absolutePath}")
        }.sortedBy { it.name }
        files.map { f ->
            val doc = HogFlags.parseJson(f.readText()) as JsonValue.Object
            val cases = (doc.entries["cases"] as JsonValue.Array).values.map { c ->
                val o = (c as JsonValue.Object).entries
                CorpusCase(
                    f.name,
                    (o["id"] as JsonValue.String).value,
                    (o["flag"] as JsonValue.String).value,
                    HogFlags.toJson(o.getValue("context")),
                    o.getValue("expected"),
                )
            }
            CorpusSuite(f.name, HogFlags.toJson(doc.entries.getValue("definitions")), cases)
        }
    }

    val caseCount: Int get() = suites.sumOf { it.cases.size }

    private operator fun JsonValue.get(key: String): JsonValue? = (this as? JsonValue.Object)?.entries?.get(key)

    /** Compares an outcome with a case's `expected` as the Rust runner does; `null` when they agree. */
    fun difference(outcome: FlagOutcome, expected: JsonValue): String? {
        val kind = (expected["inconclusive"] as? JsonValue.String)?.value
        if (kind != null) {
            return when (outcome) {
                is FlagOutcome.Inconclusive ->
                    if (outcome.kind.wireName() == kind) null else "inconclusive ${outcome.kind.wireName()} (${outcome.detail}), want inconclusive $kind"
                is FlagOutcome.Decided -> "decided ${outcome.result.value} (${outcome.result.reason}), want inconclusive $kind"
            }
        }
        val r = (outcome as? FlagOutcome.Decided)?.result ?: return "$outcome, want $expected"
        val diffs = mutableListOf<String>()
        val value: JsonValue = when (val v = r.value) {
            is FlagValue.Bool -> JsonValue.Bool(v.value)
            is FlagValue.Variant -> JsonValue.String(v.key)
        }
        if (expected["value"] != value) diffs += "value $value, want ${expected["value"]}"
        expected["payload"]?.let { want ->
            val got = r.payload ?: JsonValue.Null
            if (got != want) diffs += "payload $got, want $want"
        }
        expected["reason"]?.let { reason ->
            if ((reason["code"] as? JsonValue.String)?.value != r.reason.code.wireName()) {
                diffs += "reason ${r.reason.code.wireName()}, want ${reason["code"]}"
            }
            reason["condition_index"]?.let { want ->
                val got: JsonValue = r.reason.conditionIndex?.let { JsonValue.Integer(it.toLong()) } ?: JsonValue.Null
                if (got != want) diffs += "condition_index $got, want $want"
            }
        }
        return if (diffs.isEmpty()) null else diffs.joinToString("; ")
    }
}
