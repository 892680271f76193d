import Foundation
import HogFlags
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The repository's PostHog-compatible test server (tests/server), started as a child process on
/// 127.0.0.1 with the basic fixture. The binary is `HOGFLAGS_TEST_SERVER`, or the workspace's
/// target/release/hogflags-test-server (build it with `cargo build --release -p hogflags-test-server`).
final class TestServer {
    static let projectKey = "phc_test_project_key"
    static let secretKey = "phs_test_secret_key"
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    let url: String

    init() throws {
        let binary = ProcessInfo.processInfo.environment["HOGFLAGS_TEST_SERVER"]
            ?? TestServer.repository.appendingPathComponent("target/release/hogflags-test-server").path
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--definitions", TestServer.repository.appendingPathComponent("tests/server/fixtures/basic.json").path,
            "--exit-on-stdin-eof",
        ]
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        // The first line is `listening on http://127.0.0.1:PORT`.
        var line = Data()
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "http://") else { throw ServerError.noUrl(text) }
        url = String(text[range.lowerBound...])
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// POST to the control API; returns the response body.
    @discardableResult
    func control(_ path: String, _ body: String = "{}") throws -> String {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return try send(request)
    }

    func get(_ path: String) throws -> String {
        try send(URLRequest(url: URL(string: url + path)!))
    }

    // The control API with JSON values (written and read by the core's JSON code).

    /// POST `body` (as JSON text) to the control API.
    func control(_ path: String, json body: JsonValue) throws {
        try control(path, try body.jsonText())
    }

    /// `POST /_control/reset`: clears faults, the quota flag and the counters (not definitions or persons).
    func reset() throws { try control("/_control/reset") }

    /// `POST /_control/definitions`: the definitions document served from now on.
    func setDefinitions(_ definitions: JsonValue) throws { try control("/_control/definitions", json: definitions) }

    /// `POST /_control/persons`: server-side person properties for `/flags`.
    func setPerson(_ distinctId: String, _ properties: JsonValue) throws {
        try control("/_control/persons", json: ["distinct_id": .string(value: distinctId), "properties": properties])
    }

    /// `POST /_control/quota_limited`: `/flags` answers quota-limited while enabled.
    func setQuotaLimited(_ enabled: Bool) throws {
        try control("/_control/quota_limited", json: ["enabled": .bool(value: enabled)])
    }

    /// `POST /_control/faults`: one fault object or an array of them.
    func inject(faults: JsonValue) throws { try control("/_control/faults", json: faults) }

    /// `GET /_control/stats`: the request counters (`flags_requests`, `last_flags_request`, …).
    func stats() throws -> JsonValue { try JsonValue(jsonText: try get("/_control/stats")) }

    private func send(_ request: URLRequest) throws -> String {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<String, Error>>(.failure(ServerError.noAnswer))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error = error {
                result.update { $0 = .failure(error) }
            } else if let http = response as? HTTPURLResponse, http.statusCode >= 300 {
                result.update { $0 = .failure(ServerError.status(http.statusCode)) }
            } else {
                result.update { $0 = .success(String(decoding: data ?? Data(), as: UTF8.self)) }
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.value.get()
    }

    enum ServerError: Error {
        case noUrl(String)
        case noAnswer
        case status(Int)
    }
}
