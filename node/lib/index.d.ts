// Type declarations of hogflags for Node.js (CommonJS and ESM share them).

/** A JSON value (a flag payload, a property value read from definitions). */
export type JsonType = string | number | boolean | null | JsonType[] | { [key: string]: JsonType }

/** A flag's value: `true`, `false` or a variant key. */
export type FeatureFlagValue = boolean | string

/**
 * Property values as the engine reads them. Integral numbers within ±(2^53 − 1) are integers, other
 * finite numbers floats, `NaN`/`±Infinity` are `null` (as JSON.stringify writes them); BigInts are
 * integers (the nearest float beyond 64 bits); `Date`s are their ISO 8601 text; `undefined`, functions
 * and symbols are absent. Nested arrays and plain objects are converted recursively (at most 64 levels).
 */
export type PropertyValue = unknown
export type Properties = Record<string, PropertyValue>

/** Who is asking: posthog-node's option names. */
export interface FlagEvaluationOptions {
  /** Person properties; only the keys some flag reads are converted. */
  personProperties?: Properties
  /** Group type → group key (strings; numbers become their decimal text, other types mean "absent"). */
  groups?: Record<string, string | number>
  /** Group type → that group's properties (used only for groups also given in `groups`). */
  groupProperties?: Record<string, Properties>
  /** Device id for flags that bucket by device. */
  deviceId?: string
  /**
   * Pins "now" for relative date filters (tests, replays): a Date, an RFC 3339 string or epoch
   * milliseconds. Default: the wall clock.
   */
  now?: Date | string | number
  /** posthog-node options that do not apply to a purely local engine are accepted and ignored. */
  onlyEvaluateLocally?: boolean
  sendFeatureFlagEvents?: boolean
  disableGeoip?: boolean
}

export interface AllFlagsOptions extends FlagEvaluationOptions {
  /** Evaluate only these flags (unknown keys are `unresolved` with kind `unknown_flag`). */
  flagKeys?: string[]
}

/** The `/flags` v2 reason codes. */
export type ReasonCode =
  | 'super_condition_value'
  | 'holdout_condition_value'
  | 'condition_match'
  | 'out_of_rollout_bound'
  | 'no_condition_match'
  | 'no_group_type'
  | 'flag_disabled'

/** Why local evaluation could not decide (ask PostHog's `/flags` instead). */
export type InconclusiveKind =
  | 'missing_property'
  | 'missing_cohort'
  | 'experience_continuity'
  | 'unknown_group_type'
  | 'missing_device_id'
  | 'dependency'
  | 'unknown_operator'
  | 'invalid_value'
  | 'unknown_flag'

export interface FlagReason {
  code: ReasonCode
  /** 0-based index of the condition set that decided, or `null`. */
  conditionIndex: number | null
  /** The server's description, e.g. "Matched condition set 1". */
  description: string
}

export interface FeatureFlagResult {
  key: string
  enabled: boolean
  variant: string | undefined
  payload: JsonType | undefined
  reason: FlagReason
  flagId: number | undefined
  version: number | undefined
}

export interface Unresolved {
  kind: InconclusiveKind
  /** The property key, cohort id, dependency key, ... that made it undecidable, when there is one. */
  detail: string | null
}

export interface FlagEvaluations {
  /** Every decided flag's value. */
  flags: Record<string, FeatureFlagValue>
  /** Payloads of decided flags that have one for their value. */
  payloads: Record<string, JsonType>
  /** The reason of every decided flag. */
  reasons: Record<string, FlagReason>
  /** Flags local evaluation could not decide, and why. */
  unresolved: Record<string, Unresolved>
}

export interface FlagsAndPayloads {
  featureFlags: Record<string, FeatureFlagValue>
  featureFlagPayloads: Record<string, JsonType>
}

export interface FlagInfo {
  key: string
  id: number | undefined
  version: number | undefined
  active: boolean
  hasExperiment: boolean | undefined
  ensureExperienceContinuity: boolean
}

/** The JSON context form (snake_case, as the conformance corpus writes it). */
export interface JsonContext {
  distinct_id: string | number
  person_properties?: Record<string, JsonType>
  groups?: Record<string, JsonType>
  group_properties?: Record<string, Record<string, JsonType>>
  device_id?: string
  now?: string
}

