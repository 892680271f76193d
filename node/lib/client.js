'use strict'
// FlagsClient: the core's networked client (polling, /flags fallback, $feature_flag_called events)
// with posthog-node's method names. Every answer comes from the core; this file converts arguments and
// results. Polling runs on a native thread of the core, which never keeps the process alive; callbacks
// arrive on this thread through an unref'd thread-safe function.

const util = require('node:util')
const native = require('./native.js')
const { HogflagsError, rethrow, checkKey, checkDistinctId, checkOptions, describe, put, read } = require('./common.js')
const { FeatureFlagEvaluations, reasonOf } = require('./evaluations.js')

const CLIENT_OPTIONS = {
  // the core's setting (hogflags::client::Settings): [accepted names (first wins), type]
  secret_key: [['secretKey', 'personalApiKey'], 'string'],
  host: [['host'], 'string'],
  poll_interval_ms: [['pollInterval', 'featureFlagsPollingInterval'], 'ms'],
  definitions_timeout_ms: [['definitionsTimeout'], 'ms'],
  remote_timeout_ms: [['remoteTimeout', 'featureFlagsRequestTimeoutMs'], 'ms'],
  only_evaluate_locally: [['onlyEvaluateLocally', 'strictLocalEvaluation'], 'boolean'],
  fallback_to_remote: [['fallbackToRemote'], 'boolean'],
  cache_path: [['cachePath'], 'string'],
  max_backoff_ms: [['maxBackoff'], 'ms'],
  max_retry_after_ms: [['maxRetryAfter'], 'ms'],
  jitter: [['jitter'], 'number'],
  dedupe_capacity: [['dedupeCapacity'], 'number'],
  use_system_proxy: [['useSystemProxy'], 'boolean'],
  user_agent: [['userAgent'], 'string'],
  evaluation_contexts: [['evaluationContexts', 'evaluationEnvironments'], 'strings'],
  disable_geoip: [['disableGeoip'], 'boolean'],
}
const CALLBACKS = { onFeatureFlagCalled: 'flag_called', onError: 'error', onDefinitionsUpdated: 'definitions_updated' }

function nativeOptions(options) {
  const out = {}
  for (const [name, [aliases, type]] of Object.entries(CLIENT_OPTIONS)) {
    const alias = aliases.find((a) => options[a] !== undefined && options[a] !== null)
    if (alias === undefined) continue
    const v = options[alias]
    const ok = type === 'string' ? typeof v === 'string'
      : type === 'strings' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : type === 'boolean' ? typeof v === 'boolean'
        : typeof v === 'number' && Number.isFinite(v) && v >= 0
    if (!ok) throw new TypeError(`${alias} must be ${type === 'ms' ? 'a number of milliseconds' : type === 'number' ? 'a non-negative number' : type === 'strings' ? 'an array of strings' : `a ${type}`}, got ${describe(v)}`)
    out[name] = v
  }
  return out
}

function callbackKinds(options) {
  const kinds = []
  for (const [name, kind] of Object.entries(CALLBACKS)) {
    if (options[name] === undefined || options[name] === null) continue
    if (typeof options[name] !== 'function') throw new TypeError(`${name} must be a function, got ${describe(options[name])}`)
    kinds.push(kind)
  }
  return kinds
}

/** An error reported by the client (polling, reload, remote evaluation); `code` is a stable short code. */
class FlagsClientError extends HogflagsError {
  constructor(message, code, options) {
    super(message, options)
    this.code = code
  }
}

function clientError(e) {
  return new FlagsClientError(e.message, e.code)
}

// The core's JSON shapes (snake_case, hogflags::client::wire) renamed to this package's camelCase.

function details(d) {
  return {
    key: d.key,
    enabled: d.enabled,
    variant: d.variant ?? undefined,
    payload: d.payload === null ? undefined : d.payload,
    reason: reasonOf(d.reason),
    flagId: d.flag_id ?? undefined,
    version: d.version ?? undefined,
    hasExperiment: d.has_experiment ?? undefined,
    source: d.source,
    requestId: d.request_id ?? undefined,
  }
}

const FROM_CORE = {
  flag_called: (e) => ({ event: e.event, distinctId: e.distinct_id, groups: e.groups, properties: e.properties }),
  definitions_updated: (u) => ({ flags: u.flags, skipped: u.skipped, etag: u.etag, cleared: u.cleared, fromCache: u.from_cache }),
  error: clientError,
}

/**
 * A PostHog feature-flag client: definitions polled from PostHog and evaluated locally by the core,
 * `/flags` asked for what local evaluation cannot decide, `$feature_flag_called` events handed to
 * `onFeatureFlagCalled`. Methods that may use the network return promises; a flag decided locally
 * resolves without leaving the thread.
 */
