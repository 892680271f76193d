'use strict'
// The Node row of the cross-language benchmark: hogflags (the Node package) against posthog-node's own
// local evaluation, in the same process and run, on the shared workload files written by
// `cargo run --release -p hogflags-tools --bin gen_workloads -- DIR` (the files every language reads).
//
//   node run.js --workloads DIR [--json OUT.jsonl] [--quick] [--posthog-node PATH]
//   node run.js --rss IMPL WORKLOAD --workloads DIR [--quick]      (internal: one peak-RSS measurement)
//
// DIR defaults to the repository's target/bench/workloads (so that `npm run bench` in node/ works).
//
// posthog-node is the one in this directory's node_modules (pinned in package.json), unless
// `--posthog-node PATH` or the POSTHOG_NODE_DIR environment variable names another install: an
// `npm install --prefix PATH posthog-node@latest` directory, or the package directory itself.
//
// posthog-node is fed without network: the PostHog client gets a personal API key and a `fetch` that
// serves the definitions from memory, so it evaluates through its real local-evaluation path.
// Implementations: "hogflags-node" (FlagsEngine), "posthog-node" (the public API: getFeatureFlag /
// getAllFlags with onlyEvaluateLocally, no events) and "posthog-node-internal" (its FeatureFlagsPoller
// methods, without the client's bookkeeping; skipped when a posthog-node version lacks them).
//
// Timing follows tools/src/bin/bench_harness.rs: calls are timed in batches (process.hrtime.bigint), the
// per-call time of a batch is its time / its length, median and p99 are taken over batches, throughput is
// calls / the total time of the batches. The implementations' rounds alternate (A B C A B C ...), so that
// a change in machine load hits all of them alike. Agreement with posthog-node is checked before timing.
// Peak RSS is measured per (implementation, workload) in a fresh child process, so that no row inherits
// another's high-water mark.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { FlagsEngine } = require('..')

const IMPLS = ['hogflags-node', 'posthog-node', 'posthog-node-internal']
const HOGFLAGS_VERSION = require('../package.json').version
const MIN_AGREEMENT = 0.95
const DEFAULT_WORKLOADS = path.resolve(__dirname, '..', '..', 'target', 'bench', 'workloads')

/**
 * Call counts per mode. hogflags makes every call of a workload; posthog-node, 10-60x slower, a prefix
 * (its figures are per call, so the subset only shortens the run; "calls" records what was made).
 */
const PLANS = {
  full: {
    rounds: 10,
    calls: {
      w1_one_flag: { hog: 100_000, ph: 100_000 },
      w2_all_flags: { hog: 10_000, ph: 2_000 },
      w2_one_flag: { hog: 100_000, ph: 20_000 },
      w3_load_1000: { hog: 50, ph: 50 },
      w3_load_10000: { hog: 10, ph: 10 },
    },
    agreementUsers: { w1: 100_000, w2: 2_000 },
  },
  quick: {
    rounds: 4,
    calls: {
      w1_one_flag: { hog: 100_000, ph: 5_000 },
      w2_all_flags: { hog: 10_000, ph: 200 },
      w2_one_flag: { hog: 20_000, ph: 5_000 },
      w3_load_1000: { hog: 8, ph: 8 },
      w3_load_10000: { hog: 3, ph: 3 },
    },
    agreementUsers: { w1: 10_000, w2: 100 },
  },
}

/** Workload → the files it reads, batch length and warm-up calls (before the timed rounds). */
const WORKLOADS = {
  w1_one_flag: { family: 'w1', batch: 100, warmup: 2_000 },
  w2_all_flags: { family: 'w2', batch: 10, warmup: 100 },
  w2_one_flag: { family: 'w2', batch: 100, warmup: 2_000 },
  w3_load_1000: { family: 'w3', size: 1000, batch: 1, warmup: 2, gc: true },
  w3_load_10000: { family: 'w3', size: 10000, batch: 1, warmup: 1, gc: true },
}

// ---- command line and inputs ---------------------------------------------------------------------

