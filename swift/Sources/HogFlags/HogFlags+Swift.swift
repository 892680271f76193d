// The idiomatic Swift layer over the generated bindings (Generated/HogFlags.swift): literals for
// property values, convenience accessors, and `Codable` in the core's JSON shape. Conversions only:
// every answer, and every JSON text, comes from the Rust core.

import Foundation

// MARK: - JsonValue: literals, accessors, JSON text

extension JsonValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value: value) }
    public init(integerLiteral value: Int64) { self = .integer(value: value) }
    public init(floatLiteral value: Double) { self = .double(value: value) }
    public init(stringLiteral value: String) { self = .string(value: value) }
    public init(arrayLiteral elements: JsonValue...) { self = .array(values: elements) }
    public init(dictionaryLiteral elements: (String, JsonValue)...) {
        self = .object(entries: Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JsonValue {
    /// `Int`, `Int64`, `UInt64`, `Double`, `Bool`, `String`, arrays and dictionaries of them, `nil`/`NSNull`;
    /// `nil` for anything else (use the cases directly for full control).
    public init?(_ any: Any?) {
        switch any {
        case nil, is NSNull: self = .null
        case let v as JsonValue: self = v
        case let v as Bool: self = .bool(value: v)
        case let v as Int: self = .integer(value: Int64(v))
        case let v as Int64: self = .integer(value: v)
        case let v as Int32: self = .integer(value: Int64(v))
        case let v as UInt64: self = v <= UInt64(Int64.max) ? .integer(value: Int64(v)) : .unsigned(value: v)
        case let v as UInt: self = JsonValue(UInt64(v))!
        case let v as Double: self = .double(value: v)
        case let v as Float: self = .double(value: Double(v))
        case let v as String: self = .string(value: v)
        case let v as [Any?]:
            var values: [JsonValue] = []
            values.reserveCapacity(v.count)
            for e in v {
                guard let j = JsonValue(e) else { return nil }
                values.append(j)
            }
            self = .array(values: values)
        case let v as [String: Any?]:
            var entries: [String: JsonValue] = [:]
            for (k, e) in v {
                guard let j = JsonValue(e) else { return nil }
                entries[k] = j
            }
            self = .object(entries: entries)
        default: return nil
        }
    }

    /// Parses JSON text (with the core's parser: integers and doubles stay distinct).
    public init(jsonText: String) throws {
        self = try jsonValueFromJson(json: jsonText)
    }

    /// Compact JSON text (written by the core). Throws `HogFlagsError.InvalidValue` for NaN/infinity.
    public func jsonText() throws -> String {
        try jsonValueToJson(value: self)
    }

    /// Decodes this value as `T` (e.g. a payload into your own `Decodable` struct).
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(jsonText().utf8))
    }

    public var boolValue: Bool? { if case let .bool(v) = self { return v } else { return nil } }
    public var stringValue: String? { if case let .string(v) = self { return v } else { return nil } }
    public var int64Value: Int64? { if case let .integer(v) = self { return v } else { return nil } }
    public var uint64Value: UInt64? {
        switch self {
        case let .integer(v): return v >= 0 ? UInt64(v) : nil
        case let .unsigned(v): return v
        default: return nil
        }
    }
    /// Doubles, and integers as doubles.
    public var doubleValue: Double? {
        switch self {
        case let .double(v): return v
        case let .integer(v): return Double(v)
        case let .unsigned(v): return Double(v)
        default: return nil
        }
    }
    public var arrayValue: [JsonValue]? { if case let .array(v) = self { return v } else { return nil } }
    public var objectValue: [String: JsonValue]? { if case let .object(v) = self { return v } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public subscript(key: String) -> JsonValue? { objectValue?[key] }
    public subscript(index: Int) -> JsonValue? {
        guard let a = arrayValue, a.indices.contains(index) else { return nil }
        return a[index]
    }
}

/// Plain JSON (`{"a": [1, 2.5, "x", true, null]}`), not a tagged form.
extension JsonValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(value: b)
        } else if let i = try? c.decode(Int64.self) {
            self = .integer(value: i)
        } else if let u = try? c.decode(UInt64.self) {
            self = .unsigned(value: u)
        } else if let d = try? c.decode(Double.self) {
            self = .double(value: d)
        } else if let s = try? c.decode(String.self) {
            self = .string(value: s)
        } else if let a = try? c.decode([JsonValue].self) {
            self = .array(values: a)
        } else {
            self = .object(entries: try c.decode([String: JsonValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(v): try c.encode(v)
        case let .integer(v): try c.encode(v)
        case let .unsigned(v): try c.encode(v)
        case let .double(v): try c.encode(v)
        case let .string(v): try c.encode(v)
        case let .array(v): try c.encode(v)
        case let .object(v): try c.encode(v)
        }
    }
}

// MARK: - FlagValue

extension FlagValue: ExpressibleByBooleanLiteral, ExpressibleByStringLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value: value) }
    public init(stringLiteral value: String) { self = .variant(key: value) }

    /// `true` for `true` and every variant.
    public var isEnabled: Bool { if case .bool(false) = self { return false } else { return true } }
    /// The variant key, when the value is one.
    public var variant: String? { if case let .variant(k) = self { return k } else { return nil } }
    /// `true`/`false` as `Bool`, a variant as its key.
    public var anyValue: Any {
        switch self {
        case let .bool(v): return v
        case let .variant(k): return k
        }
    }
}

