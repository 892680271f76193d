"""The FlagsEngine API: loading, every evaluation method, result objects, identifiers, groups, clock."""

import json
import logging
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from types import MappingProxyType

import pytest

import hogflags
from hogflags import FeatureFlagEvaluations, FeatureFlagResult, FlagReason, FlagsEngine, Unresolved

PRO = {"plan": "pro"}


# --- loading -------------------------------------------------------------------------------------------


def test_loads_from_str_bytes_bytearray_dict_and_mapping(doc):
    text = json.dumps(doc)
    for definitions in (text, text.encode(), bytearray(text.encode()), doc, MappingProxyType(doc), OrderedDict(doc)):
        e = FlagsEngine(definitions)
        assert len(e) == len(doc["flags"])
        assert e.get_feature_flag("beta", "u1", person_properties=PRO) is True


def test_engine_introspection(engine, doc):
    assert engine.flag_keys == [f["key"] for f in doc["flags"]]
    assert "beta" in engine and "nope" not in engine and 5 not in engine
    assert engine.group_type_mapping == {"0": "company"}
    assert engine.skipped_flags == []
    assert engine.broken_cohorts == []
    assert repr(engine) == f"FlagsEngine(flags={len(doc['flags'])}, skipped=0)"


def test_bad_flag_is_skipped_and_logged(caplog):
    doc = {
        "flags": [
            {"key": "good", "active": True, "filters": {"groups": [{"rollout_percentage": 100}]}},
            {"key": "bad", "active": True, "filters": "not an object"},
            {"key": "good", "active": False, "filters": {}},
        ]
    }
    with caplog.at_level(logging.WARNING, logger="hogflags"):
        e = FlagsEngine(doc)
    assert e.flag_keys == ["good"]
    assert [k for k, _ in e.skipped_flags] == ["bad", "good"]
    assert "duplicate" in e.skipped_flags[1][1]
    assert e.get_feature_flag("good", "u") is True
    assert e.get_feature_flag("bad", "u") is None
    records = [r for r in caplog.records if r.name == "hogflags"]
    assert len(records) == 1 and "2 flag(s) not loaded" in records[0].getMessage()


def test_empty_document():
    e = FlagsEngine('{"flags": []}')
    assert len(e) == 0
    assert e.get_all_flags("u") == {}
    assert e.evaluate_flags("u").unresolved == {}


def test_large_document_loads_and_evaluates():
    n = 20_000
    doc = {
        "flags": [
            {"key": f"f{i}", "active": True, "filters": {"groups": [{"properties": [], "rollout_percentage": i % 101}]}}
            for i in range(n)
        ]
    }
    e = FlagsEngine(json.dumps(doc))
    assert len(e) == n
    assert e.get_feature_flag("f100", "u") is True and e.get_feature_flag("f0", "u") is False
    assert len(e.get_all_flags("u")) == n


# --- single-flag methods ---------------------------------------------------------------------------------


def test_get_feature_flag_values(engine):
    assert engine.get_feature_flag("beta", "u1", person_properties=PRO) is True
    assert engine.get_feature_flag("beta", "u1", person_properties={"plan": "free"}) is False
    assert engine.get_feature_flag("beta", "u1") is None  # missing property: inconclusive
    assert engine.get_feature_flag("off", "u1") is False
    assert engine.get_feature_flag("multi", "u1") == "test"
    assert engine.get_feature_flag("unknown-flag", "u1") is None
    assert engine.get_feature_flag("static-cohort", "u1") is None


def test_feature_enabled(engine):
    assert engine.feature_enabled("beta", "u1", person_properties=PRO) is True
    assert engine.feature_enabled("beta", "u1", person_properties={"plan": "x"}) is False
    assert engine.feature_enabled("multi", "u1") is True
    assert engine.feature_enabled("beta", "u1") is None


def test_get_feature_flag_payload(engine):
    assert engine.get_feature_flag_payload("beta", "u1", person_properties=PRO) == {"color": "blue"}
    assert engine.get_feature_flag_payload("beta", "u1", person_properties={"plan": "x"}) is None
    assert engine.get_feature_flag_payload("multi", "u1") == [1, 2]
    assert engine.get_feature_flag_payload("everyone", "u1") is None
    # A fresh object each time: mutating one never changes the engine.
    p = engine.get_feature_flag_payload("multi", "u1")
    p.append(3)
    assert engine.get_feature_flag_payload("multi", "u1") == [1, 2]


