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
