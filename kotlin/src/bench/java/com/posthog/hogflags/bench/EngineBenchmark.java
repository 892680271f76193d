package com.posthog.hogflags.bench;

import com.posthog.hogflags.EvaluationContext;
import com.posthog.hogflags.FlagOutcome;
import com.posthog.hogflags.FlagValue;
import com.posthog.hogflags.FlagsEngine;
import com.posthog.hogflags.HogFlags;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Kotlin/JVM binding (called from Java) against the core's own evaluation of the same flag and
 * context, measured inside Rust in the same run ({@code native*} benchmarks: no FFI crossing, no
 * conversion). Workload: the core's "one flag" bench (3 person-property filters, 50 % rollout, 5
 * properties) and a 100-flag document for the bulk calls. Run with {@code scripts/uniffi-bench.sh kotlin}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EngineBenchmark {
    static final String ONE_FLAG = "{\"flags\": [{\"id\": 1, \"key\": \"bench-flag\", \"active\": true, \"filters\": {\"groups\": [{"
        + "\"properties\": ["
        + "{\"key\": \"plan\", \"value\": [\"pro\", \"enterprise\"], \"operator\": \"exact\", \"type\": \"person\"},"
        + "{\"key\": \"email\", \"value\": \"@example.com\", \"operator\": \"icontains\", \"type\": \"person\"},"
        + "{\"key\": \"age\", \"value\": 18, \"operator\": \"gte\", \"type\": \"person\"}],"
        + "\"rollout_percentage\": 50}]}}]}";

    static String hundredFlags() {
        StringBuilder sb = new StringBuilder("{\"flags\": [");
        String[] ops = {"exact", "icontains", "gte", "is_set"};
        String[] keys = {"plan", "email", "age", "country"};
        String[] values = {"\"pro\"", "\"@example.com\"", "18", "null"};
        int[] rollouts = {100, 50, 20};
        for (int i = 0; i < 100; i++) {
            if (i > 0) sb.append(',');
            String variants = i % 4 == 0
                ? ", \"multivariate\": {\"variants\": [{\"key\": \"control\", \"rollout_percentage\": 50}, "
                    + "{\"key\": \"test\", \"rollout_percentage\": 50}]}, \"payloads\": {\"test\": \"{\\\"size\\\": 3}\"}"
                : "";
            sb.append("{\"id\": ").append(i).append(", \"key\": \"flag-").append(i)
                .append("\", \"active\": true, \"filters\": {\"groups\": [{\"properties\": [{\"key\": \"")
                .append(keys[i % 4]).append("\", \"value\": ").append(values[i % 4]).append(", \"operator\": \"")
                .append(ops[i % 4]).append("\", \"type\": \"person\"}], \"rollout_percentage\": ")
                .append(rollouts[i % 3]).append("}]").append(variants).append("}}");
        }
        return sb.append("]}").toString();
    }

    static final String CONTEXT_JSON = "{\"distinct_id\": \"user-12345\", \"person_properties\": {\"plan\": \"pro\", "
        + "\"email\": \"user-12345@example.com\", \"age\": 30, \"country\": \"DE\", \"$browser\": \"Firefox\"}}";

    FlagsEngine engine;
    FlagsEngine bulk;
    EvaluationContext context;

    @Setup
    public void setup() throws Exception {
        engine = HogFlags.engine(ONE_FLAG);
        bulk = HogFlags.engine(hundredFlags());
        context = HogFlags.context("user-12345")
            .personProperties(Map.of("plan", "pro", "email", "user-12345@example.com", "age", 30, "country", "DE",
                "$browser", "Firefox"))
            .build();
        if (!(engine.getFeatureFlagResult("bench-flag", context) instanceof FlagOutcome.Decided)) {
            throw new IllegalStateException("the bench flag is not decided");
        }
    }

    @TearDown
    public void close() {
        engine.close();
        bulk.close();
    }

    /** The floor: the core's evaluation of the one flag, inside Rust. */
    @Benchmark
    @OperationsPerInvocation(10_000)
    public long nativeEvaluate() throws Exception {
        return engine.timeNativeEvaluation("bench-flag", context, 10_000);
    }

    @Benchmark
    public Boolean isFeatureEnabled() throws Exception {
        return engine.isFeatureEnabled("bench-flag", context);
    }

    @Benchmark
    public FlagValue getFeatureFlag() throws Exception {
        return engine.getFeatureFlag("bench-flag", context);
    }

    @Benchmark
    public FlagOutcome getFeatureFlagResult() throws Exception {
        return engine.getFeatureFlagResult("bench-flag", context);
    }

    @Benchmark
    public String getFeatureFlagResultJson() throws Exception {
        return engine.getFeatureFlagResultJson("bench-flag", CONTEXT_JSON);
    }

    /** The FFI floor: a call with no argument that returns a short string. */
    @Benchmark
    public String emptyCall() {
        return HogFlags.version();
    }

    /** The bulk floor: the core's evaluate_all of the 100-flag document, inside Rust. */
    @Benchmark
    @OperationsPerInvocation(200)
    public long nativeEvaluateAll100() throws Exception {
        return bulk.timeNativeEvaluation(null, context, 200);
    }

    @Benchmark
    public List<FlagOutcome> evaluateFlags100() throws Exception {
        return bulk.evaluateFlags(context);
    }

    @Benchmark
    public Map<String, FlagValue> getAllFlags100() throws Exception {
        return bulk.getAllFlags(context);
    }

    @Benchmark
    public String evaluateFlagsJson100() throws Exception {
        return bulk.evaluateFlagsJson(CONTEXT_JSON);
    }
}
