#!/usr/bin/env bash
# The Node package (node/, built from bindings/node): npm install (builds the addon from source with
# @napi-rs/cli), the node:test suites (whole conformance corpus, API and bad inputs, value conversion,
# ESM, TypeScript declarations, worker_threads, random-input robustness, the networked client against
# the local test server), and `npm install ./node` from another project.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/lib/toolchains.sh
ensure_rust || { echo "node: 0 passed, 1 failed"; exit 1; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  ensure_apt nodejs npm || { echo "node: 0 passed, 1 failed"; exit 1; }
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then echo "Node $major is too old (18+ needed)"; echo "node: 0 passed, 1 failed"; exit 1; fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TERM_COLOR=never
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# 1. npm install in node/: dev dependencies (pinned) and the native addon, built from source.
cd "$root/node"
if npm install >"$log/install" 2>&1 && [ -f native/hogflags.node ]; then
  ok "npm install (addon built from source)"
else
  tail -n 40 "$log/install"; ko "npm install"
  echo "node: $passed passed, $failed failed"; exit 1
fi

# The PostHog-compatible test server the client tests talk to (127.0.0.1 only).
if cargo build --release -q -p hogflags-test-server >"$log/server" 2>&1; then :; else
  tail -n 30 "$log/server"; ko "build the test server (tests/server)"
fi

# 2. The test suites (node's built-in runner).
node --test --test-reporter=tap test/*.test.js test/*.test.mjs >"$log/tap" 2>&1
rc=$?
grep -E '^not ok|^# (tests|pass|fail)' "$log/tap" | grep -vE '^# (tests|pass|fail) ' | head -n 40
if grep -q '^not ok' "$log/tap"; then
  # Show the first failures in full.
  awk '/^ *not ok/{n++} n>0 && n<=5' "$log/tap" | grep -vE '^\s+(at |\.\.\.)' | head -n 80
fi
p=$(awk '/^# pass /{print $3}' "$log/tap" | tail -n 1); f=$(awk '/^# fail /{print $3}' "$log/tap" | tail -n 1)
p=${p:-0}; f=${f:-0}
echo "node --test: $p passed, $f failed"
passed=$((passed + p)); failed=$((failed + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then ko "node --test exited with $rc"; fi

# 3. npm install ./node from another project: CommonJS and ESM consumers.
consumer="$log/consumer"
mkdir -p "$consumer" && cd "$consumer" && npm init -y >/dev/null 2>&1
cat > check.cjs <<'JS'
const { FlagsEngine } = require('hogflags')
const e = new FlagsEngine({ flags: [{ key: 'on', active: true, filters: { groups: [{ properties: [], rollout_percentage: 100 }] } }] })
if (e.getFeatureFlag('on', 'user-1') !== true) process.exit(1)
JS
cat > check.mjs <<'JS'
import { FlagsEngine } from 'hogflags'
const e = new FlagsEngine('{"flags":[]}')
if (e.getFeatureFlag('on', 'user-1') !== undefined) process.exit(1)
JS
if npm install "$root/node" >"$log/consumer-install" 2>&1 && node check.cjs && node check.mjs; then
  ok "npm install ./node from another project (require and import)"
else
  tail -n 30 "$log/consumer-install"; ko "npm install ./node from another project"
fi
cd "$root"

echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
