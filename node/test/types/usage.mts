// The same usage, compiled as an ES module (resolves the "import" condition and lib/index.d.mts).
// and reject the lines marked @ts-expect-error.
import { FlagsEngine, InvalidDefinitionsError, HogflagsError, type FeatureFlagValue, type FlagEvaluations, type JsonOutcome, type JsonType } from 'hogflags'

const engine = new FlagsEngine({ flags: [] })
const v: FeatureFlagValue | undefined = engine.getFeatureFlag('k', 'user', {
  personProperties: { plan: 'pro', age: 30, at: new Date() },
  groups: { company: 'acme', team: 7 },
  groupProperties: { company: { size: 40 } },
  deviceId: 'dev',
  now: '2026-01-01T00:00:00Z',
  onlyEvaluateLocally: true,
})
const on: boolean | undefined = engine.isFeatureEnabled('k', 42)
const payload = engine.getFeatureFlagPayload('k', 'user', 'variant', {})
const payload2 = engine.getFeatureFlagPayload('k', 'user', { personProperties: {} })
const result = engine.getFeatureFlagResult('k', 10n)
if (result) {
  const code: string = result.reason.code
  const idx: number | null = result.reason.conditionIndex
  void code
  void idx
}
const all: Record<string, FeatureFlagValue> = engine.getAllFlags('user', { flagKeys: ['a'] })
const both = engine.getAllFlagsAndPayloads('user')
const ev: FlagEvaluations = engine.evaluateFlags('user')
const kind: string | undefined = ev.unresolved.k?.kind
const j: JsonOutcome = engine.evaluateJson('k', { distinct_id: 'u', person_properties: { a: 1 } })
const keys: string[] = engine.flagKeys
const n: number = engine.size
try {
  new FlagsEngine('{')
} catch (e) {
  if (e instanceof InvalidDefinitionsError) {
    const base: HogflagsError = e
    void base
  }
}
// @ts-expect-error distinctId must be a string, number or bigint
engine.getFeatureFlag('k', { id: 1 })
// @ts-expect-error flag keys are strings
engine.getFeatureFlag(1, 'user')
// @ts-expect-error flagKeys is an array of strings
engine.getAllFlags('user', { flagKeys: 'a' })
void [v, on, payload, payload2, all, both, kind, j, keys, n]
import { FlagsClient, FlagsClientError, ClientConfigError, FeatureFlagEvaluations, type ClientFlagEvaluations } from 'hogflags'
const client = new FlagsClient('phc_x', {
  secretKey: 'phs_x',
  host: 'http://127.0.0.1:1',
  pollInterval: 1000,
  onFeatureFlagCalled: (e) => void e.properties.$feature_flag,
  onError: (e: FlagsClientError) => void e.code,
})
async function useClient(): Promise<void> {
  const v: FeatureFlagValue | undefined = await client.getFeatureFlag('k', 'u', { onlyEvaluateLocally: true })
  const r = await client.getFeatureFlagResult('k', 'u')
  const src: 'local' | 'remote' | undefined = r?.source
  const ready: boolean = await client.waitForLocalEvaluationReady(100)
  const ev = await client.evaluateFlags('u', { flagKeys: ['k'] })
  const plain: ClientFlagEvaluations = ev
  const isEv: boolean = ev instanceof FeatureFlagEvaluations
  const enabled: boolean = ev.isEnabled('k', { defaultValue: true, sendFeatureFlagEvents: false })
  const flagValue: FeatureFlagValue | undefined = ev.getFlag('k', { sendFeatureFlagEvents: true })
  const flagPayload: JsonType | undefined = ev.getFlagPayload('k')
  const slice: FeatureFlagEvaluations = ev.onlyAccessed().only(['k'])
  const evKeys: string[] = slice.keys
  const why: string | undefined = ev.unresolvedFlags.k?.errorCode ?? undefined
  const props = ev.getEventProperties()
  const active: string[] | undefined = props.$active_feature_flags
  const one: FeatureFlagValue = props['$feature/k']
  // @ts-expect-error defaultValue is a boolean
  ev.isEnabled('k', { defaultValue: 'yes' })
  // @ts-expect-error made by FlagsClient.evaluateFlags only
  new FeatureFlagEvaluations()
  void [plain, isEv, enabled, flagValue, flagPayload, evKeys, why, active, one]
  await client.reloadFeatureFlags()
  await client.shutdown()
  void [v, src, ready, ev, client.status.ready, ClientConfigError]
}
void useClient
