#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets from the conformance corpus (documents and contexts)."""
import json, pathlib, sys
root = pathlib.Path(__file__).resolve().parent
corpus = root / "corpus"
for t in ("parse_compile", "evaluate", "poller_response", "c_json"):
    (corpus / t).mkdir(parents=True, exist_ok=True)

# A /flags response in each shape the client reads (v2 `flags`, legacy `featureFlags`, quota-limited).
REMOTE = [
    {"flags": {"a": {"key": "a", "enabled": True, "variant": None, "reason": {"code": "condition_match",
     "condition_index": 0, "description": "Matched condition set 1"}, "metadata": {"id": 1, "version": 2,
     "payload": "{\"x\": 1}"}}, "b": {"key": "b", "enabled": False, "failed": True}},
     "errorsWhileComputingFlags": False, "requestId": "r-1", "evaluatedAt": 1700000000},
    {"featureFlags": {"a": True, "b": "test", "c": False}, "featureFlagPayloads": {"a": "{\"y\": [1, 2]}", "b": "3"}},
    {"quotaLimited": ["feature_flags"], "flags": {}},
]
# Bytes that `arbitrary` turns into a few poller steps (any bytes are valid; these just give it a start).
STEPS = bytes(range(0, 256, 7)) * 2

for f in sorted((root.parent / "tests" / "conformance").glob("*.json")):
    suite = json.loads(f.read_text())
    doc = json.dumps(suite["definitions"]).encode()
    (corpus / "parse_compile" / f"{f.stem}.json").write_bytes(doc)
    (corpus / "poller_response" / f"{f.stem}").write_bytes(doc + b"\xff" + STEPS)
    for j, case in enumerate(suite["cases"][:20]):
        ctx = json.dumps(case["context"]).encode()
        (corpus / "evaluate" / f"{f.stem}-{j}").write_bytes(doc + b"\xff" + ctx)
        if j < 5:
            props = case["context"].get("person_properties") or {}
            prop = json.dumps(next(iter(props.values()), None)).encode()
            key = str(case.get("flag", "f")).encode()
            (corpus / "c_json" / f"{f.stem}-{j}").write_bytes(doc + b"\xff" + ctx + b"\xff" + key + b"\xff" + prop)
for i, r in enumerate(REMOTE):
    (corpus / "poller_response" / f"remote-{i}").write_bytes(json.dumps(r).encode() + b"\xff" + STEPS)
print("seeded", corpus)
