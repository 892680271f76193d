'use strict'
// hogflags for Node.js: PostHog feature flags evaluated locally by the Rust core.
//
// This file only adapts arguments and results to posthog-node's names and shapes; every answer comes
// from the core through the native addon (bindings/node). See README.md for the API.

const native = require('./native.js')

// The hot evaluation functions are raw N-API callbacks (see bindings/node/src/raw.rs).
const { evaluateOne, evaluateAll, evaluateKeys } = native.rawFunctions()

const {
  HogflagsError,
  InvalidDefinitionsError,
  InvalidContextError,
  ClientConfigError,
  rethrow,
  checkKey,
  checkDistinctId,
  checkOptions,
  describe,
  toDefinitionsInput,
  put,
  read,
} = require('./common.js')

/**
 * Local, synchronous evaluation of a PostHog flag definitions document (the body of
 * `GET /flags/definitions`). Immutable: build a new engine when the definitions change.
 */
class FlagsEngine {
  /** @param {string | Uint8Array | object} definitions */
  constructor(definitions) {
    const input = toDefinitionsInput(definitions)
    let handle
    try {
      handle = native.createEngine(input)
    } catch (e) {
      rethrow(e)
    }
    const info = native.engineInfo(handle)
    this._h = handle
    this._info = info
    this._stride = info.stride
    this._header = info.header
    this._keys = info.flags.map((f) => f.key)
    this._byKey = new Map(info.flags.map((f) => [f.key, f]))
    this._personKeys = info.personPropertyKeys
    // Per flag, the person property keys evaluating it alone reads (its own, its cohorts' and those of the
    // flags it depends on): only those values are read from the caller's object and converted.
    this._flagPersonKeys = new Map(info.flags.map((f, i) => [f.key, info.flagPersonKeys[i].map((k) => info.personPropertyKeys[k])]))
    this._noKeys = []
    this._strings = []
    this._payloadTexts = []
    this._out = new Int32Array(info.header + info.stride * Math.max(1, info.flags.length))
  }

  // ---- posthog-node's names ------------------------------------------------------------------

  /**
   * The flag's value: `true`, `false` or the variant key; `undefined` when local evaluation is
   * inconclusive (or the flag is unknown).
   */
  getFeatureFlag(key, distinctId, options) {
    const out = this._one(key, distinctId, options)
    return this._value(out[this._header])
  }

  /** `true`/`false`, or `undefined` when inconclusive. A variant counts as enabled. */
  isFeatureEnabled(key, distinctId, options) {
    const out = this._one(key, distinctId, options)
    const v = out[this._header]
    return v < 0 ? undefined : v !== 0
  }

  /**
   * The payload of the value the flag evaluates to (`undefined` when it has none or is inconclusive).
   * posthog-node's form `(key, distinctId, matchValue, options)` is accepted: the payload is then
   * returned only when the flag evaluates to `matchValue`.
   */
  getFeatureFlagPayload(key, distinctId, matchValueOrOptions, maybeOptions) {
    let options = matchValueOrOptions
    let matchValue
    let hasMatch = false
    if (arguments.length >= 4 || typeof matchValueOrOptions === 'string' || typeof matchValueOrOptions === 'boolean') {
      matchValue = matchValueOrOptions
      hasMatch = matchValue !== undefined && matchValue !== null
      options = maybeOptions
    }
    const out = this._one(key, distinctId, options)
    const h = this._header
    if (out[h] < 0) return undefined
    if (hasMatch && this._value(out[h]) !== matchValue) return undefined
    return this._payload(out[h + 1])
  }

  /**
   * `{ key, enabled, variant, payload, reason: { code, conditionIndex, description }, flagId, version }`,
   * or `undefined` when inconclusive.
   */
  getFeatureFlagResult(key, distinctId, options) {
    const out = this._one(key, distinctId, options)
    return this._result(key, out, this._header)
  }

  /** Every flag decided locally, as `{ key: value }` (inconclusive flags are left out). */
  getAllFlags(distinctId, options) {
    const { out, keys } = this._many(distinctId, options)
    const flags = {}
    const s = this._stride
    for (let i = 0, at = this._header; i < keys.length; i++, at += s) {
      const v = out[at]
      if (v >= 0) put(flags, keys[i], v === 0 ? false : v === 1 ? true : this._strings[v - 2])
    }
    return flags
  }