/** The core's JSON outcome of one flag. */
export type JsonOutcome =
  | {
      key: string
      value: FeatureFlagValue
      enabled: boolean
      variant: string | null
      payload: JsonType
      reason: { code: ReasonCode; condition_index: number | null; description: string }
      flag_id: number | null
      version: number | null
    }
  | { key: string; inconclusive: InconclusiveKind; detail: string | null }

/** Base class of the errors hogflags throws on purpose (argument type errors are `TypeError`s). */
export declare class HogflagsError extends Error {}

/** The definitions document was refused as a whole (not JSON, too large, too many flags). */
export declare class InvalidDefinitionsError extends HogflagsError {}

/** A JSON context given to `evaluateJson` / `evaluateAllJson` is not of the expected shape. */
export declare class InvalidContextError extends HogflagsError {}

/**
 * Local, synchronous evaluation of a PostHog flag definitions document (the body of
 * `GET /flags/definitions`). Immutable: build a new engine when the definitions change.
 * Every method throws `TypeError` for arguments of the wrong type.
 */
export declare class FlagsEngine {
  /**
   * @param definitions the definitions document: JSON text, UTF-8 bytes, or the parsed object. Text and
   *   bytes are exact; a parsed object has lost what `JSON.parse` loses (a filter value written `42.0`
   *   becomes `42`, while the server compares it as the text `"42.0"`), so pass the text when you have it.
   * @throws InvalidDefinitionsError when the document is refused as a whole (a single bad flag is only
   *   skipped: see `skippedFlags`).
   */
  constructor(definitions: string | Uint8Array | object)

  /** `true`, `false` or the variant key; `undefined` when local evaluation is inconclusive or the flag is unknown. */
  getFeatureFlag(key: string, distinctId: string | number | bigint, options?: FlagEvaluationOptions): FeatureFlagValue | undefined

  /** Whether the flag is on (a variant counts as on); `undefined` when inconclusive. */
  isFeatureEnabled(key: string, distinctId: string | number | bigint, options?: FlagEvaluationOptions): boolean | undefined

  /** The payload of the value the flag evaluates to; `undefined` when there is none or it is inconclusive. */
  getFeatureFlagPayload(key: string, distinctId: string | number | bigint, options?: FlagEvaluationOptions): JsonType | undefined
  /**
   * posthog-node's form: the payload is returned only when the flag evaluates to `matchValue`
   * (`undefined`/`null` means "whatever it evaluates to").
   */
  getFeatureFlagPayload(
    key: string,
    distinctId: string | number | bigint,
    matchValue: FeatureFlagValue | undefined | null,
    options?: FlagEvaluationOptions,
  ): JsonType | undefined

  /** Value, payload and reason; `undefined` when inconclusive. */
  getFeatureFlagResult(key: string, distinctId: string | number | bigint, options?: FlagEvaluationOptions): FeatureFlagResult | undefined

  /** Every flag decided locally (inconclusive ones are left out). */
  getAllFlags(distinctId: string | number | bigint, options?: AllFlagsOptions): Record<string, FeatureFlagValue>

  /** Every flag decided locally, with the payloads of those that have one. */
  getAllFlagsAndPayloads(distinctId: string | number | bigint, options?: AllFlagsOptions): FlagsAndPayloads

  /** Values, payloads and reasons of the decided flags, and why the others are unresolved. */
  evaluateFlags(distinctId: string | number | bigint, options?: AllFlagsOptions): FlagEvaluations

  /**
   * JSON entry point: one flag for a context in the JSON form (JSON text or an object). Returns the
   * core's JSON outcome. Takes values plain JS numbers cannot hold (`5.0`, integers beyond 2^53).
   * @throws InvalidContextError when the context is not of the expected shape.
   */
  evaluateJson(key: string, context: string | JsonContext): JsonOutcome

  /** JSON entry point for every loaded flag, in document order. */
  evaluateAllJson(context: string | JsonContext): JsonOutcome[]

