#!/usr/bin/env bash
# Swift package (swift/): builds the UniFFI library, checks that the committed generated bindings equal
# a fresh generation, then runs `swift test` (XCTest: the whole conformance corpus through each API,
# errors, concurrency; the clients against the local test server) with Swift 6 from a Debian trixie
# chroot under /var/cache (scripts/swift-chroot.sh; set up on first use, in the background while Rust
# builds).
# Ends with "swift: N passed, M failed" (the drift check counts as one test).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust || { echo "swift: 0 passed, 1 failed"; exit 1; }
# Package.swift links ../target/release (the repository is mounted at /src in the chroot).
export CARGO_TARGET_DIR=$PWD/target

setup_log=$(mktemp)
scripts/swift-chroot.sh setup >"$setup_log" 2>&1 &
setup_pid=$!

passed=0; failed=0
if scripts/uniffi-generate.sh --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# The PostHog-compatible test server the client tests start (tests/server).
cargo build --quiet --release -p hogflags-test-server || failed=$((failed + 1))

if ! wait "$setup_pid"; then
  cat "$setup_log"
  echo "swift: $passed passed, $((failed + 1)) failed"
  exit 1
fi
cat "$setup_log"

# An extra corpus folder (HOGFLAGS_EXTRA_CORPUS, e.g. the differential corpus) is copied under target/ so
# that the chroot sees it at /src/target/uniffi-extra-corpus.
extra=
if [ -n "${HOGFLAGS_EXTRA_CORPUS:-}" ]; then
  rm -rf target/uniffi-extra-corpus && mkdir -p target/uniffi-extra-corpus
  cp "$HOGFLAGS_EXTRA_CORPUS"/*.json target/uniffi-extra-corpus/
  extra="HOGFLAGS_EXTRA_CORPUS=/src/target/uniffi-extra-corpus"
fi

out=$(mktemp)
scripts/swift-chroot.sh run "cd swift && $extra swift test --disable-swift-testing 2>&1" | tee "$out" | grep -vE "^\[[0-9]+/[0-9]+\]|^Test Case .* (started|passed)"
rc=${PIPESTATUS[0]}
line=$(grep -E 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$out" | tail -n 1)
n=$(sed -nE 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1/p' <<<"$line")
f=$(sed -nE 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\2/p' <<<"$line")
n=${n:-0}; f=${f:-0}
passed=$((passed + n - f)); failed=$((failed + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); fi
echo "swift: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