  /** `{ featureFlags, featureFlagPayloads }` for every flag decided locally. */
  getAllFlagsAndPayloads(distinctId, options) {
    const { out, keys } = this._many(distinctId, options)
    const featureFlags = {}
    const featureFlagPayloads = {}
    const s = this._stride
    for (let i = 0, at = this._header; i < keys.length; i++, at += s) {
      const v = out[at]
      if (v < 0) continue
      put(featureFlags, keys[i], v === 0 ? false : v === 1 ? true : this._strings[v - 2])
      if (out[at + 1] >= 0) put(featureFlagPayloads, keys[i], this._payload(out[at + 1]))
    }
    return { featureFlags, featureFlagPayloads }
  }

  /**
   * Everything about every flag (or `options.flagKeys`) for one user:
   * `{ flags, payloads, reasons, unresolved }`; `unresolved[key]` is `{ kind, detail }` for each flag
   * local evaluation could not decide (ask PostHog's `/flags` for those).
   */
  evaluateFlags(distinctId, options) {
    const { out, keys } = this._many(distinctId, options)
    const flags = {}
    const payloads = {}
    const reasons = {}
    const unresolved = {}
    const s = this._stride
    const kinds = this._info.inconclusiveKinds
    const codes = this._info.reasonCodes
    for (let i = 0, at = this._header; i < keys.length; i++, at += s) {
      const v = out[at]
      const key = keys[i]
      if (v < 0) {
        put(unresolved, key, { kind: kinds[-1 - v], detail: out[at + 2] < 0 ? null : this._strings[out[at + 2]] })
        continue
      }
      put(flags, key, v === 0 ? false : v === 1 ? true : this._strings[v - 2])
      if (out[at + 1] >= 0) put(payloads, key, this._payload(out[at + 1]))
      put(reasons, key, {
        code: codes[out[at + 2]],
        conditionIndex: out[at + 3] < 0 ? null : out[at + 3],
        description: this._strings[out[at + 4]],
      })
    }
    return { flags, payloads, reasons, unresolved }
  }

  // ---- JSON entry points ---------------------------------------------------------------------

  /**
   * Evaluates one flag for a context in hogflags' JSON form (`{ distinct_id, person_properties, groups,
   * group_properties, device_id, now }`, snake_case, as the conformance corpus writes it), given as JSON
   * text (or an object, which is JSON.stringify'd). Returns the core's JSON outcome: decided
   * `{ key, value, enabled, variant, payload, reason: { code, condition_index, description }, flag_id,
   * version }` or inconclusive `{ key, inconclusive, detail }`. Useful for replaying recorded contexts
   * and for values plain JS cannot hold (a float such as `5.0`, integers beyond 2^53).
   */
  evaluateJson(key, context) {
    checkKey(key)
    const text = contextText(context)
    let out
    try {
      out = native.evaluateJson(this._h, key, text)
    } catch (e) {
      rethrow(e)
    }
    return JSON.parse(out)
  }

  /** Like `evaluateJson`, for every loaded flag: an array of outcomes in document order. */
  evaluateAllJson(context) {
    const text = contextText(context)
    let out
    try {
      out = native.evaluateAllJson(this._h, text)
    } catch (e) {
      rethrow(e)
    }
    return JSON.parse(out)
  }

  // ---- facts about the loaded definitions ----------------------------------------------------

  /** Keys of the loaded flags, in document order. */
  get flagKeys() {
    return this._keys.slice()
  }

  /** Number of loaded flags. */
  get size() {
    return this._keys.length
  }

  /** `{ key, id, version, active, hasExperiment, ensureExperienceContinuity }` of a loaded flag, or `undefined`. */
  getFlagInfo(key) {
    const f = this._byKey.get(key)
    return f === undefined ? undefined : infoOf(f)
  }

  /** Flags that were not loaded, with the reason for each: `[{ key, reason }]`. */
  get skippedFlags() {
    return this._info.skippedFlags.map((s) => ({ key: s.key, reason: s.reason }))
  }

  /** Referenced cohorts that could not be compiled: `[{ id, reason }]`. */
  get brokenCohorts() {
    return this._info.brokenCohorts.map((c) => ({ id: c.key, reason: c.reason }))
  }

  /** The document's `group_type_mapping` (index as text → group type). */
  get groupTypeMapping() {
    return { ...this._info.groupTypeMapping }
  }

  /** The property keys any flag can read: `{ person: string[], groups: { [type]: string[] } }`. */
  get propertyKeys() {
    const groups = {}
    for (const [g, ks] of Object.entries(this._info.groupPropertyKeys)) groups[g] = ks.slice()
    return { person: this._info.personPropertyKeys.slice(), groups }
  }

  // ---- internals -----------------------------------------------------------------------------

