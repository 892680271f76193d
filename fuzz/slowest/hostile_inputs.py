#!/usr/bin/env python3
"""Writes hand-made hostile inputs for `fuzz/slowest` (a definitions document, 0xFF, a context JSON):
long property values against catastrophic and backtracking-engine regexes, regexes that compile big,
a document of many large regexes, and a 1 MiB value through every kind of operator.

    python3 fuzz/slowest/hostile_inputs.py target/hostile
    cargo run --release --manifest-path fuzz/slowest/Cargo.toml -- --each target/hostile
"""
import json, pathlib, sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/hostile")
out.mkdir(parents=True, exist_ok=True)
MB = 1 << 20


def doc(flags):
    return {"flags": flags, "group_type_mapping": {}, "cohorts": {}}


def flag(key, value, op):
    return {"key": key, "active": True, "filters": {"groups": [{"properties": [
        {"key": "p", "value": value, "operator": op, "type": "person"}], "rollout_percentage": 100}]}}


def write(name, d, p):
    ctx = {"distinct_id": "u", "person_properties": {"p": p}}
    (out / name).write_bytes(json.dumps(d).encode() + b"\xff" + json.dumps(ctx).encode())


# A 1 MiB property value against catastrophic patterns (the regex crate: linear time).
write("long-input-nested-plus", doc([flag("f", "(a+)+$", "regex")]), "a" * MB + "b")
write("long-input-words", doc([flag("f", r"^(\w+\s?)*$", "regex")]), "word " * (MB // 5) + "!")
# Patterns that need the backtracking engine (look-around, backreference) on a 1 MiB value.
write("long-input-lookahead", doc([flag("f", "^(?=a)((?=a)a|a)+(?!x)$", "regex")]), "a" * MB + "!")
write("long-input-backref", doc([flag("f", r"(a+)+\1b", "regex")]), "a" * MB)
write("long-input-lookahead-unanchored", doc([flag("f", "(?=x)y", "regex")]), "x" * MB)
# Patterns that compile big: under and over the compiled-size limit.
write("compile-unicode-word-repeat", doc([flag("f", r"\w{50}", "regex"), flag("g", r"\w{5000}", "regex")]), "a" * 60)
write("compile-counted-nesting", doc([flag("f", "((a{10}){10}){10}", "regex"), flag("g", "(((a{100}){100}){100})", "regex")]), "a" * 1000)
# 500 flags, each a distinct alternation of literals just under the 10,000-byte pattern limit.
big = []
for i in range(500):
    alts = "|".join(f"w{i}x{j:05d}" for j in range(900))[:9990].rsplit("|", 1)[0]
    big.append(flag(f"f{i}", f"({alts})", "regex"))
write("many-large-regexes", doc(big), "w3x00007")
# A 1 MiB value through every kind of operator (string, number, date, semver).
ops = ["icontains", "not_icontains", "exact", "semver_gt", "is_date_before", "gt", "starts_with", "ends_with", "regex"]
write("huge-value-all-operators", doc([flag(f"f-{o}", "1.2.3" if o.startswith("semver") else "zzz", o) for o in ops]), "9" * MB)
print("wrote", out)
