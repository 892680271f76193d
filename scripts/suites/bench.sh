#!/usr/bin/env bash
# The cross-language benchmark as a smoke test (`scripts/bench.sh --quick`): each language's run must build,
# agree with the reference SDK on the workload's values (bench.py / run.js exit non-zero otherwise) and
# produce its rows; the report must render. Ratios are not judged here (a shared CI machine is too noisy):
# the report is written to target/bench/ci/, never over BENCHMARKS.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust || { echo "bench: 0 passed, 1 failed"; exit 1; }

out=target/bench/ci
mkdir -p "$out"
cp BENCHMARKS.md "$out/BENCHMARKS.md"
BENCH_MARKDOWN=$out/BENCHMARKS.md BENCH_PLOT=$out/benchmarks.png scripts/bench.sh --quick 2>&1 | tee "$out/run.log" | grep -E '^(==|!!)'

passed=0; failed=0
for lang in rust c python node; do
  f=target/bench/results/$lang.jsonl
  if [ -s "$f" ] && ! grep -q "^!! $lang failed" "$out/run.log"; then
    echo "bench $lang: ok ($(wc -l <"$f") rows)"; passed=$((passed + 1))
  else
    echo "bench $lang: FAILED (see target/bench/logs/)"; failed=$((failed + 1))
  fi
done
if grep -q "bench:begin" "$out/BENCHMARKS.md" && grep -q "w1_one_flag" "$out/BENCHMARKS.md" && ! grep -q "^!! report" "$out/run.log"; then
  echo "bench report: ok"; passed=$((passed + 1))
else
  echo "bench report: FAILED"; failed=$((failed + 1))
fi
echo "bench: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
