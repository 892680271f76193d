import Foundation
import HogFlags
import XCTest

/// Every case of the shared corpus, through every evaluation API of the Swift package.
final class ConformanceTests: XCTestCase {
    /// Fails listing every disagreeing case (up to 50 of them), so one run shows the whole picture.
    private func report(_ failures: [String], checked: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThan(checked, 0, "no corpus case was checked", file: file, line: line)
        XCTAssertEqual(checked, Corpus.caseCount, "not every corpus case was checked", file: file, line: line)
        XCTAssert(
            failures.isEmpty,
            "\(failures.count) of \(checked) cases failed:\n" + failures.prefix(50).joined(separator: "\n"),
            file: file, line: line)
    }

    /// The typed API: `getFeatureFlagResult` is checked against `expected`, and `getFeatureFlag`,
    /// `isFeatureEnabled`, `getFeatureFlagPayload`, `getAllFlags` and `evaluateFlags` must agree with it.
    func testEveryCaseThroughTheTypedApi() throws {
        var failures: [String] = []
        var checked = 0
        for suite in Corpus.suites {
            let engine = try FlagsEngine(definitionsJson: suite.definitionsJson)
            for c in suite.cases {
                checked += 1
                let context = try contextFromJson(json: c.contextJson)
                let outcome = try engine.getFeatureFlagResult(key: c.flag, context: context)
                if let why = Corpus.difference(outcome, c.expected) {
                    failures.append("\(c.name): \(why)")
                    continue
                }
                let value = try engine.getFeatureFlag(key: c.flag, context: context)
                if value != outcome.value {
                    failures.append("\(c.name): getFeatureFlag \(String(describing: value)), result \(outcome)")
                }
                let enabled = try engine.isFeatureEnabled(key: c.flag, context: context)
                if enabled != outcome.value?.isEnabled {
                    failures.append("\(c.name): isFeatureEnabled \(String(describing: enabled))")
                }
                let payload = try engine.getFeatureFlagPayload(key: c.flag, context: context)
                if payload != outcome.result?.payload {
                    failures.append("\(c.name): getFeatureFlagPayload \(String(describing: payload))")
                }
                let all = try engine.getAllFlags(context: context)
                if all[c.flag] != outcome.value {
                    failures.append("\(c.name): getAllFlags gave \(String(describing: all[c.flag]))")
                }
                if engine.flag(key: c.flag) != nil {
                    let bulk = try engine.evaluateFlags(context: context).first { $0.key == c.flag }
                    if bulk != outcome {
                        failures.append("\(c.name): evaluateFlags gave \(String(describing: bulk)), single gave \(outcome)")
                    }
                }
            }
        }
        print("conformance: \(checked) cases in \(Corpus.suites.count) files (typed API)")
        report(failures, checked: checked)
    }

    /// The JSON API (context as JSON text, outcome as JSON text) gives the same outcomes, in the shape
    /// of `FlagOutcome.toJson()`, and `evaluateFlagsJson` agrees with `evaluateFlags`.
    func testEveryCaseThroughTheJsonApi() throws {
        var failures: [String] = []
        var checked = 0
        for suite in Corpus.suites {
            let engine = try FlagsEngine(definitionsJson: suite.definitionsJson)
            for c in suite.cases {
                checked += 1
                let json = try JsonValue(jsonText: engine.getFeatureFlagResultJson(key: c.flag, contextJson: c.contextJson))
                let decoded = try JSONDecoder().decode(FlagOutcome.self, from: Data(try json.jsonText().utf8))
                if let why = Corpus.difference(decoded, c.expected) {
                    failures.append("\(c.name): \(why)")
                    continue
                }
                let typed = try engine.getFeatureFlagResult(key: c.flag, context: try contextFromJson(json: c.contextJson))
                if json != (try JsonValue(jsonText: typed.toJson())) {
                    failures.append("\(c.name): JSON API \(json), typed API \(typed.toJson())")
                }
                if engine.flag(key: c.flag) != nil {
                    let all = try JsonValue(jsonText: engine.evaluateFlagsJson(contextJson: c.contextJson))
                    let bulk = all.arrayValue?.first { $0["key"]?.stringValue == c.flag }
                    if bulk != json { failures.append("\(c.name): evaluateFlagsJson gave \(String(describing: bulk))") }
                }
            }
        }
        report(failures, checked: checked)
    }

