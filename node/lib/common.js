'use strict'
// Errors and argument checks shared by FlagsEngine and FlagsClient.

/** Base class of every error hogflags throws on purpose (argument type errors are `TypeError`s). */
class HogflagsError extends Error {
  constructor(message, options) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The definitions document was refused as a whole (not JSON, too large, too many flags). */
class InvalidDefinitionsError extends HogflagsError {}

/** A JSON context given to `evaluateJson` / `evaluateAllJson` is not of the expected shape. */
class InvalidContextError extends HogflagsError {}

/**
 * A FlagsClient cannot be built from these options (e.g. a project key given as the secret key, a bad
 * host); `code` is the core's error code (`config`).
 */
class ClientConfigError extends HogflagsError {}

// Native errors carry a code naming the class to raise; TypeErrors pass through unchanged.
function rethrow(e) {
  if (e instanceof TypeError || e instanceof HogflagsError || !e) throw e
  // Anything else that is not ours (e.g. thrown by a getter of the caller's objects) propagates as is.
  switch (e.code) {
    case 'HOGFLAGS_INVALID_DEFINITIONS':
      throw new InvalidDefinitionsError(e.message, { cause: e })
    case 'HOGFLAGS_INVALID_CONTEXT':
      throw new InvalidContextError(e.message, { cause: e })
    case 'HOGFLAGS_CLIENT_CONFIG': {
      // The core's error as {"code", "message"}: `code` is the core's (`config` for unusable settings).
      const { code, message } = JSON.parse(e.message)
      const err = new ClientConfigError(message)
      err.code = code
      throw err
    }
    case 'HOGFLAGS_INTERNAL':
      throw new HogflagsError(String(e.message), { cause: e })
    default:
      throw e
  }
}

const EMPTY = Object.freeze({})

function checkKey(key) {
  if (typeof key !== 'string') throw new TypeError(`flag key must be a string, got ${describe(key)}`)
}

function checkDistinctId(id) {
  const t = typeof id
  if (t !== 'string' && t !== 'number' && t !== 'bigint') {
    throw new TypeError(`distinctId must be a string or a number, got ${describe(id)}`)
  }
}

function checkOptions(options) {
  if (options === undefined || options === null) return EMPTY
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describe(options)}`)
  }
  return options
}

function describe(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v
}

function toDefinitionsInput(definitions) {
  if (typeof definitions === 'string' || definitions instanceof Uint8Array) return definitions
  if (definitions !== null && typeof definitions === 'object' && !Array.isArray(definitions)) {
    try {
      return JSON.stringify(definitions)
    } catch (e) {
      throw new InvalidDefinitionsError(`definitions cannot be serialized to JSON: ${e.message}`, { cause: e })
    }
  }
  throw new TypeError(`definitions must be a JSON string, a Buffer/Uint8Array or a plain object, got ${describe(definitions)}`)
}


// `__proto__` as a key: results and property reads treat it as an ordinary own key, as `JSON.parse` and
// `JSON.stringify` (and so PostHog's /flags) do. A plain assignment would set the object's prototype, a
// plain read would return it.
function put(obj, key, value) {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}

function read(props, key) {
  if (key === '__proto__') return Object.prototype.hasOwnProperty.call(props, key) ? props[key] : undefined
  return props[key]
}

module.exports = {
  put,
  read,
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
  EMPTY,
}
