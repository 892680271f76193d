'use strict'
// FlagsClient.evaluateFlags → FeatureFlagEvaluations (posthog-node 5's batch-evaluation object), backed by
// the core's FlagEvaluations, against the repository's test server: evaluating sends no event, each read
// (isEnabled, getFlag) reports one deduplicated $feature_flag_called through onFeatureFlagCalled, payload
// reads are not reads, slices (onlyAccessed, only) are the core's, event properties, the /flags path, and
// the native handle (type-tagged, released by the garbage collector).
const { describe, it, before, after, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { FlagsClient, FlagsEngine, FeatureFlagEvaluations } = require('..')
const native = require('../lib/native.js')
const { startServer, until, PROJECT_KEY, SECRET_KEY } = require('./support/server.js')

const DEFS = {
  flags: [
    { id: 1, key: 'beta', active: true, version: 3, filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person', operator: 'exact' }], rollout_percentage: 100 }], payloads: { true: '{"color": "blue"}' } } },
    { id: 2, key: 'everyone', active: true, version: 1, filters: { groups: [{ properties: [], rollout_percentage: 100 }], payloads: { true: '"hello"' } } },
    { id: 3, key: 'checkout', active: true, version: 2, has_experiment: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'test', rollout_percentage: 50 }] } } },
    { id: 4, key: 'off', active: false, version: 1, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
  ],
  group_type_mapping: { 0: 'company' },
  cohorts: {},
}
const LOCAL = { onlyEvaluateLocally: true }

let server
const clients = []
function client(options = {}) {
  const c = new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, host: server.url, pollInterval: 100, ...options })
  clients.push(c)
  return c
}
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))

/** A ready client whose `$feature_flag_called` events are collected in `events`. */
async function withEvents(options = {}) {
  const events = []
  const c = client({ onFeatureFlagCalled: (e) => events.push(e), ...options })
  assert.equal(await c.waitForLocalEvaluationReady(5000), true)
  return { c, events }
}

/** Waits for `n` events, then a little longer so that an extra one would be seen too. */
async function settle(events, n) {
  if (n > 0) await until(() => events.length >= n, 2000, `${n} events (have ${events.length})`)
  await tick(150)
  return events.map((e) => ({
    flag: e.properties.$feature_flag,
    response: e.properties.$feature_flag_response,
    error: e.properties.$feature_flag_error ?? null,
  }))
}

const byFlag = (a, b) => (a.flag < b.flag ? -1 : a.flag > b.flag ? 1 : 0)

before(async () => {
  server = await startServer(DEFS)
})
after(() => {
  server.stop()
})
beforeEach(async () => {
  await server.reset()
  await server.setDefinitions(DEFS)
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()))
})

