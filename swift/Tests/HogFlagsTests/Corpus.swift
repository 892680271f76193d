import Foundation
import HogFlags

/// The shared conformance corpus (tests/conformance/*.json), read with the core's JSON parser so that
/// numbers reach the engine exactly as written (Foundation would blur `1` and `1.0`).
struct CorpusCase {
    let file: String
    let id: String
    let flag: String
    let contextJson: String
    let expected: JsonValue

    var name: String { "\(file)/\(id) [\(flag)]" }
}

struct CorpusSuite {
    let file: String
    let definitionsJson: String
    let cases: [CorpusCase]
}

enum Corpus {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // HogFlagsTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // swift
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("tests/conformance")

    static let suites: [CorpusSuite] = {
        do { return try load() } catch { fatalError("cannot read the corpus in \(directory.path): \(error)") }
    }()

    static var caseCount: Int { suites.reduce(0) { $0 + $1.cases.count } }

    /// The folder named by `HOGFLAGS_EXTRA_CORPUS` (e.g. the differential corpus), when set.
    static let extraDirectory: URL? = ProcessInfo.processInfo.environment["HOGFLAGS_EXTRA_CORPUS"]
        .flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }

    static func load() throws -> [CorpusSuite] {
        let files = try ([directory] + (extraDirectory.map { [$0] } ?? [])).flatMap { dir in
            try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { $0.hasSuffix(".json") }
                .map { (file: $0, url: dir.appendingPathComponent($0)) }
        }.sorted { $0.file < $1.file }
        return try files.map { (file, url) in
            let text = try String(contentsOf: url, encoding: .utf8)
            let doc = try JsonValue(jsonText: text)
            guard let definitions = doc["definitions"], let cases = doc["cases"]?.arrayValue else {
                throw CorpusError.malformed(file)
            }
            return CorpusSuite(
                file: file,
                definitionsJson: try definitions.jsonText(),
                cases: try cases.map { c in
                    guard let id = c["id"]?.stringValue, let flag = c["flag"]?.stringValue,
                        let context = c["context"], let expected = c["expected"]
                    else { throw CorpusError.malformed(file) }
                    return CorpusCase(
                        file: file, id: id, flag: flag, contextJson: try context.jsonText(), expected: expected)
                })
        }
    }

    /// Compares an outcome with a case's `expected` as the Rust runner does; `nil` when they agree.
    static func difference(_ outcome: FlagOutcome, _ expected: JsonValue) -> String? {
        if let kind = expected["inconclusive"]?.stringValue {
            switch outcome {
            case let .inconclusive(_, k, detail):
                return k.wireName() == kind ? nil : "inconclusive \(k) (\(detail ?? "-")), want inconclusive \(kind)"
            case let .decided(r):
                return "decided \(r.value) (\(r.reason.code) \(String(describing: r.reason.conditionIndex))), want inconclusive \(kind)"
            }
        }
        guard case let .decided(r) = outcome else { return "\(outcome), want \(expected)" }
        var diffs: [String] = []
        let value: JsonValue
        switch r.value {
        case let .bool(b): value = .bool(value: b)
        case let .variant(k): value = .string(value: k)
        }
        if expected["value"] != value { diffs.append("value \(value), want \(String(describing: expected["value"]))") }
        if let want = expected["payload"] {
            let got = r.payload ?? .null
            if got != want { diffs.append("payload \(got), want \(want)") }
        }
        if let reason = expected["reason"] {
            if reason["code"]?.stringValue != r.reason.code.wireName() {
                diffs.append("reason \(r.reason.code), want \(String(describing: reason["code"]))")
            }
            if let wantIndex = reason["condition_index"] {
                let got: JsonValue = r.reason.conditionIndex.map { .integer(value: Int64($0)) } ?? .null
                if got != wantIndex { diffs.append("condition_index \(got), want \(wantIndex)") }
            }
        }
        return diffs.isEmpty ? nil : diffs.joined(separator: "; ")
    }
}

enum CorpusError: Error {
    case malformed(String)
}
