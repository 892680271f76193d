'use strict'
// Hostile conditions: a throttling server (bounded reloads, Retry-After bounded by maxBackoff),
// process.exit() while calls are pending, and `__proto__` as a flag key or property key.
const { describe, it, before, after, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { FlagsEngine, FlagsClient, FlagsClientError } = require('..')
const { startServer, until, PROJECT_KEY, SECRET_KEY } = require('./support/server.js')

const everyone = (key, id) => ({ id, key, active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } })
const DEFS = {
  flags: [everyone('everyone', 1), everyone('__proto__', 2), everyone('constructor', 3)],
  group_type_mapping: {},
  cohorts: {},
}

let server
const clients = []
function client(options = {}) {
  const c = new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, host: server.url, pollInterval: 100, jitter: 0, ...options })
  clients.push(c)
  return c
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const status429 = (retryAfter) => ({ target: 'definitions', kind: 'status', status: 429, retry_after: retryAfter })

before(async () => {
  server = await startServer(DEFS)
})
after(() => server.stop())
beforeEach(async () => {
  await server.reset()
  await server.setDefinitions(DEFS)
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()))
})

describe('rate limiting', () => {
  it('reloadFeatureFlags ends within its timeout with a rate_limited error', async () => {
    const c = client({ definitionsTimeout: 1000, pollInterval: 30_000 })
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    await server.faults([status429(4)])
    let t = Date.now()
    await assert.rejects(c.reloadFeatureFlags(), (e) => e instanceof FlagsClientError && e.code === 'rate_limited')
    assert.ok(Date.now() - t < 2000, `${Date.now() - t} ms`)
    const before = (await server.stats()).definitions_requests
    t = Date.now()
    await assert.rejects(c.reloadFeatureFlags(), (e) => e.code === 'rate_limited')
    assert.ok(Date.now() - t < 200, `a reload inside the window returns at once: ${Date.now() - t} ms`)
    assert.equal((await server.stats()).definitions_requests, before)
    assert.equal(await c.getFeatureFlag('everyone', 'u'), true)
  })

  it('a huge Retry-After is bounded by maxBackoff', async () => {
    const c = client({ maxBackoff: 1000, pollInterval: 200, definitionsTimeout: 1000 })
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    await server.faults([status429(1e20)])
    await assert.rejects(c.reloadFeatureFlags(), (e) => e.code === 'rate_limited')
    const before = (await server.stats()).definitions_requests
    await sleep(3000)
    assert.ok((await server.stats()).definitions_requests >= before + 3)
  })

  it('maxRetryAfter honours longer waits when asked', async () => {
    const c = client({ maxBackoff: 1000, maxRetryAfter: 60_000, pollInterval: 200 })
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    await server.faults([status429(30)])
    await assert.rejects(c.reloadFeatureFlags(), (e) => e.code === 'rate_limited')
    const before = (await server.stats()).definitions_requests
    await sleep(1500)
    assert.equal((await server.stats()).definitions_requests, before)
  })
})

describe('process.exit()', () => {
  // A child process starts a call that waits for a hanging server, then exits: it must end at once.
  for (const [name, call, fault] of [
    ['a pending reloadFeatureFlags', 'c.reloadFeatureFlags().catch(() => {})', { target: 'definitions', kind: 'hang', hang_ms: 20000 }],
    ['a pending /flags fallback', "c.getFeatureFlag('not-local', 'u').catch(() => {})", { target: 'flags', kind: 'hang', hang_ms: 20000, count: 2 }],
    ['a pending evaluateFlags /flags call', "c.evaluateFlags('u', { flagKeys: ['not-local'] }).catch(() => {})", { target: 'flags', kind: 'hang', hang_ms: 20000, count: 2 }],
    ['a pending waitForLocalEvaluationReady', 'c.waitForLocalEvaluationReady(20000)', null],
  ]) {
    it(`does not wait for ${name}`, async () => {
      if (fault) await server.faults([fault])
      const host = fault ? server.url : 'http://127.0.0.1:9'
      const script = `
        const { FlagsClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
        const c = new FlagsClient(${JSON.stringify(PROJECT_KEY)}, { secretKey: ${JSON.stringify(SECRET_KEY)}, host: ${JSON.stringify(host)},
          pollInterval: 60000, definitionsTimeout: 20000, remoteTimeout: 20000 })
        const go = async () => {
          ${fault && fault.target === 'definitions' ? 'await c.waitForLocalEvaluationReady(5000)' : ''}
          ${call}
          setTimeout(() => { console.log(Date.now()); process.exit(0) }, 300)
        }
        go()
      `
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      const code = await new Promise((resolve) => child.on('exit', resolve))
      const ended = Date.now()
      assert.equal(code, 0)
      const exitCalled = Number(out.trim())
      assert.ok(ended - exitCalled < 1500, `exited ${ended - exitCalled} ms after process.exit()`)
    })
  }
})

