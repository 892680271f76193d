'use strict'
// Random inputs for the engine, run in a child process by robustness.test.js (so that a crash shows as a
// failed test instead of killing the runner). Usage: node fuzz.js SEED MILLISECONDS
// Every call must return normally or throw a TypeError or a HogflagsError; anything else is counted as
// unexpected. Prints one JSON line of counts.
const fs = require('node:fs')
const path = require('node:path')
const { FlagsEngine, HogflagsError } = require('../..')

const seed = Number(process.argv[2] || 1)
const budgetMs = Number(process.argv[3] || 2000)
let state = seed >>> 0 || 1
function rand() {
  // xorshift32
  state ^= state << 13
  state >>>= 0
  state ^= state >>> 17
  state ^= state << 5
  state >>>= 0
  return state / 4294967296
}
const pick = (a) => a[Math.floor(rand() * a.length)]
const int = (n) => Math.floor(rand() * n)

const dir = process.env.HOGFLAGS_CONFORMANCE_DIR || path.join(__dirname, '..', '..', '..', 'tests', 'conformance')
const docs = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).definitions)

function deep(n) {
  let v = 'leaf'
  for (let i = 0; i < n; i++) v = rand() < 0.5 ? [v] : { k: v }
  return v
}

function randomValue(depth = 0) {
  switch (int(depth > 2 ? 14 : 18)) {
    case 0: return int(1000) - 500
    case 1: return rand() * 1e6
    case 2: return pick([NaN, Infinity, -Infinity, -0, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE, 1e21])
    case 3: return pick(['', 'pro', 'é€𝄞', '\ud800', 'a\u0000b', '2026-01-01', '-30d', '1.2.3', 'x'.repeat(int(5000))])
    case 4: return pick([true, false, null, undefined])
    case 5: return BigInt(int(1e9)) * pick([1n, -1n, 10n ** 20n])
    case 6: return new Date(pick([0, Date.now(), NaN, 8.64e15, -8.64e15]))
    case 7: return Symbol('s')
    case 8: return () => 1
    case 9: return new Proxy({}, { get: () => { throw new Error('proxy trap') } })
    case 10: return Object.create(null)
    case 11: return new Map([[1, 2]])
    case 12: return deep(int(100))
    case 13: { const o = {}; o.self = o; return o }
    default: {
      if (rand() < 0.5) return Array.from({ length: int(4) }, () => randomValue(depth + 1))
      const o = {}
      for (let i = 0; i < int(4); i++) o[pick(['a', 'b', 'plan', '__proto__', '0'])] = randomValue(depth + 1)
      return o
    }
  }
}

function mutateJson(v, budget) {
  if (budget.n <= 0) return v
  if (rand() < 0.03) {
    budget.n--
    return pick([null, true, 7, -1, 1e308, 'x', [], {}, 'exact', 'regex', '(', '.*'.repeat(50), deep(int(200)), 12345678901234567890])
  }
  if (Array.isArray(v)) return v.map((x) => mutateJson(x, budget))
  if (v && typeof v === 'object') {
    const out = {}
    for (const [k, x] of Object.entries(v)) if (rand() > 0.01) out[k] = mutateJson(x, budget)
    return out
  }
  return v
}

function mutateText(t) {
  const a = t.split('')
  for (let i = 0, n = 1 + int(5); i < n; i++) {
    const at = int(a.length + 1)
    const r = rand()
    if (r < 0.4) a.splice(at, 1)
    else if (r < 0.8) a.splice(at, 0, pick(['{', '}', '[', ']', '"', ',', ':', '0', 'null', '\\', 'é']))
    else a[at] = pick(['1', '"', '-'])
  }
  return a.join('')
}

const counts = { engines: 0, refused: 0, calls: 0, returned: 0, typeErrors: 0, hogflagsErrors: 0, thrownByInputs: 0, unexpected: 0 }
const examples = []
function guard(f) {
  counts.calls++
  try {
    f()
    counts.returned++
  } catch (e) {
    if (e instanceof TypeError) counts.typeErrors++
    else if (e instanceof HogflagsError) counts.hogflagsErrors++
    else if (e && e.message === 'proxy trap') counts.thrownByInputs++
    else {
      counts.unexpected++
      if (examples.length < 5) examples.push(String(e && e.stack))
    }
  }
}

const start = Date.now()
while (Date.now() - start < budgetMs) {
  const base = pick(docs)
  let input
  const r = rand()
  if (r < 0.2) input = mutateText(JSON.stringify(base))
  else if (r < 0.9) input = mutateJson(base, { n: 1 + int(6) })
  else input = randomValue()
  let engine
  try {
    engine = new FlagsEngine(input)
    counts.engines++
  } catch (e) {
    if (e instanceof HogflagsError || e instanceof TypeError) counts.refused++
    else {
      counts.unexpected++
      if (examples.length < 5) examples.push(String(e && e.stack))
    }
    continue
  }
  const keys = engine.flagKeys.concat(['missing-flag'])
  const props = engine.propertyKeys.person
  for (let i = 0; i < 30; i++) {
    const personProperties = {}
    for (const k of props) if (rand() < 0.7) personProperties[k] = randomValue()
    const opts = rand() < 0.05 ? randomValue() : {
      personProperties: rand() < 0.05 ? randomValue() : personProperties,
      groups: rand() < 0.5 ? { company: randomValue(), project: pick(['p', 1, 'x']), organization: 'o' } : undefined,
      groupProperties: rand() < 0.5 ? { company: { size: randomValue(), name: randomValue() }, organization: randomValue() } : undefined,
      deviceId: rand() < 0.2 ? randomValue() : rand() < 0.5 ? 'device-1' : undefined,
      now: rand() < 0.1 ? randomValue() : undefined,
      flagKeys: rand() < 0.1 ? (rand() < 0.5 ? [pick(keys), 'nope'] : randomValue()) : undefined,
    }
    const id = rand() < 0.9 ? `user-${int(100)}` : randomValue()
    const key = rand() < 0.95 ? pick(keys) : randomValue()
    guard(() => engine.getFeatureFlag(key, id, opts))
    guard(() => engine.getFeatureFlagResult(key, id, opts))
    guard(() => engine.getFeatureFlagPayload(key, id, opts))
    guard(() => engine.evaluateFlags(id, opts))
    if (i % 10 === 0) guard(() => engine.evaluateJson(typeof key === 'string' ? key : 'k', rand() < 0.5 ? mutateText(JSON.stringify({ distinct_id: 'u', person_properties: { plan: 'pro' } })) : randomValue()))
  }
}
console.log(JSON.stringify({ seed, ...counts, examples }))
