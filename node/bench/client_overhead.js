'use strict'
// What a FlagsClient call costs over the engine alone, for flags the polled definitions decide (no
// network): one flag (3 person filters, the w1 workload's shape) and a bulk call on the 100-flag mixed
// document, engine and client rounds interleaved; prints medians and ratios.
//
// Run (after `npm install` in node/; needs the test server binary):
//   node bench/client_overhead.js [--server PATH] [--rounds N]
const path = require('node:path')
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const { FlagsEngine, FlagsClient } = require('..')

const ROOT = path.join(__dirname, '..', '..')
const PROJECT_KEY = 'phc_bench_project'
const SECRET_KEY = 'phs_bench_secret'
const ONE_FLAG = {
  flags: [{ id: 1, key: 'w1', active: true, version: 1, filters: { groups: [{ properties: [
    { key: 'plan', value: ['pro', 'enterprise'], operator: 'exact', type: 'person' },
    { key: 'country', value: 'US', operator: 'exact', type: 'person' },
    { key: 'age', value: 18, operator: 'gte', type: 'person' }], rollout_percentage: 50 }] } }],
  group_type_mapping: {},
  cohorts: {},
}
const PROPS = { plan: 'pro', country: 'US', age: 30, email: 'a@example.com', signup: '2024-01-01' }

function arg(name, fallback) {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : fallback
}

async function startServer(binary) {
  const child = spawn(binary, ['--exit-on-stdin-eof', '--project-key', PROJECT_KEY, '--secret-key', SECRET_KEY], { stdio: ['pipe', 'pipe', 'inherit'] })
  const url = await new Promise((resolve) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      const m = buf.match(/listening on (http:\/\/\S+)/)
      if (m) resolve(m[1])
    })
  })
  return { child, url }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]

async function compare(name, rows, rounds, batch) {
  const times = rows.map(() => [])
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, fn]] of rows.entries()) {
      const start = process.hrtime.bigint()
      for (let j = 0; j < batch; j++) await fn(j)
      times[i].push(Number(process.hrtime.bigint() - start) / batch)
    }
  }
  const base = median(times[0])
  for (const [i, [label]] of rows.entries()) {
    const m = median(times[i])
    console.log(`${name.padEnd(10)} ${label.padEnd(36)} ${(m / 1000).toFixed(3).padStart(8)} µs   ${(m / base).toFixed(2)}× the engine`)
  }
}

async function main() {
  const server = await startServer(arg('--server', process.env.HOGFLAGS_TEST_SERVER || path.join(ROOT, 'target/release/hogflags-test-server')))
  const rounds = Number(arg('--rounds', 40))
  const users = Array.from({ length: 64 }, (_, i) => `user-${i}`)
  try {
    const mixed = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/mixed-100.json'), 'utf8')).definitions
    for (const [doc, name, batch] of [[ONE_FLAG, 'one flag', 5000], [mixed, '100 flags', 100]]) {
      await fetch(server.url + '/_control/definitions', { method: 'POST', body: JSON.stringify(doc) })
      const client = new FlagsClient(PROJECT_KEY, { secretKey: SECRET_KEY, host: server.url, pollInterval: 3_600_000 })
      if (!(await client.waitForLocalEvaluationReady(10_000))) throw new Error('client not ready')
      const engine = new FlagsEngine(JSON.stringify(doc))
      const rows = name === 'one flag'
        ? [
            ['engine.getFeatureFlag', (j) => engine.getFeatureFlag('w1', users[j & 63], { personProperties: PROPS })],
            ['client.getFeatureFlag (no event)', (j) => client.getFeatureFlag('w1', users[j & 63], { personProperties: PROPS, sendFeatureFlagEvents: false })],
            ['client.getFeatureFlag (event)', (j) => client.getFeatureFlag('w1', users[j & 63], { personProperties: PROPS })],
          ]
        : [
            ['engine.getAllFlags', (j) => engine.getAllFlags(users[j & 63], { personProperties: PROPS })],
            ['client.getAllFlags (local only)', (j) => client.getAllFlags(users[j & 63], { personProperties: PROPS, onlyEvaluateLocally: true })],
            ['client.evaluateFlags (local only)', (j) => client.evaluateFlags(users[j & 63], { personProperties: PROPS, onlyEvaluateLocally: true })],
          ]
      await compare(name, rows, rounds, batch)
      await client.shutdown()
    }
  } finally {
    server.child.stdin.end()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
