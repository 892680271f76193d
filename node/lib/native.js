'use strict'
// Loads the native addon built from bindings/node by the package's install script.
const path = require('node:path')

const candidates = [
  process.env.HOGFLAGS_NATIVE_PATH,
  path.join(__dirname, '..', 'native', 'hogflags.node'),
].filter(Boolean)

let binding
let lastError
for (const file of candidates) {
  try {
    binding = require(file)
    break
  } catch (e) {
    lastError = e
  }
}
if (!binding) {
  const err = new Error(
    'hogflags: the native addon is not built. Run `npm install` (or `npm run build`) in the hogflags ' +
      'package directory; it needs Rust (cargo) to compile the addon. Tried: ' + candidates.join(', ') +
      (lastError ? ` (${lastError.message})` : ''),
  )
  err.cause = lastError
  throw err
}

module.exports = binding
