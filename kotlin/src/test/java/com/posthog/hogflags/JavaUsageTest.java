package com.posthog.hogflags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The package used from Java, as a JVM service would. */
class JavaUsageTest {
    @Test
    void evaluatesWithTheBuilderAndReadsOutcomes() throws Exception {
        try (FlagsEngine engine = HogFlags.engine(EngineTestKt.getDEFINITIONS())) {
            EvaluationContext ctx = HogFlags.context("user-1")
                .personProperty("plan", "pro")
                .personProperties(Map.of("age", 30, "tags", List.of("a", "b")))
                .group("company", "acme")
                .groupProperty("company", "seats", 25L)
                .build();

            FlagOutcome outcome = engine.getFeatureFlagResult("beta", ctx);
            FlagOutcome.Decided decided = assertInstanceOf(FlagOutcome.Decided.class, outcome);
            FlagResult result = decided.getResult();
            assertEquals(new FlagValue.Bool(true), result.getValue());
            assertTrue(result.getEnabled());
            assertEquals(ReasonCode.CONDITION_MATCH, result.getReason().getCode());
            assertEquals(Integer.valueOf(0), result.getReason().getConditionIndex());
            assertEquals("{\"color\":\"blue\",\"limits\":[1,2.5]}", HogFlags.toJson(result.getPayload()));
            assertEquals(Map.of("color", "blue", "limits", List.of(1L, 2.5)), HogFlagsKt.toAny(result.getPayload()));

            assertEquals("wide", HogFlagsKt.toAny(engine.getFeatureFlag("layout", ctx)));
            assertEquals(Boolean.TRUE, engine.isFeatureEnabled("company-flag", ctx));
            assertEquals(Boolean.TRUE, engine.getAllFlags(ctx).get("beta").equals(new FlagValue.Bool(true)));
            assertEquals(5, engine.evaluateFlags(ctx).size());
            assertEquals("beta", HogFlagsKt.getKey(outcome));
        }
    }

    @Test
    void inconclusiveAndErrorsAreTyped() throws Exception {
        try (FlagsEngine engine = HogFlags.engine(EngineTestKt.getDEFINITIONS())) {
            FlagOutcome outcome = engine.getFeatureFlagResult("beta", HogFlags.context("user-1").build());
            FlagOutcome.Inconclusive why = assertInstanceOf(FlagOutcome.Inconclusive.class, outcome);
            assertEquals(InconclusiveKind.MISSING_PROPERTY, why.getKind());
            assertEquals("plan", why.getDetail());
            assertNull(engine.getFeatureFlag("beta", HogFlags.context("user-1").build()));
        }
        HogFlagsException.InvalidDefinitions e =
            assertThrows(HogFlagsException.InvalidDefinitions.class, () -> HogFlags.engine("{"));
        assertTrue(e.getReason().length() > 0);
    }

    @Test
    void clientWithAListenerFromJava() throws Exception {
        List<FlagCalledEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (TestServer server = new TestServer();
             FlagsClient client = new FlagsClient(
                 new ClientConfig(TestServer.PROJECT_KEY).secretKey(TestServer.SECRET_KEY).host(server.getUrl()),
                 new ClientListenerAdapter() {
                     @Override
                     public void onFlagCalled(FlagCalledEvent event) {
                         events.add(event);
                     }
                 })) {
            client.waitUntilReady(Duration.ofSeconds(10));
            EvaluationContext ctx = HogFlags.context("java-user").personProperty("plan", "pro").build();
            FlagLookup lookup = HogFlagsClients.getFlag(client, "beta", ctx);
            FlagLookup.Resolved resolved = assertInstanceOf(FlagLookup.Resolved.class, lookup);
            assertEquals(FlagSource.LOCAL, resolved.getDetails().getSource());
            assertEquals(1, events.size());
            assertEquals("java-user", events.get(0).getDistinctId());
            client.shutdown();
        }
    }
}
