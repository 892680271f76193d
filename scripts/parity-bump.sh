#!/usr/bin/env bash
# Pins the parity suite (tests/parity/versions.env) to the newest published posthog (PyPI) and
# posthog-node (npm), or to the versions given: scripts/parity-bump.sh [PYTHON_VERSION NODE_VERSION].
# Then run `scripts/test.sh parity` and add a row to docs/semantics.md for every new divergence.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-$(python3 -m pip index versions posthog 2>/dev/null | sed -n 's/^posthog (\(.*\))$/\1/p')}
node=${2:-$(npm view posthog-node version)}
[ -n "$py" ] && [ -n "$node" ] || { echo "cannot find the newest versions (pass them as arguments)"; exit 1; }
sed -i -e "s/^POSTHOG_PYTHON_VERSION=.*/POSTHOG_PYTHON_VERSION=$py/" -e "s/^POSTHOG_NODE_VERSION=.*/POSTHOG_NODE_VERSION=$node/" \
  tests/parity/versions.env
echo "parity suite pinned to posthog $py and posthog-node $node"
