'use strict'
// The public API: shapes, posthog-node compatible forms, errors, bad inputs, and the JS → JSON value
// conversion (checked against the JSON entry point, which takes the expected JSON text as written).
const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { FlagsEngine, HogflagsError, InvalidDefinitionsError, InvalidContextError } = require('..')

const rollout100 = (properties, extra = {}) => ({ properties, rollout_percentage: 100, ...extra })
const person = (key, operator, value) => ({ key, operator, value, type: 'person' })

const DOC = {
  group_type_mapping: { 0: 'company' },
  flags: [
    { id: 1, key: 'plan-pro', version: 4, active: true, filters: { groups: [rollout100([person('plan', 'exact', ['pro'])])], payloads: { true: '{"tier":"gold","n":[1,2]}' } } },
    { id: 2, key: 'everyone', active: true, filters: { groups: [rollout100([])] } },
    { id: 3, key: 'nobody', active: true, filters: { groups: [{ properties: [], rollout_percentage: 0 }] } },
    { id: 4, key: 'off', active: false, filters: { groups: [rollout100([])] } },
    {
      id: 5,
      key: 'multi',
      active: true,
      filters: {
        groups: [rollout100([person('plan', 'exact', ['pro'])], { variant: 'blue' })],
        multivariate: { variants: [{ key: 'blue', rollout_percentage: 50 }, { key: 'green', rollout_percentage: 50 }] },
        payloads: { blue: '{"color":"blue"}' },
      },
    },
    { id: 6, key: 'company-flag', active: true, filters: { aggregation_group_type_index: 0, groups: [rollout100([{ key: 'size', operator: 'gt', value: 10, type: 'group', group_type_index: 0 }])] } },
    { id: 7, key: 'by-device', active: true, bucketing_identifier: 'device_id', filters: { groups: [{ properties: [], rollout_percentage: 50 }] } },
    { id: 8, key: 'recent', active: true, filters: { groups: [rollout100([person('signed_up', 'is_date_after', '-7d')])] } },
  ],
}

const engine = new FlagsEngine(DOC)
const pro = { personProperties: { plan: 'pro' } }

describe('construction', () => {
  it('accepts an object, JSON text, a Buffer and a Uint8Array alike', () => {
    const text = JSON.stringify(DOC)
    for (const input of [DOC, text, Buffer.from(text), new TextEncoder().encode(text)]) {
      const e = new FlagsEngine(input)
      assert.deepEqual(e.flagKeys, engine.flagKeys)
      assert.equal(e.getFeatureFlag('plan-pro', 'u1', pro), true)
    }
    assert.equal(engine.size, 8)
    assert.deepEqual(engine.flagKeys.slice(0, 3), ['plan-pro', 'everyone', 'nobody'])
  })

  it('refuses a document that is not a definitions document with InvalidDefinitionsError', () => {
    for (const bad of ['', 'nul', '[]', '42', '{}', '{"flags":null}', Buffer.from('{"flags":'), { noFlags: true }]) {
      assert.throws(
        () => new FlagsEngine(bad),
        (e) => e instanceof InvalidDefinitionsError && e instanceof HogflagsError && e instanceof Error &&
          e.name === 'InvalidDefinitionsError' && /definitions document is not valid/.test(e.message),
        `input ${String(bad)}`,
      )
    }
    const cyclic = { flags: [] }
    cyclic.self = cyclic
    assert.throws(() => new FlagsEngine(cyclic), InvalidDefinitionsError)
  })

  it('throws TypeError for definitions of the wrong type', () => {
    for (const bad of [undefined, null, 42, true, [], () => 1, Symbol('x'), 10n]) {
      assert.throws(() => new FlagsEngine(bad), TypeError)
    }
  })

  it('skips a bad flag and loads the rest', () => {
    const e = new FlagsEngine({ flags: [{ key: 1 }, { key: 'ok', active: true, filters: { groups: [rollout100([])] } }] })
    assert.deepEqual(e.flagKeys, ['ok'])
    assert.equal(e.skippedFlags.length, 1)
    assert.match(e.skippedFlags[0].reason, /malformed flag/)
    assert.equal(e.getFeatureFlag('ok', 'u'), true)
  })

  it('reports facts about the definitions', () => {
    assert.deepEqual(engine.getFlagInfo('plan-pro'), {
      key: 'plan-pro', id: 1, version: 4, active: true, hasExperiment: undefined, ensureExperienceContinuity: false,
    })
    assert.equal(engine.getFlagInfo('nope'), undefined)
    assert.deepEqual(engine.groupTypeMapping, { 0: 'company' })
    assert.ok(engine.propertyKeys.person.includes('plan'))
    assert.deepEqual(engine.propertyKeys.groups, { company: ['size'] })
    assert.deepEqual(engine.brokenCohorts, [])
    assert.equal(Object.prototype.toString.call(engine), '[object FlagsEngine]')
  })
})

