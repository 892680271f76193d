#!/usr/bin/env bash
# Kotlin/JVM package (kotlin/): builds the UniFFI library, checks that the committed generated bindings
# equal a fresh generation, then builds and tests the Maven project (Kotlin + Java tests on JUnit 5:
# the whole conformance corpus through each API, errors, concurrency; the clients against the local test server).
# Ends with "kotlin: N passed, M failed" (the drift check counts as one test).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust || { echo "kotlin: 0 passed, 1 failed"; exit 1; }
command -v javac >/dev/null 2>&1 || ensure_apt openjdk-17-jdk-headless
command -v mvn >/dev/null 2>&1 || ensure_apt maven
command -v mvn >/dev/null 2>&1 || { echo "maven is missing"; echo "kotlin: 0 passed, 1 failed"; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

passed=0; failed=0
if scripts/uniffi-generate.sh --check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# The PostHog-compatible test server the client tests start (tests/server).
cargo build --quiet --release -p hogflags-test-server || failed=$((failed + 1))

rm -rf kotlin/target/surefire-reports
# Debian's Maven prints colour resets even in batch mode: strip them.
(cd kotlin && mvn -q -B -Dstyle.color=never -Dhogflags.native.dir="$CARGO_TARGET_DIR/release" test) 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
rc=${PIPESTATUS[0]}
tests=0; bad=0
for f in kotlin/target/surefire-reports/TEST-*.xml; do
  [ -f "$f" ] || continue
  head=$(grep -o '<testsuite [^>]*>' "$f" | head -n 1)
  attr() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$head"; }
  tests=$((tests + $(attr tests) - $(attr skipped)))
  bad=$((bad + $(attr failures) + $(attr errors)))
done
echo "surefire: $tests tests, $bad failed"
passed=$((passed + tests - bad)); failed=$((failed + bad))
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then failed=$((failed + 1)); fi
echo "kotlin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
