'use strict'
// FlagsClient against the repository's PostHog-compatible test server (127.0.0.1 only): polling, ETag,
// faults, the /flags fallback, $feature_flag_called events, reload, shutdown, bad options, secrets,
// worker_threads, and a process that ends with a live client exits promptly.
const { describe, it, before, after, beforeEach, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const { FlagsClient, FlagsClientError, ClientConfigError, HogflagsError } = require('..')
const { startServer, until, PROJECT_KEY, SECRET_KEY } = require('./support/server.js')

const DEFS = {
  flags: [
    { id: 1, key: 'beta', active: true, version: 3, filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person', operator: 'exact' }], rollout_percentage: 100 }], payloads: { true: '{"color": "blue"}' } } },
    { id: 2, key: 'everyone', active: true, version: 1, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
    { id: 3, key: 'checkout', active: true, version: 2, has_experiment: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }], multivariate: { variants: [{ key: 'control', rollout_percentage: 50 }, { key: 'test', rollout_percentage: 50 }] } } },
    { id: 4, key: 'off', active: false, version: 1, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } },
  ],
  group_type_mapping: { 0: 'company' },
  cohorts: {},
}
const EVERYONE_OFF = { ...DEFS, flags: DEFS.flags.map((f) => (f.key === 'everyone' ? { ...f, filters: { groups: [{ properties: [], rollout_percentage: 0 }] } } : f)) }

let server
const clients = []
function client(options = {}) {
  const c = new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, host: server.url, pollInterval: 100, ...options })
  clients.push(c)
  return c
}
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))

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
// Each test's clients stop polling when it ends, so that the server's counters and queued faults
// belong to the next test alone.
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()))
})

describe('polling', () => {
  it('loads the definitions and evaluates locally without calling /flags', async () => {
    const c = client()
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    assert.equal(c.status.ready, true)
    assert.equal(c.status.flagsLoaded, 4)
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true)
    assert.equal(await c.getFeatureFlag('beta', 'u1', { personProperties: { plan: 'pro' } }), true)
    assert.equal(await c.isFeatureEnabled('off', 'u1'), false)
    assert.deepEqual(await c.getFeatureFlagPayload('beta', 'u1', { personProperties: { plan: 'pro' } }), { color: 'blue' })
    const r = await c.getFeatureFlagResult('checkout', 'u1')
    assert.equal(r.source, 'local')
    assert.equal(r.flagId, 3)
    assert.equal(r.hasExperiment, true)
    assert.equal(r.reason.code, 'condition_match')
    assert.equal((await server.stats()).flags_requests, 0)
  })

  it('picks up changed definitions at the next poll', async () => {
    const updates = []
    const c = client({ onDefinitionsUpdated: (u) => updates.push(u) })
    await c.waitForLocalEvaluationReady(5000)
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true)
    await server.setDefinitions(EVERYONE_OFF)
    await until(async () => (await c.getFeatureFlag('everyone', 'u1')) === false, 5000, 'the new definitions')
    await until(() => updates.length >= 2, 2000, 'two onDefinitionsUpdated calls')
    assert.equal(updates[0].flags, 4)
    assert.equal(updates[0].fromCache, false)
  })

  it('revalidates with the ETag: unchanged definitions come back as 304', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    await until(async () => (await server.stats()).definitions_304 >= 2, 5000, 'two 304 answers')
    const stats = await server.stats()
    assert.ok(c.status.etag, 'the client keeps the ETag')
    assert.equal(stats.last_if_none_match.replace(/^W\//, ''), c.status.etag.replace(/^W\//, ''))
    assert.ok(c.status.fetches >= 3)
  })

  it('reloadFeatureFlags fetches at once', async () => {
    const c = client({ pollInterval: 600_000 })
    await c.waitForLocalEvaluationReady(5000)
    await server.setDefinitions(EVERYONE_OFF)
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true)
    await c.reloadFeatureFlags()
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), false)
  })
})

