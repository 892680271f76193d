#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets from the conformance corpus (documents and contexts)."""
import json, pathlib, sys
root = pathlib.Path(__file__).resolve().parent
corpus = root / "corpus"
for t in ("parse_compile", "evaluate"):
    (corpus / t).mkdir(parents=True, exist_ok=True)
for i, f in enumerate(sorted((root.parent / "tests" / "conformance").glob("*.json"))):
    suite = json.loads(f.read_text())
    doc = json.dumps(suite["definitions"]).encode()
    (corpus / "parse_compile" / f"{f.stem}.json").write_bytes(doc)
    for j, case in enumerate(suite["cases"][:20]):
        (corpus / "evaluate" / f"{f.stem}-{j}").write_bytes(doc + b"\xff" + json.dumps(case["context"]).encode())
print("seeded", corpus)
