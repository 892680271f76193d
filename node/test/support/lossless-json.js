'use strict'
// A small JSON reader for the tests that keeps what JSON.parse loses: integers beyond 2^53 become
// BigInts and floats written with an integral value (`5.0`, `1e2`) become `LosslessFloat` markers, so a
// corpus case can be given to the engine exactly as written (and re-serialized byte-for-number).

class LosslessFloat {
  constructor(text) {
    this.text = text
  }
}

function parse(text) {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const fail = (what) => {
    throw new SyntaxError(`lossless-json: ${what} at ${i}`)
  }
  function value() {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const obj = {}
      ws()
      if (text[i] === '}') {
        i++
        return obj
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected key')
        const k = string()
        ws()
        if (text[i++] !== ':') fail('expected :')
        Object.defineProperty(obj, k, { value: value(), enumerable: true, writable: true, configurable: true })
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i++] !== '}') fail('expected }')
        return obj
      }
    }
    if (c === '[') {
      i++
      const arr = []
      ws()
      if (text[i] === ']') {
        i++
        return arr
      }
      for (;;) {
        arr.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i++] !== ']') fail('expected ]')
        return arr
      }
    }
    if (c === '"') return string()
    if (text.startsWith('true', i)) return (i += 4), true
    if (text.startsWith('false', i)) return (i += 5), false
    if (text.startsWith('null', i)) return (i += 4), null
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) fail('unexpected character')
    i += m[0].length
    const isFloat = m[2] !== undefined || m[3] !== undefined
    const n = Number(m[0])
    if (!isFloat) return Number.isSafeInteger(n) ? n : BigInt(m[0])
    return Number.isInteger(n) ? new LosslessFloat(m[0]) : n
  }
  function string() {
    const start = i
    i++
    while (text[i] !== '"') {
      if (text[i] === '\\') i++
      i++
      if (i >= text.length) fail('unterminated string')
    }
    i++
    return JSON.parse(text.slice(start, i))
  }
  const v = value()
  ws()
  if (i !== text.length) fail('trailing text')
  return v
}

function stringify(v) {
  if (v instanceof LosslessFloat) return v.text
  if (typeof v === 'bigint') return v.toString()
  if (Array.isArray(v)) return `[${v.map(stringify).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${stringify(v[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

/** Whether plain JS values (numbers, BigInts, strings, ...) can carry `v` without losing anything. */
function representable(v) {
  if (v instanceof LosslessFloat) return false
  if (Array.isArray(v)) return v.every(representable)
  if (v !== null && typeof v === 'object') return Object.values(v).every(representable)
  return true
}

module.exports = { parse, stringify, representable, LosslessFloat }
