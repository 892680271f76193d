import Foundation
import HogFlags
import XCTest

/// One engine shared by many threads and tasks, while its definitions are being replaced.
final class ConcurrencyTests: XCTestCase {
    /// The biggest corpus suite, with each case's expected outcome computed once, sequentially.
    private func workload() throws -> (FlagsEngine, CorpusSuite, [(EvaluationContext, FlagOutcome)]) {
        let suite = try XCTUnwrap(Corpus.suites.max { $0.cases.count < $1.cases.count })
        let engine = try FlagsEngine(definitionsJson: suite.definitionsJson)
        let expected = try suite.cases.map { c -> (EvaluationContext, FlagOutcome) in
            let ctx = try contextFromJson(json: c.contextJson)
            return (ctx, try engine.getFeatureFlagResult(key: c.flag, context: ctx))
        }
        return (engine, suite, expected)
    }

    func testThreadsEvaluateOneEngineWhileDefinitionsAreReplaced() throws {
        let (engine, suite, expected) = try workload()
        let threads = 8
        let mismatches = Locked(0)
        let evaluations = Locked(0)
        let done = Locked(false)
        let updater = Thread {
            // Replaces the definitions with the same document again and again: readers must never see a
            // torn or empty snapshot.
            while !done.value {
                try? engine.updateDefinitions(definitionsJson: suite.definitionsJson)
            }
        }
        updater.start()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var bad = 0
            // Each thread walks the cases from its own offset.
            for i in 0..<expected.count {
                let (ctx, want) = expected[(i + t * 97) % expected.count]
                let got = try? engine.getFeatureFlagResult(key: want.key, context: ctx)
                if got != want { bad += 1 }
            }
            mismatches.update { $0 += bad }
            evaluations.update { $0 += expected.count }
        }
        done.update { $0 = true }
        while updater.isExecuting { usleep(1000) }
        XCTAssertEqual(evaluations.value, threads * expected.count)
        XCTAssertEqual(mismatches.value, 0)
    }

    func testTasksEvaluateConcurrently() async throws {
        let (engine, _, expected) = try workload()
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var bad = 0
                    for i in stride(from: t, to: expected.count, by: 8) {
                        let (ctx, want) = expected[i]
                        if try engine.getFeatureFlagResult(key: want.key, context: ctx) != want { bad += 1 }
                        // The bulk path on the same engine at the same time.
                        if try engine.evaluateFlags(context: ctx).first(where: { $0.key == want.key }) != want { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(mismatches, 0)
    }
}

/// A value behind a lock.
final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func update(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