  // The values of `keys` in the caller's person properties, as an array aligned with `keys` (only those
  // cross into native code). Read as `props[key]`, like posthog-node.
  _personValues(props, keys) {
    if (props === undefined || props === null) return undefined
    if (typeof props !== 'object' || Array.isArray(props)) {
      throw new TypeError(`personProperties must be an object, got ${describe(props)}`)
    }
    const pv = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) pv[i] = read(props, keys[i])
    return pv
  }

  _one(key, distinctId, options) {
    checkKey(key)
    checkDistinctId(distinctId)
    const o = checkOptions(options)
    const out = this._out
    try {
      const pv = this._personValues(o.personProperties, this._flagPersonKeys.get(key) || this._noKeys)
      evaluateOne(this._h, out, key, distinctId, pv, o.groups, o.groupProperties, o.deviceId, o.now)
    } catch (e) {
      rethrow(e)
    }
    if (out[0] !== this._strings.length || out[1] !== this._payloadTexts.length) this._sync(out)
    return out
  }

  _many(distinctId, options) {
    checkDistinctId(distinctId)
    const o = checkOptions(options)
    const flagKeys = o.flagKeys
    let out = this._out
    let keys = this._keys
    if (flagKeys !== undefined && flagKeys !== null) {
      if (!Array.isArray(flagKeys)) throw new TypeError(`flagKeys must be an array of strings, got ${describe(flagKeys)}`)
      keys = flagKeys.slice()
      for (const k of keys) checkKey(k)
      if (keys.length > this._keys.length) out = new Int32Array(this._header + this._stride * keys.length)
    }
    try {
      const pv = this._personValues(o.personProperties, this._personKeys)
      if (keys === this._keys) {
        evaluateAll(this._h, out, distinctId, pv, o.groups, o.groupProperties, o.deviceId, o.now)
      } else {
        evaluateKeys(this._h, out, keys, distinctId, pv, o.groups, o.groupProperties, o.deviceId, o.now)
      }
    } catch (e) {
      rethrow(e)
    }
    if (out[0] !== this._strings.length || out[1] !== this._payloadTexts.length) this._sync(out)
    return { out, keys }
  }

  _sync(out) {
    if (out[0] > this._strings.length) {
      for (const s of native.engineStrings(this._h, this._strings.length)) this._strings.push(s)
    }
    if (out[1] > this._payloadTexts.length) {
      for (const p of native.enginePayloads(this._h, this._payloadTexts.length)) this._payloadTexts.push(p)
    }
  }

  _value(v) {
    return v < 0 ? undefined : v === 0 ? false : v === 1 ? true : this._strings[v - 2]
  }

  _payload(i) {
    // A fresh object per call: callers may mutate what they get.
    return i < 0 ? undefined : JSON.parse(this._payloadTexts[i])
  }

  _result(key, out, at) {
    const v = out[at]
    if (v < 0) return undefined
    const f = this._byKey.get(key)
    return {
      key,
      enabled: v !== 0,
      variant: v > 1 ? this._strings[v - 2] : undefined,
      payload: this._payload(out[at + 1]),
      reason: {
        code: this._info.reasonCodes[out[at + 2]],
        conditionIndex: out[at + 3] < 0 ? null : out[at + 3],
        description: this._strings[out[at + 4]],
      },
      flagId: f && f.id != null ? f.id : undefined,
      version: f && f.version != null ? f.version : undefined,
    }
  }

  get [Symbol.toStringTag]() {
    return 'FlagsEngine'
  }
}

function contextText(context) {
  if (typeof context === 'string') return context
  if (context !== null && typeof context === 'object' && !Array.isArray(context)) return JSON.stringify(context)
  throw new TypeError(`context must be a JSON string or a plain object, got ${describe(context)}`)
}

function infoOf(f) {
  return {
    key: f.key,
    id: f.id ?? undefined,
    version: f.version ?? undefined,
    active: f.active,
    hasExperiment: f.hasExperiment ?? undefined,
    ensureExperienceContinuity: f.ensureExperienceContinuity,
  }
}

module.exports = { FlagsEngine, HogflagsError, InvalidDefinitionsError, InvalidContextError, ClientConfigError }

// The networked client is optional in the native build (cargo feature `client`, on by default).
if (typeof native.createClient === 'function') {
  const { FlagsClient, FlagsClientError } = require('./client.js')
  module.exports.FlagsClient = FlagsClient
  module.exports.FlagsClientError = FlagsClientError
  module.exports.FeatureFlagEvaluations = require('./evaluations.js').FeatureFlagEvaluations
}