function parseArgs(argv) {
  const args = { workloads: DEFAULT_WORKLOADS, json: null, quick: false, posthogNode: process.env.POSTHOG_NODE_DIR || null, rss: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--workloads') args.workloads = argv[++i]
    else if (a === '--json') args.json = argv[++i]
    else if (a === '--quick') args.quick = true
    else if (a === '--posthog-node') args.posthogNode = argv[++i]
    else if (a === '--rss') args.rss = { impl: argv[++i], workload: argv[++i] }
    else usage(`unknown argument ${a}`)
  }
  if (args.rss && (!IMPLS.includes(args.rss.impl) || !WORKLOADS[args.rss.workload])) usage('--rss IMPL WORKLOAD: unknown implementation or workload')
  return args
}

function usage(msg) {
  console.error(`${msg}\nusage: node run.js --workloads DIR [--json OUT.jsonl] [--quick] [--posthog-node PATH]`)
  process.exit(2)
}

/** Reads a workload file, telling how to write the files when they are missing. */
function readFile(dir, name) {
  const file = path.join(dir, name)
  if (!fs.existsSync(file)) {
    console.error(`${file} is missing: run \`cargo run --release -p hogflags-tools --bin gen_workloads -- ${dir}\``)
    process.exit(2)
  }
  return fs.readFileSync(file)
}

/** The inputs of a workload: definitions as bytes and parsed, flag keys, users (w1/w2). */
function loadInputs(dir, workload) {
  const { family, size } = WORKLOADS[workload]
  const bytes = readFile(dir, family === 'w3' ? `w3_definitions_${size}.json` : `${family}_definitions.json`)
  const doc = JSON.parse(bytes.toString('utf8'))
  const users = family === 'w3' ? [] : JSON.parse(readFile(dir, `${family}_users.json`).toString('utf8'))
  return { bytes, doc, keys: doc.flags.map((f) => f.key), users }
}

/**
 * posthog-node from `dir` (an `npm install --prefix dir` directory, or the package directory), or from
 * this directory's node_modules. Returns the PostHog class and the version that was loaded.
 */
function loadPosthogNode(dir) {
  let entry
  if (!dir) entry = require.resolve('posthog-node')
  else if (isPosthogPackage(dir)) entry = require.resolve(path.resolve(dir))
  else entry = require.resolve('posthog-node', { paths: [path.resolve(dir)] })
  let root = path.dirname(entry)
  while (!isPosthogPackage(root)) {
    if (path.dirname(root) === root) throw new Error(`no posthog-node package.json above ${entry}`)
    root = path.dirname(root)
  }
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version
  return { PostHog: require(entry).PostHog, version, root }
}

function isPosthogPackage(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'posthog-node'
  } catch {
    return false
  }
}

// ---- the implementations -------------------------------------------------------------------------