describe('posthog-node names', () => {
  it('getFeatureFlag gives true, false, a variant, or undefined when inconclusive', () => {
    assert.equal(engine.getFeatureFlag('plan-pro', 'u1', pro), true)
    assert.equal(engine.getFeatureFlag('plan-pro', 'u1', { personProperties: { plan: 'free' } }), false)
    assert.equal(engine.getFeatureFlag('plan-pro', 'u1'), undefined) // plan is missing
    assert.equal(engine.getFeatureFlag('nobody', 'u1'), false)
    assert.equal(engine.getFeatureFlag('off', 'u1'), false)
    assert.equal(engine.getFeatureFlag('multi', 'u1', pro), 'blue')
    assert.equal(engine.getFeatureFlag('does-not-exist', 'u1'), undefined)
  })

  it('isFeatureEnabled counts a variant as enabled', () => {
    assert.equal(engine.isFeatureEnabled('multi', 'u1', pro), true)
    assert.equal(engine.isFeatureEnabled('nobody', 'u1'), false)
    assert.equal(engine.isFeatureEnabled('plan-pro', 'u1'), undefined)
  })

  it('getFeatureFlagPayload, with and without posthog-node matchValue', () => {
    assert.deepEqual(engine.getFeatureFlagPayload('plan-pro', 'u1', pro), { tier: 'gold', n: [1, 2] })
    assert.deepEqual(engine.getFeatureFlagPayload('multi', 'u1', pro), { color: 'blue' })
    assert.equal(engine.getFeatureFlagPayload('everyone', 'u1'), undefined)
    assert.equal(engine.getFeatureFlagPayload('plan-pro', 'u1'), undefined)
    assert.deepEqual(engine.getFeatureFlagPayload('multi', 'u1', 'blue', pro), { color: 'blue' })
    assert.equal(engine.getFeatureFlagPayload('multi', 'u1', 'green', pro), undefined)
    assert.deepEqual(engine.getFeatureFlagPayload('plan-pro', 'u1', true, pro), { tier: 'gold', n: [1, 2] })
    assert.deepEqual(engine.getFeatureFlagPayload('plan-pro', 'u1', undefined, pro), { tier: 'gold', n: [1, 2] })
    // Every call returns a fresh object.
    const a = engine.getFeatureFlagPayload('plan-pro', 'u1', pro)
    a.tier = 'mutated'
    assert.equal(engine.getFeatureFlagPayload('plan-pro', 'u1', pro).tier, 'gold')
  })

  it('getFeatureFlagResult has value, payload, reason and the flag facts', () => {
    assert.deepEqual(engine.getFeatureFlagResult('plan-pro', 'u1', pro), {
      key: 'plan-pro',
      enabled: true,
      variant: undefined,
      payload: { tier: 'gold', n: [1, 2] },
      reason: { code: 'condition_match', conditionIndex: 0, description: 'Matched condition set 1' },
      flagId: 1,
      version: 4,
    })
    assert.deepEqual(engine.getFeatureFlagResult('off', 'u1'), {
      key: 'off', enabled: false, variant: undefined, payload: undefined,
      reason: { code: 'flag_disabled', conditionIndex: null, description: 'Feature flag is disabled' },
      flagId: 4, version: undefined,
    })
    assert.equal(engine.getFeatureFlagResult('multi', 'u1', pro).variant, 'blue')
    assert.equal(engine.getFeatureFlagResult('plan-pro', 'u1'), undefined)
  })

  it('getAllFlags and getAllFlagsAndPayloads leave inconclusive flags out', () => {
    const all = engine.getAllFlags('u1')
    assert.equal(all.everyone, true)
    assert.equal(all.off, false)
    assert.ok(!('plan-pro' in all), 'plan-pro needs plan')
    assert.ok(!('by-device' in all), 'by-device needs a device id')
    const withPro = engine.getAllFlagsAndPayloads('u1', pro)
    assert.equal(withPro.featureFlags['plan-pro'], true)
    assert.equal(withPro.featureFlags.multi, 'blue')
    assert.deepEqual(withPro.featureFlagPayloads, { 'plan-pro': { tier: 'gold', n: [1, 2] }, multi: { color: 'blue' } })
    assert.deepEqual(engine.getAllFlags('u1', { ...pro, flagKeys: ['multi', 'nope'] }), { multi: 'blue' })
  })

  it('evaluateFlags reports values, payloads, reasons and why the rest is unresolved', () => {
    const r = engine.evaluateFlags('u1', { flagKeys: ['plan-pro', 'everyone', 'by-device', 'nope', 'multi'], ...pro, personProperties: { plan: 'pro' } })
    assert.deepEqual(Object.keys(r).sort(), ['flags', 'payloads', 'reasons', 'unresolved'])
    assert.deepEqual(r.flags, { 'plan-pro': true, everyone: true, multi: 'blue' })
    assert.deepEqual(r.payloads, { 'plan-pro': { tier: 'gold', n: [1, 2] }, multi: { color: 'blue' } })
    assert.deepEqual(r.reasons.everyone, { code: 'condition_match', conditionIndex: 0, description: 'Matched condition set 1' })
    assert.deepEqual(r.unresolved, {
      'by-device': { kind: 'missing_device_id', detail: 'by-device' },
      nope: { kind: 'unknown_flag', detail: null },
    })
    const missing = engine.evaluateFlags('u1', { flagKeys: ['plan-pro'] })
    assert.deepEqual(missing.unresolved['plan-pro'], { kind: 'missing_property', detail: 'plan' })
    // Without flagKeys: every loaded flag, in document order.
    assert.deepEqual(
      [...Object.keys(engine.evaluateFlags('u1', pro).flags), ...Object.keys(engine.evaluateFlags('u1', pro).unresolved)].sort(),
      engine.flagKeys.slice().sort(),
    )
    // Many more keys than flags.
    const many = engine.evaluateFlags('u1', { flagKeys: Array.from({ length: 50 }, (_, i) => `k${i}`) })
    assert.equal(Object.keys(many.unresolved).length, 50)
  })

  it('groups: numbers become decimal text, other types mean absent, properties per group', () => {
    const big = { groups: { company: 'acme' }, groupProperties: { company: { size: 50 } } }
    assert.equal(engine.getFeatureFlag('company-flag', 'u1', big), true)
    assert.equal(engine.getFeatureFlag('company-flag', 'u1', { ...big, groupProperties: { company: { size: 5 } } }), false)
    assert.equal(engine.getFeatureFlag('company-flag', 'u1', { groups: { company: 'acme' } }), undefined)
    const absent = engine.getFeatureFlagResult('company-flag', 'u1', { groups: { company: true }, groupProperties: { company: { size: 50 } } })
    assert.equal(absent.reason.code, 'no_group_type')
    assert.equal(engine.getFeatureFlagResult('company-flag', 'u1').reason.code, 'no_group_type')
    // A numeric group key hashes like its decimal text.
    const flagDoc = { group_type_mapping: { 0: 'company' }, flags: [{ key: 'half', active: true, filters: { aggregation_group_type_index: 0, groups: [{ properties: [], rollout_percentage: 50 }] } }] }
    const e = new FlagsEngine(flagDoc)
    for (let i = 0; i < 40; i++) {
      assert.equal(e.getFeatureFlag('half', 'u', { groups: { company: i } }), e.getFeatureFlag('half', 'u', { groups: { company: String(i) } }))
      assert.equal(e.getFeatureFlag('half', 'u', { groups: { company: BigInt(i) } }), e.getFeatureFlag('half', 'u', { groups: { company: String(i) } }))
    }
  })

  it('deviceId buckets device-bucketed flags; without one they are inconclusive', () => {
    assert.equal(engine.getFeatureFlag('by-device', 'u1'), undefined)
    let on = 0
    for (let i = 0; i < 200; i++) {
      const v = engine.getFeatureFlag('by-device', 'same-user', { deviceId: `device-${i}` })
      assert.equal(typeof v, 'boolean')
      if (v) on++
      // The distinct id does not matter, the device id does.
      assert.equal(engine.getFeatureFlag('by-device', 'other-user', { deviceId: `device-${i}` }), v)
    }
    assert.ok(on > 60 && on < 140, `50 % rollout by device gave ${on}/200`)
    // $device_id as a person property works too.
    assert.equal(engine.getFeatureFlag('by-device', 'u', { personProperties: { $device_id: 'device-3' } }), engine.getFeatureFlag('by-device', 'u', { deviceId: 'device-3' }))
  })

  it('distinctId may be a string, a number or a BigInt', () => {
    const e = new FlagsEngine({ flags: [{ key: 'half', active: true, filters: { groups: [{ properties: [], rollout_percentage: 50 }] } }] })
    for (let i = 0; i < 40; i++) {
      assert.equal(e.getFeatureFlag('half', i), e.getFeatureFlag('half', String(i)))
      assert.equal(e.getFeatureFlag('half', BigInt(i)), e.getFeatureFlag('half', String(i)))
    }
    assert.equal(e.getFeatureFlag('half', 4.5), e.getFeatureFlag('half', '4.5'))
    assert.equal(e.getFeatureFlag('half', 12345678901234567890n), e.getFeatureFlag('half', '12345678901234567890'))
  })

  it('now pins relative dates, as a Date, RFC 3339 text or epoch milliseconds', () => {
    const props = { personProperties: { signed_up: '2026-01-10T00:00:00Z' } }
    const at = (now) => engine.getFeatureFlag('recent', 'u', { ...props, now })
    assert.equal(at('2026-01-12T00:00:00Z'), true)
    assert.equal(at('2026-03-01T00:00:00Z'), false)
    assert.equal(at(new Date('2026-01-12T00:00:00Z')), true)
    assert.equal(at(Date.parse('2026-03-01T00:00:00Z')), false)
    for (const bad of ['yesterday', {}, true, NaN, new Date('nope')]) assert.throws(() => at(bad), TypeError)
  })
})

