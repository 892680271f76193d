#!/usr/bin/env bash
# Memory checks of the Python and Node bindings under valgrind (memcheck): each loads an engine from the
# first file of the conformance corpus (tests/conformance), evaluates every case of it (checking the
# expected values), the bulk path and a few refused inputs, frees everything, and exits. Passes when
# the smoke itself passes and valgrind reports no invalid access (invalid read/write/free, mismatched
# free) anywhere and 0 bytes "definitely lost" in a stack through our code (the extension module or
# addon, or any `hogflags` symbol). The C library has its own valgrind run in scripts/suites/c.sh.
#
# Builds: reuses the Python venv of scripts/suites/python.sh (HOGFLAGS_PY_VENV, default
# /tmp/hogflags-python-suite-venv) and the addon that scripts/suites/node.sh builds in node/native; each
# is built the same way here only when missing (or when HOGFLAGS_SAN_REBUILD=1).
# Figures (bytes lost, error counts) are printed; logs go to $SAN_LOGS (default target/sanitizers).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/lib/toolchains.sh
ensure_rust || { echo "sanitizers: 0 passed, 1 failed"; exit 1; }
ensure_apt valgrind || { echo "cannot install valgrind"; echo "sanitizers: 0 passed, 1 failed"; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_TERM_COLOR=never
logs=${SAN_LOGS:-$root/target/sanitizers}
mkdir -p "$logs"
corpus_file=$(ls "$root"/tests/conformance/*.json | sort | head -n 1)
echo "corpus file: ${corpus_file#$root/}"

passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
ko() { failed=$((failed + 1)); echo "FAIL $1"; }

VALGRIND=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,possible
          --errors-for-leak-kinds=definite --num-callers=40 --xml=yes)

# Reads a valgrind XML log; prints "invalid=N lost_ours=BYTES lost_pyo3_types=BYTES lost_all=BYTES" and
# lists each finding. A definite leak is ours when a frame of its stack is in our module or addon (or a
# `hogflags` symbol); one whose stack goes through pyo3's type-object builder is counted apart: pyo3 leaks
# the member tables of each #[pyclass] type once, at import, on purpose (the type needs them for the
# life of the process; CPython frees the type objects at exit, which leaves the tables unreferenced).
summarize() {
  python3 - "$1" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
INVALID = {"InvalidRead", "InvalidWrite", "InvalidFree", "MismatchedFree", "InvalidJump", "InvalidMemPool"}
def frames(err):
    return [(fr.findtext("obj") or "", fr.findtext("fn") or "") for fr in err.find("stack").iter("frame")]
def ours(fs):
    return any("_hogflags" in o or "hogflags.node" in o or "hogflags" in f for o, f in fs)
invalid = lost_ours = lost_pyo3 = lost_all = 0
for err in root.iter("error"):
    kind = err.findtext("kind")
    fs = frames(err)
    if kind in INVALID:
        invalid += 1
        print("  invalid access:", kind, (err.findtext("what") or "").strip(), file=sys.stderr)
    elif kind == "Leak_DefinitelyLost":
        n = int(err.find("xwhat").findtext("leakedbytes"))
        lost_all += n
        if any("pyo3::pyclass::create_type_object" in f for _, f in fs):
            lost_pyo3 += n
            print(f"  definitely lost, pyo3 type object table at import: {n} bytes", file=sys.stderr)
        elif ours(fs):
            lost_ours += n
            names = [f or o.rsplit("/", 1)[-1] or "?" for o, f in fs][:8]
            print(f"  definitely lost, a frame in our module or addon: {n} bytes:", " <- ".join(names), file=sys.stderr)
print(f"invalid={invalid} lost_ours={lost_ours} lost_pyo3_types={lost_pyo3} lost_all={lost_all}")
PYEOF
}

field() { local v=${1#*$2=}; echo "${v%% *}"; }

# Runs one smoke under valgrind and checks the smoke and invalid accesses; the figures are left in
# $summary. $1 = name, rest = command.
summary=""
run_under_valgrind() {
  local name=$1; shift
  local xml="$logs/$name.valgrind.xml" out="$logs/$name.out"
  local start=$(date +%s)
  "${VALGRIND[@]}" --xml-file="$xml" "$@" >"$out" 2>&1
  local rc=$?
  local secs=$(( $(date +%s) - start ))
  tail -n 3 "$out"
  if [ "$rc" -eq 0 ] && grep -q '^smoke ok' "$out"; then ok "$name: smoke under valgrind (${secs}s)"; else ko "$name: smoke under valgrind (exit $rc)"; fi
  summary=$(summarize "$xml" 2>"$logs/$name.findings") || { ko "$name: cannot read the valgrind log"; summary="invalid=1 lost_ours=0 lost_pyo3_types=0 lost_all=0"; }
  head -n 20 "$logs/$name.findings"
  echo "$name valgrind: $summary"
  local invalid; invalid=$(field "$summary" invalid)
  if [ "$invalid" -eq 0 ]; then ok "$name: no invalid access"; else ko "$name: $invalid invalid accesses"; fi
}

# --- Python ------------------------------------------------------------------------------------------
VENV=${HOGFLAGS_PY_VENV:-/tmp/hogflags-python-suite-venv}
PY=${PYTHON:-python3}
python_ready() { [ -x "$VENV/bin/python" ] && (cd /tmp && "$VENV/bin/python" -c 'import hogflags' 2>/dev/null); }
if [ "${HOGFLAGS_SAN_REBUILD:-0}" = 1 ] || ! python_ready; then
  echo "building and installing ./python (as scripts/suites/python.sh does) ..."
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv && "$PY" -m venv "$VENV"; }
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python >"$logs/python-build.log" 2>&1 \
    || tail -n 20 "$logs/python-build.log"
fi
cat >"$logs/smoke.py" <<'PYEOF'
import gc, json, sys
from datetime import datetime
import hogflags

suite = json.loads(open(sys.argv[1]).read())
checked = bad = 0
for round_ in range(2):
    engine = hogflags.FlagsEngine(suite["definitions"])
    for case in suite["cases"]:
        ctx = case["context"]
        kwargs = {k: ctx[k] for k in ("person_properties", "groups", "group_properties", "device_id") if k in ctx}
        if "now" in ctx:
            kwargs["now"] = datetime.fromisoformat(ctx["now"].replace("Z", "+00:00"))
        value = engine.get_feature_flag(case["flag"], ctx["distinct_id"], **kwargs)
        result = engine.get_feature_flag_result(case["flag"], ctx["distinct_id"], **kwargs)
        engine.get_all_flags(ctx["distinct_id"], **kwargs)
        exp = case["expected"]
        want = None if "inconclusive" in exp else exp["value"]
        checked += 1
        if value != want or type(value) is not type(want) or (result is None) != (want is None):
            bad += 1
    # Refused inputs allocate and free error paths too.
    for doc in ("not json", b"\xff", "[]", '{"flags": 3}'):
        try:
            hogflags.FlagsEngine(doc)
        except Exception:
            pass
    try:
        engine.get_feature_flag("f", {"not": "an id"})
    except Exception:
        pass
    del engine
    gc.collect()
print(f"cases {checked}, mismatches {bad}")
if bad:
    sys.exit(1)
print("smoke ok")
PYEOF
if python_ready; then
  # 1. The installed package, as users get it (release build, stripped).
  # A script's own folder (not the working directory) heads sys.path, so the installed package is imported.
  PYTHONMALLOC=malloc run_under_valgrind python-release "$VENV/bin/python" "$logs/smoke.py" "$corpus_file"
  release_lost=$(field "$summary" lost_all)
  # 2. The same package with a debug build of the extension (symbols, so each leak can be attributed).
  rm -rf "$logs/pydebug" && mkdir -p "$logs/pydebug" && cp -r python/hogflags "$logs/pydebug/"
  if PYO3_PYTHON="$VENV/bin/python" cargo build -q -p hogflags-python >"$logs/python-debug-build.log" 2>&1; then
    cp "$CARGO_TARGET_DIR/debug/lib_hogflags.so" "$logs/pydebug/hogflags/_hogflags.abi3.so"
    PYTHONPATH="$logs/pydebug" PYTHONMALLOC=malloc run_under_valgrind python-debug "$VENV/bin/python" "$logs/smoke.py" "$corpus_file"
    lost=$(field "$summary" lost_ours); pyo3=$(field "$summary" lost_pyo3_types)
    if [ "$lost" -eq 0 ]; then ok "python: 0 bytes definitely lost in our code"; else ko "python: $lost bytes definitely lost in our code"; fi
    # The stripped release build cannot be attributed frame by frame: it must lose exactly what the
    # symbolized build loses in pyo3's one-time type tables, and nothing more.
    if [ "$release_lost" -eq "$pyo3" ]; then
      ok "python: release build loses only pyo3's one-time type tables ($release_lost bytes)"
    else
      ko "python: release build lost $release_lost bytes, pyo3's type tables account for $pyo3"
    fi
  else
    tail -n 20 "$logs/python-debug-build.log"; ko "python: debug build of bindings/python"
  fi
else
  ko "python: the package is not installed (see $logs/python-build.log)"
fi

# --- Node --------------------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  ensure_apt nodejs npm
fi
if [ "${HOGFLAGS_SAN_REBUILD:-0}" = 1 ] || [ ! -f node/native/hogflags.node ]; then
  echo "building the Node addon (npm install in node/, as scripts/suites/node.sh does) ..."
  (cd node && npm_config_audit=false npm_config_fund=false npm install >"$logs/node-build.log" 2>&1) || tail -n 20 "$logs/node-build.log"
fi
cat >"$logs/smoke.js" <<'JSEOF'
'use strict'
const fs = require('node:fs')
const { FlagsEngine } = require(process.argv[3])
const suite = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
async function main() {
  let checked = 0, bad = 0
  for (let round = 0; round < 2; round++) {
    let engine = new FlagsEngine(suite.definitions)
    for (const c of suite.cases) {
      const ctx = c.context
      const opts = { personProperties: ctx.person_properties ?? undefined, groups: ctx.groups ?? undefined,
        groupProperties: ctx.group_properties ?? undefined, deviceId: ctx.device_id ?? undefined, now: ctx.now ?? undefined }
      const id = ctx.distinct_id
      let value
      try {
        value = engine.getFeatureFlag(c.flag, id, opts)
        engine.getFeatureFlagResult(c.flag, id, opts)
        engine.getAllFlags(id, opts)
      } catch (e) {
        // Values JS cannot express (see node/test/conformance.test.js) go through the JSON entry point.
        value = JSON.parse(engine.evaluateJson(c.flag, JSON.stringify(ctx)))
        value = value.inconclusive !== undefined ? undefined : value.value
      }
      const want = c.expected.inconclusive !== undefined ? undefined : c.expected.value
      checked++
      if (value !== want) bad++
    }
    for (const doc of ['not json', '[]', '{"flags": 3}']) {
      try { new FlagsEngine(doc) } catch (e) {}
    }
    engine = null
    for (let i = 0; i < 3; i++) {
      global.gc()
      await new Promise((r) => setImmediate(r))
    }
  }
  console.log(`cases ${checked}, mismatches ${bad}`)
  if (bad) process.exit(1)
  console.log('smoke ok')
}
main()
JSEOF
if [ -f node/native/hogflags.node ]; then
  run_under_valgrind node node --expose-gc --jitless "$logs/smoke.js" "$corpus_file" "$root/node"
  lost=$(field "$summary" lost_all)
  if [ "$lost" -eq 0 ]; then ok "node: 0 bytes definitely lost"; else
    lost=$(field "$summary" lost_ours)
    if [ "$lost" -eq 0 ]; then ok "node: 0 bytes definitely lost in our code"; else ko "node: $lost bytes definitely lost in our code"; fi
  fi
else
  ko "node: the addon is not built (see $logs/node-build.log)"
fi

echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