/** A posthog-node client whose `fetch` serves `bytes` as the definitions (decoded and parsed as undici would). */
async function posthogFor(PostHog, bytes) {
  const fetch = async (url) => {
    if (!String(url).includes('/flags/definitions')) throw new Error(`unexpected request in the benchmark: ${url}`)
    return {
      status: 200,
      headers: new Headers({ 'content-type': 'application/json' }),
      text: async () => bytes.toString('utf8'),
      json: async () => JSON.parse(bytes.toString('utf8')),
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
  if (!(await ph.waitForLocalEvaluationReady(10_000))) throw new Error('posthog-node did not load the definitions')
  return ph
}

/** Whether posthog-node exposes the internal poller methods the "posthog-node-internal" row calls. */
function hasInternalPoller(ph) {
  const p = ph.featureFlagsPoller
  return !!p && ['getFeatureFlag', 'getAllFlagsAndPayloads', 'updateFlagState'].every((m) => typeof p[m] === 'function')
}

const PH_ONE = { onlyEvaluateLocally: true, sendFeatureFlagEvents: false }
const W2_KEY = (keys, i) => keys[(i * 7) % keys.length]

/**
 * Builds one implementation for one workload: `{ op(i), isAsync, close() }`, where `op(i)` makes call i.
 * Returns null when the implementation cannot run it (the internal row on a posthog-node without it).
 */
async function setup(impl, workload, inp, PostHog) {
  const { users, keys, bytes } = inp
  const user = (i) => users[i % users.length]
  if (impl === 'hogflags-node') {
    const engine = new FlagsEngine(bytes)
    const ops = {
      w1_one_flag: (i) => engine.getFeatureFlag('bench-flag', user(i).distinct_id, { personProperties: user(i).person_properties }),
      w2_all_flags: (i) => engine.getAllFlags(user(i).distinct_id, { personProperties: user(i).person_properties }),
      w2_one_flag: (i) => engine.getFeatureFlag(W2_KEY(keys, i), user(i).distinct_id, { personProperties: user(i).person_properties }),
      // The load: bytes (as they arrive from HTTP) to a ready engine.
      w3: () => new FlagsEngine(bytes),
    }
    return { op: ops[workload] || ops.w3, isAsync: false, close: async () => {} }
  }
  const ph = await posthogFor(PostHog, bytes)
  const close = () => ph.shutdown()
  if (impl === 'posthog-node') {
    const ops = {
      w1_one_flag: (i) => ph.getFeatureFlag('bench-flag', user(i).distinct_id, { personProperties: user(i).person_properties, ...PH_ONE }),
      w2_all_flags: (i) => ph.getAllFlags(user(i).distinct_id, { personProperties: user(i).person_properties, onlyEvaluateLocally: true }),
      w2_one_flag: (i) => ph.getFeatureFlag(W2_KEY(keys, i), user(i).distinct_id, { personProperties: user(i).person_properties, ...PH_ONE }),
      // The load through the public API: its poller's request, and on the 200 the body decoded and
      // JSON.parse'd, the flag state rebuilt and the definitions checked for unsupported features
      // (the fetch is served from memory, so no socket time is counted).
      w3: () => ph.reloadFeatureFlags(),
    }
    return { op: ops[workload] || ops.w3, isAsync: true, close }
  }
  if (!hasInternalPoller(ph)) {
    await close()
    return null
  }
  const poller = ph.featureFlagsPoller
  const ops = {
    w1_one_flag: (i) => poller.getFeatureFlag('bench-flag', user(i).distinct_id, {}, user(i).person_properties, {}),
    w2_all_flags: (i) => poller.getAllFlagsAndPayloads({ distinctId: user(i).distinct_id, groups: {}, personProperties: user(i).person_properties, groupProperties: {} }),
    w2_one_flag: (i) => poller.getFeatureFlag(W2_KEY(keys, i), user(i).distinct_id, {}, user(i).person_properties, {}),
    // The cheapest honest equivalent of what the poller does with a 200: decode and JSON.parse the
    // body, then its own state assignment (updateFlagState: the flag list, the key index, the filtered
    // keys, group types, cohorts). Left out: the request, ETag and the unsupported-feature warnings.
    w3: async () => poller.updateFlagState(JSON.parse(bytes.toString('utf8'))),
  }
  return { op: ops[workload] || ops.w3, isAsync: true, close }
}

// ---- agreement -----------------------------------------------------------------------------------

/** Whether the flag (through cohorts and flag dependencies) uses gt/gte/lt/lte somewhere. */
function usesComparison(doc, key, seen = new Set()) {
  if (seen.has(key)) return false
  seen.add(key)
  const flag = doc.flags.find((f) => f.key === key)
  const walk = (v) => {
    if (Array.isArray(v)) return v.some(walk)
    if (!v || typeof v !== 'object') return false
    if (['gt', 'gte', 'lt', 'lte'].includes(v.operator)) return true
    if (v.type === 'flag' && usesComparison(doc, String(v.key), seen)) return true
    if (v.type === 'cohort' && !seen.has(`cohort:${v.value}`)) {
      seen.add(`cohort:${v.value}`)
      if (walk((doc.cohorts || {})[String(v.value)])) return true
    }
    return Object.values(v).some(walk)
  }
  return !!flag && walk(flag.filters)
}

/**
 * Compares hogflags with posthog-node's public getFeatureFlag for every (flag, user) pair. posthog-node is
 * the reference: "rate" is the share of the pairs it decides on which hogflags returns the same value.
 */
async function agreement(inp, nUsers, PostHog) {
  const engine = new FlagsEngine(inp.bytes)
  const ph = await posthogFor(PostHog, inp.bytes)
  const a = { pairs: 0, same: 0, reference_undecided: 0, hogflags_undecided: 0, different: 0 }
  const detail = { onComparison: 0, hogflagsOnlyDecided: 0, examples: [] }
  const comparison = new Map(inp.keys.map((k) => [k, usesComparison(inp.doc, k)]))
  for (const u of inp.users.slice(0, nUsers)) {
    for (const key of inp.keys) {
      const opts = { personProperties: u.person_properties }
      const hog = engine.getFeatureFlag(key, u.distinct_id, opts)
      const ref = await ph.getFeatureFlag(key, u.distinct_id, { ...opts, ...PH_ONE })
      a.pairs++
      if (ref === undefined) {
        a.reference_undecided++
        if (hog !== undefined) detail.hogflagsOnlyDecided++
      } else if (hog === undefined) a.hogflags_undecided++
      else if (hog === ref) a.same++
      else {
        a.different++
        if (comparison.get(key)) detail.onComparison++
        else if (detail.examples.length < 5) detail.examples.push({ key, user: u.distinct_id, hogflags: hog, posthogNode: ref })
      }
    }
  }
  await ph.shutdown()
  const decided = a.pairs - a.reference_undecided
  a.rate = decided ? a.same / decided : 0
  return { agreement: a, detail }
}

function printAgreement(name, { agreement: a, detail }) {
  console.log(
    `agreement ${name}: ${a.same}/${a.pairs - a.reference_undecided} (${(a.rate * 100).toFixed(2)} %) of the (flag, user) pairs posthog-node decides; ` +
      `hogflags undecided: ${a.hogflags_undecided}, posthog-node undecided: ${a.reference_undecided} (hogflags decides ${detail.hogflagsOnlyDecided} of them)`,
  )
  if (a.different) {
    console.log(
      `  ${a.different} different: ${detail.onComparison} on flags using gt/gte/lt/lte (posthog-node compares non-numeric text as strings; ` +
        `the server and hogflags compare numbers only, docs/semantics.md D20), ${a.different - detail.onComparison} other`,
    )
  }
  for (const m of detail.examples) console.log(`  mismatch: ${JSON.stringify(m)}`)
}

// ---- timing --------------------------------------------------------------------------------------

let sink = 0 // results are counted, so that no call's result is unused

function runSync(op, from, to) {
  for (let j = from; j < to; j++) if (op(j) !== undefined) sink++
}

async function runAsync(op, from, to) {
  for (let j = from; j < to; j++) if ((await op(j)) !== undefined) sink++
}

/**
 * A full garbage collection, for between the untimed batches of the load workloads. Without it each
 * implementation's discarded documents pile up: hogflags engines hold native memory V8 does not see
 * (about 28 MB per 10 000-flag engine, freed only when a GC happens to run), posthog-node's parsed trees
 * are collected inside whichever later batch triggers a GC. With it, a batch times one load, for both.
 */
function fullGc() {
  if (!global.gc) {
    require('node:v8').setFlagsFromString('--expose-gc')
    global.gc = require('node:vm').runInNewContext('gc')
  }
  global.gc()
}

/**
 * Times every candidate's calls 0..calls-1 once, after a warm-up, in `rounds` rounds that alternate between
 * the candidates; within a round, in batches of `batch` calls (with `gc`, a full GC before each batch,
 * untimed). Returns per candidate `{ calls, median_ns, p99_ns, throughput_per_s }` (per-call figures over
 * batches, as bench_harness.rs).
 */
async function measure(candidates, { rounds, batch, warmup, gc }) {
  for (const c of candidates) {
    const run = c.isAsync ? runAsync : runSync
    await run(c.op, 0, Math.min(warmup, c.calls))
    c.perCall = []
    c.totalNs = 0
  }
  for (let r = 0; r < rounds; r++) {
    for (const c of candidates) {
      const end = Math.floor(((r + 1) * c.calls) / rounds)
      for (let i = Math.floor((r * c.calls) / rounds); i < end; i += batch) {
        const to = Math.min(i + batch, end)
        if (gc) fullGc()
        const t = process.hrtime.bigint()
        if (c.isAsync) await runAsync(c.op, i, to)
        else runSync(c.op, i, to)
        const ns = Number(process.hrtime.bigint() - t)
        c.perCall.push(ns / (to - i))
        c.totalNs += ns
      }
    }
  }
  return candidates.map((c) => {
    const s = c.perCall.sort((x, y) => x - y)
    const pct = (p) => s[Math.round((s.length - 1) * p)]
    return { impl: c.impl, calls: c.calls, median_ns: pct(0.5), p99_ns: pct(0.99), throughput_per_s: c.calls / (c.totalNs / 1e9) }
  })
}

/** Times all implementations on one workload (rounds interleaved); returns the rows. */
async function timeWorkload(workload, inp, plan, PostHog) {
  const w = WORKLOADS[workload]
  const candidates = []
  for (const impl of IMPLS) {
    const s = await setup(impl, workload, inp, PostHog)
    if (!s) continue
    const calls = plan.calls[workload][impl === 'hogflags-node' ? 'hog' : 'ph']
    candidates.push({ impl, calls, ...s })
  }
  const rounds = Math.min(plan.rounds, ...candidates.map((c) => c.calls))
  const rows = await measure(candidates, { rounds, batch: w.batch, warmup: w.warmup, gc: w.gc })
  for (const c of candidates) await c.close()
  return rows
}

// ---- peak RSS (child process) --------------------------------------------------------------------

/**
 * `--rss IMPL WORKLOAD`: in this fresh process, loads the inputs, records the baseline RSS, builds the
 * implementation and makes the workload's calls once (for a load workload: building is the one load);
 * prints one JSON line: the process's peak RSS (which includes reading the inputs) and the largest RSS
 * seen while building and running, minus the baseline.
 */
async function rssChild(args) {
  const { impl, workload } = args.rss
  const plan = PLANS[args.quick ? 'quick' : 'full']
  const { PostHog } = loadPosthogNode(args.posthogNode)
  const inp = loadInputs(args.workloads, workload)
  if (global.gc) global.gc()
  const baseline = process.memoryUsage().rss
  let high = baseline
  const sample = () => {
    high = Math.max(high, process.memoryUsage().rss)
  }
  const s = await setup(impl, workload, inp, PostHog)
  if (!s) {
    console.log(JSON.stringify({ skipped: true }))
    return
  }
  sample()
  const { batch, family } = WORKLOADS[workload]
  const calls = family === 'w3' ? 0 : plan.calls[workload][impl === 'hogflags-node' ? 'hog' : 'ph']
  for (let i = 0; i < calls; i += batch) {
    if (s.isAsync) await runAsync(s.op, i, Math.min(i + batch, calls))
    else runSync(s.op, i, Math.min(i + batch, calls))
    sample()
  }
  await s.close()
  const mb = (b) => b / (1024 * 1024)
  console.log(JSON.stringify({ peak_rss_mb: peakRssMb(), baseline_mb: mb(baseline), delta_mb: mb(high - baseline) }))
}

/**
 * This process's peak RSS in MB. On Linux VmHWM (as bench_harness.rs reads it): getrusage's maxRSS
 * survives exec, so a child spawned from a large parent would report the parent's size.
 */
function peakRssMb() {
  try {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))
    if (line) return Number(line.split(/\s+/)[1]) / 1024
  } catch {}
  return process.resourceUsage().maxRSS / 1024
}