describe('__proto__ and other Object.prototype names', () => {
  const engine = new FlagsEngine(DEFS)
  const own = (obj, k) => Object.prototype.hasOwnProperty.call(obj, k)

  it('a flag keyed __proto__ is an own key of every bulk result (engine)', () => {
    const all = engine.getAllFlags('u')
    assert.ok(own(all, '__proto__') && own(all, 'constructor'))
    assert.equal(all.__proto__, true)
    assert.equal(Object.getPrototypeOf(all), Object.prototype)
    assert.deepEqual(Object.keys(all).sort(), ['__proto__', 'constructor', 'everyone'])
    const ev = engine.evaluateFlags('u')
    for (const part of [ev.flags, ev.reasons]) assert.ok(own(part, '__proto__'))
    assert.ok(own(engine.getAllFlagsAndPayloads('u').featureFlags, '__proto__'))
    assert.deepEqual(JSON.parse(JSON.stringify(all)), JSON.parse('{"__proto__":true,"constructor":true,"everyone":true}'))
  })

  it('a flag keyed __proto__ is an own key of every bulk result (client)', async () => {
    const c = client()
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    assert.ok(own(await c.getAllFlags('u'), '__proto__'))
    const ev = await c.evaluateFlags('u')
    for (const part of [ev.flags, ev.reasons, ev.sources]) assert.ok(own(part, '__proto__'))
    assert.ok(own((await c.getAllFlagsAndPayloads('u')).featureFlags, '__proto__'))
    const some = await c.evaluateFlags('u', { flagKeys: ['__proto__', 'missing'] })
    assert.ok(own(some.flags, '__proto__'))
    // A listed key not loaded is asked of /flags (one rule in the core), which does not know it either.
    assert.equal(some.unresolved.missing.kind, 'flag_missing')
  })

  it('personProperties {} has no __proto__ property (object API = JSON entry point = /flags)', async () => {
    const doc = {
      flags: [{ key: 'set', active: true, filters: { groups: [{ properties: [{ key: '__proto__', operator: 'is_set', value: 'is_set', type: 'person' }], rollout_percentage: 100 }] } }],
    }
    const e = new FlagsEngine(doc)
    const json = e.evaluateJson('set', { distinct_id: 'u', person_properties: {} })
    assert.equal(json.inconclusive, 'missing_property')
    assert.equal(e.getFeatureFlag('set', 'u', { personProperties: {} }), undefined)
    assert.equal(e.evaluateFlags('u', { personProperties: {} }).unresolved.set.kind, 'missing_property')
    // An own property of that name (as JSON.parse makes it) is read.
    assert.equal(e.getFeatureFlag('set', 'u', { personProperties: JSON.parse('{"__proto__": 1}') }), true)
    assert.equal(e.evaluateFlags('u', { personProperties: JSON.parse('{"__proto__": 1}') }).flags.set, true)
  })
})

describe('numbers as the document writes them', () => {
  // The class of `shared/repro/python-node-disagreement.json`: a filter value written 42.0 is the text
  // "42.0" on the server, so the integer 42 does not equal it. Text and bytes keep it; a parsed object
  // has lost it in JSON.parse (documented in the README and the type declarations).
  const text = '{"flags":[{"key":"age-42","active":true,"filters":{"groups":[{"properties":[{"key":"age","type":"person","operator":"exact","value":42.0}],"rollout_percentage":100}]}}]}'
  it('text and bytes keep 42.0 as written', () => {
    for (const input of [text, Buffer.from(text)]) {
      const e = new FlagsEngine(input)
      assert.equal(e.getFeatureFlag('age-42', 'u', { personProperties: { age: 42 } }), false)
      assert.equal(e.getFeatureFlag('age-42', 'u', { personProperties: { age: '42.0' } }), true)
      assert.equal(e.evaluateJson('age-42', JSON.parse('{"distinct_id":"u","person_properties":{"age":42}}')).value, false)
    }
  })
  it('a parsed object has lost the difference (as JSON.parse does)', () => {
    const e = new FlagsEngine(JSON.parse(text))
    assert.equal(e.getFeatureFlag('age-42', 'u', { personProperties: { age: 42 } }), true)
  })
})