describe('bad inputs throw TypeError (and never crash)', () => {
  const cases = [
    ['key', () => engine.getFeatureFlag(42, 'u')],
    ['key', () => engine.getFeatureFlag(undefined, 'u')],
    ['distinctId', () => engine.getFeatureFlag('everyone')],
    ['distinctId', () => engine.getFeatureFlag('everyone', null)],
    ['distinctId', () => engine.getFeatureFlag('everyone', { id: 1 })],
    ['distinctId', () => engine.getFeatureFlag('everyone', true)],
    ['distinctId', () => engine.getFeatureFlag('everyone', NaN)],
    ['options', () => engine.getFeatureFlag('everyone', 'u', 'options')],
    ['options', () => engine.getFeatureFlag('everyone', 'u', [])],
    ['personProperties', () => engine.getFeatureFlag('everyone', 'u', { personProperties: 'plan=pro' })],
    ['personProperties', () => engine.getFeatureFlag('everyone', 'u', { personProperties: ['pro'] })],
    ['groups', () => engine.getFeatureFlag('everyone', 'u', { groups: 'acme' })],
    ['groupProperties', () => engine.getFeatureFlag('everyone', 'u', { groupProperties: 5 })],
    ['groupProperties', () => engine.getFeatureFlag('everyone', 'u', { groupProperties: { company: 'big' } })],
    ['deviceId', () => engine.getFeatureFlag('everyone', 'u', { deviceId: 42 })],
    ['flagKeys', () => engine.getAllFlags('u', { flagKeys: 'everyone' })],
    ['flagKeys', () => engine.evaluateFlags('u', { flagKeys: ['everyone', 3] })],
    ['distinctId', () => engine.getAllFlags()],
    ['context', () => engine.evaluateJson('everyone', 42)],
    ['key', () => engine.evaluateJson(1, '{"distinct_id":"u"}')],
  ]
  for (const [what, f] of cases) {
    it(`${what}: ${f.toString().replace(/^\(\) => /, '')}`, () => assert.throws(f, TypeError))
  }

  it('a cyclic value is refused only when a flag reads it', () => {
    const cyclic = {}
    cyclic.self = cyclic
    assert.equal(engine.getFeatureFlag('plan-pro', 'u', { personProperties: { unrelated: cyclic, plan: 'pro' } }), true)
    assert.equal(engine.getFeatureFlag('everyone', 'u', { personProperties: { plan: cyclic } }), true)
    assert.throws(() => engine.getFeatureFlag('plan-pro', 'u', { personProperties: { plan: cyclic } }), TypeError)
    assert.throws(() => engine.evaluateFlags('u', { personProperties: { plan: cyclic } }), TypeError)
  })

  it('an exception thrown by a getter propagates unchanged', () => {
    const boom = new Error('boom')
    const props = { get plan() { throw boom } }
    assert.throws(() => engine.getFeatureFlag('plan-pro', 'u', { personProperties: props }), (e) => e === boom)
    const groups = new Proxy({}, { get() { throw boom } })
    assert.throws(() => engine.getFeatureFlag('company-flag', 'u', { groups }), (e) => e === boom)
    // The engine still works afterwards.
    assert.equal(engine.getFeatureFlag('plan-pro', 'u', pro), true)
  })

  it('a getter may call the engine re-entrantly', () => {
    let inner
    const props = {
      get plan() {
        inner = engine.getFeatureFlag('multi', 'u2', { personProperties: { plan: 'pro' } })
        return 'free'
      },
    }
    assert.equal(engine.getFeatureFlag('plan-pro', 'u1', { personProperties: props }), false)
    assert.equal(inner, 'blue')
    assert.equal(engine.evaluateFlags('u1', { personProperties: props }).flags['plan-pro'], false)
  })

  it('the JSON entry points refuse malformed contexts with InvalidContextError', () => {
    for (const bad of ['nope', '{}', '{"distinct_id":true}', '{"distinct_id":"u","surprise":1}', '[]']) {
      assert.throws(() => engine.evaluateJson('everyone', bad), (e) => e instanceof InvalidContextError && e instanceof HogflagsError, bad)
      assert.throws(() => engine.evaluateAllJson(bad), InvalidContextError)
    }
  })

  it('the native functions refuse foreign handles and bad buffers', () => {
    const native = require('../lib/native.js')
    const { evaluateOne, evaluateAll, evaluateKeys } = native.rawFunctions()
    const out = new Int32Array(64)
    for (const handle of [undefined, null, {}, [], 'x', 1, Object.create(null), new Proxy({}, {})]) {
      assert.throws(() => evaluateOne(handle, out, 'everyone', 'u'), TypeError)
      assert.throws(() => evaluateAll(handle, out, 'u'), TypeError)
      assert.throws(() => evaluateKeys(handle, out, [], 'u'), TypeError)
      assert.throws(() => native.engineInfo(handle), TypeError)
    }
    const h = engine._h
    for (const badOut of [undefined, new Float64Array(64), new Int32Array(2), [], new Uint8Array(1000)]) {
      assert.throws(() => evaluateOne(h, badOut, 'everyone', 'u'), TypeError)
    }
    assert.throws(() => evaluateAll(h, new Int32Array(10), 'u'), TypeError)
    assert.throws(() => evaluateOne(h, out, 'plan-pro', 'u', { plan: 'pro' }), TypeError) // values must be an aligned array
    assert.throws(() => evaluateOne(h, out, 'plan-pro', 'u', []), TypeError)
    assert.throws(() => evaluateAll(h, out, 'u', ['pro']), TypeError)
    assert.throws(() => evaluateOne(), TypeError)
    evaluateOne(h, out, 'everyone', 'u')
    assert.equal(out[2], 1)
  })
})