/// JSON `true`, `false` or the variant key, as in `/flags` responses.
extension FlagValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(value: b)
        } else {
            self = .variant(key: try c.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .bool(v): try c.encode(v)
        case let .variant(k): try c.encode(k)
        }
    }
}

// MARK: - Wire names (from the core) for the code enums

extension ReasonCode: Codable, CustomStringConvertible {
    public var description: String { wireName() }
    /// The code for a wire name (`condition_match`), if there is one.
    public init?(wireName: String) {
        guard let c = ReasonCode.allCases.first(where: { $0.wireName() == wireName }) else { return nil }
        self = c
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let code = ReasonCode(wireName: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown reason code \(s)")
        }
        self = code
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wireName())
    }
}

extension InconclusiveKind: Codable, CustomStringConvertible {
    public var description: String { wireName() }
    /// The kind for a wire name (`missing_property`), if there is one.
    public init?(wireName: String) {
        guard let k = InconclusiveKind.allCases.first(where: { $0.wireName() == wireName }) else { return nil }
        self = k
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let kind = InconclusiveKind(wireName: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "unknown inconclusive kind \(s)")
        }
        self = kind
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(wireName())
    }
}

// MARK: - Results, Codable in the core's JSON shape (`FlagOutcome.toJson()`)

extension Reason: Codable {
    enum CodingKeys: String, CodingKey {
        case code
        case conditionIndex = "condition_index"
        case description
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            code: try c.decode(ReasonCode.self, forKey: .code),
            conditionIndex: try c.decodeIfPresent(Int32.self, forKey: .conditionIndex),
            description: try c.decode(String.self, forKey: .description))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(conditionIndex, forKey: .conditionIndex)  // null when absent, as the core writes it
        try c.encode(description, forKey: .description)
    }
}

extension FlagResult: Codable {
    enum CodingKeys: String, CodingKey {
        case key, value, enabled, variant, payload, reason
        case flagId = "flag_id"
        case version
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let payload = try c.decodeIfPresent(JsonValue.self, forKey: .payload)
        self.init(
            key: try c.decode(String.self, forKey: .key),
            value: try c.decode(FlagValue.self, forKey: .value),
            enabled: try c.decode(Bool.self, forKey: .enabled),
            variant: try c.decodeIfPresent(String.self, forKey: .variant),
            payload: payload == JsonValue.null ? nil : payload,
            reason: try c.decode(Reason.self, forKey: .reason),
            flagId: try c.decodeIfPresent(Int64.self, forKey: .flagId),
            version: try c.decodeIfPresent(Int64.self, forKey: .version))
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(value, forKey: .value)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(variant, forKey: .variant)
        try c.encode(payload, forKey: .payload)
        try c.encode(reason, forKey: .reason)
        try c.encode(flagId, forKey: .flagId)
        try c.encode(version, forKey: .version)
    }
}

extension FlagOutcome: Codable {
    enum CodingKeys: String, CodingKey {
        case key, inconclusive, detail
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let kind = try c.decodeIfPresent(InconclusiveKind.self, forKey: .inconclusive) {
            self = .inconclusive(
                key: try c.decode(String.self, forKey: .key), kind: kind,
                detail: try c.decodeIfPresent(String.self, forKey: .detail))
        } else {
            self = .decided(result: try FlagResult(from: decoder))
        }
    }
    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .decided(result):
            try result.encode(to: encoder)
        case let .inconclusive(key, kind, detail):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            try c.encode(kind, forKey: .inconclusive)
            try c.encode(detail, forKey: .detail)
        }
    }
}

extension FlagOutcome {
    /// The flag key.
    public var key: String {
        switch self {
        case let .decided(result): return result.key
        case let .inconclusive(key, _, _): return key
        }
    }
    /// The decided result, or `nil` when inconclusive.
    public var result: FlagResult? { if case let .decided(r) = self { return r } else { return nil } }
    /// The decided value, or `nil` when inconclusive.
    public var value: FlagValue? { result?.value }
    public var isDecided: Bool { result != nil }
    /// Why local evaluation could not decide, or `nil` when decided.
    public var inconclusiveKind: InconclusiveKind? {
        if case let .inconclusive(_, kind, _) = self { return kind } else { return nil }
    }
}

// MARK: - Engine conveniences

extension FlagsEngine {
    /// Loads a definitions document given as bytes (e.g. read from disk or the network).
    public convenience init(definitions: Data) throws {
        try self.init(definitionsJson: String(decoding: definitions, as: UTF8.self))
    }

    /// Every loaded flag's outcome, keyed by flag key.
    public func evaluateFlagsByKey(context: EvaluationContext) throws -> [String: FlagOutcome] {
        var out: [String: FlagOutcome] = [:]
        for outcome in try evaluateFlags(context: context) { out[outcome.key] = outcome }
        return out
    }
}