describe('faults', () => {
  it('a server error keeps the last good definitions and reports the error', async () => {
    const errors = []
    const c = client({ onError: (e) => errors.push(e) })
    await c.waitForLocalEvaluationReady(5000)
    await server.faults({ target: 'definitions', kind: 'status', status: 500, count: 2 })
    await until(() => errors.length >= 1, 5000, 'onError')
    assert.ok(errors[0] instanceof FlagsClientError && errors[0] instanceof HogflagsError)
    assert.equal(errors[0].code, 'server_error')
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true, 'still evaluating on the last good definitions')
    await until(() => c.status.consecutiveFailures === 0 && c.status.fetches >= 4, 5000, 'recovery')
  })

  it('a malformed or truncated body is refused and the last good definitions stay', async () => {
    const errors = []
    const c = client({ onError: (e) => errors.push(e) })
    await c.waitForLocalEvaluationReady(5000)
    await server.setDefinitions(EVERYONE_OFF)
    await server.faults([{ target: 'definitions', kind: 'malformed' }, { target: 'definitions', kind: 'truncated' }])
    await until(() => errors.length >= 2, 5000, 'two errors')
    const codes = errors.slice(0, 2).map((e) => e.code)
    assert.ok(codes.includes('malformed_body'), String(codes))
    assert.ok(codes.every((c) => ['malformed_body', 'transport_error'].includes(c)), String(codes))
    await until(async () => (await c.getFeatureFlag('everyone', 'u1')) === false, 5000, 'the next good fetch')
  })

  it('reloadFeatureFlags rejects with the poll error', async () => {
    const c = client({ pollInterval: 600_000 })
    await c.waitForLocalEvaluationReady(5000)
    await server.faults({ target: 'definitions', kind: 'status', status: 503 })
    await assert.rejects(c.reloadFeatureFlags(), (e) => e instanceof FlagsClientError && e.code === 'server_error')
  })

  it('a wrong secret key: not ready, 401 reported, and the key appears nowhere', async () => {
    const secret = 'phs_definitely_wrong_secret_123'
    const errors = []
    const c = client({ secretKey: secret, onError: (e) => errors.push(e) })
    await assert.rejects(c.waitForLocalEvaluationReady(5000), (e) => e.code === 'unauthorized' && !e.message.includes(secret))
    await until(() => errors.length >= 1, 2000, 'onError')
    assert.equal(errors[0].code, 'unauthorized')
    for (const text of [util.inspect(c), String(c), JSON.stringify(c.status), errors[0].message, errors[0].stack, util.inspect(errors[0])]) {
      assert.ok(!text.includes(secret), `the secret leaked into: ${text}`)
      assert.ok(!text.includes(PROJECT_KEY), `the project key leaked into: ${text}`)
    }
    assert.equal(await c.getFeatureFlag('everyone', 'u1', { onlyEvaluateLocally: true }), undefined)
  })
})

