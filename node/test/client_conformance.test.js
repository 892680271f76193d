'use strict'
// The client conformance corpus (tests/client/cases.json) through FlagsClient: answers, the /flags
// requests each call makes, the $feature_flag_called events and the errors, as in every binding.
const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { FlagsClient, HogflagsError } = require('..')
const { startServer, PROJECT_KEY, SECRET_KEY } = require('./support/server.js')

const CORPUS = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'client', 'cases.json'), 'utf8'))

// Every field of `expected` is in `got` with the same value (objects compared field by field).
function matches(expected, got) {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    return got !== null && typeof got === 'object' && Object.entries(expected).every(([k, v]) => matches(v, got[k] ?? null))
  }
  return JSON.stringify(expected) === JSON.stringify(got)
}

async function requestsMade(server, before) {
  const stats = await server.stats()
  const body = stats.last_flags_request || {}
  const keys = body.flag_keys_to_evaluate
  return {
    count: stats.flags_requests - before,
    flag_keys: Array.isArray(keys) ? [...keys].sort() : null,
    person_properties: body.person_properties ?? null,
  }
}

function make(server, c, events) {
  const opts = c.client || {}
  const options = { host: server.url, pollInterval: 200, jitter: 0, useSystemProxy: false, remoteTimeout: 1000, onFeatureFlagCalled: (e) => events.push(e) }
  const secret = 'secret_key' in opts ? opts.secret_key : SECRET_KEY
  if (secret !== null) options.secretKey = secret
  if ('only_evaluate_locally' in opts) options.onlyEvaluateLocally = opts.only_evaluate_locally
  return new FlagsClient(PROJECT_KEY, options)
}

async function runCall(client, call) {
  const options = { onlyEvaluateLocally: call.only_evaluate_locally === true }
  if (call.person_properties) options.personProperties = call.person_properties
  if (call.call === 'flag') {
    const r = await client.getFeatureFlagResult(call.key, call.distinct_id, options)
    // The one-flag API answers undefined for an unresolved flag; the kind is checked through the event.
    return r === undefined ? undefined : { value: r.variant ?? r.enabled, source: r.source }
  }
  if (call.flag_keys) options.flagKeys = call.flag_keys
  const ev = await client.evaluateFlags(call.distinct_id, options)
  const unresolved = {}
  for (const [k, u] of Object.entries(ev.unresolved)) unresolved[k] = { kind: u.kind, detail: u.detail }
  return { flags: { ...ev.flags }, unresolved }
}

// Events cross from the native side asynchronously: wait until the expected number arrived (or 300 ms),
// then a little longer so that an extra one is seen too.
async function settle(events, n) {
  const end = Date.now() + 300
  while (events.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5))
  await new Promise((r) => setTimeout(r, 20))
}

describe('client conformance corpus (tests/client/cases.json)', () => {
  let server
  before(async () => {
    server = await startServer(CORPUS.definitions)
  })
  after(() => server.stop())

  for (const c of CORPUS.cases) {
    it(c.name, async () => {
      await server.reset()
      await server.setDefinitions(c.definitions || CORPUS.definitions)
      for (const [id, props] of Object.entries(CORPUS.persons)) await server.setPerson(id, props)
      if (c.quota_limited) await fetch(server.url + '/_control/quota_limited', { method: 'POST', body: '{"enabled":true}' })
      const events = []
      if (c.expect_error) {
        assert.throws(() => make(server, c, events), (e) => e instanceof HogflagsError && e.code === c.expect_error)
        return
      }
      const client = make(server, c, events)
      try {
        if ((c.client || {}).secret_key !== null) assert.equal(await client.waitForLocalEvaluationReady(5000), true)
        if (c.faults) await server.faults(c.faults)
        for (const [i, call] of c.calls.entries()) {
          const before = (await server.stats()).flags_requests
          events.length = 0
          const got = await runCall(client, call)
          if (call.call === 'flag' && 'kind' in call.expect) assert.equal(got, undefined, `call ${i}`)
          else assert.deepEqual(got, call.expect, `call ${i}`)
          const want = { ...call.expect_requests }
          if (Array.isArray(want.flag_keys)) want.flag_keys = [...want.flag_keys].sort()
          const made = await requestsMade(server, before)
          assert.ok(matches(want, made), `call ${i}: /flags requests ${JSON.stringify(made)}, expected ${JSON.stringify(want)}`)
          if (call.expect_events) {
            await settle(events, call.expect_events.length)
            const got = events
              .filter((e) => e.event === '$feature_flag_called')
              .map((e) => ({ flag: e.properties.$feature_flag, response: e.properties.$feature_flag_response, error: e.properties.$feature_flag_error ?? null }))
            assert.deepEqual(got, call.expect_events, `call ${i}: events`)
          }
        }
      } finally {
        await client.shutdown()
      }
    })
  }
})