describe('only the property keys the definitions read are converted', () => {
  function recording(target) {
    const seen = []
    const proxy = new Proxy(target, {
      get(t, key, recv) {
        seen.push(key)
        return Reflect.get(t, key, recv)
      },
    })
    return { proxy, seen }
  }

  it("one flag reads only its own keys; all flags read every key any flag reads, each once", () => {
    const { proxy, seen } = recording({ plan: 'pro', email: 'a@b.c', unrelated: 1 })
    assert.equal(engine.getFeatureFlag('plan-pro', 'u', { personProperties: proxy }), true)
    assert.deepEqual(seen, ['plan'])
    seen.length = 0
    assert.equal(engine.getFeatureFlag('everyone', 'u', { personProperties: proxy }), true)
    assert.deepEqual(seen, [])
    engine.evaluateFlags('u', { personProperties: proxy })
    assert.deepEqual(seen.slice().sort(), engine.propertyKeys.person.slice().sort())
  })

  it('a flag that depends on another flag also reads what that flag reads', () => {
    const doc = {
      flags: [
        { key: 'base', active: true, filters: { groups: [rollout100([person('email', 'icontains', '@acme.com')])] } },
        { key: 'dependent', active: true, filters: { groups: [rollout100([{ key: 'base', type: 'flag', value: true, operator: 'flag_evaluates_to', dependency_chain: ['base'] }, person('plan', 'exact', 'pro')])] } },
        { key: 'other', active: true, filters: { groups: [rollout100([person('country', 'exact', 'DE')])] } },
      ],
    }
    const e = new FlagsEngine(doc)
    const { proxy, seen } = recording({ plan: 'pro', email: 'x@acme.com', country: 'DE' })
    assert.equal(e.getFeatureFlag('dependent', 'u', { personProperties: proxy }), true)
    assert.ok(seen.includes('email') && seen.includes('plan'), String(seen))
    assert.equal(e.getFeatureFlag('dependent', 'u', { personProperties: { plan: 'pro', email: 'x@other.com' } }), false)
    assert.equal(e.getFeatureFlag('dependent', 'u', { personProperties: { plan: 'pro' } }), undefined)
    seen.length = 0
    assert.equal(e.getFeatureFlag('other', 'u', { personProperties: proxy }), true)
    assert.deepEqual(seen, ['country'])
  })

  it('a flag using a cohort that involves a flag reads every key', () => {
    const doc = {
      flags: [
        { key: 'base', active: true, filters: { groups: [rollout100([person('email', 'icontains', '@acme.com')])] } },
        { key: 'by-cohort', active: true, filters: { groups: [rollout100([{ key: 'id', type: 'cohort', value: 7 }])] } },
      ],
      cohorts: { 7: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'base', type: 'flag', value: true, operator: 'flag_evaluates_to', dependency_chain: ['base'] }] }] } },
    }
    const e = new FlagsEngine(doc)
    const { proxy, seen } = recording({ email: 'x@acme.com' })
    const got = e.evaluateJson('by-cohort', { distinct_id: 'u', person_properties: { email: 'x@acme.com' } })
    const single = e.getFeatureFlagResult('by-cohort', 'u', { personProperties: proxy })
    assert.ok(seen.includes('email'), String(seen))
    assert.equal(single === undefined ? undefined : single.enabled, got.inconclusive ? undefined : got.enabled)
  })

  it('single-flag evaluation agrees with evaluating every flag (bench workload, 100 flags, 150 users)', () => {
    // tests/fixtures/mixed-100.json: the benchmark's 100-flag document and users (tools/src/bin/gen_workloads.rs).
    const fixture = require('../../tests/fixtures/mixed-100.json')
    const e = new FlagsEngine(fixture.definitions)
    let decided = 0
    for (let u = 0; u < 150; u++) {
      const props = { ...fixture.users[u].person_properties }
      // Leave some keys out so that some flags are inconclusive.
      if (u % 3 === 0) delete props[`prop_${u % 20}`]
      if (u % 5 === 0) delete props.email
      const opts = { personProperties: props }
      const all = e.evaluateFlags(`user-${u}`, opts)
      for (const key of e.flagKeys) {
        const r = e.getFeatureFlagResult(key, `user-${u}`, opts)
        if (r === undefined) {
          assert.ok(key in all.unresolved, `${key} user-${u}: single inconclusive, all decided`)
          assert.deepEqual(e.evaluateFlags(`user-${u}`, { ...opts, flagKeys: [key] }).unresolved[key], all.unresolved[key])
        } else {
          decided++
          assert.equal(r.enabled ? (r.variant ?? true) : false, all.flags[key], `${key} user-${u}`)
          assert.deepEqual(r.reason, all.reasons[key], `${key} user-${u}`)
        }
      }
    }
    assert.ok(decided > 5000, `only ${decided} decided`)
  })

  it('reads only known group types and only the group property keys flags use', () => {
    const seenGroups = []
    const seenProps = []
    const groups = new Proxy({ company: 'acme', team: 'x' }, { get: (t, k) => (seenGroups.push(k), t[k]) })
    const companyProps = new Proxy({ size: 50, name: 'Acme' }, { get: (t, k) => (seenProps.push(k), t[k]) })
    assert.equal(engine.getFeatureFlag('company-flag', 'u', { groups, groupProperties: { company: companyProps } }), true)
    assert.deepEqual(seenGroups, ['company'])
    assert.deepEqual(seenProps, ['size'])
  })

  it('a throwing getter on a key no flag reads is never called', () => {
    const props = { plan: 'pro', get secret() { throw new Error('must not be read') } }
    assert.equal(engine.getFeatureFlag('plan-pro', 'u', { personProperties: props }), true)
  })
})

