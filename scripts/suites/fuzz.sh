#!/usr/bin/env bash
# Short, time-boxed libFuzzer runs of every fuzz target (ASan on), seeded from the conformance corpus.
# A target passes when its run ends without a crash, leak, timeout or out-of-memory report (the saved
# crash inputs in fuzz/regressions/<target>/ are part of each run).
# FUZZ_SECONDS (default 20) sets the time per target; docs/reliability.md has the figures of longer runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust
export RUSTC_BOOTSTRAP=1   # cargo-fuzz needs -Z flags; the stable toolchain ships the sanitizer runtimes
seconds=${FUZZ_SECONDS:-20}

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz@0.13.2 >/dev/null 2>&1 \
  || { echo "could not install cargo-fuzz"; echo "fuzz: 0 passed, 1 failed"; exit 1; }
python3 fuzz/seed.py >/dev/null
cd fuzz
targets=$(cargo fuzz list)
if ! cargo fuzz build -O >/dev/null 2>build.log; then
  tail -20 build.log; echo "fuzz: 0 passed, 1 failed"; exit 1
fi
passed=0; failed=0
for t in $targets; do
  mkdir -p "corpus/$t"
  # Inputs that once crashed (fuzz/regressions/<target>/) are replayed first, every run.
  extra=(); [ -d "regressions/$t" ] && extra=("regressions/$t")
  if cargo fuzz run -O "$t" "corpus/$t" "${extra[@]}" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 >"run-$t.log" 2>&1; then
    echo "fuzz $t: ok ($(grep -Eo 'Done [0-9]+ runs' "run-$t.log" | tail -1))"
    passed=$((passed + 1))
  else
    echo "fuzz $t: FAILED"; grep -E 'ERROR|panicked|SUMMARY' "run-$t.log" | head -5
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