  /** Keys of the loaded flags, in document order. */
  readonly flagKeys: string[]
  /** Number of loaded flags. */
  readonly size: number
  /** Facts about one loaded flag, or `undefined`. */
  getFlagInfo(key: string): FlagInfo | undefined
  /** Flags that were not loaded, with the reason for each. */
  readonly skippedFlags: Array<{ key: string; reason: string }>
  /** Referenced cohorts that could not be compiled (filters using them are inconclusive). */
  readonly brokenCohorts: Array<{ id: string; reason: string }>
  /** The document's `group_type_mapping` (index as text → group type). */
  readonly groupTypeMapping: Record<string, string>
  /** The property keys any flag can read (the only ones converted from your objects). */
  readonly propertyKeys: { person: string[]; groups: Record<string, string[]> }
}

// ---- the networked client ------------------------------------------------------------------------

/** A FlagsClient cannot be built from these options (e.g. a project key given as the secret key, a bad host). */
export declare class ClientConfigError extends HogflagsError {
  /** The core's error code: `config` for unusable settings. */
  code: string
}

/** An error reported by the client (polling, reload, remote evaluation). */
export declare class FlagsClientError extends HogflagsError {
  /**
   * A stable short code: `unauthorized`, `forbidden`, `quota_limited`, `rate_limited`, `server_error`,
   * `unexpected_status`, `timeout`, `connection_error`, `transport_error`, `malformed_body`,
   * `api_error_<status>`, `cache`, `shut_down`, ...
   */
  code: string
}

/** A `$feature_flag_called` event to capture (already deduplicated). */
export interface FeatureFlagCalledEvent {
  event: '$feature_flag_called'
  distinctId: string
  groups: Record<string, string>
  properties: Record<string, JsonType>
}

export interface DefinitionsUpdate {
  /** Number of flags now loaded. */
  flags: number
  skipped: Array<{ key: string; reason: string }>
  etag: string | null
  /** The definitions were cleared (the project is over its quota: 402). */
  cleared: boolean
  fromCache: boolean
}

export interface FlagsClientOptions {
  /** Project secret (`phs_…`) or personal API key (`phx_…`): needed to fetch definitions. */
  secretKey?: string
  /** posthog-node's name for `secretKey`. */
  personalApiKey?: string
  /** Default `https://us.i.posthog.com`. */
  host?: string
  /** Milliseconds between definitions polls (default 30 000; posthog-node: `featureFlagsPollingInterval`). */
  pollInterval?: number
  featureFlagsPollingInterval?: number
  /** Timeout of a definitions request, ms (default 10 000). */
  definitionsTimeout?: number
  /** Timeout of a `/flags` request, ms (default 3 000; posthog-node: `featureFlagsRequestTimeoutMs`). */
  remoteTimeout?: number
  featureFlagsRequestTimeoutMs?: number
  /** Never call `/flags` (posthog-node: `strictLocalEvaluation`). */
  onlyEvaluateLocally?: boolean
  strictLocalEvaluation?: boolean
  /** Call `/flags` for flags local evaluation cannot decide (default true). */
  fallbackToRemote?: boolean
  /** Keep the last good definitions in this file (used at start-up before the first fetch). */
  cachePath?: string
  /** Upper bound of the backoff after 401/403/429, ms (default 300 000); also bounds a server's Retry-After. */
  maxBackoff?: number
  /** Longest Retry-After honoured after a 429, ms (default: the maxBackoff bound, max(maxBackoff, pollInterval)). */
  maxRetryAfter?: number
  /**
   * Evaluation contexts of this client (posthog-node's option): flags limited to other contexts are left
   * out and count as false for dependencies; the contexts are sent on /flags. Alias: evaluationEnvironments.
   */
  evaluationContexts?: readonly string[]
  /** @deprecated posthog-node's older name of `evaluationContexts`. */
  evaluationEnvironments?: readonly string[]
  /** Sent as `geoip_disable` on /flags (default true, as posthog-node). */
  disableGeoip?: boolean
  /** Random spread of scheduled delays, as a fraction (default 0.1). */
  jitter?: number
  /** Size of the `$feature_flag_called` dedupe memory (default 50 000). */
  dedupeCapacity?: number
  /** Honour HTTP(S)_PROXY (default true). */
  useSystemProxy?: boolean
  userAgent?: string
  /** Receives the `$feature_flag_called` events to capture, e.g. with posthog-node's `capture`. */
  onFeatureFlagCalled?: (event: FeatureFlagCalledEvent) => void
  /** Polling and refresh failures (the last good definitions stay in use). */
  onError?: (error: FlagsClientError) => void
  onDefinitionsUpdated?: (update: DefinitionsUpdate) => void
}