class FlagsClient {
  /**
   * @param {string} projectApiKey the project API key (`phc_…`)
   * @param {object} [options] `secretKey` (or `personalApiKey`), `host`, `pollInterval` (ms), callbacks …
   */
  constructor(projectApiKey, options) {
    if (typeof projectApiKey !== 'string') throw new TypeError(`projectApiKey must be a string, got ${describe(projectApiKey)}`)
    const o = checkOptions(options)
    const opts = nativeOptions(o)
    const events = callbackKinds(o)
    const callbacks = {}
    for (const name of Object.keys(CALLBACKS)) if (typeof o[name] === 'function') callbacks[CALLBACKS[name]] = o[name]
    const dispatch = events.length === 0 ? undefined : (message) => {
      let m
      try {
        m = JSON.parse(message)
      } catch {
        return
      }
      const cb = callbacks[m.kind]
      if (!cb) return
      const arg = FROM_CORE[m.kind](m.data)
      try {
        cb(arg)
      } catch (e) {
        // A throwing callback must not take the process down.
        process.emitWarning(`hogflags: the ${m.kind} callback threw: ${e && e.message}`, 'HogflagsWarning')
      }
    }
    let handle
    try {
      handle = native.createClient(projectApiKey, JSON.stringify(opts), events, dispatch)
    } catch (e) {
      rethrow(e)
    }
    this._h = handle
    // The person property keys of the current definitions (only those are read from the caller's
    // objects, here, and passed as one array) and their generation; native code writes the current
    // generation into _sync on every call, and the keys are fetched again when it changes.
    this._sync = new Int32Array(1)
    this._refreshKeys()
    this._host = opts.host || 'https://us.i.posthog.com'
    this._closed = false
  }

  _refreshKeys() {
    let k
    try {
      k = native.clientKeys(this._h)
    } catch (e) {
      rethrow(e)
    }
    this._gen = k.generation
    this._keys = k.personKeys
    this._sync[0] = k.generation
  }

