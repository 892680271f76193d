"""Generates the parity suite's input from a fixed seed: definitions documents and users on which
hogflags, posthog-python and posthog-node are compared (see README.md in this folder).

Each flag is built from a random mix of person, group, cohort and flag-dependency filters over every
operator, rollouts, early exit, holdouts, variants with payloads, inactive and deleted flags, evaluation runtimes,
feature enrollment, experience continuity, and values both plain and odd. Every filter records whether
it uses an *odd* value (one of the value classes the server and the SDKs treat differently, each tied to
a row of docs/semantics.md), so the comparison can tell a documented divergence from a bug.

  python tests/parity/generate.py OUT_DIR [--seed N] [--flags N] [--users N]
"""

import argparse
import json
import pathlib
import random

PERSON_KEYS = ["plan", "country", "age", "email", "signup", "app_version", "beta_user", "score"]
OPERATORS = ["exact", "is_not", "is_set", "is_not_set", "icontains", "not_icontains", "regex", "not_regex",
             "gt", "gte", "lt", "lte", "is_date_before", "is_date_after", "semver_gt", "semver_lt",
             "semver_eq", "semver_tilde", "semver_caret", "semver_wildcard"]
# Plain values: every implementation reads them alike.
PLAIN = {
    "plan": ["free", "pro", "enterprise"],
    "country": ["US", "FR", "DE", "GB"],
    "age": [17, 18, 25, 40, 65],
    "email": ["a@example.com", "b@posthog.com", "c@corp.io"],
    "signup": ["2023-01-15", "2024-06-01", "2025-03-20"],
    "app_version": ["1.2.3", "2.0.0", "2.1.5", "10.0.1"],
    "beta_user": [True, False],
    "score": [0, 5, 42, 99],
}
# Odd values, each with the row of docs/semantics.md that says how hogflags reads it.
ODD = [
    ("42.0", "D18"), (42.0, "D18"), ("Straße", "D19"), ("ÜBER", "D19"), (None, "D21"), ("true", "D17"),
    ("", "D17"), ("12abc", "D20"), ("-7d", "D22"), ("2024-06-01T10:00:00+02:00", "D22"), ("v2.0", "D23"),
    ("01.2.3", "D23"), ("(a+)+$", "D24"), ("[", "D24"), (["pro", "free"], "D18"), ({"k": 1}, "D18"),
]


def filter_value(rng, key, op, odd):
    if odd is not None:
        return odd
    if op in ("regex", "not_regex"):
        return rng.choice(["^pro", "example\\.com$", "^[A-Z]{2}$", "1\\.2"])
    if op in ("is_date_before", "is_date_after"):
        return rng.choice(["2024-01-01", "2024-12-31", "-30d", "-1y"])
    if op.startswith("semver"):
        return rng.choice(["1.2.3", "2.0.0", "2.1", "2.*"]) if op == "semver_wildcard" or rng.random() < 0.8 else "2.1"
    if op in ("gt", "gte", "lt", "lte"):
        return rng.choice([18, 25, 40, 5, 42])
    if op == "exact" and rng.random() < 0.3:
        return rng.sample(PLAIN.get(key, ["x"]), k=min(2, len(PLAIN.get(key, ["x"]))))
    return rng.choice(PLAIN.get(key, ["x"]))


def person_filter(rng, odd_rate):
    key = rng.choice(PERSON_KEYS)
    op = rng.choice(OPERATORS)
    odd = None
    tags = []
    if rng.random() < odd_rate:
        odd, row = rng.choice(ODD)
        tags.append(row)
    f = {"key": key, "operator": op, "type": "person"}
    if op not in ("is_set", "is_not_set"):
        f["value"] = filter_value(rng, key, op, odd)
    if rng.random() < 0.1:
        f["negation"] = True
    return f, tags