// ---- value conversion, checked against the JSON entry point --------------------------------------

// Flags that each look at `prop` with a different operator, so that any difference in the converted
// value shows in some flag's outcome.
const OPS = [
  ['exact', '5'], ['exact', 5], ['exact', '5.0'], ['exact', 5.5], ['exact', '1.5'], ['exact', 'true'], ['exact', true],
  ['exact', 'null'], ['exact', '[1,"a",null,null]'], ['exact', '{"a":1,"c":[true]}'], ['exact', '1e21'],
  ['exact', '12345678901234567890'], ['exact', '1970-01-01T00:00:00.000Z'], ['exact', '9007199254740992.0'],
  ['is_not', 'x'], ['icontains', '1'], ['icontains', 'é'], ['regex', '^-?\\d+$'], ['regex', '^\\d+\\.\\d+$'],
  ['regex', '\\uFFFD'], ['gt', 3], ['lt', 3], ['gte', '9007199254740991'], ['is_set', null],
  ['is_date_before', '2000-01-01'], ['is_date_after', '1960-01-01'], ['semver_gte', '1.2.0'],
]
const CONVERSION_DOC = {
  flags: OPS.map(([operator, value], i) => ({ key: `f${i}-${operator}`, active: true, filters: { groups: [rollout100([person('prop', operator, value)])] } })),
}
const conv = new FlagsEngine(CONVERSION_DOC)