describe('evaluateFlags', () => {
  it('returns a FeatureFlagEvaluations with the plain data, and sends no event', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-none', LOCAL)
    assert.ok(ev instanceof FeatureFlagEvaluations)
    assert.deepEqual({ ...ev.flags, checkout: typeof ev.flags.checkout }, { everyone: true, checkout: 'string', off: false })
    assert.ok(['control', 'test'].includes(ev.flags.checkout))
    assert.deepEqual(ev.payloads, { everyone: 'hello' })
    assert.equal(ev.reasons.everyone.code, 'condition_match')
    assert.equal(ev.reasons.off.code, 'flag_disabled')
    assert.deepEqual(ev.sources, { everyone: 'local', checkout: 'local', off: 'local' })
    assert.deepEqual(ev.unresolved, {
      beta: { kind: 'missing_property', detail: 'plan', errorCode: 'local_evaluation_inconclusive', message: null },
    })
    assert.equal(ev.unresolvedFlags, ev.unresolved)
    assert.deepEqual(ev.keys, ['checkout', 'everyone', 'off'])
    // The data are the enumerable own properties; the native handle is not one of them.
    assert.deepEqual(Object.keys(ev), ['flags', 'payloads', 'reasons', 'unresolved', 'sources'])
    assert.deepEqual(await settle(events, 0), [])
    assert.equal((await server.stats()).flags_requests, 0)
  })

  it('isEnabled and getFlag report one deduplicated event each, with the core\'s response and error', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-reads', LOCAL)
    assert.equal(ev.isEnabled('everyone'), true)
    assert.equal(ev.isEnabled('everyone'), true)
    assert.equal(ev.getFlag('everyone'), true)
    const variant = ev.getFlag('checkout')
    assert.ok(['control', 'test'].includes(variant))
    assert.equal(ev.isEnabled('checkout'), true)
    assert.equal(ev.getFlag('off'), false)
    assert.equal(ev.isEnabled('off'), false)
    assert.equal(ev.getFlag('beta'), undefined) // undecided locally
    assert.equal(ev.isEnabled('beta'), false)
    assert.equal(ev.getFlag('nope'), undefined) // not a flag
    assert.equal(ev.isEnabled('nope'), false)
    const got = await settle(events, 5)
    assert.deepEqual(got.sort(byFlag), [
      { flag: 'beta', response: null, error: 'local_evaluation_inconclusive' },
      { flag: 'checkout', response: variant, error: null },
      { flag: 'everyone', response: true, error: null },
      { flag: 'nope', response: null, error: 'flag_missing' },
      { flag: 'off', response: false, error: null },
    ])
    const e = events.find((x) => x.properties.$feature_flag === 'checkout')
    assert.equal(e.event, '$feature_flag_called')
    assert.equal(e.distinctId, 'u-reads')
    assert.equal(e.properties.locally_evaluated, true)
    assert.equal(e.properties.$feature_flag_id, 3)
    assert.equal(e.properties.$feature_flag_has_experiment, true)
    // The dedupe is the client's: a one-flag call of a flag already reported sends nothing more, and a
    // second evaluation of the same user neither.
    events.length = 0
    assert.equal(await c.getFeatureFlag('everyone', 'u-reads'), true)
    assert.equal((await c.evaluateFlags('u-reads', LOCAL)).isEnabled('everyone'), true)
    assert.deepEqual(await settle(events, 0), [])
  })

  it('groups reach the events', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-groups', { ...LOCAL, groups: { company: 'acme' } })
    assert.equal(ev.isEnabled('everyone'), true)
    await settle(events, 1)
    assert.deepEqual(events[0].groups, { company: 'acme' })
    assert.deepEqual(events[0].properties.$groups, { company: 'acme' })
  })

  it('sendFeatureFlagEvents: false records the access without an event; a later read reports it', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-quiet', LOCAL)
    assert.equal(ev.getFlag('everyone', { sendFeatureFlagEvents: false }), true)
    assert.equal(ev.isEnabled('off', { sendFeatureFlagEvents: false }), false)
    assert.equal(ev.isEnabled('nope', { sendFeatureFlagEvents: false, defaultValue: true }), true)
    assert.deepEqual(await settle(events, 0), [])
    assert.deepEqual(ev.onlyAccessed().keys, ['everyone', 'off'])
    assert.equal(ev.isEnabled('everyone'), true)
    assert.deepEqual(await settle(events, 1), [{ flag: 'everyone', response: true, error: null }])
  })

  it('defaultValue only when the flag has no value: a decided false stays false', async () => {
    const { c } = await withEvents()
    const ev = await c.evaluateFlags('u-default', LOCAL)
    assert.equal(ev.isEnabled('nope', { defaultValue: true }), true)
    assert.equal(ev.isEnabled('beta', { defaultValue: true }), true) // unresolved: no value
    assert.equal(ev.isEnabled('off', { defaultValue: true }), false)
    assert.equal(ev.isEnabled('everyone', { defaultValue: false }), true)
    assert.equal(ev.isEnabled('nope', {}), false)
    assert.throws(() => ev.isEnabled('nope', { defaultValue: 'yes' }), TypeError)
    assert.throws(() => ev.isEnabled(1), TypeError)
    assert.throws(() => ev.getFlag('everyone', 'quiet'), TypeError)
  })

  it('payload reads are not reads: no event, no access', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-payload', { ...LOCAL, personProperties: { plan: 'pro' } })
    assert.deepEqual(ev.getFlagPayload('beta'), { color: 'blue' })
    assert.equal(ev.getFlagPayload('everyone'), 'hello')
    assert.equal(ev.getFlagPayload('checkout'), undefined)
    assert.equal(ev.getFlagPayload('nope'), undefined)
    assert.equal(ev.getFlagPayload('constructor'), undefined)
    void ev.keys
    void ev.unresolvedFlags
    assert.deepEqual(await settle(events, 0), [])
    assert.deepEqual(ev.onlyAccessed().keys, [])
  })
})

