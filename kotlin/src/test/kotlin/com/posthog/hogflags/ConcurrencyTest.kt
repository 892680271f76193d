package com.posthog.hogflags

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicLong

/** One engine shared by many threads, while its definitions are being replaced. */
class ConcurrencyTest {
    @Test
    fun threadsEvaluateOneEngineWhileDefinitionsAreReplaced() {
        val suite = Corpus.suites.maxBy { it.cases.size }
        FlagsEngine(suite.definitionsJson).use { engine ->
            // Each case's outcome, computed once, sequentially.
            val expected = suite.cases.map { c ->
                val ctx = contextFromJson(c.contextJson)
                Triple(c.flag, ctx, engine.getFeatureFlagResult(c.flag, ctx))
            }
            val done = AtomicBoolean(false)
            val updates = AtomicLong()
            // Replaces the definitions with the same document again and again: readers must never see a
            // torn or empty snapshot.
            val updater = Thread {
                while (!done.get()) {
                    engine.updateDefinitions(suite.definitionsJson)
                    updates.incrementAndGet()
                }
            }
            updater.start()
            val threads = 8
            val pool = Executors.newFixedThreadPool(threads)
            try {
                val results = pool.invokeAll((0 until threads).map { t ->
                    Callable {
                        var bad = 0
                        for (i in expected.indices) {
                            val (flag, ctx, want) = expected[(i + t * 97) % expected.size]
                            if (engine.getFeatureFlagResult(flag, ctx) != want) bad++
                            // The bulk path on the same engine at the same time.
                            if (i % 10 == t && engine.evaluateFlags(ctx).first { it.key == flag } != want) bad++
                        }
                        bad
                    }
                })
                assertEquals(0, results.sumOf { it.get() }, "outcomes that differed under concurrency")
            } finally {
                done.set(true)
                pool.shutdown()
                pool.awaitTermination(1, TimeUnit.MINUTES)
                updater.join()
            }
            assert(updates.get() > 0) { "the definitions were never replaced during the run" }
        }
    }
}
