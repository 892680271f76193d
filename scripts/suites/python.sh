#!/usr/bin/env bash
# The Python package: builds and installs ./python (maturin, PEP 517) into a throwaway venv, then runs its
# pytest suite: the whole conformance corpus through the Python API, the engine API, value conversion, bad
# input, threads, and the networked client against the local test server (tests/server), forks included.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/toolchains.sh
ensure_rust || { echo "python: 0 passed, 1 failed"; exit 1; }

ROOT=$PWD
VENV=${HOGFLAGS_PY_VENV:-/tmp/hogflags-python-suite-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PY=${PYTHON:-python3}

fail() { echo "$1"; echo "python: 0 passed, 1 failed"; exit 1; }

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || fail "Python >= 3.10 is required ($PY is $("$PY" -V 2>&1))"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" 2>/dev/null || { ensure_apt python3-venv && "$PY" -m venv "$VENV"; } || fail "cannot create a venv"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check pytest uvloop || fail "cannot install pytest, uvloop"

echo "building the test server ..."
cargo build -q -p hogflags-test-server || fail "cannot build tests/server"
export HOGFLAGS_TEST_SERVER=$CARGO_TARGET_DIR/debug/hogflags-test-server

echo "building and installing ./python ..."
start=$(date +%s)
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./python \
  || fail "pip install ./python failed"
echo "installed in $(( $(date +%s) - start ))s"

junit=$(mktemp --suffix=.xml)
# Run from the tests' parent so the installed package (not the source tree) is imported.
(cd python && "$VENV/bin/pytest" -q -p no:cacheprovider --junitxml="$junit" tests) 2>&1 | tail -n 30
rc=${PIPESTATUS[0]}
read -r passed failed < <("$VENV/bin/python" - "$junit" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 1); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f)
PYEOF
)
rm -f "$junit"
passed=${passed:-0}; failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "python: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