    /// The Swift layer's `Codable` writes exactly the core's JSON for every outcome of the corpus, and
    /// reads it back to the same value.
    func testCodableMatchesTheCoreJsonForEveryCase() throws {
        var failures: [String] = []
        var checked = 0
        let encoder = JSONEncoder()
        for suite in Corpus.suites {
            let engine = try FlagsEngine(definitionsJson: suite.definitionsJson)
            for c in suite.cases {
                checked += 1
                let outcome = try engine.getFeatureFlagResult(key: c.flag, context: try contextFromJson(json: c.contextJson))
                let swiftJson = try JsonValue(jsonText: String(decoding: try encoder.encode(outcome), as: UTF8.self))
                let coreJson = try JsonValue(jsonText: outcome.toJson())
                if swiftJson != coreJson {
                    failures.append("\(c.name): Codable wrote \(swiftJson), core wrote \(coreJson)")
                    continue
                }
                // In JSON a payload that is JSON `null` and no payload both read `null`; decoding gives nil.
                var want = outcome
                if case var .decided(r) = outcome, r.payload == .null {
                    r.payload = nil
                    want = .decided(result: r)
                }
                let back = try JSONDecoder().decode(FlagOutcome.self, from: Data(outcome.toJson().utf8))
                if back != want { failures.append("\(c.name): decoded \(back), want \(want)") }
            }
        }
        report(failures, checked: checked)
    }

    /// Contexts built on the Swift side (property maps decoded by Foundation's JSONDecoder through
    /// `JsonValue: Decodable`, identifiers as Swift strings) evaluate like the core's reading of the same
    /// JSON. Foundation reads a whole-number double (`1.0`) as an integer, which the server stringifies
    /// differently (`1`); such cases must be exactly those where the two readings differ, and nothing else.
    func testContextsBuiltInSwiftEvaluateLikeTheCoreReadsThem() throws {
        var failures: [String] = []
        var checked = 0
        var blurred = 0
        for suite in Corpus.suites {
            let engine = try FlagsEngine(definitionsJson: suite.definitionsJson)
            for c in suite.cases {
                checked += 1
                let raw = try JSONDecoder().decode([String: JsonValue].self, from: Data(c.contextJson.utf8))
                func text(_ v: JsonValue?) -> String? {
                    switch v {
                    case let .string(s)?: return s
                    case let .integer(i)?: return String(i)
                    case let .unsigned(u)?: return String(u)
                    case let .double(d)?: return String(d)
                    default: return nil
                    }
                }
                guard let distinctId = text(raw["distinct_id"]) else {
                    failures.append("\(c.name): distinct_id \(String(describing: raw["distinct_id"]))")
                    continue
                }
                var groups: [String: String] = [:]
                for (type, key) in raw["groups"]?.objectValue ?? [:] { groups[type] = text(key) }
                var now: Date? = nil
                if let s = raw["now"]?.stringValue {
                    let f = ISO8601DateFormatter()
                    f.formatOptions = s.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
                    now = f.date(from: s)
                }
                let context = EvaluationContext(
                    distinctId: distinctId,
                    personProperties: raw["person_properties"]?.objectValue ?? [:],
                    groups: groups,
                    groupProperties: (raw["group_properties"]?.objectValue ?? [:]).compactMapValues { $0.objectValue },
                    deviceId: raw["device_id"]?.stringValue,
                    now: now)
                // The same JSON read by the core's parser.
                let coreRaw = try JsonValue(jsonText: c.contextJson)
                if JsonValue.object(entries: raw) != coreRaw {
                    // Only whole-number doubles may differ, and only by becoming integers.
                    func sameButBlurred(_ a: JsonValue, _ b: JsonValue) -> Bool {
                        switch (a, b) {
                        case let (.integer(i), .double(d)): return Double(i) == d
                        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy(sameButBlurred)
                        case let (.object(x), .object(y)):
                            return x.keys == y.keys && x.allSatisfy { k, v in sameButBlurred(v, y[k]!) }
                        default: return a == b
                        }
                    }
                    if !sameButBlurred(.object(entries: raw), coreRaw) {
                        failures.append("\(c.name): Foundation read \(raw), the core read \(coreRaw)")
                    }
                    blurred += 1
                    continue
                }
                let outcome = try engine.getFeatureFlagResult(key: c.flag, context: context)
                if let why = Corpus.difference(outcome, c.expected) { failures.append("\(c.name): \(why)") }
            }
        }
        report(failures, checked: checked)
        XCTAssertLessThan(blurred, 20, "the corpus has only a few whole-number doubles in contexts")
    }
}
