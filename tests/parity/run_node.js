'use strict'
// Answers of posthog-node for every (flag, user) of the parity input, as JSON lines {"doc", "flag", "user",
// "posthog_node": {"value", "payload"}} (value null when undecided). posthog-node evaluates locally only,
// its definitions served by a `fetch` that answers the definitions request alone (no network, no events).
//
//   node tests/parity/run_node.js INPUT_DIR OUT.jsonl POSTHOG_NODE_DIR
const fs = require('node:fs')
const path = require('node:path')

function loadPostHog(dir) {
  const entry = require.resolve('posthog-node', { paths: [path.resolve(dir)] })
  return require(entry).PostHog
}

async function posthogFor(PostHog, text) {
  const fetch = async (url) => {
    if (!String(url).includes('/flags/definitions')) throw new Error(`unexpected request: ${url}`)
    return {
      status: 200,
      headers: new Headers({ 'content-type': 'application/json' }),
      text: async () => text,
      json: async () => JSON.parse(text),
    }
  }
  const ph = new PostHog('phc_parity', {
    host: 'http://127.0.0.1:9',
    personalApiKey: 'phx_parity',
    fetch,
    featureFlagsPollingInterval: 3_600_000,
    flushAt: 1_000_000,
    flushInterval: 0,
    disableGeoip: true,
  })
  if (!(await ph.waitForLocalEvaluationReady(10_000))) throw new Error('posthog-node did not load the definitions')
  return ph
}

async function main() {
  const [inputDir, out, posthogDir] = process.argv.slice(2)
  const PostHog = loadPostHog(posthogDir)
  const lines = []
  const opts = (u) => ({
    personProperties: u.person_properties || {},
    groups: u.groups,
    groupProperties: u.group_properties,
    onlyEvaluateLocally: true,
    sendFeatureFlagEvents: false,
  })
  for (const file of fs.readdirSync(inputDir).filter((f) => f.endsWith('.json')).sort()) {
    const data = JSON.parse(fs.readFileSync(path.join(inputDir, file), 'utf8'))
    const ph = await posthogFor(PostHog, JSON.stringify(data.definitions))
    const doc = path.basename(file, '.json')
    for (const flag of data.definitions.flags) {
      for (const u of data.users) {
        let value = null
        let payload = null
        try {
          const v = await ph.getFeatureFlag(flag.key, u.distinct_id, opts(u))
          value = v === undefined ? null : v
          if (value !== null) {
            const p = await ph.getFeatureFlagPayload(flag.key, u.distinct_id, undefined, opts(u))
            payload = p === undefined ? null : p
          }
        } catch (e) {
          process.stderr.write(`posthog-node threw on ${doc}/${flag.key}/${u.distinct_id}: ${e && e.message}\n`)
        }
        lines.push(JSON.stringify({ doc, flag: flag.key, user: u.distinct_id, posthog_node: { value, payload } }))
      }
    }
    await ph.shutdown()
  }
  fs.writeFileSync(out, lines.join('\n') + '\n')
  console.log(`node answers written to ${out}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