def flag(rng, i, keys_before, cohort_ids, odd_rate):
    tags = []
    groups = []
    aggregation = 0 if rng.random() < 0.15 else None
    for _ in range(rng.choice([1, 1, 2, 3])):
        props = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            kind = rng.random()
            if aggregation is not None:
                props.append({"key": rng.choice(["tier", "size"]), "operator": rng.choice(["exact", "is_set", "gt"]),
                              "value": rng.choice(["gold", "silver", 10, 100]), "type": "group", "group_type_index": 0})
            elif kind < 0.12 and cohort_ids:
                props.append({"key": "id", "value": rng.choice(cohort_ids), "type": "cohort",
                              "operator": rng.choice(["in", "in", "not_in"])})
            elif kind < 0.22 and keys_before:
                props.append({"key": rng.choice(keys_before), "type": "flag", "operator": "flag_evaluates_to",
                              "value": rng.choice([True, False, "control"])})
            else:
                f, t = person_filter(rng, odd_rate)
                props.append(f)
                tags += t
        group = {"properties": props, "rollout_percentage": rng.choice([0, 30, 50, 100, 100, None])}
        if rng.random() < 0.15:
            group["variant"] = "test"
        groups.append(group)
    filters = {"groups": groups, "payloads": {}}
    if rng.random() < 0.2:
        filters["early_exit"] = True
    if rng.random() < 0.1:
        filters["holdout"] = {"id": rng.randrange(1, 50), "exclusion_percentage": rng.choice([0, 10, 50, 100])}
    if aggregation is not None:
        filters["aggregation_group_type_index"] = aggregation
    if rng.random() < 0.35:
        filters["multivariate"] = {"variants": [{"key": "control", "rollout_percentage": 50},
                                                {"key": "test", "rollout_percentage": 50}]}
        filters["payloads"] = {"control": json.dumps({"v": "c"}), "test": json.dumps([1, 2])}
    else:
        for g in groups:
            g.pop("variant", None)
        if rng.random() < 0.5:
            filters["payloads"] = {"true": json.dumps({"on": i})}
    f = {"id": 1000 + i, "key": f"flag-{i}", "active": rng.random() > 0.08, "version": 1 + rng.randrange(5),
         "filters": filters, "ensure_experience_continuity": rng.random() < 0.03}
    r = rng.random()
    if r < 0.03:
        f["deleted"] = True
        tags.append("D5")  # the SDKs read a deleted flag as live; hogflags and the server do not
    elif r < 0.08:
        f["evaluation_runtime"] = rng.choice(["client", "server", "all"])
    if rng.random() < 0.03:
        f["filters"]["super_groups"] = [{"properties": [{"key": "$feature_enrollment/flag-%d" % i, "value": ["true"],
                                                          "operator": "exact", "type": "person"}],
                                         "rollout_percentage": 100}]
    return f, sorted(set(tags))


def cohorts(rng):
    out = {}
    for cid in (7, 8):
        out[str(cid)] = {"type": "OR", "values": [{"type": "AND", "values": [
            {"key": "plan", "value": rng.choice(PLAIN["plan"]), "type": "person", "operator": "exact"},
            {"key": "age", "value": rng.choice([18, 40]), "type": "person", "operator": rng.choice(["gt", "lt"])}]}]}
    return out


def user(rng, i, odd_rate):
    props = {}
    for key in PERSON_KEYS:
        r = rng.random()
        if r < 0.2:
            continue  # absent: local evaluation may be inconclusive
        if r < 0.2 + odd_rate:
            props[key] = rng.choice(ODD)[0]
        else:
            props[key] = rng.choice(PLAIN[key])
    u = {"distinct_id": f"user-{i}", "person_properties": props}
    if rng.random() < 0.3:
        u["groups"] = {"company": f"co-{rng.randrange(20)}"}
        if rng.random() < 0.7:
            u["group_properties"] = {"company": {"tier": rng.choice(["gold", "silver"]), "size": rng.choice([5, 50, 500])}}
    return u


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--flags", type=int, default=150)
    ap.add_argument("--users", type=int, default=120)
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    # Two documents: plain values only (every difference is a bug), and with odd values (differences must
    # fall in documented rows); each in both property-matching versions.
    for segment, odd_rate in (("plain", 0.0), ("odd", 0.25)):
        coh = cohorts(rng)
        flags, tags = [], {}
        for i in range(args.flags):
            f, t = flag(rng, i, [x["key"] for x in flags], [7, 8], odd_rate)
            flags.append(f)
            tags[f["key"]] = t
        users = [user(rng, i, odd_rate) for i in range(args.users)]
        for version in (1, 2):
            doc = {"flags": flags, "group_type_mapping": {"0": "company"}, "cohorts": coh}
            if version == 2:
                doc["property_matching_version"] = 2
            (out / f"{segment}_v{version}.json").write_text(json.dumps({
                "segment": segment, "matching_version": version, "definitions": doc, "users": users, "odd_rows": tags,
                "person_keys": PERSON_KEYS, "group_keys": ["tier", "size"],
            }, indent=None))
    print(f"parity input: 4 documents x {args.flags} flags x {args.users} users in {out} (seed {args.seed})")


if __name__ == "__main__":
    main()
