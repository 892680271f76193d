import Foundation
import HogFlags
import XCTest

/// The networked clients against the local PostHog-compatible test server (tests/server).
final class ClientTests: XCTestCase {
    var server: TestServer!
    var clients: [() -> Void] = []

    override func setUpWithError() throws {
        server = try TestServer()
    }

    override func tearDown() {
        clients.forEach { $0() }
        server.stop()
    }

    /// Collects listener calls.
    final class Recorder: ClientListener, @unchecked Sendable {
        private let lock = NSLock()
        private(set) var called: [FlagCalledEvent] = []
        private(set) var updates: [DefinitionsUpdate] = []
        private(set) var changes: [FlagsChanged] = []
        private(set) var errors: [ErrorInfo] = []
        func onFlagCalled(event: FlagCalledEvent) { lock.lock(); called.append(event); lock.unlock() }
        func onDefinitionsUpdated(update: DefinitionsUpdate) { lock.lock(); updates.append(update); lock.unlock() }
        func onFlagsChanged(change: FlagsChanged) { lock.lock(); changes.append(change); lock.unlock() }
        func onError(error: ErrorInfo) { lock.lock(); errors.append(error); lock.unlock() }
        func snapshot() -> ([FlagCalledEvent], [DefinitionsUpdate], [FlagsChanged], [ErrorInfo]) {
            lock.lock(); defer { lock.unlock() }
            return (called, updates, changes, errors)
        }
    }

    func config(_ host: String? = nil) -> ClientConfig {
        ClientConfig(projectApiKey: TestServer.projectKey)
            .secretKey(key: TestServer.secretKey)
            .host(host: host ?? server.url)
            .pollInterval(interval: 60)
            .jitter(fraction: 0)
    }

    func localClient(_ config: ClientConfig, _ listener: ClientListener? = nil) throws -> FlagsClient {
        let client = try FlagsClient(config: config, listener: listener)
        clients.append { client.shutdown() }
        return client
    }

    func remoteClient(_ config: ClientConfig, _ context: EvaluationContext, _ listener: ClientListener? = nil) throws -> RemoteFlagsClient {
        let client = try RemoteFlagsClient(config: config, context: context, listener: listener)
        clients.append { client.shutdown() }
        return client
    }

