#!/usr/bin/env bash
# The cross-language benchmark in one command (`make bench`): builds the release artifacts, writes the
# shared workloads, runs the Rust, C, Python and Node rows on the same files in throwaway environments
# under target/bench/, then writes the report (BENCHMARKS.md's generated section and docs/benchmarks.png).
#
# Usage: scripts/bench.sh [--quick]
#   --quick   fewer users and rounds everywhere (a smoke run, < 5 min once built)
#
# A language that fails is reported and skipped; the others still run, the report says "not run" for it,
# and the script exits non-zero at the end. Results: target/bench/results/{rust,c,python,node}.jsonl,
# logs: target/bench/logs/. Environment: PYTHON (default python3), CARGO_TARGET_DIR (default ./target),
# CC (the C row's compiler), BENCH_MARKDOWN and BENCH_PLOT (where the report goes; default BENCHMARKS.md
# and docs/benchmarks.png).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchains.sh

ROOT=$PWD
QUICK=()
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=(--quick) ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (see --help)"; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TERM_COLOR=never
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
BENCH=$ROOT/target/bench
WORKLOADS=$BENCH/workloads
RESULTS=$BENCH/results
LOGS=$BENCH/logs
VENV=$BENCH/venv
NPM_POSTHOG=$BENCH/posthog-node
PY=${PYTHON:-python3}

START=$(date +%s)
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "")
FAILED=()

