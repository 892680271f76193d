// ESM entry point: the same module as the CommonJS one (lib/index.js), re-exported.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const hogflags = require('./index.js')

export const {
  FlagsEngine,
  FlagsClient,
  HogflagsError,
  InvalidDefinitionsError,
  InvalidContextError,
  ClientConfigError,
  FlagsClientError,
  FeatureFlagEvaluations,
} = hogflags
export default hogflags