  // The values of the current keys in the caller's person properties (read as `props[key]`).
  _personValues(props) {
    if (props === undefined || props === null) return undefined
    if (typeof props !== 'object' || Array.isArray(props)) {
      throw new TypeError(`personProperties must be an object, got ${describe(props)}`)
    }
    const keys = this._keys
    const pv = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) pv[i] = read(props, keys[i])
    return pv
  }

  // ---- one flag -------------------------------------------------------------------------------

  /**
   * The flag's value (`details` false) or the core's outcome record (`details` true). The core decides
   * locally and synchronously; when it asks `/flags`, native code returns a promise of the outcome.
   */
  async _flag(key, distinctId, options, details) {
    checkKey(key)
    checkDistinctId(distinctId)
    const o = checkOptions(options)
    let r
    try {
      // Locally, native code reads only the keys this flag needs from the person properties.
      r = native.clientGetFlag(this._h, this._sync, this._gen, key, distinctId, o.personProperties, o.groups, o.groupProperties, o.deviceId, o.sendFeatureFlagEvents !== false, o.onlyEvaluateLocally === true, details)
      if (this._sync[0] !== this._gen) this._refreshKeys()
      if (r instanceof Promise) {
        const out = JSON.parse(await r)
        return details ? out : out.kind === undefined ? out.value : undefined
      }
    } catch (e) {
      rethrow(e)
    }
    return details ? JSON.parse(r) : r
  }

  /** `true`, `false` or the variant key; `undefined` when neither local evaluation nor `/flags` decides. */
  async getFeatureFlag(key, distinctId, options) {
    return this._flag(key, distinctId, options, false)
  }

  /** Whether the flag is on (a variant counts as on); `undefined` when unresolved. */
  async isFeatureEnabled(key, distinctId, options) {
    const v = await this._flag(key, distinctId, options, false)
    return v === undefined ? undefined : v !== false
  }

  /**
   * The payload of the flag's value. posthog-node's form `(key, distinctId, matchValue, options)` is
   * accepted: the payload is then returned only when the flag resolves to `matchValue`.
   */
  async getFeatureFlagPayload(key, distinctId, matchValueOrOptions, maybeOptions) {
    let options = matchValueOrOptions
    let matchValue
    if (arguments.length >= 4 || typeof matchValueOrOptions === 'string' || typeof matchValueOrOptions === 'boolean') {
      matchValue = matchValueOrOptions
      options = maybeOptions
    }
    // posthog-node sends no event for payload reads.
    const r = await this._flag(key, distinctId, { ...checkOptions(options), sendFeatureFlagEvents: false }, true)
    if (r.kind !== undefined) return undefined
    if (matchValue !== undefined && matchValue !== null && r.value !== matchValue) return undefined
    return r.payload === null ? undefined : r.payload
  }

  /**
   * `{ key, enabled, variant, payload, reason, flagId, version, hasExperiment, source, requestId }`
   * (`source`: `'local'` or `'remote'`), or `undefined` when unresolved.
   */
  async getFeatureFlagResult(key, distinctId, options) {
    const r = await this._flag(key, distinctId, options, true)
    return r.kind === undefined ? details(r) : undefined
  }

  // ---- every flag -----------------------------------------------------------------------------

  // A bulk call through `fn` (native.clientAllFlags: the core's bulk JSON; native.clientEvaluateFlags:
  // that JSON and the core's evaluations): the answer, or a promise of it when the core asks /flags.
  _bulk(fn, distinctId, options) {
    checkDistinctId(distinctId)
    const o = checkOptions(options)
    const flagKeys = o.flagKeys
    if (flagKeys !== undefined && flagKeys !== null) {
      if (!Array.isArray(flagKeys)) throw new TypeError(`flagKeys must be an array of strings, got ${describe(flagKeys)}`)
      for (const k of flagKeys) checkKey(k)
    }
    const p = o.personProperties
    let r
    try {
      // The core selects the keys, pads unknown ones and decides whether /flags is asked (a promise then).
      r = fn(this._h, this._sync, this._gen, distinctId, this._personValues(p), p, o.groups, o.groupProperties, o.deviceId, o.onlyEvaluateLocally === true, flagKeys ?? undefined)
      if (this._sync[0] !== this._gen) this._refreshKeys()
    } catch (e) {
      rethrow(e)
    }
    return r
  }

  async _all(distinctId, options) {
    let text = this._bulk(native.clientAllFlags, distinctId, options)
    if (text instanceof Promise) text = await text.catch(rethrow)
    return JSON.parse(text)
  }

  /** Every flag that resolves, as `{ key: value }`. */
  async getAllFlags(distinctId, options) {
    const all = await this._all(distinctId, options)
    const out = {}
    for (const [k, d] of Object.entries(all.flags)) put(out, k, d.value)
    return out
  }

  /** `{ featureFlags, featureFlagPayloads }` for every flag that resolves. */
  async getAllFlagsAndPayloads(distinctId, options) {
    const all = await this._all(distinctId, options)
    const featureFlags = {}
    const featureFlagPayloads = {}
    for (const [k, d] of Object.entries(all.flags)) {
      put(featureFlags, k, d.value)
      if (d.payload !== null && d.payload !== undefined) put(featureFlagPayloads, k, d.payload)
    }
    return { featureFlags, featureFlagPayloads }
  }

  /**
   * Every flag (or those of `flagKeys`) evaluated once for this user, as a `FeatureFlagEvaluations`:
   * local answers, and `/flags` (one call, for the undecided keys only) for the rest unless
   * `onlyEvaluateLocally`. No event is sent until a flag is read (`isEnabled()`, `getFlag()`).
   */
  async evaluateFlags(distinctId, options) {
    let r = this._bulk(native.clientEvaluateFlags, distinctId, options)
    if (r instanceof Promise) r = await r.catch(rethrow)
    return new FeatureFlagEvaluations(JSON.parse(r[0]), r[1])
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  async _lifecycle(call) {
    let text
    try {
      text = await call()
    } catch (e) {
      rethrow(e)
    }
    return JSON.parse(text)
  }

  /**
   * The decrypted payload of a remote-config flag, read from PostHog on each call (needs `secretKey`):
   * the payload, or `undefined` when the flag has none. Rejects with a `FlagsClientError` when the request
   * fails (code `config` without a secret key).
   */
  async getRemoteConfigPayload(key) {
    checkKey(key)
    const r = await this._lifecycle(() => native.clientRemoteConfigPayload(this._h, key))
    if (!r.ok) throw clientError(r.error)
    return r.payload === null ? undefined : r.payload
  }

  /** Fetches the definitions now and waits for them. Rejects with a `FlagsClientError` on failure. */
  async reloadFeatureFlags() {
    const r = await this._lifecycle(() => native.clientReload(this._h))
    if (!r.ok) throw clientError(r.error)
  }

  /**
   * Waits (at most `timeoutMs`) until definitions are loaded: `true` when they are, `false` on timeout.
   * Rejects early with a `FlagsClientError` for failures that will not cure themselves (401, 403, 402).
   */
  async waitForLocalEvaluationReady(timeoutMs = 30_000) {
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0)) throw new TypeError(`timeoutMs must be a non-negative number, got ${describe(timeoutMs)}`)
    const r = await this._lifecycle(() => native.clientWaitUntilReady(this._h, timeoutMs))
    if (r.ok) return true
    if (r.error) throw clientError(r.error)
    return false
  }

  /** Stops polling. Evaluation keeps working on the last definitions. Idempotent. */
  async shutdown() {
    if (this._closed) return
    this._closed = true
    await this._lifecycle(() => native.clientShutdown(this._h))
  }

  /** `{ ready, flagsLoaded, etag, consecutiveFailures, lastError, lastSuccessAt, fetches }`. */
  get status() {
    let text
    try {
      text = native.clientStatus(this._h)
    } catch (e) {
      rethrow(e)
    }
    const s = JSON.parse(text)
    return {
      ready: s.ready,
      flagsLoaded: s.flags_loaded,
      etag: s.etag,
      consecutiveFailures: s.consecutive_failures,
      lastError: s.last_error ? clientError(s.last_error) : null,
      lastSuccessAt: s.last_success_ms,
      fetches: s.fetches,
    }
  }

  toString() {
    return `FlagsClient(${this._host})`
  }

  [util.inspect.custom]() {
    // Keys never appear here: the JS object does not hold them.
    return `FlagsClient { host: '${this._host}', ready: ${this.status.ready} }`
  }

  get [Symbol.toStringTag]() {
    return 'FlagsClient'
  }
}

module.exports = { FlagsClient, FlagsClientError }