def test_get_feature_flag_result(engine):
    r = engine.get_feature_flag_result("beta", "u1", person_properties=PRO)
    assert isinstance(r, FeatureFlagResult)
    assert (r.key, r.enabled, r.variant, r.payload) == ("beta", True, None, {"color": "blue"})
    assert (r.reason_code, r.condition_index, r.reason) == ("condition_match", 0, "Matched condition set 1")
    assert (r.flag_id, r.version) == (1, 3)
    assert r.get_value() is True and r.value is True
    m = engine.get_feature_flag_result("multi", "u1")
    assert (m.enabled, m.variant, m.get_value(), m.payload) == (True, "test", "test", [1, 2])
    off = engine.get_feature_flag_result("off", "u1")
    assert (off.enabled, off.get_value(), off.reason_code, off.condition_index) == (False, False, "flag_disabled", None)
    assert engine.get_feature_flag_result("beta", "u1") is None
    assert r == engine.get_feature_flag_result("beta", "u1", person_properties=PRO)
    assert r != m
    assert repr(r) == (
        "FeatureFlagResult(key='beta', enabled=True, variant=None, payload={'color': 'blue'}, "
        "reason_code='condition_match', condition_index=0)"
    )


# --- all-flags methods ---------------------------------------------------------------------------------


def test_get_all_flags_leaves_out_undecided(engine):
    flags = engine.get_all_flags("u1", person_properties=PRO)
    assert flags["beta"] is True and flags["off"] is False and flags["multi"] == "test"
    assert "static-cohort" not in flags and "device" not in flags and "company-flag" in flags
    assert list(flags) == [k for k in engine.flag_keys if k in flags]  # document order
    without = engine.get_all_flags("u1")
    assert "beta" not in without


def test_get_all_flags_subset(engine):
    assert engine.get_all_flags("u1", person_properties=PRO, flag_keys_to_evaluate=["beta", "multi", "nope"]) == {
        "beta": True,
        "multi": "test",
    }
    assert engine.get_all_flags("u1", flag_keys_to_evaluate=[]) == {}
    assert engine.get_all_flags("u1", flag_keys_to_evaluate=("multi",)) == {"multi": "test"}


def test_get_all_flags_and_payloads(engine):
    out = engine.get_all_flags_and_payloads("u1", person_properties=PRO)
    assert set(out) == {"featureFlags", "featureFlagPayloads"}
    assert out["featureFlags"] == engine.get_all_flags("u1", person_properties=PRO)
    assert out["featureFlagPayloads"] == {"beta": {"color": "blue"}, "multi": [1, 2]}


def test_evaluate_flags(engine):
    ev = engine.evaluate_flags("u1", person_properties=PRO)
    assert isinstance(ev, FeatureFlagEvaluations)
    assert ev.distinct_id == "u1"
    assert ev.flags == engine.get_all_flags("u1", person_properties=PRO)
    assert ev.payloads == {"beta": {"color": "blue"}, "multi": [1, 2]}
    assert isinstance(ev.reasons["beta"], FlagReason)
    assert ev.reasons["off"].code == "flag_disabled" and ev.reasons["off"].condition_index is None
    assert str(ev.reasons["beta"]) == "Matched condition set 1"
    assert ev.unresolved["static-cohort"].kind == "missing_cohort"
    assert isinstance(ev.unresolved["device"], Unresolved) and ev.unresolved["device"].kind == "missing_device_id"
    assert set(ev.flags).isdisjoint(ev.unresolved)
    assert set(ev.flags) | set(ev.unresolved) == set(engine.flag_keys)
    assert ev.is_enabled("beta") and not ev.is_enabled("off") and not ev.is_enabled("static-cohort")
    assert ev.get_flag("multi") == "test" and ev.get_flag("static-cohort") is None
    assert ev.get_flag_payload("multi") == [1, 2] and ev.get_flag_payload("off") is None
    assert ev.keys() == list(ev.flags) and len(ev) == len(ev.flags) and "beta" in ev


def test_evaluate_flags_subset_and_unknown_keys(engine):
    ev = engine.evaluate_flags("u1", flag_keys=["beta", "nope", "multi"])
    assert ev.flags == {"multi": "test"}
    assert ev.unresolved["beta"].kind == "missing_property" and ev.unresolved["beta"].detail == "plan"
    assert ev.unresolved["nope"].kind == "unknown_flag"
    assert str(ev.unresolved["beta"]) == "missing_property (plan)"
    assert repr(ev.unresolved["nope"]) == "Unresolved(kind='unknown_flag', detail=None)"