/** Runs `--rss` for one row in a child process; returns `{ peak_rss_mb, delta_mb }`. */
function measureRss(args, impl, workload) {
  const childArgs = ['--expose-gc', __filename, '--rss', impl, workload, '--workloads', args.workloads]
  if (args.quick) childArgs.push('--quick')
  if (args.posthogNode) childArgs.push('--posthog-node', args.posthogNode)
  const r = spawnSync(process.execPath, childArgs, { encoding: 'utf8', maxBuffer: 16 << 20 })
  const last = (r.stdout || '').trim().split('\n').pop()
  if (r.status !== 0 || !last) throw new Error(`rss child for ${impl} ${workload} failed: ${r.stderr}`)
  return JSON.parse(last)
}

// ---- report --------------------------------------------------------------------------------------

function fmtNs(ns) {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`
}

function printTable(rows) {
  const head = ['workload', 'impl', 'calls', 'median', 'p99', 'calls/s', 'peak RSS', 'Δ RSS', 'median / hogflags']
  const lines = rows.map((r) => {
    const hog = rows.find((x) => x.workload === r.workload && x.impl === 'hogflags-node')
    return [
      r.workload, r.impl, String(r.calls), fmtNs(r.median_ns), fmtNs(r.p99_ns), Math.round(r.throughput_per_s).toLocaleString('en'),
      `${r.peak_rss_mb.toFixed(1)} MB`, `${r.rssDelta.toFixed(1)} MB`, hog ? `${(r.median_ns / hog.median_ns).toFixed(1)}×` : '–',
    ]
  })
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const fmt = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ')
  console.log(fmt(head))
  for (const l of lines) console.log(fmt(l))
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  // posthog-node (5.x) warns once that getFeatureFlag / getAllFlags are deprecated; they are still the
  // calls most code makes, and the ones measured here.
  const warn = console.warn
  console.warn = (...a) => (String(a[0]).includes('deprecated') ? undefined : warn(...a))
  if (args.rss) return rssChild(args)
  const plan = PLANS[args.quick ? 'quick' : 'full']
  const ph = loadPosthogNode(args.posthogNode)
  const versions = { hogflags: HOGFLAGS_VERSION, 'posthog-node': ph.version, node: process.version }
  console.log(`hogflags ${versions.hogflags} vs posthog-node ${ph.version} (${ph.root}), node ${process.version}, ${args.quick ? 'quick' : 'full'} run`)
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)

  const rows = []
  const agreements = {}
  let lowAgreement = false
  for (const family of ['w1', 'w2', 'w3']) {
    const names = Object.keys(WORKLOADS).filter((n) => WORKLOADS[n].family === family)
    for (const name of names) {
      const inp = loadInputs(args.workloads, name)
      if (family !== 'w3' && !agreements[family]) {
        agreements[family] = await agreement(inp, plan.agreementUsers[family], ph.PostHog)
        printAgreement(family, agreements[family])
        lowAgreement ||= agreements[family].agreement.rate < MIN_AGREEMENT
      }
      for (const r of await timeWorkload(name, inp, plan, ph.PostHog)) rows.push({ workload: name, ...r })
    }
  }
  for (const r of rows) {
    const m = measureRss(args, r.impl, r.workload)
    r.peak_rss_mb = m.peak_rss_mb
    r.rssDelta = m.delta_mb
  }

  console.log('')
  printTable(rows)
  console.log(`(load average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; Δ RSS: largest RSS while building and running, minus the RSS after loading the inputs, each row in a fresh process)`)

  if (args.json) {
    const out = rows.map((r) => {
      const line = { impl: r.impl, workload: r.workload, calls: r.calls, median_ns: r.median_ns, p99_ns: r.p99_ns, throughput_per_s: r.throughput_per_s, peak_rss_mb: r.peak_rss_mb, versions }
      const fam = WORKLOADS[r.workload].family
      if (r.impl === 'hogflags-node' && agreements[fam]) line.agreement = agreements[fam].agreement
      return JSON.stringify(line)
    })
    fs.writeFileSync(args.json, `${out.join('\n')}\n`)
    console.log(`wrote ${out.length} lines to ${args.json}`)
  }
  if (lowAgreement) {
    console.error(`agreement with posthog-node below ${MIN_AGREEMENT * 100} %`)
    process.exitCode = 1
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
