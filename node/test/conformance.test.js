'use strict'
// The shared conformance corpus (tests/conformance/*.json), every case, through the public Node API.
//
// Each case runs through getFeatureFlag, isFeatureEnabled, getFeatureFlagPayload, getFeatureFlagResult,
// getAllFlags and evaluateFlags (all flags and `flagKeys: [flag]`: the bulk paths must agree with the
// single-flag path), and through the JSON entry points evaluateJson / evaluateAllJson.
// A context holding a float written with an integral value (`5.0`) cannot be expressed with JS numbers
// (5.0 === 5 in JS); such cases run through the JSON entry points only, which take the context as written.
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { FlagsEngine } = require('..')
const lossless = require('./support/lossless-json.js')

// The shared corpus, plus the folder named by HOGFLAGS_EXTRA_CORPUS (e.g. the differential corpus of
// tools/src/bin/gen_differential.rs), as the Rust runner does.
const dir = process.env.HOGFLAGS_CONFORMANCE_DIR || path.join(__dirname, '..', '..', 'tests', 'conformance')
const dirs = [dir, process.env.HOGFLAGS_EXTRA_CORPUS].filter(Boolean)
const files = dirs.flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(d, f)))

function options(ctx) {
  return {
    personProperties: ctx.person_properties ?? undefined,
    groups: ctx.groups ?? undefined,
    groupProperties: ctx.group_properties ?? undefined,
    deviceId: ctx.device_id ?? undefined,
    now: ctx.now ?? undefined,
  }
}

function checkObjectApi(engine, c) {
  const id = c.context.distinct_id
  const opts = options(c.context)
  const exp = c.expected
  const value = engine.getFeatureFlag(c.flag, id, opts)
  const result = engine.getFeatureFlagResult(c.flag, id, opts)
  const all = engine.evaluateFlags(id, opts)
  const only = engine.evaluateFlags(id, { ...opts, flagKeys: [c.flag] })
  if (exp.inconclusive !== undefined) {
    assert.equal(value, undefined, `decided ${JSON.stringify(value)}, want inconclusive ${exp.inconclusive}`)
    assert.equal(result, undefined)
    assert.equal(engine.isFeatureEnabled(c.flag, id, opts), undefined)
    assert.equal(engine.getFeatureFlagPayload(c.flag, id, opts), undefined)
    assert.equal(only.unresolved[c.flag]?.kind, exp.inconclusive, 'evaluateFlags (flagKeys) kind')
    assert.ok(!(c.flag in only.flags))
    if (engine.getFlagInfo(c.flag)) {
      assert.equal(all.unresolved[c.flag]?.kind, exp.inconclusive, 'evaluateFlags (all) kind')
      assert.ok(!(c.flag in engine.getAllFlags(id, opts)))
    }
    return
  }
  assert.deepEqual(value, exp.value)
  assert.ok(result, 'getFeatureFlagResult gave undefined')
  assert.equal(result.key, c.flag)
  assert.equal(result.enabled, exp.value !== false)
  assert.equal(result.variant, typeof exp.value === 'string' ? exp.value : undefined)
  assert.equal(engine.isFeatureEnabled(c.flag, id, opts), exp.value !== false)
  if ('payload' in exp) {
    // The corpus writes `null` for "no payload" (and a stored JSON null parses to null).
    assert.deepEqual(result.payload ?? null, exp.payload, 'payload')
    assert.deepEqual(engine.getFeatureFlagPayload(c.flag, id, opts) ?? null, exp.payload, 'getFeatureFlagPayload')
  }
  if (exp.reason) {
    assert.equal(result.reason.code, exp.reason.code, 'reason code')
    if ('condition_index' in exp.reason) assert.equal(result.reason.conditionIndex, exp.reason.condition_index, 'condition index')
    assert.equal(typeof result.reason.description, 'string')
  }
  for (const bulk of [all, only]) {
    assert.deepEqual(bulk.flags[c.flag], exp.value, 'evaluateFlags value')
    assert.deepEqual(bulk.reasons[c.flag], result.reason, 'evaluateFlags reason')
    assert.deepEqual(bulk.payloads[c.flag], result.payload, 'evaluateFlags payload')
    assert.ok(!(c.flag in bulk.unresolved))
  }
  assert.deepEqual(engine.getAllFlags(id, opts)[c.flag], exp.value, 'getAllFlags')
}

function checkJsonApi(engine, c, contextText) {
  const exp = c.expected
  const one = engine.evaluateJson(c.flag, contextText)
  assert.equal(one.key, c.flag)
  if (exp.inconclusive !== undefined) {
    assert.equal(one.inconclusive, exp.inconclusive, `JSON entry: ${JSON.stringify(one)}`)
  } else {
    assert.equal(one.inconclusive, undefined, `JSON entry: inconclusive ${one.inconclusive} (${one.detail})`)
    assert.deepEqual(one.value, exp.value, 'JSON entry value')
    if ('payload' in exp) assert.deepEqual(one.payload, exp.payload, 'JSON entry payload')
    if (exp.reason) {
      assert.equal(one.reason.code, exp.reason.code, 'JSON entry reason')
      if ('condition_index' in exp.reason) assert.equal(one.reason.condition_index, exp.reason.condition_index)
    }
  }
  if (engine.getFlagInfo(c.flag)) {
    const bulk = engine.evaluateAllJson(contextText).find((e) => e.key === c.flag)
    assert.deepEqual(bulk, one, 'evaluateAllJson disagrees with evaluateJson')
  }
}

it('the corpus is present', () => {
  assert.ok(files.some((f) => path.dirname(f) === dir), `no corpus files in ${dir}`)
})

for (const file of files) {
  const suite = lossless.parse(fs.readFileSync(file, 'utf8'))
  describe(path.relative(path.join(__dirname, '..', '..'), file), () => {
    // Definitions go in as JSON text with every number as written.
    const engine = new FlagsEngine(lossless.stringify(suite.definitions))
    for (const c of suite.cases) {
      const plain = lossless.representable(c.context)
      it(`${c.id} [${c.flag}]${plain ? '' : ' (JSON entry only: integral float)'}`, () => {
        if (plain) checkObjectApi(engine, c)
        checkJsonApi(engine, c, lossless.stringify(c.context))
      })
    }
  })
}
