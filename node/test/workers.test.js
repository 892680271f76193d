'use strict'
// worker_threads: several workers load the addon and evaluate the whole conformance corpus at the same
// time as the main thread (each thread has its own engines: JS objects cannot be shared across
// threads); a worker terminated in the middle of evaluating does not harm the process.
const { it } = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')

const dir = process.env.HOGFLAGS_CONFORMANCE_DIR || path.join(__dirname, '..', '..', 'tests', 'conformance')
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f))

// Runs in each thread: evaluates every corpus case `rounds` times, in an order that differs per thread,
// through evaluateJson, getFeatureFlag and evaluateFlags, and compares each answer with `expected` (the
// main thread's serial answers; null to compute them). Returns the answers, the count and the mismatches.
const CHECK = `
const { FlagsEngine } = require(${JSON.stringify(path.join(__dirname, '..'))})
const fs = require('node:fs')
function runCorpus(files, rounds, seed, expected) {
  const suites = files.map((f) => {
    const raw = JSON.parse(fs.readFileSync(f, 'utf8'))
    return { engine: new FlagsEngine(raw.definitions), cases: raw.cases }
  })
  const answers = suites.map((s) => new Array(s.cases.length))
  let checked = 0
  const mismatches = []
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < suites.length; k++) {
      const s = (k + seed + r) % suites.length
      const { engine, cases } = suites[s]
      for (let n = 0; n < cases.length; n++) {
        const m = (n + seed * 13) % cases.length
        const i = seed % 2 ? cases.length - 1 - m : m
        const c = cases[i]
        const ctx = c.context
        const opts = { personProperties: ctx.person_properties, groups: ctx.groups, groupProperties: ctx.group_properties, deviceId: ctx.device_id, now: ctx.now }
        const answer = JSON.stringify([
          engine.evaluateJson(c.flag, ctx),
          engine.getFeatureFlag(c.flag, ctx.distinct_id, opts) ?? null,
          engine.evaluateFlags(ctx.distinct_id, { ...opts, flagKeys: [c.flag] }),
        ])
        answers[s][i] = answer
        if (expected && expected[s][i] !== answer) mismatches.push(c.id)
        checked++
      }
    }
  }
  return { answers, checked, mismatches }
}
`

function runWorker(seed, rounds, expected) {
  return new Promise((resolve, reject) => {
    const w = new Worker(`${CHECK}\nconst { parentPort, workerData } = require('node:worker_threads')\nconst r = runCorpus(workerData.files, workerData.rounds, workerData.seed, workerData.expected)\nparentPort.postMessage({ checked: r.checked, mismatches: r.mismatches })`, {
      eval: true,
      workerData: { files, rounds, seed, expected },
    })
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)))
  })
}

it('four workers and the main thread evaluate the corpus concurrently, consistently', async () => {
  const { runCorpus } = new Function('require', `${CHECK}; return { runCorpus }`)(require)
  const serial = runCorpus(files, 1, 0, null)
  assert.ok(serial.checked > 2000, `only ${serial.checked} cases`)
  const expected = serial.answers
  const workers = [1, 2, 3, 4].map((seed) => runWorker(seed, 2, expected))
  // The main thread keeps evaluating while the workers run.
  let mainChecked = 0
  const start = Date.now()
  while (Date.now() - start < 300) {
    const r = runCorpus(files, 1, 5, expected)
    assert.deepEqual(r.mismatches, [])
    mainChecked += r.checked
    await new Promise((res) => setImmediate(res))
  }
  const results = await Promise.all(workers)
  for (const r of results) {
    assert.equal(r.checked, serial.checked * 2)
    assert.deepEqual(r.mismatches, [])
  }
  assert.ok(mainChecked > 0)
})

it('terminating a worker in the middle of evaluating leaves the process healthy', async () => {
  for (let round = 0; round < 3; round++) {
    const w = new Worker(`${CHECK}\nrequire('node:worker_threads').parentPort.postMessage('started');\nfor (;;) runCorpus(require('node:worker_threads').workerData.files, 1, 0, null)`, {
      eval: true,
      workerData: { files },
    })
    await new Promise((res, rej) => {
      w.once('message', res)
      w.once('error', rej)
    })
    await new Promise((res) => setTimeout(res, 50))
    const code = await w.terminate()
    assert.equal(code, 1)
  }
  const { FlagsEngine } = require('..')
  const e = new FlagsEngine({ flags: [{ key: 'on', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }] })
  assert.equal(e.getFeatureFlag('on', 'u'), true)
})