describe('/flags fallback', () => {
  it('asks /flags for a flag local evaluation cannot decide, and only then', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    await server.setPerson('u-pro', { plan: 'pro' })
    const r = await c.getFeatureFlagResult('beta', 'u-pro')
    assert.equal(r.enabled, true)
    assert.equal(r.source, 'remote')
    assert.deepEqual(r.payload, { color: 'blue' })
    const stats = await server.stats()
    assert.equal(stats.flags_requests, 1)
    assert.equal(stats.last_flags_request.distinct_id, 'u-pro')
    assert.deepEqual(stats.last_flags_request.flag_keys_to_evaluate, ['beta'])
    // Decided locally: no request.
    assert.equal(await c.getFeatureFlag('beta', 'u-pro', { personProperties: { plan: 'free' } }), false)
    assert.equal((await server.stats()).flags_requests, 1)
  })

  it('one flag reads only the properties it needs; every flag reads those any flag needs', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    const seen = []
    const props = new Proxy({ plan: 'pro', other: 1 }, { get: (t, k, r) => (seen.push(k), Reflect.get(t, k, r)) })
    const opts = { personProperties: props, onlyEvaluateLocally: true, sendFeatureFlagEvents: false }
    assert.equal(await c.getFeatureFlag('everyone', 'u', opts), true) // reads no property
    assert.deepEqual(seen.filter((k) => typeof k === 'string'), [])
    assert.equal(await c.getFeatureFlag('beta', 'u', opts), true) // reads `plan`
    assert.deepEqual(seen.filter((k) => typeof k === 'string'), ['plan'])
    seen.length = 0
    assert.equal((await c.getAllFlags('u', opts)).beta, true)
    assert.ok(seen.includes('plan') && !seen.includes('other'), String(seen))
  })

  it('the /flags request carries every property passed, not only those the definitions read', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    await server.setPerson('u-remote', { plan: 'pro' })
    const props = { personProperties: { unread: 'sent anyway' }, groups: { company: 'acme' }, groupProperties: { company: { size: 3, unread_too: 'x' } } }
    const r = await c.getFeatureFlagResult('beta', 'u-remote', props)
    assert.equal(r.enabled, true)
    assert.equal(r.source, 'remote')
    let body = (await server.stats()).last_flags_request
    assert.deepEqual(body.person_properties, { unread: 'sent anyway' })
    assert.deepEqual(body.groups, { company: 'acme' })
    assert.deepEqual(body.group_properties, { company: { $group_key: 'acme', size: 3, unread_too: 'x' } })
    // The bulk path too.
    const all = await c.evaluateFlags('u-remote', { personProperties: { unread: 'bulk' } })
    assert.equal(all.flags.beta, true)
    body = (await server.stats()).last_flags_request
    assert.deepEqual(body.person_properties, { unread: 'bulk' })
  })

  it('onlyEvaluateLocally (per call or per client) never calls /flags', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    assert.equal(await c.getFeatureFlag('beta', 'u-pro', { onlyEvaluateLocally: true }), undefined)
    const local = client({ onlyEvaluateLocally: true })
    await local.waitForLocalEvaluationReady(5000)
    assert.equal(await local.getFeatureFlag('beta', 'u-pro'), undefined)
    const r = await local.evaluateFlags('u-pro')
    assert.deepEqual(r.unresolved.beta, {
      kind: 'missing_property',
      detail: 'plan',
      errorCode: 'local_evaluation_inconclusive',
      message: null,
    })
    assert.equal((await server.stats()).flags_requests, 0)
  })

  it('bulk: local answers win, one /flags call fills the undecided keys', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    await server.setPerson('u-pro', { plan: 'pro' })
    const r = await c.evaluateFlags('u-pro')
    assert.equal(r.flags.beta, true)
    assert.equal(r.sources.beta, 'remote')
    assert.equal(r.sources.everyone, 'local')
    assert.equal(r.flags.off, false)
    assert.deepEqual(r.payloads.beta, { color: 'blue' })
    assert.equal((await server.stats()).flags_requests, 1)
    const all = await c.getAllFlagsAndPayloads('u-pro')
    assert.equal(all.featureFlags.beta, true)
    assert.deepEqual(await c.getAllFlags('u-pro', { flagKeys: ['everyone', 'nope'] }), { everyone: true })
  })

  it('a failing /flags leaves the flag unresolved with the error', async () => {
    const c = client({ remoteTimeout: 500 })
    await c.waitForLocalEvaluationReady(5000)
    await server.faults({ target: 'flags', kind: 'status', status: 500, count: 4 })
    assert.equal(await c.getFeatureFlag('beta', 'u1'), undefined)
    const r = await c.evaluateFlags('u1')
    assert.equal(r.unresolved.beta.kind, 'remote_error')
    assert.equal(r.unresolved.beta.detail, 'api_error_500')
    assert.equal(r.flags.everyone, true)
  })
})