    func temporaryFile(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hogflags-swift-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    // MARK: local evaluation

    func testLocalClientLoadsEvaluatesLocallyAndReportsEvents() throws {
        let recorder = Recorder()
        let client = try localClient(config(), recorder)
        try client.waitUntilReady(timeout: 10)
        XCTAssertTrue(client.status().ready)
        XCTAssertEqual(client.status().flagsLoaded, 4)
        let pro = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let beta = try XCTUnwrap(try client.getFlag(key: "beta", context: pro).details)
        XCTAssertEqual(beta.value, true)
        XCTAssertEqual(beta.source, .local)
        XCTAssertEqual(beta.reason?.code, "condition_match")
        XCTAssertEqual(beta.payload, ["color": "blue"])
        XCTAssertEqual(try client.isFeatureEnabled(key: "everyone", context: pro), true)
        XCTAssertEqual(try client.getFeatureFlag(key: "off", context: pro), false)
        XCTAssertEqual(client.engine().flagCount(), 4)

        let (called, updates, _, _) = recorder.snapshot()
        XCTAssertEqual(updates.first?.flags, 4)
        XCTAssertEqual(updates.first?.fromCache, false)
        let event = try XCTUnwrap(called.first { $0.properties["$feature_flag"] == "beta" })
        XCTAssertEqual(event.event, "$feature_flag_called")
        XCTAssertEqual(event.distinctId, "user-1")
        XCTAssertEqual(event.properties["$feature_flag_response"], true)
        XCTAssertEqual(event.properties["locally_evaluated"], true)
        // The same call again is deduplicated.
        _ = try client.getFlag(key: "beta", context: pro)
        XCTAssertEqual(recorder.snapshot().0.filter { $0.properties["$feature_flag"] == "beta" }.count, 1)
    }

    func testEvaluateFlagsReportsExposuresOnlyForTheFlagsRead() throws {
        let recorder = Recorder()
        let client = try localClient(config(), recorder)
        try client.waitUntilReady(timeout: 10)
        let ev = try client.evaluateFlags(context: EvaluationContext(distinctId: "user-batch"), flagKeys: nil, onlyEvaluateLocally: true)
        XCTAssertTrue(recorder.snapshot().0.isEmpty, "evaluating sends nothing")
        XCTAssertTrue(ev.isEnabled(key: "everyone", defaultValue: false, sendEvent: true))
        XCTAssertFalse(ev.isEnabled(key: "off", defaultValue: true, sendEvent: true), "a decided false wins over the default")
        XCTAssertTrue(ev.isEnabled(key: "beta", defaultValue: true, sendEvent: true), "no value: the default")
        XCTAssertNil(ev.getFlag(key: "nope", sendEvent: true))
        XCTAssertEqual(ev.getFlag(key: "everyone", sendEvent: true), true) // deduplicated
        XCTAssertNil(ev.getFlag(key: "not-loaded", sendEvent: false)) // a read without its event
        let got = recorder.snapshot().0.map { e in
            [e.properties["$feature_flag"], e.properties["$feature_flag_response"], e.properties["$feature_flag_error"]]
        }
        let expected: [[JsonValue?]] = [["everyone", true, nil], ["off", false, nil],
                                        ["beta", .null, "local_evaluation_inconclusive"], ["nope", .null, "flag_missing"]]
        XCTAssertEqual(got, expected)
        XCTAssertNil(ev.payload(key: "beta"), "no value, no payload")
        XCTAssertEqual(recorder.snapshot().0.count, 4, "payload reads are not reads")
        let accessed = ev.onlyAccessed()
        XCTAssertEqual(accessed.keys(), ["everyone", "off"])
        XCTAssertTrue(accessed.unresolved().isEmpty)
        let only = ev.only(keys: ["off"])
        XCTAssertEqual(only.getFlag(key: "off", sendEvent: true), false)
        XCTAssertNil(only.getFlag(key: "everyone", sendEvent: true), "left out of the slice")
        XCTAssertEqual(recorder.snapshot().0.count, 4, "a slice reports nothing for a key it left out")
        XCTAssertEqual(ev.eventProperties()["$feature/everyone"], true)
    }

    func testUndecidedFlagsFallBackToFlagsAndLocalAnswersWin() throws {
        let client = try localClient(config())
        try client.waitUntilReady(timeout: 10)
        // The server knows this person's plan; the caller does not pass it.
        try server.control("/_control/persons", #"{"distinct_id": "user-2", "properties": {"plan": "pro"}}"#)
        let user = EvaluationContext(distinctId: "user-2")
        let local = try client.getFlag(key: "beta", context: user, onlyEvaluateLocally: true, sendEvent: false)
        XCTAssertEqual(local.why?.kind, "missing_property")
        XCTAssertEqual(local.why?.detail, "plan")
        XCTAssertEqual(local.why?.errorCode, "local_evaluation_inconclusive")
        let remote = try XCTUnwrap(try client.getFlag(key: "beta", context: user).details)
        XCTAssertEqual(remote.value, true)
        XCTAssertEqual(remote.source, .remote)

        let all = try client.getAllFlags(context: user)
        XCTAssertTrue(all.remoteCalled)
        XCTAssertEqual(all.flags["beta"]?.source, .remote)
        XCTAssertEqual(all.flags["everyone"]?.source, .local)
        let onlyLocal = try client.getAllFlags(context: user, onlyEvaluateLocally: true)
        XCTAssertFalse(onlyLocal.remoteCalled)
        XCTAssertNil(onlyLocal.flags["beta"])
        XCTAssertEqual(onlyLocal.unresolved["beta"]?.kind, "missing_property")
        XCTAssertEqual(onlyLocal.unresolved["beta"]?.detail, "plan")

        // Only the listed keys, each in `flags` or `unresolved`.
        let listed = try client.getFlags(context: user, flagKeys: ["everyone", "nope"], onlyEvaluateLocally: true)
        XCTAssertEqual(Set(listed.flags.keys), ["everyone"])
        XCTAssertEqual(listed.unresolved["nope"]?.kind, "unknown_flag")
        XCTAssertFalse(listed.remoteCalled)
    }

    func testReloadPicksUpNewDefinitions() async throws {
        let recorder = Recorder()
        let client = try localClient(config(), recorder)
        try await client.waitUntilReadyAsync(timeout: 10)
        let user = EvaluationContext(distinctId: "u")
        let unknown = try XCTUnwrap(try client.getFlag(key: "new-flag", context: user, onlyEvaluateLocally: true, sendEvent: false).why)
        XCTAssertEqual(unknown.kind, "unknown_flag")
        XCTAssertNil(unknown.detail)
        try server.control("/_control/definitions", #"{"flags": [{"id": 9, "key": "new-flag", "active": true, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}}]}"#)
        try await client.reloadAsync()
        XCTAssertEqual(try client.getFlag(key: "new-flag", context: user).value, true)
        XCTAssertEqual(client.status().flagsLoaded, 1)
        XCTAssertEqual(recorder.snapshot().1.last?.flags, 1)
    }

    func testMaxRetryAfterBoundsRetryAfterOnItsOwn() throws {
        // A long backoff cap (which would be the default bound) and a short maxRetryAfter: polling resumes
        // within about a second.
        let client = try localClient(config().pollInterval(interval: 0.2).maxBackoff(max: 60).maxRetryAfter(max: 0.5))
        try client.waitUntilReady(timeout: 10)
        try server.control("/_control/faults", #"[{"target": "definitions", "kind": "status", "status": 429, "retry_after": 1e20}]"#)
        XCTAssertThrowsError(try client.reload()) { error in
            guard case let HogFlagsError.Definitions(code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "rate_limited")
        }
        let before = client.status().fetches
        Thread.sleep(forTimeInterval: 3)
        XCTAssertGreaterThanOrEqual(client.status().fetches, before + 3, "polling resumed after maxRetryAfter")
    }

    func testReloadUnderRateLimitingIsBoundedAndMaxBackoffBoundsRetryAfter() throws {
        let client = try localClient(config().pollInterval(interval: 0.2).maxBackoff(max: 1).definitionsTimeout(timeout: 1))
        try client.waitUntilReady(timeout: 10)
        try server.control("/_control/faults", #"[{"target": "definitions", "kind": "status", "status": 429, "retry_after": 1e20}]"#)
        var t = Date()
        XCTAssertThrowsError(try client.reload()) { error in
            guard case let HogFlagsError.Definitions(code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "rate_limited")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t), 2, "reload within definitionsTimeout + 1 s")
        let before = client.status().fetches
        t = Date()
        XCTAssertThrowsError(try client.reload())
        XCTAssertLessThan(Date().timeIntervalSince(t), 0.2, "a reload inside the Retry-After window returns at once")
        XCTAssertEqual(client.status().fetches, before)
        // Polling resumes after maxBackoff (1 s), not after the server's 1e20 s.
        Thread.sleep(forTimeInterval: 3)
        XCTAssertGreaterThanOrEqual(client.status().fetches, before + 3)
    }

    func testRemoteConfigPayloads() throws {
        let client = try localClient(config())
        try client.waitUntilReady(timeout: 10)
        XCTAssertEqual(try client.remoteConfigPayload(key: "beta"), ["color": "blue"])
        XCTAssertNil(try client.remoteConfigPayload(key: "everyone"))
        let keyless = try localClient(ClientConfig(projectApiKey: TestServer.projectKey).host(host: server.url))
        XCTAssertThrowsError(try keyless.remoteConfigPayload(key: "beta")) { error in
            guard case let HogFlagsError.InvalidConfig(code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "config")
        }
    }

    func testErrorsAreTyped() throws {
        XCTAssertThrowsError(try FlagsClient(config: ClientConfig(projectApiKey: ""), listener: nil)) { error in
            guard case let HogFlagsError.InvalidConfig(code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "config")
        }
        XCTAssertThrowsError(try FlagsClient(config: ClientConfig(projectApiKey: "phc_x").secretKey(key: "phc_y"), listener: nil)) { error in
            guard case let HogFlagsError.InvalidConfig(code, reason) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "config")
            XCTAssertFalse(reason.contains("phc_y"), "the key leaked into \(reason)")
        }
        let recorder = Recorder()
        let bad = try localClient(config().secretKey(key: "phs_wrong"), recorder)
        XCTAssertThrowsError(try bad.waitUntilReady(timeout: 10)) { error in
            guard case let HogFlagsError.Definitions(code, reason) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "unauthorized")
            XCTAssertFalse(reason.contains("phs_wrong"), "the key leaked into \(reason)")
        }
        XCTAssertEqual(bad.status().lastError?.code, "unauthorized")
        XCTAssertEqual(recorder.snapshot().3.first?.code, "unauthorized")
        // Keys never show in the configuration's debug text.
        let text = String(reflecting: config().secretKey(key: "phs_very_secret"))
        XCTAssertFalse(text.contains("very_secret"), text)
        XCTAssertFalse(text.contains("test_project_key"), text)
    }

    func testDiskCacheServesWhenTheServerIsDown() throws {
        let path = temporaryFile("definitions.json")
        let first = try localClient(config().cachePath(path: path))
        try first.waitUntilReady(timeout: 10)
        first.shutdown()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))

        let down = try TestServer()
        let deadUrl = down.url
        down.stop()
        let recorder = Recorder()
        let second = try localClient(config(deadUrl).cachePath(path: path), recorder)
        try second.waitUntilReady(timeout: 5)
        XCTAssertEqual(try second.getFeatureFlag(key: "everyone", context: EvaluationContext(distinctId: "u")), true)
        XCTAssertEqual(recorder.snapshot().1.first?.fromCache, true)
    }

