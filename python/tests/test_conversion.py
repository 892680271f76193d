"""Python values reach the core as posthog-python would send them to PostHog (python/README.md,
"Value conversion"); only the properties the definitions read are converted."""

import enum
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest


def p(engine, flag, value):
    return engine.get_feature_flag(flag, "u", person_properties={"p": value})


def test_bool_is_not_an_int(engine):
    assert p(engine, "p-text-true", True) is True
    assert p(engine, "p-text-1", True) is False
    assert p(engine, "p-text-1", 1) is True
    assert p(engine, "p-text-true", 1) is False


def test_64_bit_integers_are_exact(engine):
    assert p(engine, "p-i64-max", 2**63 - 1) is True
    assert p(engine, "p-u64-max", 2**64 - 1) is True
    assert p(engine, "p-i64-max", 2**63 - 2) is False


def test_larger_integers_read_as_json_parsers_read_them(engine):
    # Beyond 64 bits an integer literal is read as a float, as serde_json (and PostHog) read it.
    assert p(engine, "p-gt-1e19", 10**20) is True
    assert p(engine, "p-gt-1e19", -(10**20)) is False
    assert p(engine, "p-u64-max", 2**64 + 1) is False


def test_integers_beyond_the_float_range_are_an_error(engine):
    with pytest.raises(ValueError, match=r"person_properties\['p'\]"):
        p(engine, "p-gt-1", 10**400)


def test_floats(engine):
    assert p(engine, "p-gt-1", 1.5) is True
    assert p(engine, "p-gt-1", 0.5) is False
    assert p(engine, "p-text-1", 1.0) is False  # 1.0 is the text "1.0", as in JSON


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_become_null(engine, value):
    for flag in ("p-is-set", "p-is-not-v", "p-text-null", "p-gt-1"):
        assert p(engine, flag, value) == p(engine, flag, None), flag
    assert p(engine, "p-is-set", value) is True  # present (as null), not dropped


def test_none_is_null(engine):
    assert p(engine, "p-is-set", None) is True
    assert p(engine, "p-is-not-v", None) is True


def test_datetime_date_uuid_decimal(engine):
    assert p(engine, "p-datetime", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) is True
    assert p(engine, "p-date", date(2024, 1, 2)) is True
    assert p(engine, "p-uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")) is True
    assert p(engine, "p-gt-1", Decimal("1.25")) is True
    assert p(engine, "p-gt-1", Decimal("0.75")) is False


def test_lists_tuples_and_dicts_as_json(engine):
    assert p(engine, "p-list", ["a", "b"]) is True
    assert p(engine, "p-list", ("a", "b")) is True
    assert p(engine, "p-dict", {1: "x", "a": [1, 2.5, None, True]}) is True
    assert p(engine, "p-dict", {"1": "x", "a": (1, 2.5, float("nan"), True)}) is True


def test_subclasses_of_str_and_int():
    class Color(str, enum.Enum):
        RED = "red"

    class Num(enum.IntEnum):
        ONE = 1

    class MyStr(str):
        pass

    import hogflags
    from conftest import api_document

    e = hogflags.FlagsEngine(api_document())
    assert p(e, "p-enum", Color.RED) is True
    assert p(e, "p-enum", MyStr("red")) is True
    assert p(e, "p-text-1", Num.ONE) is True


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", 1j])
def test_unsupported_types_are_a_type_error_naming_the_property(engine, value):
    with pytest.raises(TypeError, match=r"person_properties\['p'\]"):
        p(engine, "p-gt-1", value)


def test_nested_unsupported_type_is_a_type_error(engine):
    with pytest.raises(TypeError, match=r"person_properties\['p'\]"):
        p(engine, "p-list", [1, object()])
    with pytest.raises(TypeError, match="dict keys"):
        p(engine, "p-dict", {(1, 2): "x"})


def test_self_containing_values_are_a_value_error(engine):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested"):
        p(engine, "p-list", loop)


def test_lone_surrogates_are_a_value_error(engine):
    with pytest.raises(ValueError):
        p(engine, "p-enum", "\ud800")


def test_only_read_properties_are_converted(engine):
    # Values no flag reads are never looked at, so even unconvertible ones cost nothing and raise nothing.
    props = {"plan": "pro", "unread": object(), **{f"junk{i}": {1, 2} for i in range(10_000)}}
    assert engine.get_feature_flag("beta", "u", person_properties=props) is True
    assert engine.get_all_flags("u", person_properties=props)["beta"] is True
    # Non-str keys are ignored, whichever way the dict is read.
    assert engine.get_feature_flag("beta", "u", person_properties={1: "x", "plan": "pro"}) is True
    small_engine_keys = {"plan": "pro", 3: 4, None: 5}
    assert engine.get_feature_flag("beta", "u", person_properties=small_engine_keys) is True


def test_group_properties_of_unread_types_are_not_looked_at(engine):
    gp = {"company": {"size": 20, "other": object()}, "team": object()}
    assert engine.get_feature_flag("company-flag", "u", groups={"company": "c"}, group_properties=gp) is True


def test_one_flag_converts_only_what_that_flag_reads():
    import hogflags

    doc = {
        "flags": [
            {"key": "reads-plan", "active": True, "filters": {"groups": [
                {"properties": [{"key": "plan", "value": "pro", "type": "person"}], "rollout_percentage": 100}]}},
            {"key": "reads-junk", "active": True, "filters": {"groups": [
                {"properties": [{"key": "junk", "value": "x", "type": "person"}], "rollout_percentage": 100}]}},
            {"key": "depends-on-junk", "active": True, "filters": {"groups": [{"properties": [
                {"key": "reads-junk", "value": True, "operator": "flag_evaluates_to", "type": "flag",
                 "dependency_chain": ["reads-junk"]}], "rollout_percentage": 100}]}},
        ]
    }
    engine = hogflags.FlagsEngine(doc)
    props = {"plan": "pro", "junk": object()}  # "junk" cannot be converted
    # Another flag reads "junk"; evaluating this one never looks at it.
    assert engine.get_feature_flag("reads-plan", "u", person_properties=props) is True
    assert engine.get_feature_flag_result("reads-plan", "u", person_properties=props).enabled is True
    # The flag that reads it, a flag depending on it, and every-flag calls do convert it.
    for call in (
        lambda: engine.get_feature_flag("reads-junk", "u", person_properties=props),
        lambda: engine.feature_enabled("depends-on-junk", "u", person_properties=props),
        lambda: engine.get_all_flags("u", person_properties=props),
    ):
        with pytest.raises(TypeError, match=r"person_properties\['junk'\]"):
            call()
    # An unknown flag is undecided.
    assert engine.get_feature_flag("missing", "u", person_properties={"plan": "pro"}) is None
