#!/usr/bin/env bash
# Benchmarks of the UniFFI packages: each API's cost per call against the core's own evaluation of the
# same flag and context, measured inside Rust in the same run (no FFI crossing).
#
#   scripts/uniffi-bench.sh [swift|kotlin|all]     (default: all)
#
# Swift: `swift run -c release HogFlagsBench` in the Swift chroot (scripts/swift-chroot.sh).
# Kotlin: JMH (Maven profile `bench`, benchmarks in kotlin/src/bench/java), ratios printed after JMH's table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchains.sh
ensure_rust
export CARGO_TARGET_DIR=$PWD/target
cargo build --quiet --release -p hogflags-uniffi

what=${1:-all}

if [ "$what" = swift ] || [ "$what" = all ]; then
  echo "=== Swift"
  scripts/swift-chroot.sh run 'cd swift && swift build -c release --product HogFlagsBench >/dev/null && .build/release/HogFlagsBench'
fi

if [ "$what" = kotlin ] || [ "$what" = all ]; then
  echo "=== Kotlin (JMH, called from Java)"
  command -v mvn >/dev/null 2>&1 || ensure_apt maven
  (
    cd kotlin
    mvn -q -B -Dstyle.color=never -Pbench test-compile dependency:build-classpath \
      -Dmdep.outputFile=target/bench-classpath.txt -Dmdep.includeScope=test 2>&1 | sed 's/\x1b\[[0-9;]*m//g'
    cp="target/test-classes:target/classes:$(cat target/bench-classpath.txt)"
    java -cp "$cp" org.openjdk.jmh.Main EngineBenchmark \
      -jvmArgsAppend "-Djna.library.path=$CARGO_TARGET_DIR/release" -rf json -rff target/jmh.json
    python3 - target/jmh.json <<'EOF'
import json, sys
rows = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"]["score"] for r in json.load(open(sys.argv[1]))}
one, bulk = rows["nativeEvaluate"], rows["nativeEvaluateAll100"]
print("\nhogflags Kotlin binding benchmark (ns/op; ratio against the core inside Rust, same run)")
for name in ["nativeEvaluate", "isFeatureEnabled", "getFeatureFlag", "getFeatureFlagResult",
             "getFeatureFlagResultJson", "emptyCall"]:
    print(f"{name:44} {rows[name]:10.1f} ns/op   {rows[name] / one:6.2f}x native")
print("100-flag document")
for name in ["nativeEvaluateAll100", "evaluateFlags100", "getAllFlags100", "evaluateFlagsJson100"]:
    print(f"{name:44} {rows[name]:10.1f} ns/op   {rows[name] / bulk:6.2f}x native")
EOF
  )
fi
