'use strict'
// hogflags vs posthog-node's own local evaluation, in the same process and run, on identical definitions
// and users (the workloads of core/benches/workload.rs). Usage: `npm install && node run.js` in this
// directory (after `npm install` in node/). Options: --quick (shorter rounds), --json (machine-readable).
//
// posthog-node is fed without network: the PostHog client gets a personal API key and a `fetch` that
// serves the definitions from memory, so it evaluates through its real local-evaluation path.

const { performance } = require('node:perf_hooks')
const http = require('node:http')
const { FlagsEngine, FlagsClient } = require('..')
const { PostHog } = require('posthog-node')
const posthogVersion = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, 'node_modules', 'posthog-node', 'package.json'), 'utf8')).version
const w = require('./workload.js')

const QUICK = process.argv.includes('--quick')
const JSON_OUT = process.argv.includes('--json')
const ROUND_MS = QUICK ? 60 : 250
const ROUNDS = QUICK ? 3 : 7

function log(...a) {
  if (!JSON_OUT) console.log(...a)
}

async function posthogFor(definitions) {
  const body = JSON.stringify(definitions)
  const fetch = async (url) => {
    if (!String(url).includes('/flags/definitions')) throw new Error(`unexpected request in the benchmark: ${url}`)
    return {
      status: 200,
      headers: new Headers({ 'content-type': 'application/json' }),
      text: async () => body,
      json: async () => JSON.parse(body),
    }
  }
  const ph = new PostHog('phc_bench', {
    host: 'http://127.0.0.1:9',
    personalApiKey: 'phx_bench',
    fetch,
    featureFlagsPollingInterval: 3_600_000,
    flushAt: 1_000_000,
    flushInterval: 0,
    disableGeoip: true,
  })
  const ready = await ph.waitForLocalEvaluationReady(5000)
  if (!ready) throw new Error('posthog-node did not load the definitions')
  return ph
}

/**
 * Median ns per operation of each candidate over ROUNDS rounds of about ROUND_MS each. The candidates'
 * rounds alternate (A B C A B C ...), so that a change in machine load affects all of them alike.
 * `candidates` maps a name to `[fn, isAsync]`; `fn(i)` runs operation i.
 */
async function measure(candidates) {
  const runners = {}
  for (const [name, [fn, isAsync]] of Object.entries(candidates)) {
    const run = isAsync
      ? async (n, off) => {
          for (let i = 0; i < n; i++) await fn(off + i)
        }
      : (n, off) => {
          for (let i = 0; i < n; i++) fn(off + i)
        }
    // Warm up and calibrate the number of operations per round.
    let n = 16
    for (;;) {
      const t0 = performance.now()
      await run(n, 0)
      const dt = performance.now() - t0
      if (dt > ROUND_MS / 4) {
        n = Math.max(1, Math.round((n * ROUND_MS) / dt))
        break
      }
      n *= 4
    }
    runners[name] = { run, n, per: [] }
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of Object.values(runners)) {
      const t0 = performance.now()
      await c.run(c.n, r * c.n)
      c.per.push(((performance.now() - t0) * 1e6) / c.n)
    }
  }
  const out = {}
  for (const [name, c] of Object.entries(runners)) {
    c.per.sort((a, b) => a - b)
    out[name] = c.per[Math.floor(c.per.length / 2)]
  }
  return out
}

