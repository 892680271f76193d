'use strict'
// The TypeScript declarations compile for CommonJS and ESM consumers (tsc --strict, node16 resolution).
const { it } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

it('the declarations type-check (CommonJS and ESM usage)', () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [path.join(__dirname, '..')] })
  const args = [
    tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
    '--skipLibCheck', 'false',
    path.join(__dirname, 'types', 'usage.ts'), path.join(__dirname, 'types', 'usage.mts'),
  ]
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: path.join(__dirname, '..') })
  assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
})
