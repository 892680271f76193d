// The ESM entry point exports the same classes as the CommonJS one.
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import hogflags, { FlagsEngine, FlagsClient, HogflagsError, InvalidDefinitionsError, InvalidContextError, ClientConfigError, FlagsClientError, FeatureFlagEvaluations } from 'hogflags'

const require = createRequire(import.meta.url)
const cjs = require('hogflags')

it('named and default ESM exports are the CommonJS ones', () => {
  assert.equal(FlagsEngine, cjs.FlagsEngine)
  assert.equal(HogflagsError, cjs.HogflagsError)
  assert.equal(InvalidDefinitionsError, cjs.InvalidDefinitionsError)
  assert.equal(InvalidContextError, cjs.InvalidContextError)
  assert.equal(FlagsClient, cjs.FlagsClient)
  assert.equal(ClientConfigError, cjs.ClientConfigError)
  assert.equal(FlagsClientError, cjs.FlagsClientError)
  assert.equal(FeatureFlagEvaluations, cjs.FeatureFlagEvaluations)
  assert.equal(typeof FeatureFlagEvaluations, 'function')
  assert.equal(typeof FlagsClient, 'function')
  assert.equal(hogflags.FlagsEngine, cjs.FlagsEngine)
})

it('evaluates through the ESM import', () => {
  const e = new FlagsEngine({ flags: [{ key: 'on', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }] })
  assert.equal(e.getFeatureFlag('on', 'user-1'), true)
  assert.throws(() => new FlagsEngine('{'), InvalidDefinitionsError)
})
