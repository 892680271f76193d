// Benchmark of the Swift binding: the cost of one evaluation through each API, against the core's own
// evaluation of the same flag and context measured inside Rust in the same run (no FFI crossing).
//
//   swift run -c release HogFlagsBench            (scripts/uniffi-bench.sh swift runs it in the chroot)
//
// Workload: the core's "one flag" bench (3 person-property filters, 50 % rollout, 5 properties) and a
// 100-flag document for the bulk call. Each figure is the median of 7 rounds of ~0.3 s after a warm-up.

import Foundation
import HogFlags

let oneFlag = """
{"flags": [{"id": 1, "key": "bench-flag", "active": true, "filters": {"groups": [{
  "properties": [
    {"key": "plan", "value": ["pro", "enterprise"], "operator": "exact", "type": "person"},
    {"key": "email", "value": "@example.com", "operator": "icontains", "type": "person"},
    {"key": "age", "value": 18, "operator": "gte", "type": "person"}],
  "rollout_percentage": 50}]}}]}
"""

func hundredFlags() -> String {
    var flags: [String] = []
    for i in 0..<100 {
        let op = ["exact", "icontains", "gte", "is_set"][i % 4]
        let key = ["plan", "email", "age", "country"][i % 4]
        let value = ["\"pro\"", "\"@example.com\"", "18", "null"][i % 4]
        let variants = i % 4 == 0
            ? ", \"multivariate\": {\"variants\": [{\"key\": \"control\", \"rollout_percentage\": 50}, {\"key\": \"test\", \"rollout_percentage\": 50}]}, \"payloads\": {\"test\": \"{\\\"size\\\": 3}\"}"
            : ""
        flags.append("""
            {"id": \(i), "key": "flag-\(i)", "active": true, "filters": {"groups": [{"properties":
              [{"key": "\(key)", "value": \(value), "operator": "\(op)", "type": "person"}],
              "rollout_percentage": \([100, 50, 20][i % 3])}]\(variants)}}
            """)
    }
    return "{\"flags\": [\(flags.joined(separator: ","))]}"
}

let context = EvaluationContext(
    distinctId: "user-12345",
    personProperties: ["plan": "pro", "email": "user-12345@example.com", "age": 30, "country": "DE", "$browser": "Firefox"])
let contextJson = """
{"distinct_id": "user-12345", "person_properties": {"plan": "pro", "email": "user-12345@example.com", "age": 30, "country": "DE", "$browser": "Firefox"}}
"""

/// Median nanoseconds per operation of `body` (which runs the operation `batch` times).
func measure(batch: Int, _ body: () throws -> Void) rethrows -> Double {
    func round() throws -> (Double, Int) {
        var n = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            try body()
            n += batch
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while elapsed < 300_000_000
        return (Double(elapsed) / Double(n), n)
    }
    _ = try round()  // warm-up
    var rounds: [Double] = []
    for _ in 0..<7 { rounds.append(try round().0) }
    return rounds.sorted()[3]
}

func row(_ name: String, _ ns: Double, _ floor: Double) {
    let padded = name.padding(toLength: 44, withPad: " ", startingAt: 0)
    print(padded + String(format: " %10.1f ns/op   %6.2fx native", ns, ns / floor))
}

do {
    let engine = try FlagsEngine(definitionsJson: oneFlag)
    guard try engine.getFeatureFlagResult(key: "bench-flag", context: context).isDecided else {
        fatalError("bench flag is not decided")
    }
    let batch = 1000
    var sink = 0
    /// The core's own time per evaluation (median of 7), measured inside Rust.
    func nativeFloor(_ engine: FlagsEngine, _ key: String?, _ n: Int64) throws -> Double {
        var rounds: [Double] = []
        for _ in 0..<7 {
            rounds.append(Double(try engine.timeNativeEvaluation(key: key, context: context, iterations: n)) / Double(n))
        }
        return rounds.sorted()[3]
    }
    let floor = try nativeFloor(engine, "bench-flag", 200_000)
    print("hogflags Swift binding benchmark (one flag: 3 filters, 50 % rollout; 5 person properties)")
    row("core evaluate, inside Rust (floor)", floor, floor)
    row("isFeatureEnabled (typed context)", try measure(batch: batch) {
        for _ in 0..<batch { if try engine.isFeatureEnabled(key: "bench-flag", context: context) == true { sink &+= 1 } }
    }, floor)
    row("getFeatureFlag (typed context)", try measure(batch: batch) {
        for _ in 0..<batch { if try engine.getFeatureFlag(key: "bench-flag", context: context) != nil { sink &+= 1 } }
    }, floor)
    row("getFeatureFlagResult (typed context)", try measure(batch: batch) {
        for _ in 0..<batch { if try engine.getFeatureFlagResult(key: "bench-flag", context: context).isDecided { sink &+= 1 } }
    }, floor)
    row("getFeatureFlagResultJson (context JSON)", try measure(batch: batch) {
        for _ in 0..<batch { sink &+= try engine.getFeatureFlagResultJson(key: "bench-flag", contextJson: contextJson).count }
    }, floor)
    row("hogflagsVersion (empty FFI call)", measure(batch: batch) {
        for _ in 0..<batch { sink &+= hogflagsVersion().count }
    }, floor)

    let bulk = try FlagsEngine(definitionsJson: hundredFlags())
    let bulkBatch = 50
    let bulkFloor = try nativeFloor(bulk, nil, 5_000)
    print("\n100-flag document (floor: evaluate_all inside Rust)")
    row("core evaluate_all, inside Rust (floor)", bulkFloor, bulkFloor)
    row("evaluateFlags (100 outcomes)", try measure(batch: bulkBatch) {
        for _ in 0..<bulkBatch { sink &+= try bulk.evaluateFlags(context: context).count }
    }, bulkFloor)
    row("getAllFlags (100 values)", try measure(batch: bulkBatch) {
        for _ in 0..<bulkBatch { sink &+= try bulk.getAllFlags(context: context).count }
    }, bulkFloor)
    row("evaluateFlagsJson (100 outcomes)", try measure(batch: bulkBatch) {
        for _ in 0..<bulkBatch { sink &+= try bulk.evaluateFlagsJson(contextJson: contextJson).count }
    }, bulkFloor)
    if sink == 42 { print("") }  // keeps the results alive
} catch {
    fatalError("benchmark failed: \(error)")
}