mkdir -p "$WORKLOADS" "$RESULTS" "$LOGS"
rm -f "$RESULTS"/*.jsonl "$RESULTS"/run.json # never report a previous run's figures as this one's

step() { echo "== $1 ($(( $(date +%s) - START ))s)"; }

# fail NAME LOG: records a failed language and shows the end of its log.
fail() {
  FAILED+=("$1")
  echo "!! $1 failed; last lines of $2:"
  tail -n 25 "$2" | sed 's/^/   /'
}

# run_logged LOG CMD...: runs CMD with its output in LOG; returns its status.
run_logged() {
  local log=$1; shift
  "$@" >"$log" 2>&1
}

build_rust() {
  step "build (release): gen_workloads, bench_harness (tools/)"
  ensure_rust || return 1
  run_logged "$LOGS/build-rust.log" cargo build --release -p hogflags-tools \
    --bin gen_workloads --bin bench_harness
}

gen_workloads() {
  step "workloads -> ${WORKLOADS#$ROOT/}"
  run_logged "$LOGS/workloads.log" "$CARGO_TARGET_DIR/release/gen_workloads" "$WORKLOADS"
}

run_rust() {
  step "rust: hogflags-rust, sha1-floor, serde_json-floor, w4 poll cycle"
  "$CARGO_TARGET_DIR/release/bench_harness" "$WORKLOADS" "${QUICK[@]}" \
    >"$RESULTS/rust.jsonl.tmp" 2>"$LOGS/rust.log" && mv "$RESULTS/rust.jsonl.tmp" "$RESULTS/rust.jsonl"
}

# The C row (bindings/c/bench/workloads.c) reads users as JSON lines, since C has no JSON parser here: the
# workloads' user arrays are rewritten one object a line beside them, then the program is built against the
# release libhogflags as the C suite builds it (bindings/c/Makefile; CC picks the compiler).
setup_c() {
  step "c: libhogflags (release), bench_workloads, users as JSON lines"
  if ! command -v "${CC:-cc}" >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
    ensure_apt gcc make >"$LOGS/c-setup.log" 2>&1 || return 1
  fi
  run_logged "$LOGS/c-setup.log" make -s -C bindings/c bench-workloads-build || return 1
  "$PY" -c '
import json, sys
d = sys.argv[1]
for w in ("w1", "w2"):
    with open(f"{d}/{w}_users.json", encoding="utf-8") as f:
        users = json.load(f)
    with open(f"{d}/{w}_users.jsonl", "w", encoding="utf-8") as out:
        out.writelines(json.dumps(u, separators=(",", ":")) + "\n" for u in users)
' "$WORKLOADS" >>"$LOGS/c-setup.log" 2>&1
}

run_c() {
  step "c: hogflags-c (JSON entry), hogflags-c-context (prebuilt contexts)"
  "$CARGO_TARGET_DIR/hogflags-c/bench_workloads" "$WORKLOADS" "${QUICK[@]}" \
    >"$RESULTS/c.jsonl.tmp" 2>"$LOGS/c.log" && mv "$RESULTS/c.jsonl.tmp" "$RESULTS/c.jsonl"
}

# The venv holds ./python (built from source), the latest posthog from PyPI and matplotlib (for the plot).
setup_python() {
  step "python: venv with ./python, posthog (latest), matplotlib"
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python >= 3.10 is required" >"$LOGS/python-setup.log"; return 1; }
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv && "$PY" -m venv "$VENV"; } || return 1
  fi
  local pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
  {
    "${pip[@]}" --upgrade posthog matplotlib \
      || "$VENV/bin/python" -c 'import posthog, matplotlib' # offline: keep what is installed
  } >"$LOGS/python-setup.log" 2>&1 || return 1
  # --force-reinstall --no-deps: rebuild from the working tree even when the version did not change.
  "${pip[@]}" --force-reinstall --no-deps ./python >>"$LOGS/python-setup.log" 2>&1
}

run_python() {
  local threads=(--threads)
  step "python: hogflags-python vs posthog-python"
  "$VENV/bin/python" -W ignore python/benchmarks/bench.py --workloads "$WORKLOADS" \
    --json "$RESULTS/python.jsonl" "${QUICK[@]}" "${threads[@]}" >"$LOGS/python.log" 2>&1
}

# node/: npm install builds the addon from source; posthog-node@latest goes to a throwaway prefix.
setup_node() {
  step "node: npm install in node/ (addon), posthog-node@latest"
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_apt nodejs npm >"$LOGS/node-setup.log" 2>&1 || return 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 18 ] || { echo "Node $major is too old (18+ needed)" >"$LOGS/node-setup.log"; return 1; }
  (cd node && npm install) >"$LOGS/node-setup.log" 2>&1 || return 1
  mkdir -p "$NPM_POSTHOG"
  npm install --prefix "$NPM_POSTHOG" posthog-node@latest >>"$LOGS/node-setup.log" 2>&1 \
    || [ -d "$NPM_POSTHOG/node_modules/posthog-node" ] # offline: keep what is installed
}

run_node() {
  step "node: hogflags-node vs posthog-node"
  POSTHOG_NODE_DIR=$NPM_POSTHOG node node/bench/run.js --workloads "$WORKLOADS" \
    --json "$RESULTS/node.jsonl" "${QUICK[@]}" >"$LOGS/node.log" 2>&1
}

# Runs the report with the venv's Python (it has matplotlib), else the system one (then no plot).
report() {
  step "report -> BENCHMARKS.md, docs/benchmarks.png"
  local py=$PY
  [ -x "$VENV/bin/python" ] && py=$VENV/bin/python
  local failed_csv
  failed_csv=$(IFS=,; echo "${FAILED[*]}")
  cat >"$RESULTS/run.json" <<EOF
{"load_at_start": "$LOAD_AT_START", "quick": $([ ${#QUICK[@]} -gt 0 ] && echo true || echo false), "elapsed_s": $(( $(date +%s) - START )), "failed": "$failed_csv"}
EOF
  "$py" scripts/bench_report.py --results "$RESULTS" --markdown "${BENCH_MARKDOWN:-BENCHMARKS.md}" \
    --plot "${BENCH_PLOT:-docs/benchmarks.png}"
}

if build_rust && gen_workloads; then
  run_rust || fail rust "$LOGS/rust.log"
  if setup_c; then run_c || fail c "$LOGS/c.log"; else fail c "$LOGS/c-setup.log"; fi
  if setup_python; then run_python || fail python "$LOGS/python.log"; else fail python "$LOGS/python-setup.log"; fi
  if setup_node; then run_node || fail node "$LOGS/node.log"; else fail node "$LOGS/node-setup.log"; fi
else
  # Without the workloads no language can run.
  fail rust "$(ls -t "$LOGS"/build-rust.log "$LOGS"/workloads.log 2>/dev/null | head -n 1)"
  FAILED+=(c python node)
fi
report || FAILED+=(report)

elapsed=$(( $(date +%s) - START ))
echo "== done in $((elapsed / 60))m$((elapsed % 60))s${FAILED[*]:+; failed: ${FAILED[*]}}"
[ ${#FAILED[@]} -eq 0 ]
