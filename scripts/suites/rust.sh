#!/usr/bin/env bash
# The Rust crates: the core (engine + client: unit, conformance, hash-vector, property, limit, client and
# doc tests), the test server and the UniFFI glue, and a check that the core's benches still build. The C,
# Python, Node, Swift and Kotlin glue is built and tested by its own suite.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust

out=$(mktemp)
cargo test -p hogflags --all-features -p hogflags-test-server -p hogflags-uniffi --no-fail-fast 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
cargo bench -p hogflags --no-run >/dev/null 2>&1 || { echo "benches do not build"; rc=1; }
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$out")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$out")
passed=${passed:-0}; failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "rust: $passed passed, $failed failed"
[ "$rc" -eq 0 ]