function shapeFromJson(outcomes) {
  const r = { flags: {}, payloads: {}, reasons: {}, unresolved: {} }
  for (const o of outcomes) {
    if (o.inconclusive !== undefined) {
      r.unresolved[o.key] = { kind: o.inconclusive, detail: o.detail }
      continue
    }
    r.flags[o.key] = o.value
    if (o.payload !== null) r.payloads[o.key] = o.payload
    r.reasons[o.key] = { code: o.reason.code, conditionIndex: o.reason.condition_index, description: o.reason.description }
  }
  return r
}

describe('JS values convert to the JSON the core reads', () => {
  const cases = [
    ['integer', 5, '5'],
    ['float', 5.5, '5.5'],
    ['small float', 1.5, '1.5'],
    ['negative zero', -0, '0'],
    ['largest safe integer', 2 ** 53 - 1, '9007199254740991'],
    ['integral beyond 2^53 is a float', 2 ** 53, '9007199254740992.0'],
    ['1e21', 1e21, '1e21'],
    ['NaN is null', NaN, 'null'],
    ['Infinity is null', Infinity, 'null'],
    ['-Infinity is null', -Infinity, 'null'],
    ['true', true, 'true'],
    ['false', false, 'false'],
    ['null', null, 'null'],
    ['string', 'x', '"x"'],
    ['unicode', 'é€𝄞', '"é€𝄞"'],
    ['NUL inside', 'a\u0000b', '"a\\u0000b"'],
    ['lone surrogate becomes U+FFFD', '\ud800', '"\\ufffd"'],
    ['long string', 'é'.repeat(100000), JSON.stringify('é'.repeat(100000))],
    ['BigInt', 12345678901234567890n, '12345678901234567890'],
    ['negative BigInt', -5n, '-5'],
    ['BigInt beyond 64 bits is the nearest float', 2n ** 70n, '1.1805916207174113e21'],
    ['Date is ISO text', new Date(0), '"1970-01-01T00:00:00.000Z"'],
    ['invalid Date is null', new Date('nope'), 'null'],
    ['array', [1, 'a', undefined, () => 1], '[1,"a",null,null]'],
    ['object', { a: 1, b: undefined, c: [true], d: Symbol('s') }, '{"a":1,"c":[true]}'],
    ['semver text', '1.10.0', '"1.10.0"'],
  ]
  for (const [name, value, json] of cases) {
    it(name, () => {
      const got = conv.evaluateFlags('u', { personProperties: { prop: value } })
      const want = shapeFromJson(conv.evaluateAllJson(`{"distinct_id":"u","person_properties":{"prop":${json}}}`))
      assert.deepEqual(got, want)
    })
  }
  for (const [name, value] of [['undefined', undefined], ['function', () => 1], ['symbol', Symbol('s')]]) {
    it(`${name} is absent`, () => {
      const got = conv.evaluateFlags('u', { personProperties: { prop: value } })
      assert.deepEqual(got, shapeFromJson(conv.evaluateAllJson('{"distinct_id":"u","person_properties":{}}')))
      assert.equal(got.unresolved['f0-exact'].kind, 'missing_property')
    })
  }
  it('the cases above are not all alike (the flags do tell values apart)', () => {
    const outcomes = new Set(cases.map(([, v]) => JSON.stringify(conv.evaluateFlags('u', { personProperties: { prop: v } }).flags)))
    assert.ok(outcomes.size >= 15, `only ${outcomes.size} distinct outcomes`)
  })
  it('a value read through the prototype chain counts (as posthog-node reads it)', () => {
    const props = Object.create({ prop: 5 })
    assert.deepEqual(conv.evaluateFlags('u', { personProperties: props }), conv.evaluateFlags('u', { personProperties: { prop: 5 } }))
  })
})
