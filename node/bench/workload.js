'use strict'
// The benchmark workloads of core/benches/workload.rs, ported exactly (same SplitMix64 seeds, same
// documents and users), so the Node figures measure what the Rust benches measure.

const MASK = (1n << 64n) - 1n

class Rng {
  constructor(seed) {
    this.s = BigInt(seed) & MASK
  }
  next() {
    this.s = (this.s + 0x9e3779b97f4a7c15n) & MASK
    let z = this.s
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK
    return z ^ (z >> 31n)
  }
  below(n) {
    return Number(this.next() % BigInt(n))
  }
}

/** Workload 1: one flag, one condition with 3 person-property filters and a 50 % rollout. */
function singleFlagDocument() {
  return {
    flags: [
      {
        id: 1,
        key: 'bench-flag',
        active: true,
        filters: {
          groups: [
            {
              properties: [
                { key: 'plan', value: ['pro', 'enterprise'], operator: 'exact', type: 'person' },
                { key: 'email', value: '@example.com', operator: 'icontains', type: 'person' },
                { key: 'age', value: 18, operator: 'gte', type: 'person' },
              ],
              rollout_percentage: 50,
            },
          ],
        },
      },
    ],
  }
}

/** A realistic mixed document of `n` flags (operators, multivariate, payloads, cohorts, dependencies). */
function mixedDocument(n, seed) {
  const rng = new Rng(seed)
  const flags = []
  for (let i = 0; i < n; i++) {
    const conditions = []
    for (let c = 0, nc = 1 + rng.below(3); c < nc; c++) {
      const props = []
      for (let p = 0, np = rng.below(4); p < np; p++) {
        const key = `prop_${rng.below(20)}`
        const pick = rng.below(20)
        let f
        if (pick <= 5) f = { key, value: `value-${rng.below(10)}`, operator: 'exact', type: 'person' }
        else if (pick <= 7) f = { key, value: [`v${rng.below(5)}`, `v${rng.below(5)}`], operator: 'exact', type: 'person' }
        else if (pick <= 9) f = { key, value: `${rng.below(100)}`, operator: 'gt', type: 'person' }
        else if (pick <= 11) f = { key: 'email', value: '@example.com', operator: 'icontains', type: 'person' }
        else if (pick === 12) f = { key, value: `^user-${rng.below(20)}\\d+$`, operator: 'regex', type: 'person' }
        else if (pick === 13) f = { key: '$app_version', value: `1.${rng.below(10)}.0`, operator: 'semver_gte', type: 'person' }
        else if (pick === 14) f = { key: 'signed_up', value: '-30d', operator: 'is_date_after', type: 'person' }
        else if (pick === 15) f = { key, value: null, operator: 'is_set', type: 'person' }
        else if (pick === 16) f = { key: 'id', value: rng.below(5), type: 'cohort' }
        else if (pick === 17 && i > 0) {
          const dep = `flag-${rng.below(i)}`
          f = { key: dep, value: true, operator: 'flag_evaluates_to', type: 'flag', dependency_chain: [dep] }
        } else f = { key, value: 'x', operator: 'not_icontains', type: 'person' }
        props.push(f)
      }
      const rollout = [100, 50, 20, 0][rng.below(4)]
      conditions.push({ properties: props, rollout_percentage: rollout })
    }
    const filters = { groups: conditions }
    if (rng.below(4) === 0) {
      filters.multivariate = {
        variants: [
          { key: 'control', rollout_percentage: 50 },
          { key: 'test', rollout_percentage: 50 },
        ],
      }
      filters.payloads = { test: '{"color": "blue", "size": 3}' }
    } else if (rng.below(3) === 0) {
      filters.payloads = { true: '{"enabled": true}' }
    }
    flags.push({ id: i, key: `flag-${i}`, active: rng.below(10) !== 0, version: 1, filters })
  }
  const cohorts = {}
  for (let c = 0; c < 5; c++) {
    cohorts[String(c)] = {
      type: 'OR',
      values: [
        {
          type: 'AND',
          values: [
            { key: `prop_${c}`, value: 'value-1', operator: 'exact', type: 'person' },
            { key: 'email', value: 'spam', operator: 'icontains', type: 'person', negation: true },
          ],
        },
      ],
    }
  }
  return { flags, group_type_mapping: { 0: 'company' }, cohorts }
}

/** Person properties that every filter of the mixed document can read (so evaluation is conclusive). */
function fullProperties(rng, user) {
  const p = {}
  for (let k = 0; k < 20; k++) p[`prop_${k}`] = `value-${rng.below(10)}`
  p.email = `user-${user}@example.com`
  p.$app_version = `1.${rng.below(10)}.2`
  p.signed_up = '2026-11-01T00:00:00Z'
  p.plan = 'pro'
  p.age = 30
  return p
}

/** The single-flag user of core/benches/evaluate.rs. */
function singleFlagUser() {
  return {
    distinctId: 'user-12345',
    personProperties: { plan: 'pro', email: 'user-12345@example.com', age: 30, country: 'DE', $browser: 'Firefox' },
  }
}

module.exports = { Rng, singleFlagDocument, mixedDocument, fullProperties, singleFlagUser }