export interface ClientFlagOptions extends FlagEvaluationOptions {
  /** Do not call `/flags` for this call. */
  onlyEvaluateLocally?: boolean
  /** Report a `$feature_flag_called` event (default true). */
  sendFeatureFlagEvents?: boolean
}

export interface ClientAllFlagsOptions extends ClientFlagOptions {
  flagKeys?: string[]
}

export interface ClientFeatureFlagResult {
  key: string
  enabled: boolean
  variant: string | undefined
  payload: JsonType | undefined
  reason: { code: string; conditionIndex: number | null; description: string | null } | undefined
  flagId: number | undefined
  version: number | undefined
  hasExperiment: boolean | undefined
  /** Where the value came from. */
  source: 'local' | 'remote'
  requestId: string | undefined
}

export interface ClientUnresolved {
  /** An inconclusive kind (`missing_property`, `unknown_flag`, …), or `flag_missing`, `evaluation_failed`, `quota_limited`, `remote_error`, `not_loaded`. */
  kind: string
  /** The missing property (cohort, dependency, …), or the error's code for `remote_error`. */
  detail: string | null
  /** The `$feature_flag_error` code PostHog's events use for this outcome. */
  errorCode: string | null
  /** For `remote_error`, the error's text; `null` otherwise. */
  message: string | null
}

/** The plain data of a `FeatureFlagEvaluations`. */
export interface ClientFlagEvaluations {
  /** Every flag with a value: `true`, `false` or the variant. */
  flags: Record<string, FeatureFlagValue>
  /** The payloads of the flags with a value that has one. */
  payloads: Record<string, JsonType>
  /** The reason of every flag with a value. */
  reasons: Record<string, { code: string; conditionIndex: number | null; description: string | null }>
  /** The flags evaluated without a value, and why. */
  unresolved: Record<string, ClientUnresolved>
  /** Where each value came from. */
  sources: Record<string, 'local' | 'remote'>
}

/** Options of a read (`isEnabled`, `getFlag`) of a `FeatureFlagEvaluations`. */
export interface FlagReadOptions {
  /** Report the read's `$feature_flag_called` event (default true). The flag counts as accessed either way. */
  sendFeatureFlagEvents?: boolean
}

/** The properties a captured event carries for the flags of a `FeatureFlagEvaluations`. */
export interface FlagEventProperties {
  /** `$feature/<key>`: the value of every flag with one. */
  [property: `$feature/${string}`]: FeatureFlagValue
  /** The enabled keys, sorted (absent when none is enabled). */
  $active_feature_flags?: string[]
}

/**
 * The flags of one evaluation for one user, as posthog-node 5's `FeatureFlagEvaluations`: returned by
 * `FlagsClient.evaluateFlags`. Branch on `isEnabled()` / `getFlag()`: each read reports its
 * `$feature_flag_called` event (deduplicated) through `onFeatureFlagCalled`, so exposures are reported
 * for the flags the code read, not for every flag evaluated. `only()` / `onlyAccessed()` narrow the set
 * attached to a captured event (`getEventProperties()`).
 */
