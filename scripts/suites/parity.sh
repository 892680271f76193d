#!/usr/bin/env bash
# Parity with PostHog's newest SDKs: installs the pinned posthog (PyPI) and posthog-node (npm) into
# throwaway environments (never into the product), generates definitions and users from a fixed seed
# (tests/parity/generate.py), has hogflags, posthog-python and posthog-node evaluate every (flag, user)
# locally, and judges the answers (tests/parity/compare.py; rules in tests/parity/README.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
source scripts/lib/toolchains.sh
source tests/parity/versions.env
fail() { echo "$1"; echo "parity: 0 passed, 1 failed"; exit 1; }
ensure_rust || fail "no Rust toolchain"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=$CARGO_TARGET_DIR/parity
VENV=${HOGFLAGS_PARITY_VENV:-/tmp/hogflags-parity-venv}
mkdir -p "$WORK"
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv && "$PY" -m venv "$VENV"; } || fail "cannot create a venv"
fi
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" "posthog==$POSTHOG_PYTHON_VERSION" || fail "cannot install posthog $POSTHOG_PYTHON_VERSION"
"${pip[@]}" --force-reinstall --no-deps ./python || fail "cannot install ./python"
if ! command -v npm >/dev/null 2>&1; then ensure_apt nodejs npm || fail "no npm"; fi
NODE_SDK=$WORK/posthog-node
if [ "$(node -p "try { require('$NODE_SDK/node_modules/posthog-node/package.json').version } catch { '' }" 2>/dev/null)" != "$POSTHOG_NODE_VERSION" ]; then
  npm install -s --no-audit --no-fund --prefix "$NODE_SDK" "posthog-node@$POSTHOG_NODE_VERSION" >/dev/null 2>&1 \
    || fail "cannot install posthog-node $POSTHOG_NODE_VERSION"
fi
echo "comparing with posthog $POSTHOG_PYTHON_VERSION and posthog-node $POSTHOG_NODE_VERSION"
rm -rf "$WORK/input"
"$VENV/bin/python" tests/parity/generate.py "$WORK/input" || fail "generator failed"
"$VENV/bin/python" tests/parity/run_python.py "$WORK/input" "$WORK/python.jsonl" 2>"$WORK/python.log" \
  || { tail -n 20 "$WORK/python.log"; fail "the Python run failed"; }
node tests/parity/run_node.js "$WORK/input" "$WORK/node.jsonl" "$NODE_SDK" 2>"$WORK/node.log" \
  || { tail -n 20 "$WORK/node.log"; fail "the Node run failed"; }
"$VENV/bin/python" tests/parity/compare.py "$WORK/input" "$WORK/python.jsonl" "$WORK/node.jsonl"