describe('events', () => {
  it('$feature_flag_called once per user, flag and value; none when asked not to', async () => {
    const events = []
    const c = client({ onFeatureFlagCalled: (e) => events.push(e) })
    await c.waitForLocalEvaluationReady(5000)
    await c.getFeatureFlag('checkout', 'u-ev')
    await c.getFeatureFlag('checkout', 'u-ev')
    await c.isFeatureEnabled('everyone', 'u-ev')
    await c.getFeatureFlag('everyone', 'u-other', { sendFeatureFlagEvents: false })
    await c.getFeatureFlagPayload('everyone', 'u-payload')
    await until(() => events.length >= 2, 2000, 'events')
    await tick(100)
    assert.equal(events.length, 2, JSON.stringify(events))
    const [e] = events
    assert.equal(e.event, '$feature_flag_called')
    assert.equal(e.distinctId, 'u-ev')
    assert.equal(e.properties.$feature_flag, 'checkout')
    assert.equal(typeof e.properties.$feature_flag_response, 'string')
    assert.equal(e.properties.locally_evaluated, true)
    assert.equal(e.properties.$feature_flag_id, 3)
    assert.equal(e.properties.$feature_flag_has_experiment, true)
  })

  it('a remote answer is reported with locally_evaluated false; a throwing callback does not crash', async () => {
    const events = []
    const warnings = []
    const onWarning = (w) => warnings.push(w)
    process.on('warning', onWarning)
    const c = client({
      onFeatureFlagCalled: (e) => {
        events.push(e)
        throw new Error('callback bug')
      },
    })
    await c.waitForLocalEvaluationReady(5000)
    await server.setPerson('u-remote', { plan: 'pro' })
    assert.equal(await c.getFeatureFlag('beta', 'u-remote'), true)
    await until(() => events.length === 1 && warnings.length === 1, 2000, 'the event and the warning')
    process.off('warning', onWarning)
    assert.equal(events[0].properties.locally_evaluated, false)
    assert.match(warnings[0].message, /callback threw: callback bug/)
  })
})

describe('lifecycle and bad input', () => {
  it('shutdown stops polling; evaluation keeps working on the last definitions', async () => {
    const c = client()
    await c.waitForLocalEvaluationReady(5000)
    await c.shutdown()
    await c.shutdown()
    const before = (await server.stats()).definitions_requests
    await tick(400)
    assert.equal((await server.stats()).definitions_requests, before)
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true)
  })

  it('refuses bad options', () => {
    assert.throws(() => new FlagsClient(42), TypeError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, 'options'), TypeError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, pollInterval: 'fast' }), TypeError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, pollInterval: -1 }), TypeError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: 5 }), TypeError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, onError: 'log' }), TypeError)
    assert.throws(() => new FlagsClient('', { secretKey: SECRET_KEY }), ClientConfigError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, host: 'ftp://x' }), ClientConfigError)
    assert.throws(() => new FlagsClient(PROJECT_KEY, { secretKey: 'phc_not_a_secret' }), (e) => e instanceof ClientConfigError && !e.message.includes('phc_not_a_secret'))
  })

  it('refuses bad arguments with TypeError', async () => {
    const c = client()
    await assert.rejects(c.getFeatureFlag(1, 'u'), TypeError)
    await assert.rejects(c.getFeatureFlag('everyone'), TypeError)
    await assert.rejects(c.getFeatureFlag('everyone', 'u', { personProperties: 'x' }), TypeError)
    await assert.rejects(c.getAllFlags('u', { flagKeys: 'x' }), TypeError)
    await assert.rejects(c.waitForLocalEvaluationReady('soon'), TypeError)
    // The native functions refuse anything but a client handle (an engine handle included).
    const native = require('../lib/native.js')
    const { FlagsEngine } = require('..')
    for (const h of [undefined, {}, new FlagsEngine({ flags: [] })._h, 'x']) {
      assert.throws(() => native.clientStatus(h), TypeError)
      assert.throws(() => native.clientGetFlag(h, new Int32Array(1), 0, 'k', 'u', undefined, undefined, undefined, undefined, false, false, false), TypeError)
    }
  })

  it('works inside worker_threads', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { FlagsClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
      ;(async () => {
        const c = new FlagsClient(workerData.key, { secretKey: workerData.secret, host: workerData.url, pollInterval: 100 })
        const ready = await c.waitForLocalEvaluationReady(5000)
        const value = await c.getFeatureFlag('everyone', 'u1')
        parentPort.postMessage({ ready, value })
        // Ends with the client alive: the worker must still exit.
      })()
    `
    const results = await Promise.all([1, 2, 3].map(() => new Promise((resolve, reject) => {
      const w = new Worker(script, { eval: true, workerData: { key: PROJECT_KEY, secret: SECRET_KEY, url: server.url } })
      let msg
      w.on('message', (m) => (msg = m))
      w.on('error', reject)
      w.on('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker exited ${code}`))))
    })))
    for (const r of results) assert.deepEqual(r, { ready: true, value: true })
  })

  it('a process that ends with a live client exits promptly', async () => {
    const script = `
      const { FlagsClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
      const c = new FlagsClient(${JSON.stringify(PROJECT_KEY)}, { secretKey: ${JSON.stringify(SECRET_KEY)}, host: ${JSON.stringify(server.url)}, pollInterval: 50,
        onFeatureFlagCalled: () => {}, onDefinitionsUpdated: () => {}, onError: () => {} })
      c.waitForLocalEvaluationReady(5000).then(async (ready) => {
        const v = await c.getFeatureFlag('everyone', 'u1')
        console.log(JSON.stringify({ ready, v, at: Date.now() }))
      })
    `
    const started = Date.now()
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const code = await new Promise((resolve) => child.on('exit', resolve))
    const ended = Date.now()
    assert.equal(code, 0)
    const r = JSON.parse(out.trim())
    assert.deepEqual([r.ready, r.v], [true, true])
    // Polling every 50 ms, with callbacks registered: the process still ends right after its last work.
    assert.ok(ended - r.at < 1500, `exited ${ended - r.at} ms after its last work`)
    assert.ok(ended - started < 10_000)
  })
})

