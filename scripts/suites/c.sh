#!/usr/bin/env bash
# The C ABI (bindings/c): header drift check, clippy's FFI lints, the C test program (whole conformance
# corpus, bad input, threads) and the client test program (against tests/server), each natively and under
# valgrind, C++ use of the header, the pkg-config example linked shared and static, the benchmark build.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust || { echo "c: 0 passed, 1 failed"; exit 1; }
ensure_apt gcc g++ make valgrind pkg-config || { echo "c: 0 passed, 1 failed"; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR=never

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }
count_runner() { # count_runner LOG: add the "N passed, M failed" line of a C test run
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then ko "$2 (no summary line)"; return; fi
  p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f))
  echo "$2: $line"
}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# 1. The committed header equals a fresh cbindgen generation; every export is declared.
cargo test --release -p hogflags-c --no-fail-fast 2>&1 | tee "$log/cargo" | grep -E '^(test |error)' 
rc=${PIPESTATUS[0]}
p=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log/cargo")
f=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log/cargo")
passed=$((passed + p)); failed=$((failed + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then tail -n 30 "$log/cargo"; ko "cargo test --release -p hogflags-c"; fi

# 2. No unwrap/expect/panic in the FFI crate (its #![deny] is enforced by clippy).
if cargo clippy --version >/dev/null 2>&1; then
  if cargo clippy -p hogflags-c --release --no-deps -- -D warnings >"$log/clippy" 2>&1; then ok "clippy (deny unwrap/expect/panic)";
  else grep -A8 -E '^(error|warning)' "$log/clippy" | grep -v '^--$' | head -n 40; ko "clippy"; fi
else
  echo "skip clippy: not installed (rustup component add clippy)"
fi

# 3. The library, the C test program natively, then under valgrind.
if ! make -s -C bindings/c lib pc tests >"$log/build" 2>&1; then
  tail -n 40 "$log/build"; ko "build libhogflags and the C tests"
  echo "c: $passed passed, $((failed)) failed"; exit 1
fi
make -s -C bindings/c test 2>&1 | tee "$log/native" | grep -E '^(FAIL|conformance:)'
count_runner "$log/native" "native"
make -s -C bindings/c valgrind >"$log/valgrind" 2>&1
rc=$?
grep -E '^(FAIL|conformance:)' "$log/valgrind"
count_runner "$log/valgrind" "valgrind"
if [ "$rc" -ne 0 ]; then
  grep -E '==[0-9]+== ' "$log/valgrind" | grep -vE '==[0-9]+==\s+(at|by) ' | head -n 20
  ko "valgrind: memory errors or definite leaks (exit $rc)"
fi

# 4. The networked client against the local PostHog-compatible test server, natively and under valgrind.
if make -s -C bindings/c server client-tests >"$log/client-build" 2>&1; then
  make -s -C bindings/c client-test 2>&1 | tee "$log/client" | grep -E '^FAIL'
  count_runner "$log/client" "client"
  make -s -C bindings/c client-valgrind >"$log/client-valgrind" 2>&1
  rc=$?
  grep -E '^FAIL' "$log/client-valgrind"
  count_runner "$log/client-valgrind" "client valgrind"
  if [ "$rc" -ne 0 ]; then
    grep -E '==[0-9]+== ' "$log/client-valgrind" | grep -vE '==[0-9]+==\s+(at|by) ' | head -n 20
    ko "client valgrind: memory errors or definite leaks (exit $rc)"
  fi
else
  tail -n 40 "$log/client-build"; ko "build the test server and the client tests"
fi

# 5. C++ use of the header.
if make -s -C bindings/c cpp >"$log/cpp" 2>&1 && grep -q '^C++: ok' "$log/cpp"; then ok "header compiles, links and runs as C++11";
else cat "$log/cpp"; ko "C++ header"; fi

# 6. The example through pkg-config, linked to the shared and to the static library.
if make -s -C bindings/c example >"$log/example" 2>&1; then
  n=$(grep -c '^checkout-layout  "control" (condition_match, condition 0)$' "$log/example")
  j=$(grep -c '^json: {.*"variant":"compact"' "$log/example")
  if [ "$n" -eq 2 ] && [ "$j" -eq 2 ]; then ok "example (shared)"; ok "example (static)";
  else cat "$log/example"; ko "example output"; fi
else
  cat "$log/example"; ko "example build"
fi

# 7. The benchmark builds (it is run by `make -C bindings/c bench`, not as a test).
if make -s -C bindings/c bench-build >"$log/bench" 2>&1; then ok "benchmark builds";
else cat "$log/bench"; ko "benchmark build"; fi

echo "c: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
