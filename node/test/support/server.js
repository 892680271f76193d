'use strict'
// Starts the repository's PostHog-compatible test server (tests/server, a Rust binary) on 127.0.0.1 and
// drives its control API. The binary is built with cargo when it is missing.
const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..', '..', '..')
const PROJECT_KEY = 'phc_test_project_key'
const SECRET_KEY = 'phs_test_secret_key'

function binary() {
  const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target')
  for (const profile of ['release', 'debug']) {
    const p = path.join(target, profile, 'hogflags-test-server')
    if (fs.existsSync(p)) return p
  }
  const r = spawnSync('cargo', ['build', '--release', '-q', '-p', 'hogflags-test-server'], { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) throw new Error('cannot build the test server (cargo build -p hogflags-test-server)')
  return path.join(target, 'release', 'hogflags-test-server')
}

async function startServer(definitions) {
  const file = path.join(require('node:os').tmpdir(), `hogflags-node-defs-${process.pid}-${Date.now()}.json`)
  fs.writeFileSync(file, JSON.stringify(definitions))
  const child = spawn(binary(), ['--definitions', file, '--exit-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const url = await new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      const m = buf.match(/listening on (http:\/\/\S+)/)
      if (m) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)))
  })
  fs.unlinkSync(file)
  const control = async (route, body) => {
    const res = await fetch(url + route, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`)
    return res.json()
  }
  return {
    url,
    stats: () => control('/_control/stats'),
    faults: (f) => control('/_control/faults', f),
    setDefinitions: (d) => control('/_control/definitions', d),
    setPerson: (distinct_id, properties) => control('/_control/persons', { distinct_id, properties }),
    reset: () => control('/_control/reset', {}),
    stop() {
      child.stdin.end()
      child.kill()
    },
  }
}

/** Resolves when `check()` is truthy (polling every 20 ms), rejects after `ms`. */
async function until(check, ms = 5000, what = 'condition') {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

module.exports = { startServer, until, binary, PROJECT_KEY, SECRET_KEY }