describe('slices', () => {
  it('onlyAccessed(): the flags with a value read so far, no unresolved, a left-out key reports nothing', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-slice', LOCAL)
    assert.deepEqual(ev.onlyAccessed().keys, [], 'nothing read yet')
    ev.isEnabled('everyone')
    ev.getFlag('off')
    ev.getFlag('beta') // read, but without a value
    ev.getFlag('nope') // read, not a flag
    await settle(events, 4)
    events.length = 0
    const s = ev.onlyAccessed()
    assert.ok(s instanceof FeatureFlagEvaluations)
    assert.deepEqual(s.keys, ['everyone', 'off'])
    assert.deepEqual(s.flags, { everyone: true, off: false })
    assert.deepEqual(s.payloads, { everyone: 'hello' })
    assert.deepEqual(s.sources, { everyone: 'local', off: 'local' })
    assert.equal(s.reasons.off.code, 'flag_disabled')
    assert.deepEqual(s.unresolved, {})
    assert.deepEqual(s.unresolvedFlags, {})
    // Left out of the slice: no value, no event (the flag was excluded, not missing).
    assert.equal(s.getFlag('checkout'), undefined)
    assert.equal(s.isEnabled('beta', { defaultValue: true }), true)
    assert.equal(s.getFlag('nope'), undefined)
    assert.deepEqual(await settle(events, 0), [])
    // It keeps the reads made so far (as posthog-node); its own reads add to its set, not the parent's.
    assert.deepEqual(s.onlyAccessed().keys, ['everyone', 'off'])
    assert.equal(s.isEnabled('everyone'), true)
    assert.deepEqual(ev.onlyAccessed().keys, ['everyone', 'off'])
  })

  it('only(keys): those keys with a value; the others dropped with a warning', async () => {
    const { c, events } = await withEvents()
    const warnings = []
    const onWarning = (w) => warnings.push(w)
    process.on('warning', onWarning)
    try {
      const ev = await c.evaluateFlags('u-only', LOCAL)
      const s = ev.only(['checkout', 'off', 'beta', 'nope'])
      assert.deepEqual(s.keys, ['checkout', 'off'])
      assert.deepEqual(Object.keys(s.flags).sort(), ['checkout', 'off'])
      assert.deepEqual(s.unresolvedFlags, {})
      await until(() => warnings.length >= 1, 2000, 'the warning')
      assert.match(warnings[0].message, /only\(\) dropped flag keys not in this evaluation: beta, nope/)
      assert.equal(s.getFlag('everyone'), undefined)
      assert.equal(s.getFlag('beta'), undefined)
      assert.deepEqual(await settle(events, 0), [], 'reading a left-out key reports nothing')
      assert.equal(s.getFlag('off'), false)
      assert.deepEqual(await settle(events, 1), [{ flag: 'off', response: false, error: null }])
      // Slicing is not a read of the parent.
      assert.deepEqual(ev.onlyAccessed().keys, [])
      assert.deepEqual(ev.only([]).keys, [])
      assert.throws(() => ev.only('off'), TypeError)
      assert.throws(() => ev.only([1]), TypeError)
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('getEventProperties', () => {
  it('$feature/<key> for every flag with a value and $active_feature_flags, sorted', async () => {
    const { c, events } = await withEvents()
    const ev = await c.evaluateFlags('u-props', { ...LOCAL, personProperties: { plan: 'pro' } })
    const variant = ev.flags.checkout
    assert.deepEqual(ev.getEventProperties(), {
      '$feature/beta': true,
      '$feature/checkout': variant,
      '$feature/everyone': true,
      '$feature/off': false,
      $active_feature_flags: ['beta', 'checkout', 'everyone'],
    })
    assert.deepEqual(ev._getEventProperties(), ev.getEventProperties())
    assert.deepEqual(ev.only(['off']).getEventProperties(), { '$feature/off': false })
    ev.isEnabled('checkout')
    assert.deepEqual(ev.onlyAccessed().getEventProperties(), { '$feature/checkout': variant, $active_feature_flags: ['checkout'] })
    const none = await c.evaluateFlags('u-props', { ...LOCAL, flagKeys: ['beta'] })
    assert.deepEqual(none.getEventProperties(), {})
    assert.deepEqual(none.unresolved.beta.kind, 'missing_property')
    // Not reads.
    await settle(events, 1)
    assert.equal(events.length, 1)
  })
})

describe('through /flags', () => {
  it('a flag undecided locally is answered by the server; reading it reports a remote answer', async () => {
    const { c, events } = await withEvents()
    await server.setPerson('u-pro', { plan: 'pro' })
    const ev = await c.evaluateFlags('u-pro')
    assert.ok(ev instanceof FeatureFlagEvaluations)
    assert.equal(ev.flags.beta, true)
    assert.equal(ev.sources.beta, 'remote')
    assert.equal(ev.sources.everyone, 'local')
    assert.deepEqual(ev.unresolved, {})
    assert.deepEqual(ev.getFlagPayload('beta'), { color: 'blue' })
    const stats = await server.stats()
    assert.equal(stats.flags_requests, 1)
    assert.deepEqual(stats.last_flags_request.flag_keys_to_evaluate, ['beta'])
    assert.deepEqual(await settle(events, 0), [], 'evaluating sends no event')
    assert.equal(ev.isEnabled('beta'), true)
    assert.equal(ev.getFlag('beta'), true)
    const got = await settle(events, 1)
    assert.deepEqual(got, [{ flag: 'beta', response: true, error: null }])
    assert.equal(events[0].properties.locally_evaluated, false)
    assert.equal(events[0].distinctId, 'u-pro')
    assert.deepEqual(ev.onlyAccessed().keys, ['beta'])
    assert.deepEqual(ev.onlyAccessed().sources, { beta: 'remote' })
    assert.equal(ev.getEventProperties()['$feature/beta'], true)
    assert.equal((await server.stats()).flags_requests, 1, 'reads ask nothing')
  })

  it('a failing /flags leaves the flag unresolved; reading it reports the error', async () => {
    const { c, events } = await withEvents({ remoteTimeout: 500 })
    await server.faults({ target: 'flags', kind: 'status', status: 500, count: 4 })
    const ev = await c.evaluateFlags('u-fail')
    assert.equal(ev.unresolvedFlags.beta.kind, 'remote_error')
    assert.equal(ev.unresolvedFlags.beta.detail, 'api_error_500')
    assert.equal(ev.isEnabled('beta', { defaultValue: true }), true)
    assert.equal(ev.isEnabled('everyone'), true)
    assert.deepEqual((await settle(events, 2)).sort(byFlag), [
      { flag: 'beta', response: null, error: 'api_error_500' },
      { flag: 'everyone', response: true, error: null },
    ])
  })

  it('a client without the secret key evaluates everything through /flags', async () => {
    const events = []
    const c = new FlagsClient(PROJECT_KEY, { host: server.url, onFeatureFlagCalled: (e) => events.push(e) })
    clients.push(c)
    const ev = await c.evaluateFlags('u-keyless', { flagKeys: ['everyone', 'nope'] })
    assert.deepEqual(ev.flags, { everyone: true })
    assert.equal(ev.unresolved.nope.kind, 'flag_missing')
    assert.equal(ev.getFlag('nope'), undefined)
    assert.equal(ev.getFlag('everyone'), true)
    assert.deepEqual((await settle(events, 2)).sort(byFlag), [
      { flag: 'everyone', response: true, error: null },
      { flag: 'nope', response: null, error: 'flag_missing' },
    ])
  })
})

describe('the native handle', () => {
  it('native functions refuse anything but an evaluations handle, and an evaluations handle elsewhere', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    const ev = await c.evaluateFlags('u', LOCAL)
    const h = ev._h
    for (const bad of [undefined, null, {}, 'x', c._h, new FlagsEngine({ flags: [] })._h]) {
      assert.throws(() => native.evaluationsGetFlag(bad, 'everyone', false), TypeError)
      assert.throws(() => native.evaluationsIsEnabled(bad, 'everyone', false, false), TypeError)
      assert.throws(() => native.evaluationsKeys(bad), TypeError)
      assert.throws(() => native.evaluationsSlice(bad, undefined), TypeError)
      assert.throws(() => native.evaluationsEventProperties(bad), TypeError)
    }
    assert.throws(() => native.clientStatus(h), TypeError)
    assert.throws(() => native.engineInfo(h), TypeError)
    assert.throws(() => new FeatureFlagEvaluations(), TypeError)
    // A hand-made object with a foreign handle is refused at its first read.
    assert.throws(() => new FeatureFlagEvaluations({ flags: {}, unresolved: {} }, {}).isEnabled('everyone'), TypeError)
  })

  it('evaluations are released by the garbage collector (no leak)', () => {
    // A child process makes many evaluations (and slices) and drops them: its memory must stay flat.
    const script = `
      const { FlagsClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
      const c = new FlagsClient(${JSON.stringify(PROJECT_KEY)}, { secretKey: ${JSON.stringify(SECRET_KEY)}, host: ${JSON.stringify(server.url)}, onFeatureFlagCalled: () => {} })
      const props = { plan: 'pro', ${Array.from({ length: 20 }, (_, i) => `p${i}: 'value ${i}'.repeat(20)`).join(', ')} }
      const round = async (n) => {
        for (let i = 0; i < n; i++) {
          // Node runs N-API finalizers between event-loop turns (as a server's requests give them).
          if (i % 1000 === 0) await new Promise((r) => setImmediate(r))
          const ev = await c.evaluateFlags('u' + (i % 50), { onlyEvaluateLocally: true, personProperties: props })
          ev.isEnabled('everyone', { sendFeatureFlagEvents: false })
          ev.onlyAccessed()
          ev.only(['beta', 'off'])
        }
        for (let i = 0; i < 6; i++) { global.gc(); await new Promise((r) => setImmediate(r)) }
        return process.memoryUsage().rss
      }
      c.waitForLocalEvaluationReady(5000).then(async (ready) => {
        if (!ready) throw new Error('not ready')
        const out = []
        for (let k = 0; k < 6; k++) out.push(await round(20000))
        console.log(JSON.stringify({ a: out[1], b: out[5], out }))
        process.exit(0)
      })
    `
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 120_000 })
    assert.equal(r.status, 0, r.stderr)
    const { a, b } = JSON.parse(r.stdout.trim())
    // 80 000 evaluations and 160 000 slices leaked would be well over 100 MB.
    assert.ok(b - a < 30 * 1024 * 1024, `rss grew by ${((b - a) / 1048576).toFixed(1)} MB`)
  })
})
