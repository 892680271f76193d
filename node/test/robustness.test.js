'use strict'
// No input crashes the process: random (mutated) definitions and random JS values for every argument,
// run in child processes; each call must return or throw TypeError / HogflagsError (or the error a
// caller's own Proxy threw), and the child must exit normally.
const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

for (const seed of [1, 2, 3]) {
  it(`random inputs, seed ${seed}`, () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, 'support', 'fuzz.js'), String(seed), '1500'], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.signal, null, `the child died of ${r.signal}:\n${r.stderr}`)
    assert.equal(r.status, 0, `the child exited with ${r.status}:\n${r.stderr}`)
    const counts = JSON.parse(r.stdout.trim().split('\n').pop())
    assert.equal(counts.unexpected, 0, counts.examples.join('\n\n'))
    // The run exercised both sides: engines built and refused, calls answered and refused.
    assert.ok(counts.engines > 10 && counts.refused > 10, JSON.stringify(counts))
    assert.ok(counts.returned > 100 && counts.typeErrors > 10, JSON.stringify(counts))
  })
}

// A server that reloads definitions into new engines must not keep the old ones: dropped engines are
// collected (N-API runs their finalizers from the event loop), so the process does not grow by each one.
it('discarded engines are collected', () => {
  const script = `
    const { FlagsEngine } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const flags = []
    for (let i = 0; i < 4000; i++) {
      flags.push({ key: 'flag-' + i, active: true, filters: { groups: [{ properties: [
        { key: 'email', value: 'user-' + i + '@example.com', operator: 'icontains', type: 'person' },
        { key: 'plan', value: ['pro', 'team', 'enterprise-' + i], operator: 'exact', type: 'person' }],
        rollout_percentage: 50 }] } })
    }
    const doc = Buffer.from(JSON.stringify({ flags }))
    new FlagsEngine(doc) // warm-up
    const rss = () => Number(require('node:fs').readFileSync('/proc/self/status', 'utf8').match(/VmRSS:\\s+(\\d+)/)[1]) / 1024
    const before = rss()
    ;(async () => {
      // As in a server: the event loop turns between loads (N-API runs finalizers from it).
      for (let i = 0; i < 80; i++) {
        new FlagsEngine(doc)
        await new Promise(setImmediate)
      }
      console.log(JSON.stringify({ docMb: doc.length / 1048576, growthMb: rss() - before }))
    })()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  const { docMb, growthMb } = JSON.parse(r.stdout.trim())
  // 80 engines of this document hold far more than 400 MB together; without collection the growth is
  // their sum.
  assert.ok(growthMb < 400, `RSS grew by ${growthMb.toFixed(0)} MB over 80 engines of a ${docMb.toFixed(1)} MB document`)
})
