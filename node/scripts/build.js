#!/usr/bin/env node
'use strict'
// Builds the native addon from source (bindings/node, a napi-rs crate) with @napi-rs/cli, into
// native/hogflags.node. Run by `npm install` (the package's install script) and by `npm run build`.
// Needs Rust (cargo). Cargo's own incremental build makes a re-run with no change take a second or two.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkg = path.resolve(__dirname, '..')
const crate = path.resolve(pkg, '..', 'bindings', 'node')
const manifest = path.join(crate, 'Cargo.toml')

function fail(msg) {
  console.error(`hogflags: ${msg}`)
  process.exit(1)
}

if (!fs.existsSync(manifest)) {
  fail(`the Rust crate is missing (${manifest}). Install hogflags from a clone of its repository (npm install ./node).`)
}
const cargo = spawnSync(process.platform === 'win32' ? 'cargo.exe' : 'cargo', ['--version'], { encoding: 'utf8' })
if (cargo.error || cargo.status !== 0) {
  fail('cargo was not found. Install Rust (https://rustup.rs) and run `npm install` again.')
}

// @napi-rs/cli, pinned: the package's own devDependency when `npm install` ran in this directory;
// otherwise (e.g. `npm install ./node` from another project, where npm links this folder without
// installing its dependencies) the same pinned version through `npm exec`.
const CLI_VERSION = '3.10.12'
const buildArgs = [
  'build',
  '--release',
  '--strip',
  '--manifest-path', manifest,
  '--package-json-path', path.join(pkg, 'package.json'),
  '--output-dir', path.join(pkg, 'native'),
]
let command
let args
try {
  const cliPkg = require.resolve('@napi-rs/cli/package.json', { paths: [pkg] })
  const meta = require(cliPkg)
  if (meta.version !== CLI_VERSION) throw new Error(`found @napi-rs/cli ${meta.version}, want ${CLI_VERSION}`)
  command = process.execPath
  args = [path.join(path.dirname(cliPkg), typeof meta.bin === 'string' ? meta.bin : meta.bin.napi), ...buildArgs]
} catch {
  const npmCli = process.env.npm_execpath
  const npmArgs = ['exec', '--yes', `--package=@napi-rs/cli@${CLI_VERSION}`, '--', 'napi', ...buildArgs]
  if (npmCli && /\.c?js$/.test(npmCli)) {
    command = process.execPath
    args = [npmCli, ...npmArgs]
  } else {
    command = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    args = npmArgs
  }
}

console.log(`hogflags: building the native addon (cargo ${cargo.stdout.trim().split(' ')[1]}) ...`)
const r = spawnSync(command, args, { stdio: 'inherit', cwd: pkg })
if (r.status !== 0) fail(`the native build failed (exit ${r.status ?? r.signal})`)
if (!fs.existsSync(path.join(pkg, 'native', 'hogflags.node'))) fail('the build produced no native/hogflags.node')
console.log('hogflags: native addon ready (native/hogflags.node)')
