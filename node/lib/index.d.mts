// ESM type declarations: the same as the CommonJS ones.
export * from './index.js'
import * as hogflags from './index.js'
export default hogflags
