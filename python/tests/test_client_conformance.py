"""The client conformance corpus (tests/client/cases.json) through FlagsClient: answers, the /flags
requests each call makes, the $feature_flag_called events and the errors, as in every binding."""

import json
import pathlib

import pytest

import hogflags
from testserver import PROJECT_KEY, SECRET_KEY

CORPUS = json.loads((pathlib.Path(__file__).resolve().parents[2] / "tests" / "client" / "cases.json").read_text())


def matches(expected, got):
    """Every field of `expected` is in `got` with the same value (objects compared field by field)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(matches(v, got.get(k)) for k, v in expected.items())
    return expected == got


def requests_made(server, before):
    stats = server.stats()
    body = stats.get("last_flags_request") or {}
    keys = body.get("flag_keys_to_evaluate")
    return {
        "count": stats["flags_requests"] - before,
        "flag_keys": sorted(keys) if isinstance(keys, list) else None,
        "person_properties": body.get("person_properties"),
    }


def make(server, case, events):
    opts = case.get("client", {})
    kwargs = {"host": server.url, "poll_interval": 0.2, "jitter": 0.0, "use_system_proxy": False,
              "feature_flags_request_timeout_seconds": 1.0, "on_feature_flag_called": events.append}
    secret = opts.get("secret_key", SECRET_KEY)
    if secret is not None:
        kwargs["secret_key"] = secret
    if "only_evaluate_locally" in opts:
        kwargs["only_evaluate_locally"] = opts["only_evaluate_locally"]
    return hogflags.FlagsClient(PROJECT_KEY, **kwargs)


def run_call(client, call):
    kw = {"only_evaluate_locally": call.get("only_evaluate_locally", False)}
    if "person_properties" in call:
        kw["person_properties"] = call["person_properties"]
    if call["call"] == "flag":
        r = client.get_feature_flag_result(call["key"], call["distinct_id"], **kw)
        if r is None:
            # The one-flag API answers None for an unresolved flag; the kind is checked through the event.
            return None
        return {"value": r.variant if r.variant is not None else r.enabled,
                "source": "local" if r.locally_evaluated else "remote"}
    ev = client.evaluate_flags(call["distinct_id"], flag_keys=call.get("flag_keys"), **kw)
    return {"flags": dict(ev.flags),
            "unresolved": {k: {"kind": u.kind, "detail": u.detail} for k, u in ev.unresolved.items()}}


@pytest.mark.parametrize("case", CORPUS["cases"], ids=[c["name"] for c in CORPUS["cases"]])
def test_client_conformance(server, case):
    server.reset(case.get("definitions", CORPUS["definitions"]))
    for distinct_id, props in CORPUS["persons"].items():
        server.person(distinct_id, props)
    if case.get("quota_limited"):
        server.quota_limited(True)
    events = []
    if "expect_error" in case:
        with pytest.raises(hogflags.HogflagsError) as info:
            make(server, case, events)
        assert info.value.code == case["expect_error"]
        return
    client = make(server, case, events)
    try:
        if case.get("client", {}).get("secret_key", SECRET_KEY) is not None:
            assert client.wait_until_ready(5)
        if case.get("faults"):
            server.faults(case["faults"])
        for i, call in enumerate(case["calls"]):
            before = server.stats()["flags_requests"]
            del events[:]
            got = run_call(client, call)
            expected = call["expect"]
            if call["call"] == "flag" and "kind" in expected:
                assert got is None, f"call {i}: {got}, expected unresolved {expected}"
            else:
                assert got == expected, f"call {i}"
            want = dict(call["expect_requests"])
            if isinstance(want.get("flag_keys"), list):
                want["flag_keys"] = sorted(want["flag_keys"])
            made = requests_made(server, before)
            assert matches(want, made), f"call {i}: /flags requests {made}, expected {want}"
            if "expect_events" in call:
                got_events = [{"flag": e["properties"]["$feature_flag"],
                               "response": e["properties"]["$feature_flag_response"],
                               "error": e["properties"].get("$feature_flag_error")}
                              for e in events if e["event"] == "$feature_flag_called"]
                assert got_events == call["expect_events"], f"call {i}"
    finally:
        client.shutdown()