export declare class FeatureFlagEvaluations implements ClientFlagEvaluations {
  /** Made by `FlagsClient.evaluateFlags()`. */
  private constructor()
  flags: Record<string, FeatureFlagValue>
  payloads: Record<string, JsonType>
  reasons: Record<string, { code: string; conditionIndex: number | null; description: string | null }>
  unresolved: Record<string, ClientUnresolved>
  sources: Record<string, 'local' | 'remote'>
  /**
   * Whether the flag is enabled (`true` or a variant); `defaultValue` (default `false`) when this
   * evaluation has no value for it (a decided `false` stays `false`). A read.
   */
  isEnabled(key: string, options?: FlagReadOptions & { defaultValue?: boolean }): boolean
  /** The flag's value, `undefined` when this evaluation has none. A read. */
  getFlag(key: string, options?: FlagReadOptions): FeatureFlagValue | undefined
  /** The payload of the flag's value. Not a read: no access recorded, no event. */
  getFlagPayload(key: string): JsonType | undefined
  /**
   * A slice holding only the flags with a value read so far (empty if none was), for a captured event:
   * no unresolved flags but those the server marked failed, the reads made so far kept, and reading a
   * key it left out reports nothing.
   */
  onlyAccessed(): FeatureFlagEvaluations
  /** A slice holding only `keys` (as `onlyAccessed()`); keys without a value here are dropped, with a warning. */
  only(keys: string[]): FeatureFlagEvaluations
  /** The keys of the flags with a value, sorted. Not a read. */
  readonly keys: string[]
  /** The flags without a value, and why (`unresolved`; empty on a slice). Not a read. */
  readonly unresolvedFlags: Readonly<Record<string, ClientUnresolved>>
  /** `$feature/<key>` for every flag with a value, and `$active_feature_flags`. */
  getEventProperties(): FlagEventProperties
  /** posthog-node's name of `getEventProperties()` (its `capture({ flags })` calls it). */
  _getEventProperties(): FlagEventProperties
}

export interface ClientStatus {
  ready: boolean
  flagsLoaded: number
  etag: string | null
  consecutiveFailures: number
  lastError: FlagsClientError | null
  /** Epoch ms of the last successful fetch (200 or 304) or cache load. */
  lastSuccessAt: number | null
  fetches: number
}

/**
 * PostHog feature flags with definitions polled from PostHog and evaluated locally by the core;
 * `/flags` is asked only for what local evaluation cannot decide. Polling runs on a native thread
 * and never keeps the process alive; it works inside worker_threads. Keys never appear in errors,
 * logs, `toString()` or `util.inspect`.
 */
export declare class FlagsClient {
  /** @throws ClientConfigError for unusable options (a project key as the secret key, bad host), TypeError for wrong types. */
  constructor(projectApiKey: string, options?: FlagsClientOptions)
  getFeatureFlag(key: string, distinctId: string | number | bigint, options?: ClientFlagOptions): Promise<FeatureFlagValue | undefined>
  isFeatureEnabled(key: string, distinctId: string | number | bigint, options?: ClientFlagOptions): Promise<boolean | undefined>
  getFeatureFlagPayload(key: string, distinctId: string | number | bigint, options?: ClientFlagOptions): Promise<JsonType | undefined>
  getFeatureFlagPayload(
    key: string,
    distinctId: string | number | bigint,
    matchValue: FeatureFlagValue | undefined | null,
    options?: ClientFlagOptions,
  ): Promise<JsonType | undefined>
  getFeatureFlagResult(key: string, distinctId: string | number | bigint, options?: ClientFlagOptions): Promise<ClientFeatureFlagResult | undefined>
  getAllFlags(distinctId: string | number | bigint, options?: ClientAllFlagsOptions): Promise<Record<string, FeatureFlagValue>>
  getAllFlagsAndPayloads(distinctId: string | number | bigint, options?: ClientAllFlagsOptions): Promise<FlagsAndPayloads>
  /** Every flag (or those of `flagKeys`) evaluated once; no event is sent until a flag is read. */
  evaluateFlags(distinctId: string | number | bigint, options?: ClientAllFlagsOptions): Promise<FeatureFlagEvaluations>
  /** Fetches the definitions now. @throws FlagsClientError */
  /** The decrypted payload of a remote-config flag (needs `secretKey`); `undefined` when it has none. */
  getRemoteConfigPayload(key: string): Promise<JsonType | undefined>
  reloadFeatureFlags(): Promise<void>
  /** `true` once definitions are loaded, `false` on timeout. @throws FlagsClientError on 401/403/402. */
  waitForLocalEvaluationReady(timeoutMs?: number): Promise<boolean>
  /** Stops polling; evaluation keeps working on the last definitions. Idempotent. */
  shutdown(): Promise<void>
  readonly status: ClientStatus
}
