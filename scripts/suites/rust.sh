#!/usr/bin/env bash
# The Rust workspace: unit tests, the conformance corpus, hash vectors, property tests, doc tests,
# and a check that the benches still build.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust

out=$(mktemp)
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
cargo bench --workspace --no-run >/dev/null 2>&1 || { echo "benches do not build"; rc=1; }
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$out")
failed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$out")
passed=${passed:-0}; failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "rust: $passed passed, $failed failed"
[ "$rc" -eq 0 ]
