"""Answers of hogflags and of posthog-python for every (flag, user) of the parity input, as JSON lines.

hogflags is the core through the Python package (FlagsEngine on the document's JSON text, so numbers are
read as written); posthog-python is its public Client with local evaluation only (definitions set as its
poller sets them, no network, no events). Each line: {"doc", "flag", "user", "hogflags": {"value",
"payload"}, "posthog_python": {...}}, value null when undecided. For rows hogflags decides, it also says
whether the answer can depend on data the user lacks: every property key the flag reads that the user
has not given is filled with values of every kind, and the answer must stay the same ("stable").

  python tests/parity/run_python.py INPUT_DIR OUT.jsonl
"""

import json
import pathlib
import sys
import warnings

import hogflags

FILLERS = ["pro", "US", 0, 17, 42, 99, True, False, "", "2024-06-01", "2.1.5", "a@example.com", None]


def posthog_client(doc):
    from posthog.client import Client

    client = Client("phc_parity", host="http://127.0.0.1:9", personal_api_key="phx_parity",
                    enable_local_evaluation=False, send=False, disable_geoip=True)
    state = {"flags": doc["flags"], "group_type_mapping": doc.get("group_type_mapping", {}),
             "cohorts": doc.get("cohorts", {})}
    if "property_matching_version" in doc:
        state["property_matching_version"] = doc["property_matching_version"]
    client._update_flag_state(state)
    return client


def kwargs_of(user):
    kw = {"person_properties": user.get("person_properties", {})}
    if "groups" in user:
        kw["groups"] = user["groups"]
    if "group_properties" in user:
        kw["group_properties"] = user["group_properties"]
    return kw


def stable(engine, key, user, value, person_keys, group_keys):
    """Whether hogflags' answer stays `value` whatever the user's missing properties are: each filler value
    in turn for every property the generator may use that this user lacks (person and group)."""
    missing = [k for k in person_keys if k not in user.get("person_properties", {})]
    groups = user.get("groups", {})
    given = user.get("group_properties", {})
    missing_group = {g: [k for k in group_keys if k not in given.get(g, {})] for g in groups}
    if not missing and not any(missing_group.values()):
        return True
    for filler in FILLERS:
        kw = kwargs_of(user)
        kw["person_properties"] = dict(kw["person_properties"], **{k: filler for k in missing})
        if groups:
            kw["group_properties"] = {g: dict(given.get(g, {}), **{k: filler for k in ks}) for g, ks in missing_group.items()}
        if engine.get_feature_flag(key, user["distinct_id"], **kw) != value:
            return False
    return True


def main():
    inp, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    warnings.simplefilter("ignore")
    with out.open("w") as w:
        for path in sorted(inp.glob("*.json")):
            data = json.loads(path.read_text())
            doc = data["definitions"]
            engine = hogflags.FlagsEngine(json.dumps(doc))
            ph = posthog_client(doc)
            for flag in doc["flags"]:
                key = flag["key"]
                for user in data["users"]:
                    did, kw = user["distinct_id"], kwargs_of(user)
                    h = engine.get_feature_flag(key, did, **kw)
                    hp = engine.get_feature_flag_payload(key, did, **kw) if h is not None else None
                    try:
                        p = ph.get_feature_flag(key, did, only_evaluate_locally=True, send_feature_flag_events=False, **kw)
                        pp = ph.get_feature_flag_payload(key, did, only_evaluate_locally=True,
                                                         send_feature_flag_events=False, **kw) if p is not None else None
                    except Exception as e:  # an SDK exception is its answer: undecided
                        p, pp = None, None
                        print(f"posthog-python raised on {path.stem}/{key}/{did}: {type(e).__name__}: {e}", file=sys.stderr)
                    row = {"doc": path.stem, "flag": key, "user": did,
                           "hogflags": {"value": h, "payload": hp},
                           "posthog_python": {"value": p, "payload": pp}}
                    if h is not None:
                        row["hogflags"]["stable"] = stable(engine, key, user, h, data["person_keys"], data["group_keys"])
                    w.write(json.dumps(row) + "\n")
    print(f"python answers written to {out}")


if __name__ == "__main__":
    main()
