import Foundation
import HogFlags
import XCTest

/// The client conformance corpus (tests/client/cases.json) through `FlagsClient`: the answers, the
/// `/flags` requests each call makes, the `$feature_flag_called` events it emits and the errors, against
/// the local test server. Every binding runs the same file; this mirrors the reference runner
/// (core/tests/client_conformance.rs) and the Python one (python/tests/test_client_conformance.py).
final class ClientConformanceTests: XCTestCase {
    static let path: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // HogFlagsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // swift
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("tests/client/cases.json")

    /// Read with the core's JSON parser, so that numbers compare exactly (`1` is not `1.0`).
    static func corpus() throws -> JsonValue {
        try JsonValue(jsonText: try String(contentsOf: path, encoding: .utf8))
    }

    var server: TestServer!

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        server?.stop()
    }

    /// Collects the client's `$feature_flag_called` events (called on the thread making the call).
    final class Events: ClientListener, @unchecked Sendable {
        private let lock = NSLock()
        private var events: [FlagCalledEvent] = []
        func onFlagCalled(event: FlagCalledEvent) { lock.lock(); events.append(event); lock.unlock() }
        func clear() { lock.lock(); events.removeAll(); lock.unlock() }
        var snapshot: [FlagCalledEvent] { lock.lock(); defer { lock.unlock() }; return events }
    }

    // MARK: corpus conventions

    /// Whether `got` has every field of `expected` with the same value (objects compared field by field,
    /// recursively; anything else compared exactly), as the reference runner's `matches`.
    static func matches(_ expected: JsonValue, _ got: JsonValue) -> Bool {
        if case let .object(e) = expected {
            guard case let .object(g) = got else { return false }
            return e.allSatisfy { k, v in matches(v, g[k] ?? .null) }
        }
        return expected == got
    }

    /// A list of flag keys, sorted (the corpus compares them as sets).
    static func sortedKeys(_ keys: [JsonValue]) -> JsonValue {
        .array(values: keys.sorted { ($0.stringValue ?? "") < ($1.stringValue ?? "") })
    }

    static func text(_ v: JsonValue?) -> String {
        guard let v = v else { return "(absent)" }
        return (try? v.jsonText()) ?? "\(v)"
    }

    static func json(_ value: FlagValue) -> JsonValue {
        switch value {
        case let .bool(b): return .bool(value: b)
        case let .variant(k): return .string(value: k)
        }
    }

    static func json(_ source: FlagSource) -> JsonValue {
        switch source {
        case .local: return "local"
        case .remote: return "remote"
        }
    }

    static func json(_ why: Unresolved) -> JsonValue {
        ["kind": .string(value: why.kind), "detail": why.detail.map { .string(value: $0) } ?? .null]
    }

    static func context(_ call: JsonValue) throws -> EvaluationContext {
        guard let id = call["distinct_id"]?.stringValue else { throw CorpusError.malformed("a call without distinct_id") }
        return EvaluationContext(distinctId: id, personProperties: call["person_properties"]?.objectValue ?? [:])
    }

    /// The `/flags` requests since `before` as the corpus describes them: the count, and the last one's
    /// keys (sorted, or null when it asked for every flag) and person properties.
    func requests(since before: Int64) throws -> JsonValue {
        let stats = try server.stats()
        let body = stats["last_flags_request"] ?? .null
        let keys: JsonValue = body["flag_keys_to_evaluate"]?.arrayValue.map { ClientConformanceTests.sortedKeys($0) } ?? .null
        return [
            "count": .integer(value: (stats["flags_requests"]?.int64Value ?? 0) - before),
            "flag_keys": keys,
            "person_properties": body["person_properties"] ?? .null,
        ]
    }

    /// A client for the case: the test server, its keys, a short poll interval, a 1 s `/flags` timeout;
    /// `client.secret_key` absent → the test secret, null → none, a string → that key.
    func makeClient(_ options: [String: JsonValue], _ events: Events) throws -> FlagsClient {
        var config = ClientConfig(projectApiKey: TestServer.projectKey)
            .host(host: server.url)
            .pollInterval(interval: 0.2)
            .jitter(fraction: 0)
            .remoteTimeout(timeout: 1)
            .useSystemProxy(yes: false)
        switch options["secret_key"] {
        case .none: config = config.secretKey(key: TestServer.secretKey)
        case .some(.null): break
        case let .some(.string(key)): config = config.secretKey(key: key)
        case let .some(other): throw CorpusError.malformed("client.secret_key \(ClientConformanceTests.text(other))")
        }
        if let only = options["only_evaluate_locally"]?.boolValue {
            config = config.onlyEvaluateLocally(yes: only)
        }
        return try FlagsClient(config: config, listener: events)
    }

    /// One call's answer in the corpus's shape.
    func run(_ client: FlagsClient, _ call: JsonValue) throws -> JsonValue {
        let context = try ClientConformanceTests.context(call)
        let onlyLocal = call["only_evaluate_locally"]?.boolValue ?? false
        switch call["call"]?.stringValue {
        case "flag":
            guard let key = call["key"]?.stringValue else { throw CorpusError.malformed("a flag call without key") }
            switch try client.getFlag(key: key, context: context, onlyEvaluateLocally: onlyLocal, sendEvent: true) {
            case let .resolved(d):
                return ["value": ClientConformanceTests.json(d.value), "source": ClientConformanceTests.json(d.source)]
            case let .unresolved(_, why):
                return ClientConformanceTests.json(why)
            }
        case "all":
            let all: AllFlagsResult
            if let keys = call["flag_keys"]?.arrayValue {
                all = try client.getFlags(context: context, flagKeys: keys.compactMap { $0.stringValue }, onlyEvaluateLocally: onlyLocal)
            } else {
                all = try client.getAllFlags(context: context, onlyEvaluateLocally: onlyLocal)
            }
            return [
                "flags": .object(entries: all.flags.mapValues { ClientConformanceTests.json($0.value) }),
                "unresolved": .object(entries: all.unresolved.mapValues { ClientConformanceTests.json($0) }),
            ]
        case let other:
            throw CorpusError.malformed("unknown call \(other ?? "(none)")")
        }
    }

    // MARK: the corpus

    func testClientConformanceCorpus() throws {
        let corpus = try ClientConformanceTests.corpus()
        let cases = try XCTUnwrap(corpus["cases"]?.arrayValue, "tests/client/cases.json has no cases")
        XCTAssertGreaterThan(cases.count, 0)
        var failures: [String] = []
        var calls = 0
        for (n, c) in cases.enumerated() {
            let name = "case \(n) (\(c["name"]?.stringValue ?? "?"))"
            do {
                failures += try runCase(c, name: name, corpus: corpus, calls: &calls)
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        for failure in failures { XCTFail(failure) }
        XCTAssert(failures.isEmpty, "\(failures.count) of the client corpus's expectations failed (\(cases.count) cases)")
        print("client conformance: \(cases.count) cases, \(calls) calls, \(failures.count) failures")
    }

    /// Runs one case; returns its failures.
    func runCase(_ c: JsonValue, name: String, corpus: JsonValue, calls: inout Int) throws -> [String] {
        let text = ClientConformanceTests.text
        var failures: [String] = []
        try server.reset()
        try server.setDefinitions(c["definitions"] ?? corpus["definitions"] ?? .null)
        for (id, properties) in (corpus["persons"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            try server.setPerson(id, properties)
        }
        if c["quota_limited"]?.boolValue == true {
            try server.setQuotaLimited(true)
        }
        let options = c["client"]?.objectValue ?? [:]
        let events = Events()

        if let expected = c["expect_error"] {
            do {
                let client = try makeClient(options, events)
                client.shutdown()
                failures.append("\(name): expected error \(text(expected)), the client was created")
            } catch let HogFlagsError.InvalidConfig(code, reason) {
                if expected.stringValue != code {
                    failures.append("\(name): error InvalidConfig code \(code) (\(reason)), expected \(text(expected))")
                }
            } catch {
                failures.append("\(name): error \(error), expected InvalidConfig with code \(text(expected))")
            }
            return failures
        }

        let client: FlagsClient
        do {
            client = try makeClient(options, events)
        } catch {
            return ["\(name): creating the client failed: \(error)"]
        }
        defer { client.shutdown() }
        if options["secret_key"] != .some(JsonValue.null) {
            do {
                try client.waitUntilReady(timeout: 5)
            } catch {
                return ["\(name): the definitions did not load: \(error)"]
            }
        }
        if let faults = c["faults"], faults.arrayValue?.isEmpty == false {
            try server.inject(faults: faults)
        }

        for (i, call) in (c["calls"]?.arrayValue ?? []).enumerated() {
            let what = "\(name) / call \(i) (\(call["call"]?.stringValue ?? "?") \(call["key"]?.stringValue ?? call["flag_keys"].map(text) ?? "every flag") for \(call["distinct_id"]?.stringValue ?? "?"))"
            calls += 1
            let before = try server.stats()["flags_requests"]?.int64Value ?? 0
            events.clear()
            let got: JsonValue
            do {
                got = try run(client, call)
            } catch {
                failures.append("\(what): threw \(error)")
                continue
            }
            if got != call["expect"] {
                failures.append("\(what): answer \(text(got)), expected \(text(call["expect"]))")
            }

            var expectedRequests = call["expect_requests"] ?? .null
            if case var .object(fields) = expectedRequests, let keys = fields["flag_keys"]?.arrayValue {
                fields["flag_keys"] = ClientConformanceTests.sortedKeys(keys)
                expectedRequests = .object(entries: fields)
            }
            let gotRequests = try requests(since: before)
            if !ClientConformanceTests.matches(expectedRequests, gotRequests) {
                failures.append("\(what): /flags requests \(text(gotRequests)), expected \(text(expectedRequests))")
            }

            if let expected = call["expect_events"] {
                let got: JsonValue = .array(values: events.snapshot.filter { $0.event == "$feature_flag_called" }.map { e in
                    [
                        "flag": e.properties["$feature_flag"] ?? .null,
                        "response": e.properties["$feature_flag_response"] ?? .null,
                        "error": e.properties["$feature_flag_error"] ?? .null,
                    ]
                })
                if got != expected {
                    failures.append("\(what): events \(text(got)), expected \(text(expected))")
                }
            }
        }
        return failures
    }
}
