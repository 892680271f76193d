import Foundation
import HogFlags
import XCTest

/// A small document exercising each part of the API.
let definitions = """
{"flags": [
  {"id": 1, "key": "beta", "version": 3, "active": true,
   "filters": {"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person", "operator": "exact"}],
                           "rollout_percentage": 100}],
               "payloads": {"true": "{\\"color\\": \\"blue\\", \\"limits\\": [1, 2.5]}"}}},
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

final class EngineTests: XCTestCase {
    func engine() throws -> FlagsEngine { try FlagsEngine(definitionsJson: definitions) }

    func testDecidedResultCarriesValueReasonPayloadAndIds() throws {
        let e = try engine()
        let ctx = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let outcome = try e.getFeatureFlagResult(key: "beta", context: ctx)
        let r = try XCTUnwrap(outcome.result)
        XCTAssertEqual(r.key, "beta")
        XCTAssertEqual(r.value, true)
        XCTAssertTrue(r.enabled)
        XCTAssertNil(r.variant)
        XCTAssertEqual(r.reason.code, .conditionMatch)
        XCTAssertEqual(r.reason.conditionIndex, 0)
        XCTAssertEqual(r.reason.description, "Matched condition set 1")
        XCTAssertEqual(r.flagId, 1)
        XCTAssertEqual(r.version, 3)
        XCTAssertEqual(r.payload, ["color": "blue", "limits": [1, 2.5]])
        XCTAssertEqual(try e.getFeatureFlag(key: "beta", context: ctx), .bool(value: true))
        XCTAssertEqual(try e.isFeatureEnabled(key: "beta", context: ctx), true)

        let other = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "free"])
        let no = try XCTUnwrap(try e.getFeatureFlagResult(key: "beta", context: other).result)
        XCTAssertEqual(no.value, false)
        XCTAssertEqual(no.reason.code, .noConditionMatch)
        XCTAssertNil(try e.getFeatureFlagPayload(key: "beta", context: other))
    }

    func testVariantsAndPayloadsDecodeIntoSwiftTypes() throws {
        struct Theme: Decodable, Equatable { let color: String; let limits: [Double] }
        let e = try engine()
        let ctx = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let theme: Theme = try XCTUnwrap(try e.getFeatureFlagPayload(key: "beta", context: ctx)).decode()
        XCTAssertEqual(theme, Theme(color: "blue", limits: [1, 2.5]))

        let layout = try XCTUnwrap(try e.getFeatureFlag(key: "layout", context: ctx))
        XCTAssertEqual(layout, "wide")
        XCTAssertEqual(layout.variant, "wide")
        XCTAssertTrue(layout.isEnabled)
        XCTAssertEqual(try e.getFeatureFlagPayload(key: "layout", context: ctx), .integer(value: 42))
    }

    func testInactiveFlagIsFalseWithFlagDisabled() throws {
        let r = try XCTUnwrap(try engine().getFeatureFlagResult(key: "off", context: EvaluationContext(distinctId: "u")).result)
        XCTAssertEqual(r.value, false)
        XCTAssertFalse(r.enabled)
        XCTAssertEqual(r.reason.code, .flagDisabled)
        XCTAssertNil(r.reason.conditionIndex)
    }

    func testInconclusiveOutcomesNameTheirKindAndDetail() throws {
        let e = try engine()
        let ctx = EvaluationContext(distinctId: "user-1")
        let missing = try e.getFeatureFlagResult(key: "beta", context: ctx)
        XCTAssertEqual(missing, .inconclusive(key: "beta", kind: .missingProperty, detail: "plan"))
        XCTAssertEqual(missing.inconclusiveKind?.wireName(), "missing_property")
        XCTAssertNil(try e.getFeatureFlag(key: "beta", context: ctx))
        XCTAssertNil(try e.isFeatureEnabled(key: "beta", context: ctx))
        XCTAssertNil(try e.getFeatureFlagPayload(key: "beta", context: ctx))
        XCTAssertEqual(try e.getFeatureFlagResult(key: "nope", context: ctx).inconclusiveKind, .unknownFlag)
        // The flag that failed to compile is reported and unknown; the rest of the document loaded.
        XCTAssertEqual(try e.getFeatureFlagResult(key: "broken", context: ctx).inconclusiveKind, .unknownFlag)
    }

    func testGroupsAndGroupProperties() throws {
        let e = try engine()
        let noGroup = try XCTUnwrap(try e.getFeatureFlagResult(key: "company-flag", context: EvaluationContext(distinctId: "u")).result)
        XCTAssertEqual(noGroup.value, false)
        XCTAssertEqual(noGroup.reason.code, .noGroupType)
        let big = EvaluationContext(distinctId: "u", groups: ["company": "acme"], groupProperties: ["company": ["seats": 25]])
        XCTAssertEqual(try e.getFeatureFlag(key: "company-flag", context: big), true)
        let small = EvaluationContext(distinctId: "u", groups: ["company": "acme"], groupProperties: ["company": ["seats": 5]])
        XCTAssertEqual(try e.getFeatureFlag(key: "company-flag", context: small), false)
    }

    func testNowPinsTheClockForRelativeDates() throws {
        let e = try engine()
        let iso = ISO8601DateFormatter()
        let signup: JsonValue = "2026-01-10T00:00:00Z"
        let soon = EvaluationContext(distinctId: "u", personProperties: ["signup": signup], now: iso.date(from: "2026-01-15T12:00:00Z"))
        let later = EvaluationContext(distinctId: "u", personProperties: ["signup": signup], now: iso.date(from: "2026-03-01T00:00:00Z"))
        XCTAssertEqual(try e.getFeatureFlag(key: "recent", context: soon), true)
        XCTAssertEqual(try e.getFeatureFlag(key: "recent", context: later), false)
    }

    func testBulkApisCoverEveryLoadedFlagInDocumentOrder() throws {
        let e = try engine()
        let ctx = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let outcomes = try e.evaluateFlags(context: ctx)
        XCTAssertEqual(outcomes.map(\.key), ["beta", "layout", "off", "recent", "company-flag"])
        XCTAssertEqual(outcomes[3].inconclusiveKind, .missingProperty)
        // getAllFlags leaves the undecided flag out.
        XCTAssertEqual(try e.getAllFlags(context: ctx), ["beta": true, "layout": "wide", "off": false, "company-flag": false])
        XCTAssertEqual(try e.evaluateFlagsByKey(context: ctx)["layout"]?.value, "wide")
    }

    func testDocumentFacts() throws {
        let e = try engine()
        XCTAssertEqual(e.flagCount(), 5)
        XCTAssertEqual(e.flags().map(\.key), ["beta", "layout", "off", "recent", "company-flag"])
        let off = try XCTUnwrap(e.flag(key: "off"))
        XCTAssertFalse(off.active)
        XCTAssertEqual(off.id, 3)
        XCTAssertNil(e.flag(key: "broken"))
        XCTAssertEqual(e.skippedFlags().map(\.key), ["broken"])
        XCTAssertFalse(e.skippedFlags()[0].reason.isEmpty)
        XCTAssertTrue(e.brokenCohorts().isEmpty)
        let keys = e.propertyKeys()
        XCTAssertEqual(keys.person, ["plan", "signup"])
        XCTAssertEqual(keys.groups, ["company": ["seats"]])
        XCTAssertEqual(e.groupTypeMapping(), ["0": "company"])
        XCTAssertFalse(hogflagsVersion().isEmpty)
    }

    func testUpdateDefinitionsSwapsAndAFailedUpdateKeepsTheOldOnes() throws {
        let e = FlagsEngine.empty()
        let ctx = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        XCTAssertEqual(e.flagCount(), 0)
        XCTAssertEqual(try e.getFeatureFlagResult(key: "beta", context: ctx).inconclusiveKind, .unknownFlag)
        try e.updateDefinitions(definitionsJson: definitions)
        XCTAssertEqual(try e.getFeatureFlag(key: "beta", context: ctx), true)
        XCTAssertThrowsError(try e.updateDefinitions(definitionsJson: "{\"flags\": 7}")) { error in
            guard case HogFlagsError.InvalidDefinitions = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(e.flagCount(), 5)
        XCTAssertEqual(try e.getFeatureFlag(key: "beta", context: ctx), true)
    }

    func testBadInputSurfacesAsTypedErrors() throws {
        XCTAssertThrowsError(try FlagsEngine(definitionsJson: "not json")) { error in
            guard case let HogFlagsError.InvalidDefinitions(reason) = error else { return XCTFail("got \(error)") }
            XCTAssertFalse(reason.isEmpty)
            XCTAssertTrue("\(error)".hasPrefix("invalid definitions:"), "\(error)")
        }
        let e = try engine()
        XCTAssertThrowsError(try e.getFeatureFlagResultJson(key: "beta", contextJson: "{\"distinct_id\": true}")) { error in
            guard case HogFlagsError.InvalidContext = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try e.evaluateFlagsJson(contextJson: "{\"user\": 1}")) { error in
            guard case HogFlagsError.InvalidContext = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try contextFromJson(json: "[")) { error in
            guard case HogFlagsError.InvalidContext = error else { return XCTFail("got \(error)") }
        }
        let nan = EvaluationContext(distinctId: "u", personProperties: ["score": ["a": [1, .double(value: .nan)]]])
        XCTAssertThrowsError(try e.getFeatureFlag(key: "beta", context: nan)) { error in
            guard case let HogFlagsError.InvalidValue(path, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(path, "person_properties.score.a[1]")
        }
        XCTAssertThrowsError(try JsonValue(jsonText: "{")) { error in
            guard case HogFlagsError.InvalidJson = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try JsonValue.double(value: .infinity).jsonText()) { error in
            guard case HogFlagsError.InvalidValue = error else { return XCTFail("got \(error)") }
        }
    }

    func testContextFromJsonReadsIdentifiersAsTheCoreDoes() throws {
        let ctx = try contextFromJson(json: """
            {"distinct_id": 42, "groups": {"company": 7, "team": true}, "group_properties": {"company": {"seats": 3}},
             "person_properties": {"n": 1.0, "m": 1}, "device_id": "d", "now": "2026-01-15T12:00:00Z"}
            """)
        XCTAssertEqual(ctx.distinctId, "42")
        XCTAssertEqual(ctx.groups, ["company": "7"])
        XCTAssertEqual(ctx.groupProperties, ["company": ["seats": 3]])
        XCTAssertEqual(ctx.personProperties, ["n": .double(value: 1.0), "m": .integer(value: 1)])
        XCTAssertEqual(ctx.deviceId, "d")
        XCTAssertEqual(ctx.now, ISO8601DateFormatter().date(from: "2026-01-15T12:00:00Z"))
    }

    func testJsonValueLiteralsTextAndFoundationValues() throws {
        let v: JsonValue = ["a": [1, 2.5, "x", true, nil]]
        XCTAssertEqual(try v.jsonText(), "{\"a\":[1,2.5,\"x\",true,null]}")
        XCTAssertEqual(try JsonValue(jsonText: "{\"a\":[1,2.5,\"x\",true,null]}"), v)
        XCTAssertEqual(JsonValue(["n": 3, "s": "t", "b": false, "l": [1.5]] as [String: Any]), ["n": 3, "s": "t", "b": false, "l": [1.5]])
        XCTAssertNil(JsonValue(Data()))
        // Codable writes plain JSON, and reads it back the same.
        let encoded = try JSONEncoder().encode(v)
        XCTAssertEqual(try JsonValue(jsonText: String(decoding: encoded, as: UTF8.self)), v)
        XCTAssertEqual(try JSONDecoder().decode(JsonValue.self, from: encoded), v)
        XCTAssertEqual(v["a"]?[1]?.doubleValue, 2.5)
        // Integers above Int64.max keep every digit.
        let big = try JsonValue(jsonText: "[18446744073709551615,-9223372036854775808]")
        XCTAssertEqual(big, [.unsigned(value: .max), .integer(value: .min)])
        XCTAssertEqual(try big.jsonText(), "[18446744073709551615,-9223372036854775808]")
        XCTAssertEqual(try JSONDecoder().decode(JsonValue.self, from: Data("18446744073709551615".utf8)), .unsigned(value: .max))
        XCTAssertEqual(JsonValue(UInt64.max), .unsigned(value: .max))
        XCTAssertEqual(JsonValue(UInt64(5)), .integer(value: 5))
        XCTAssertEqual(ReasonCode(wireName: "out_of_rollout_bound"), .outOfRolloutBound)
        XCTAssertNil(ReasonCode(wireName: "nope"))
        XCTAssertEqual(InconclusiveKind(wireName: "missing_cohort"), .missingCohort)
        XCTAssertEqual(InconclusiveKind.allCases.count, 9)
    }
}