// MARK: - Errors

/// The generated code already provides `description` from the Rust `Display` implementation; this
/// declares the conformance, so `"\(error)"` and `localizedDescription` read e.g.
/// `invalid definitions: expected value at line 1 column 1`.
extension HogFlagsError: CustomStringConvertible {}

// MARK: - Clients

/// Every listener method is optional: implement only those you need.
extension ClientListener {
    public func onFlagCalled(event: FlagCalledEvent) {}
    public func onDefinitionsUpdated(update: DefinitionsUpdate) {}
    public func onFlagsChanged(change: FlagsChanged) {}
    public func onError(error: ErrorInfo) {}
}

/// A `ClientListener` made of closures (each optional). Called on the client's driver thread
/// (`onFlagCalled`: on the thread making the flag call, before it returns): return quickly, hop to your
/// own queue for UI work.
public final class ClientEvents: ClientListener, @unchecked Sendable {
    private let flagCalled: (@Sendable (FlagCalledEvent) -> Void)?
    private let definitionsUpdated: (@Sendable (DefinitionsUpdate) -> Void)?
    private let flagsChanged: (@Sendable (FlagsChanged) -> Void)?
    private let error: (@Sendable (ErrorInfo) -> Void)?

    public init(
        onFlagCalled: (@Sendable (FlagCalledEvent) -> Void)? = nil,
        onDefinitionsUpdated: (@Sendable (DefinitionsUpdate) -> Void)? = nil,
        onFlagsChanged: (@Sendable (FlagsChanged) -> Void)? = nil,
        onError: (@Sendable (ErrorInfo) -> Void)? = nil
    ) {
        flagCalled = onFlagCalled
        definitionsUpdated = onDefinitionsUpdated
        flagsChanged = onFlagsChanged
        error = onError
    }

    public func onFlagCalled(event: FlagCalledEvent) { flagCalled?(event) }
    public func onDefinitionsUpdated(update: DefinitionsUpdate) { definitionsUpdated?(update) }
    public func onFlagsChanged(change: FlagsChanged) { flagsChanged?(change) }
    public func onError(error: ErrorInfo) { self.error?(error) }
}

extension FlagLookup {
    public var key: String {
        switch self {
        case let .resolved(details): return details.key
        case let .unresolved(key, _): return key
        }
    }
    public var details: FlagDetails? { if case let .resolved(d) = self { return d } else { return nil } }
    public var value: FlagValue? { details?.value }
    /// Why the flag did not resolve, or `nil` when it did.
    public var why: Unresolved? { if case let .unresolved(_, why) = self { return why } else { return nil } }
}

/// Runs blocking work off the caller's thread and resumes the task with its result.
private func offThread<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .utility).async {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
    }
}

extension FlagsClient {
    /// One flag (default: fall back to `/flags`, report a `$feature_flag_called` event).
    public func getFlag(key: String, context: EvaluationContext) throws -> FlagLookup {
        try getFlag(key: key, context: context, onlyEvaluateLocally: false, sendEvent: true)
    }

    /// Every flag (with the `/flags` fallback for undecided keys).
    public func getAllFlags(context: EvaluationContext) throws -> AllFlagsResult {
        try getAllFlags(context: context, onlyEvaluateLocally: false)
    }

    /// The listed flags only, each in `flags` or `unresolved` (with the `/flags` fallback).
    public func getFlags(context: EvaluationContext, flagKeys: [String]) throws -> AllFlagsResult {
        try getFlags(context: context, flagKeys: flagKeys, onlyEvaluateLocally: false)
    }

    /// `getFlag` without blocking the caller while `/flags` is asked.
    public func getFlagAsync(key: String, context: EvaluationContext, onlyEvaluateLocally: Bool = false, sendEvent: Bool = true) async throws -> FlagLookup {
        try await offThread { try self.getFlag(key: key, context: context, onlyEvaluateLocally: onlyEvaluateLocally, sendEvent: sendEvent) }
    }

    public func getAllFlagsAsync(context: EvaluationContext, onlyEvaluateLocally: Bool = false) async throws -> AllFlagsResult {
        try await offThread { try self.getAllFlags(context: context, onlyEvaluateLocally: onlyEvaluateLocally) }
    }

    public func getFlagsAsync(context: EvaluationContext, flagKeys: [String], onlyEvaluateLocally: Bool = false) async throws -> AllFlagsResult {
        try await offThread { try self.getFlags(context: context, flagKeys: flagKeys, onlyEvaluateLocally: onlyEvaluateLocally) }
    }

    public func reloadAsync() async throws {
        try await offThread { try self.reload() }
    }

    public func waitUntilReadyAsync(timeout: TimeInterval) async throws {
        try await offThread { try self.waitUntilReady(timeout: timeout) }
    }
}

extension RemoteFlagsClient {
    /// Fetches the user's flags now; returns the keys that changed.
    public func refreshAsync() async throws -> [String] {
        try await offThread { try self.refresh() }
    }

    public func waitUntilReadyAsync(timeout: TimeInterval) async throws {
        try await offThread { try self.waitUntilReady(timeout: timeout) }
    }
}
