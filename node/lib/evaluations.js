'use strict'
// FeatureFlagEvaluations: what FlagsClient.evaluateFlags returns, posthog-node 5's batch-evaluation
// object backed by the core's (hogflags::client::FlagEvaluations), which native code keeps alive behind
// a handle. Evaluate once, then branch on isEnabled()/getFlag(): each read goes to the core, which
// records the access and emits the deduplicated $feature_flag_called event through the client's
// onFeatureFlagCalled, so exposures are reported for the flags the code read, not for every flag
// evaluated. Slices (only, onlyAccessed) and event properties are the core's too; this file converts.

const native = require('./native.js')
const { rethrow, checkKey, checkOptions, describe, put } = require('./common.js')

// The core's JSON shapes (snake_case, hogflags::client::wire) renamed to this package's camelCase.

function reasonOf(r) {
  return r ? { code: r.code, conditionIndex: r.condition_index, description: r.description ?? null } : undefined
}

function unresolvedOf(u) {
  return { kind: u.kind, detail: u.detail, errorCode: u.error_code, message: u.message }
}

function call(f) {
  try {
    return f()
  } catch (e) {
    rethrow(e)
  }
}

const own = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key)

/**
 * The flags of one evaluation for one user (`FlagsClient.evaluateFlags`), with the reads made of them.
 * `flags`, `payloads`, `reasons`, `unresolved` and `sources` are plain objects; `isEnabled()` and
 * `getFlag()` are reads (each reports its `$feature_flag_called` event, deduplicated, through
 * `onFeatureFlagCalled`); `getFlagPayload()`, `keys` and `unresolvedFlags` are not.
 */
class FeatureFlagEvaluations {
  /**
   * @internal Instances are made by `FlagsClient.evaluateFlags()`, from the core's bulk JSON (parsed)
   * and the native handle of the core's evaluations.
   */
  constructor(all, handle) {
    if (all === null || typeof all !== 'object' || typeof all.flags !== 'object' || typeof all.unresolved !== 'object') {
      throw new TypeError('FeatureFlagEvaluations are made by FlagsClient.evaluateFlags()')
    }
    const flags = {}
    const payloads = {}
    const reasons = {}
    const sources = {}
    for (const [k, d] of Object.entries(all.flags)) {
      put(flags, k, d.value)
      if (d.payload !== null && d.payload !== undefined) put(payloads, k, d.payload)
      if (d.reason) put(reasons, k, reasonOf(d.reason))
      put(sources, k, d.source)
    }
    const unresolved = {}
    for (const [k, u] of Object.entries(all.unresolved)) put(unresolved, k, unresolvedOf(u))
    /** Every flag with a value: `true`, `false` or the variant. */
    this.flags = flags
    /** The payloads of the flags with a value that has one. */
    this.payloads = payloads
    /** The reason of every flag with a value. */
    this.reasons = reasons
    /** The flags evaluated without a value, and why. */
    this.unresolved = unresolved
    /** Where each value came from: `'local'` or `'remote'`. */
    this.sources = sources
    // The core's evaluations; native code refuses anything else (a TypeError).
    Object.defineProperty(this, '_h', { value: handle })
  }

  /**
   * Whether the flag is enabled (`true` or a variant); `defaultValue` (default `false`) when this
   * evaluation has no value for it: a decided `false` stays `false`. A read: reports the flag's
   * `$feature_flag_called` event (deduplicated) unless `sendFeatureFlagEvents` is `false`; either way
   * the flag counts as accessed for `onlyAccessed()`.
   */
  isEnabled(key, options) {
    checkKey(key)
    const o = checkOptions(options)
    const defaultValue = o.defaultValue ?? false
    if (typeof defaultValue !== 'boolean') throw new TypeError(`defaultValue must be a boolean, got ${describe(defaultValue)}`)
    return call(() => native.evaluationsIsEnabled(this._h, key, defaultValue, o.sendFeatureFlagEvents !== false))
  }

  /**
   * The flag's value (`true`, `false` or the variant), `undefined` when this evaluation has none. A read,
   * as `isEnabled()`.
   */
  getFlag(key, options) {
    checkKey(key)
    const o = checkOptions(options)
    return call(() => native.evaluationsGetFlag(this._h, key, o.sendFeatureFlagEvents !== false))
  }

  /** The payload of the flag's value, `undefined` when it has none. Not a read: no access, no event. */
  getFlagPayload(key) {
    checkKey(key)
    return own(this.payloads, key) ? this.payloads[key] : undefined
  }

  /**
   * A slice holding only the flags with a value read so far (`isEnabled()`/`getFlag()`, with or without
   * an event), for a captured event; empty when nothing was read yet. It has no unresolved flags but
   * those the server marked failed, keeps the reads made so far, and reading a key it left out reports
   * nothing (the flag was excluded, not missing).
   */
  onlyAccessed() {
    return this._slice(undefined)
  }

  /**
   * A slice holding only `keys` (as `onlyAccessed()`); keys without a value in this evaluation are
   * dropped, with a process warning.
   */
  only(keys) {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array of strings, got ${describe(keys)}`)
    for (const k of keys) checkKey(k)
    const slice = this._slice(keys)
    const dropped = [...new Set(keys)].filter((k) => !own(slice.flags, k))
    if (dropped.length > 0) {
      process.emitWarning(`hogflags: FeatureFlagEvaluations.only() dropped flag keys not in this evaluation: ${dropped.join(', ')}`, 'HogflagsWarning')
    }
    return slice
  }

  _slice(keys) {
    const [json, handle] = call(() => native.evaluationsSlice(this._h, keys))
    return new FeatureFlagEvaluations(JSON.parse(json), handle)
  }

  /** The keys of the flags with a value, sorted. Not a read. */
  get keys() {
    return call(() => native.evaluationsKeys(this._h))
  }

  /** The flags evaluated without a value, and why (`unresolved`; posthog-node's name). Empty on a slice. Not a read. */
  get unresolvedFlags() {
    return this.unresolved
  }

  /**
   * The properties a captured event carries for these flags: `$feature/<key>` for every flag with a
   * value, and `$active_feature_flags` (the enabled keys, sorted) when one is enabled.
   */
  getEventProperties() {
    return JSON.parse(call(() => native.evaluationsEventProperties(this._h)))
  }

  /** posthog-node's name of `getEventProperties()`: its `capture({ flags })` calls it. */
  _getEventProperties() {
    return this.getEventProperties()
  }
}

module.exports = { FeatureFlagEvaluations, reasonOf, unresolvedOf }