function fmt(ns) {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`
}

/** Whether a flag (or a flag it depends on) uses a numeric comparison operator. */
function usesComparison(definitions, key, seen = new Set()) {
  if (seen.has(key)) return false
  seen.add(key)
  const flag = definitions.flags.find((f) => f.key === key)
  for (const g of (flag && flag.filters && flag.filters.groups) || []) {
    for (const p of g.properties || []) {
      if (['gt', 'gte', 'lt', 'lte'].includes(p.operator)) return true
      if (p.type === 'flag' && usesComparison(definitions, p.key, seen)) return true
    }
  }
  return false
}

/** Compares both evaluators flag by flag for the given users; returns the agreement figures. */
async function agreement(engine, ph, flagKeys, users, definitions) {
  let both = 0
  let same = 0
  let onlyHog = 0
  let onlyPh = 0
  let comparison = 0
  const mismatches = []
  for (const u of users) {
    for (const key of flagKeys) {
      const a = engine.getFeatureFlag(key, u.distinctId, { personProperties: u.personProperties })
      const b = await ph.getFeatureFlag(key, u.distinctId, {
        personProperties: u.personProperties,
        onlyEvaluateLocally: true,
        sendFeatureFlagEvents: false,
      })
      if (a !== undefined && b !== undefined) {
        both++
        if (a === b) same++
        else if (usesComparison(definitions, key)) comparison++
        else if (mismatches.length < 5) mismatches.push({ key, user: u.distinctId, hogflags: a, posthogNode: b })
      } else if (a !== undefined) onlyHog++
      else if (b !== undefined) onlyPh++
    }
  }
  return {
    compared: both,
    agreed: same,
    rate: both ? same / both : 0,
    // Disagreements on flags that use gt/gte/lt/lte: posthog-node compares non-numeric text, the server
    // (and hogflags, docs/semantics.md D20) compares numbers only.
    disagreeOnComparison: comparison,
    decidedOnlyByHogflags: onlyHog,
    decidedOnlyByPosthogNode: onlyPh,
    mismatches,
  }
}

async function main() {
  const warn = console.warn
  console.warn = (...a) => (String(a[0]).includes('deprecated') ? undefined : warn(...a))
  const results = { posthogNode: posthogVersion, node: process.version, scenarios: [] }
  log(`hogflags vs posthog-node ${posthogVersion} (node ${process.version}, ${ROUNDS} rounds of ~${ROUND_MS} ms, median)`)

  // ---- scenario 1: one flag per call (core bench `one_flag`) ----------------------------------
  {
    const doc = w.singleFlagDocument()
    const engine = new FlagsEngine(doc)
    const ph = await posthogFor(doc)
    const base = w.singleFlagUser()
    const users = Array.from({ length: 1000 }, (_, i) => ({
      distinctId: i === 0 ? base.distinctId : `user-${i}`,
      personProperties: { ...base.personProperties, email: `user-${i}@example.com` },
    }))
    const agree = await agreement(engine, ph, ['bench-flag'], users, doc)
    const opts = { personProperties: base.personProperties }
    const phOpts = { personProperties: base.personProperties, onlyEvaluateLocally: true, sendFeatureFlagEvents: false }
    const poller = ph.featureFlagsPoller
    const m = await measure({
      hog: [() => engine.getFeatureFlag('bench-flag', base.distinctId, opts), false],
      phApi: [() => ph.getFeatureFlag('bench-flag', base.distinctId, phOpts), true],
      phPoller: [() => poller.getFeatureFlag('bench-flag', base.distinctId, {}, base.personProperties, {}), true],
    })
    results.scenarios.push({ name: 'one_flag', description: '1 flag (3 filters, 50 % rollout), getFeatureFlag', agree, hogflagsNs: m.hog, posthogNodeNs: m.phApi, posthogNodePollerNs: m.phPoller })
    await ph.shutdown()
  }

  // ---- scenarios 2 and 3: the 100-flag mixed document ------------------------------------------
  {
    const doc = w.mixedDocument(100, 7)
    const engine = new FlagsEngine(doc)
    const ph = await posthogFor(doc)
    const rng = new w.Rng(11)
    const user77 = { distinctId: 'user-77', personProperties: w.fullProperties(rng, 77) }
    const users = [user77]
    for (let i = 0; i < 999; i++) users.push({ distinctId: `user-${1000 + i}`, personProperties: w.fullProperties(rng, 1000 + i) })
    const keys = engine.flagKeys
    const agree = await agreement(engine, ph, keys, users.slice(0, 200), doc)
    const poller = ph.featureFlagsPoller

    // all flags for one user (core bench `all_flags_100`)
    {
      const opts = { personProperties: user77.personProperties }
      const phOpts = { personProperties: user77.personProperties, onlyEvaluateLocally: true }
      const ctx = { distinctId: user77.distinctId, groups: {}, personProperties: user77.personProperties, groupProperties: {} }
      const m = await measure({
        hog: [() => engine.getAllFlags(user77.distinctId, opts), false],
        hogEval: [() => engine.evaluateFlags(user77.distinctId, opts), false],
        phApi: [() => ph.getAllFlags(user77.distinctId, phOpts), true],
        phPoller: [() => poller.getAllFlagsAndPayloads(ctx), true],
      })
      results.scenarios.push({ name: 'all_flags_100', description: 'all 100 flags of the mixed document for one user, getAllFlags', agree, hogflagsNs: m.hog, hogflagsEvaluateFlagsNs: m.hogEval, posthogNodeNs: m.phApi, posthogNodePollerNs: m.phPoller })
    }
    // one flag per call over 1000 users and the 100 flags (each call converts the user's 24 properties)
    {
      const call = (i) => {
        const u = users[i % users.length]
        return [keys[i % keys.length], u.distinctId, u.personProperties]
      }
      const m = await measure({
        hog: [(i) => {
          const [k, id, p] = call(i)
          return engine.getFeatureFlag(k, id, { personProperties: p })
        }, false],
        phApi: [(i) => {
          const [k, id, p] = call(i)
          return ph.getFeatureFlag(k, id, { personProperties: p, onlyEvaluateLocally: true, sendFeatureFlagEvents: false })
        }, true],
        phPoller: [(i) => {
          const [k, id, p] = call(i)
          return poller.getFeatureFlag(k, id, {}, p, {})
        }, true],
      })
      results.scenarios.push({ name: 'one_flag_mixed', description: 'one flag per call, 100-flag mixed document, 1000 users with 25 properties, getFeatureFlag', agree, hogflagsNs: m.hog, posthogNodeNs: m.phApi, posthogNodePollerNs: m.phPoller })
    }
    await ph.shutdown()
  }

  // ---- scenario 4: the networked clients, one flag per call (async APIs, no events) -------------
  {
    const doc = w.mixedDocument(100, 7)
    const body = JSON.stringify(doc)
    // hogflags' FlagsClient polls a local HTTP server (127.0.0.1) serving the same definitions.
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    const client = new FlagsClient('phc_bench', { secretKey: 'phs_bench', host: `http://127.0.0.1:${server.address().port}`, pollInterval: 3_600_000, fallbackToRemote: false })
    if (!(await client.waitForLocalEvaluationReady(5000))) throw new Error('FlagsClient did not load the definitions')
    const ph = await posthogFor(doc)
    const rng = new w.Rng(11)
    const users = Array.from({ length: 1000 }, (_, i) => ({ distinctId: `user-${i}`, personProperties: w.fullProperties(rng, i) }))
    const keys = doc.flags.map((f) => f.key)
    const call = (i) => [keys[i % keys.length], users[i % users.length]]
    let agreed = 0
    let compared = 0
    for (let i = 0; i < 2000; i++) {
      const [k, u] = call(i)
      const a = await client.getFeatureFlag(k, u.distinctId, { personProperties: u.personProperties, sendFeatureFlagEvents: false })
      const b = await ph.getFeatureFlag(k, u.distinctId, { personProperties: u.personProperties, onlyEvaluateLocally: true, sendFeatureFlagEvents: false })
      if (a !== undefined && b !== undefined && !usesComparison(doc, k)) {
        compared++
        if (a === b) agreed++
      }
    }
    const m = await measure({
      hog: [(i) => {
        const [k, u] = call(i)
        return client.getFeatureFlag(k, u.distinctId, { personProperties: u.personProperties, sendFeatureFlagEvents: false })
      }, true],
      phApi: [(i) => {
        const [k, u] = call(i)
        return ph.getFeatureFlag(k, u.distinctId, { personProperties: u.personProperties, onlyEvaluateLocally: true, sendFeatureFlagEvents: false })
      }, true],
    })
    results.scenarios.push({
      name: 'client_one_flag',
      description: 'FlagsClient.getFeatureFlag (await) vs PostHog.getFeatureFlag, 100-flag document, 1000 users, no events',
      agree: { compared, agreed, rate: compared ? agreed / compared : 0, disagreeOnComparison: 0, decidedOnlyByHogflags: 0, decidedOnlyByPosthogNode: 0, mismatches: [] },
      hogflagsNs: m.hog,
      posthogNodeNs: m.phApi,
      posthogNodePollerNs: NaN,
    })
    await client.shutdown()
    await ph.shutdown()
    server.close()
  }

  if (JSON_OUT) {
    console.log(JSON.stringify(results, null, 2))
    return
  }
  log('')
  log('| scenario | hogflags | posthog-node API | ratio | posthog-node poller | ratio | agreement |')
  log('|---|---|---|---|---|---|---|')
  for (const s of results.scenarios) {
    const a = s.agree
    const poller = Number.isNaN(s.posthogNodePollerNs) ? '| – | – ' : `| ${fmt(s.posthogNodePollerNs)} | ${(s.posthogNodePollerNs / s.hogflagsNs).toFixed(1)}× `
    log(
      `| ${s.name} | ${fmt(s.hogflagsNs)} | ${fmt(s.posthogNodeNs)} | ${(s.posthogNodeNs / s.hogflagsNs).toFixed(1)}× ${poller}| ${(a.rate * 100).toFixed(2)} % of ${a.compared} |`,
    )
  }
  for (const s of results.scenarios) {
    const a = s.agree
    log(`${s.name}: ${s.description}`)
    log(`  agreement: ${a.agreed}/${a.compared} (${(a.rate * 100).toFixed(2)} %) where both decide; decided only by hogflags: ${a.decidedOnlyByHogflags}, only by posthog-node: ${a.decidedOnlyByPosthogNode}`)
    if (a.compared > a.agreed) {
      log(`  disagreements: ${a.disagreeOnComparison} on flags using gt/lt (posthog-node compares non-numeric text; hogflags follows the server: numbers only, docs/semantics.md D20), ${a.compared - a.agreed - a.disagreeOnComparison} other`)
    }
    if (s.hogflagsEvaluateFlagsNs) log(`  hogflags evaluateFlags (values, payloads, reasons, unresolved): ${fmt(s.hogflagsEvaluateFlagsNs)}`)
    for (const m of a.mismatches) log(`  mismatch: ${JSON.stringify(m)}`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