describe('evaluation contexts and runtime', () => {
  it('leaves out other contexts\' flags and declares runtime and contexts on /flags', async () => {
    const tagged = (key, extra) => ({ key, active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] }, ...extra })
    await server.setDefinitions({
      flags: [
        tagged('web-only', { evaluation_contexts: ['web'] }),
        tagged('mobile-only', { evaluation_contexts: ['mobile'] }),
        { key: 'server-beta', active: true, evaluation_runtime: 'server', filters: { groups: [{ properties: [{ key: 'plan', value: 'pro', type: 'person', operator: 'exact' }], rollout_percentage: 100 }] } },
      ],
    })
    await server.setPerson('u', { plan: 'pro' })
    const c = client({ evaluationContexts: ['web'] })
    assert.equal(await c.waitForLocalEvaluationReady(5000), true)
    assert.deepEqual(await c.getAllFlags('u', { onlyEvaluateLocally: true }), { 'web-only': true })
    assert.equal(await c.getFeatureFlag('server-beta', 'u'), true)
    const sent = (await server.stats()).last_flags_request
    assert.equal(sent.evaluation_runtime, 'server')
    assert.deepEqual(sent.evaluation_contexts, ['web'])
    assert.equal(sent.geoip_disable, true)
    assert.throws(() => client({ evaluationContexts: 'web' }), TypeError)
    const g = client({ disableGeoip: false })
    assert.equal(await g.waitForLocalEvaluationReady(5000), true)
    await g.getFeatureFlag('server-beta', 'u')
    assert.equal((await server.stats()).last_flags_request.geoip_disable, false)
  })
})

describe('a client with only the project API key', () => {
  it('polls nothing and evaluates every flag through /flags', async () => {
    const c = new FlagsClient(PROJECT_KEY, { host: server.url })
    clients.push(c)
    const t = Date.now()
    assert.equal(await c.waitForLocalEvaluationReady(5000), false)
    assert.ok(Date.now() - t < 500, 'says at once that nothing will load')
    assert.equal(await c.getFeatureFlag('everyone', 'u1'), true)
    assert.equal(await c.getFeatureFlag('beta', 'u1', { personProperties: { plan: 'pro' } }), true)
    const r = await c.evaluateFlags('u1')
    assert.equal(r.sources.everyone, 'remote')
    await assert.rejects(c.reloadFeatureFlags(), (e) => e.code === 'config')
    assert.equal((await server.stats()).definitions_requests, 0)
  })
})

describe('remote-config payloads', () => {
  it('reads the decrypted payload with the secret key', async () => {
    const c = client()
    assert.deepEqual(await c.getRemoteConfigPayload('beta'), { color: 'blue' })
    assert.equal(await c.getRemoteConfigPayload('everyone'), undefined)
    await assert.rejects(client({ secretKey: 'phs_wrong' }).getRemoteConfigPayload('beta'), (e) => e.code === 'api_error_401')
    const keyless = new FlagsClient(PROJECT_KEY, { host: server.url })
    clients.push(keyless)
    await assert.rejects(keyless.getRemoteConfigPayload('beta'), (e) => e.code === 'config')
  })
})

