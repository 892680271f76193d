#!/usr/bin/env bash
# Runs every test suite of hogflags and prints one summary line: "N passed, N failed".
#
# Each suite is a script scripts/suites/<name>.sh that installs what it needs, runs its tests and ends
# its output with its own "N passed, N failed" line. A suite that exits non-zero without such a line
# counts as one failure. Usage: scripts/test.sh [suite ...]   (default: all suites, in order)
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

order=(rust)
for s in scripts/suites/*.sh; do
  name=$(basename "$s" .sh)
  [[ " ${order[*]} " == *" $name "* ]] || order+=("$name")
done
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${order[@]}")

total_pass=0; total_fail=0; report=()
mkdir -p target/test-logs

# The differential corpus (random definitions and mixed-type contexts, with the Rust core's answers as the
# expected values): every binding's conformance runner also runs it, which proves type conversion at each
# boundary faithful. Generated fresh from a fixed seed; set HOGFLAGS_EXTRA_CORPUS to use another folder.
if [ -z "${HOGFLAGS_EXTRA_CORPUS:-}" ]; then
  source scripts/lib/toolchains.sh
  rm -rf target/differential
  if ensure_rust && cargo run --quiet --release -p hogflags-tools --bin gen_differential -- target/differential 10; then
    export HOGFLAGS_EXTRA_CORPUS="$PWD/target/differential"
  else
    echo "could not generate the differential corpus"; total_fail=$((total_fail + 1))
  fi
fi
for name in "${suites[@]}"; do
  script="scripts/suites/$name.sh"
  [ -f "$script" ] || { echo "no suite $name"; total_fail=$((total_fail + 1)); continue; }
  echo "=== suite $name"
  start=$(date +%s)
  log="target/test-logs/$name.log"
  bash "$script" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
  f=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\3/' <<<"$line")
  [ -n "$line" ] || { p=0; f=0; }
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  report+=("$(printf '%-10s %6s passed %4s failed  (%ss, exit %s)' "$name" "$p" "$f" "$(( $(date +%s) - start ))" "$rc")")
done
echo
echo "=== summary"
printf '%s\n' "${report[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