def test_unresolved_and_reason_are_values(engine):
    a = engine.evaluate_flags("u1").unresolved["beta"]
    b = engine.evaluate_flags("u2").unresolved["beta"]
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    r1 = engine.evaluate_flags("u1", person_properties=PRO).reasons["beta"]
    r2 = engine.evaluate_flags("u9", person_properties=PRO).reasons["beta"]
    assert r1 == r2 and hash(r1) == hash(r2)
    assert r1 != engine.evaluate_flags("u1", person_properties={"plan": "x"}).reasons["beta"]


# --- identifiers, groups, device id, clock ------------------------------------------------------------------


def test_integer_distinct_id_is_its_decimal_text(engine):
    assert engine.get_feature_flag("by-id", 42) is True
    assert engine.get_feature_flag("by-id", "42") is True
    assert engine.get_feature_flag("by-id", 43) is False
    assert engine.get_feature_flag("by-id", 42.0) is False  # a float's text is "42.0"
    assert engine.evaluate_flags(42).distinct_id == "42"
    assert engine.evaluate_flags(-7).distinct_id == "-7"
    assert engine.evaluate_flags(2**64 - 1).distinct_id == "18446744073709551615"
    for i in range(200):  # the rollout hash sees the same text
        assert engine.get_feature_flag("half", i) == engine.get_feature_flag("half", str(i))


def test_integer_group_keys_are_their_decimal_text(engine):
    props = {"company": {"size": 50}}
    for i in range(200):
        as_int = engine.get_feature_flag_result("company-half", "u", groups={"company": i})
        as_str = engine.get_feature_flag_result("company-half", "u", groups={"company": str(i)})
        assert as_int == as_str
    assert engine.get_feature_flag("company-flag", "u", groups={"company": 7}, group_properties=props) is True


def test_group_flags(engine):
    r = engine.get_feature_flag_result("company-flag", "u")
    assert (r.get_value(), r.reason_code) == (False, "no_group_type")
    g = {"company": "acme"}
    assert engine.get_feature_flag("company-flag", "u", groups=g) is None  # size unknown
    assert engine.get_feature_flag("company-flag", "u", groups=g, group_properties={"company": {"size": 11}}) is True
    assert engine.get_feature_flag("company-flag", "u", groups=g, group_properties={"company": {"size": 3}}) is False
    # Properties of another group type, or for a group that was not passed, are not used.
    assert engine.get_feature_flag("company-flag", "u", groups=g, group_properties={"team": {"size": 11}}) is None
    assert engine.get_feature_flag("company-flag", "u", group_properties={"company": {"size": 11}}) is False


@pytest.mark.parametrize("key", [True, False, None, [1], {"a": 1}, float("nan")])
def test_group_key_without_text_means_group_absent(engine, key):
    r = engine.get_feature_flag_result(
        "company-flag", "u", groups={"company": key}, group_properties={"company": {"size": 50}}
    )
    assert (r.get_value(), r.reason_code) == (False, "no_group_type")


def test_device_id(engine):
    assert engine.get_feature_flag("device", "u") is None
    assert engine.get_feature_flag("device", "u", device_id="d-1") is True
    assert engine.get_feature_flag("device", "u", person_properties={"$device_id": "d-1"}) is True


def test_now_pins_the_clock(engine):
    props = {"signed_up": "2026-01-10T00:00:00Z"}
    soon = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
    later = soon + timedelta(days=90)
    assert engine.get_feature_flag("recent", "u", person_properties=props, now=soon) is True
    assert engine.get_feature_flag("recent", "u", person_properties=props, now=later) is False
    # A naive datetime is read as UTC; any time zone is honoured.
    assert engine.get_feature_flag("recent", "u", person_properties=props, now=datetime(2026, 1, 15)) is True
    east = datetime(2026, 4, 15, 1, 0, tzinfo=timezone(timedelta(hours=5)))
    assert engine.get_feature_flag("recent", "u", person_properties=props, now=east) is False


def test_none_arguments_mean_absent(engine):
    assert engine.get_feature_flag(
        "everyone", "u", groups=None, person_properties=None, group_properties=None, device_id=None, now=None
    ) is True


def test_keyword_only_arguments(engine):
    with pytest.raises(TypeError):
        engine.get_feature_flag("beta", "u", None, PRO)  # posthog-python: everything after distinct_id is keyword-only
    with pytest.raises(TypeError):
        engine.get_feature_flag("beta", "u", person_propertys=PRO)


def test_version():
    assert isinstance(hogflags.__version__, str) and hogflags.__version__.count(".") == 2