    func testThreadsEvaluateWhileTheClientReloads() throws {
        let client = try localClient(config())
        try client.waitUntilReady(timeout: 10)
        let pro = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let done = Locked(false)
        let reloads = Locked(0)
        let reloader = Thread {
            while !done.value {
                if (try? client.reload()) != nil { reloads.update { $0 += 1 } }
            }
        }
        reloader.start()
        let bad = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<300 {
                let r = try? client.getFlag(key: "beta", context: pro, onlyEvaluateLocally: true, sendEvent: false)
                if r?.value != true { bad.update { $0 += 1 } }
            }
        }
        done.update { $0 = true }
        while reloader.isExecuting { usleep(1000) }
        XCTAssertEqual(bad.value, 0)
        XCTAssertGreaterThan(reloads.value, 0)
    }

    // MARK: remote mode

    func testRemoteClientLoadsAndServesOneUsersFlags() async throws {
        let client = try remoteClient(config(), EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"]))
        try await client.waitUntilReadyAsync(timeout: 10)
        XCTAssertTrue(client.isLoaded())
        XCTAssertEqual(client.getFeatureFlag(key: "beta"), true)
        XCTAssertEqual(client.isFeatureEnabled(key: "everyone"), true)
        XCTAssertEqual(client.getFeatureFlagPayload(key: "beta"), ["color": "blue"])
        let details = try XCTUnwrap(client.getFlag(key: "beta").details)
        XCTAssertEqual(details.source, .remote)
        XCTAssertNotNil(details.requestId)
        XCTAssertEqual(client.getFlag(key: "missing").why?.kind, "flag_missing")
        XCTAssertEqual(client.getFlag(key: "missing").why?.errorCode, "flag_missing")
        XCTAssertEqual(Set(client.allFlags().keys), ["beta", "everyone", "checkout"])
    }

    func testListenerIsCalledOncePerChange() async throws {
        let recorder = Recorder()
        let client = try remoteClient(config(), EvaluationContext(distinctId: "user-3"), recorder)
        try client.waitUntilReady(timeout: 10)
        XCTAssertEqual(client.getFeatureFlag(key: "beta"), nil)  // failed on the server: no plan
        // The first answer is one change (its flags appeared); the listener runs on the driver thread.
        let deadline = Date().addingTimeInterval(5)
        while recorder.snapshot().2.isEmpty && Date() < deadline { usleep(10_000) }
        let first = recorder.snapshot().2
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(Set(first.first?.changed ?? []), ["everyone", "checkout"])
        let before = first.count
        // Nothing changed: no call.
        let unchanged = try await client.refreshAsync()
        XCTAssertEqual(unchanged, [])
        XCTAssertEqual(recorder.snapshot().2.count, before)
        // The person gets a plan: beta appears, one call naming it.
        try server.control("/_control/persons", #"{"distinct_id": "user-3", "properties": {"plan": "pro"}}"#)
        let changed = try await client.refreshAsync()
        XCTAssertEqual(changed, ["beta"])
        let changes = recorder.snapshot().2
        XCTAssertEqual(changes.count, before + 1)
        XCTAssertEqual(changes.last?.changed, ["beta"])
        XCTAssertEqual(changes.last?.flags["beta"]?.value, true)
        XCTAssertEqual(client.getFeatureFlag(key: "beta"), true)
        // And again nothing: no call.
        XCTAssertEqual(try client.refresh(), [])
        XCTAssertEqual(recorder.snapshot().2.count, before + 1)
    }

    func testRemoteErrorsAreTypedAndKeepTheLastFlags() throws {
        let client = try remoteClient(config(), EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"]))
        try client.waitUntilReady(timeout: 10)
        try server.control("/_control/faults", #"[{"target": "flags", "kind": "status", "status": 500, "count": 5}]"#)
        XCTAssertThrowsError(try client.refresh()) { error in
            guard case let HogFlagsError.Remote(code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "api_error_500")
        }
        XCTAssertEqual(client.lastError()?.code, "api_error_500")
        XCTAssertEqual(client.getFeatureFlag(key: "beta"), true)
    }

    func testRemoteCacheServesAtStartWhenTheServerIsDown() throws {
        let path = temporaryFile("remote.json")
        let user = EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"])
        let first = try remoteClient(config().cachePath(path: path), user)
        try first.waitUntilReady(timeout: 10)
        first.shutdown()

        let down = try TestServer()
        let deadUrl = down.url
        down.stop()
        let offline = try remoteClient(config(deadUrl).cachePath(path: path), user)
        XCTAssertTrue(offline.isLoaded(), "the cached flags are there at once")
        XCTAssertEqual(offline.getFeatureFlag(key: "beta"), true)
        XCTAssertThrowsError(try offline.refresh()) { error in
            guard case HogFlagsError.Remote = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(offline.getFeatureFlag(key: "beta"), true)
    }

    func testTasksReadWhileTheRemoteClientRefreshes() async throws {
        let client = try remoteClient(config(), EvaluationContext(distinctId: "user-1", personProperties: ["plan": "pro"]))
        try client.waitUntilReady(timeout: 10)
        let bad = try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                for _ in 0..<10 { _ = try await client.refreshAsync() }
                return 0
            }
            for _ in 0..<6 {
                group.addTask {
                    var bad = 0
                    for _ in 0..<500 where client.getFeatureFlag(key: "beta") != true { bad += 1 }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(bad, 0)
    }
}
