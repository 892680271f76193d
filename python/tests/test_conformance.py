"""The shared conformance corpus (tests/conformance/*.json), every case, through the Python API.

Each case is evaluated with `get_feature_flag_result` (value, payload, reason code and condition index, or
`None` when inconclusive), cross-checked against `get_feature_flag`, `get_feature_flag_payload` and
`feature_enabled`, and against the bulk path `evaluate_flags` (which must agree with the single-flag path
and name the expected inconclusive kind). Contexts go in exactly as JSON gives them to Python (integer
distinct ids and group keys, floats, nested values), so the value conversion is exercised too.
"""

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import hogflags

CORPUS = Path(os.environ.get("HOGFLAGS_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / "tests" / "conformance"))
# Plus the folder named by HOGFLAGS_EXTRA_CORPUS (e.g. the differential corpus of tools/src/bin/gen_differential.rs).
DIRS = [CORPUS] + ([Path(os.environ["HOGFLAGS_EXTRA_CORPUS"])] if os.environ.get("HOGFLAGS_EXTRA_CORPUS") else [])


def strict_equal(a: Any, b: Any) -> bool:
    """JSON equality without Python's 1 == 1.0 == True."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    return a == b


def load_corpus() -> Tuple[Dict[str, hogflags.FlagsEngine], List[Any]]:
    engines: Dict[str, hogflags.FlagsEngine] = {}
    params = []
    for path in sorted(p for d in DIRS for p in d.glob("*.json")):
        suite = json.loads(path.read_text())
        # Built lazily per file (see the `engine` helper) so a bad document fails its own cases only.
        engines[path.name] = suite["definitions"]
        for case in suite["cases"]:
            params.append(pytest.param(path.name, case, id=f"{path.stem}/{case['id']}"))
    return engines, params


DEFINITIONS, CASES = load_corpus()
_ENGINES: Dict[str, hogflags.FlagsEngine] = {}


def engine(name: str) -> hogflags.FlagsEngine:
    if name not in _ENGINES:
        _ENGINES[name] = hogflags.FlagsEngine(DEFINITIONS[name])
    return _ENGINES[name]


def call_kwargs(context: Dict[str, Any]) -> Dict[str, Any]:
    kwargs = {k: context[k] for k in ("person_properties", "groups", "group_properties", "device_id") if k in context}
    if "now" in context:
        kwargs["now"] = datetime.fromisoformat(context["now"].replace("Z", "+00:00"))
    return kwargs


def test_corpus_is_present():
    assert CASES, f"no conformance cases found in {CORPUS}"
    assert len(CASES) >= 500


@pytest.mark.parametrize("file,case", CASES)
def test_case(file: str, case: Dict[str, Any]) -> None:
    eng = engine(file)
    flag = case["flag"]
    ctx = case["context"]
    distinct_id = ctx["distinct_id"]
    kwargs = call_kwargs(ctx)
    expected = case["expected"]

    result = eng.get_feature_flag_result(flag, distinct_id, **kwargs)
    value = eng.get_feature_flag(flag, distinct_id, **kwargs)
    payload = eng.get_feature_flag_payload(flag, distinct_id, **kwargs)
    enabled = eng.feature_enabled(flag, distinct_id, **kwargs)
    bulk = eng.evaluate_flags(distinct_id, flag_keys=[flag], **kwargs)

    if "inconclusive" in expected:
        assert result is None, f"decided {result!r}, want inconclusive {expected['inconclusive']}"
        assert value is None and payload is None and enabled is None
        assert flag not in bulk.flags
        assert bulk.unresolved[flag].kind == expected["inconclusive"]
    else:
        assert result is not None, f"inconclusive {bulk.unresolved.get(flag)!r}, want {expected}"
        assert strict_equal(result.value, expected["value"]), f"value {result.value!r}, want {expected['value']!r}"
        assert strict_equal(value, expected["value"])
        assert enabled is (expected["value"] is not False)
        assert result.enabled is enabled
        assert result.variant == (expected["value"] if isinstance(expected["value"], str) else None)
        if "payload" in expected:
            assert strict_equal(result.payload, expected["payload"]), f"payload {result.payload!r}"
            assert strict_equal(payload, expected["payload"])
        if "reason" in expected:
            assert result.reason_code == expected["reason"]["code"]
            if "condition_index" in expected["reason"]:
                assert result.condition_index == expected["reason"]["condition_index"]
        # The bulk path agrees with the single-flag path.
        assert strict_equal(bulk.flags[flag], value)
        assert bulk.reasons[flag].code == result.reason_code
        assert bulk.reasons[flag].condition_index == result.condition_index
        assert strict_equal(bulk.get_flag_payload(flag), result.payload)

    # Evaluating every flag at once gives this flag the same answer.
    if flag in eng:
        every = eng.evaluate_flags(distinct_id, **kwargs)
        if result is None:
            assert every.unresolved[flag] == bulk.unresolved[flag]
        else:
            assert strict_equal(every.flags[flag], value)
            assert every.reasons[flag] == bulk.reasons[flag]
