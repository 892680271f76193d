"""Bad input: typed exceptions with clear messages, never a crash."""

import json

import pytest

import hogflags
from hogflags import FlagsEngine, HogflagsError, InternalError, InvalidDefinitionsError


@pytest.mark.parametrize(
    "definitions",
    ["{", "", "[]", "null", "{}", '{"flags": 5}', '{"flags": [1, 2', b"\xff\xfe", '{"flags": []}garbage'],
)
def test_malformed_documents(definitions):
    with pytest.raises(InvalidDefinitionsError) as info:
        FlagsEngine(definitions)
    assert isinstance(info.value, ValueError) and isinstance(info.value, HogflagsError)
    assert "definitions document" in str(info.value)


def test_dict_that_is_not_json():
    with pytest.raises(InvalidDefinitionsError, match="JSON"):
        FlagsEngine({"flags": [], "x": {1, 2}})
    with pytest.raises(InvalidDefinitionsError, match="JSON"):
        FlagsEngine({"flags": [{"key": "a", "rollout": float("nan")}]})


def test_document_over_the_size_limit():
    big = b'{"flags": []' + b" " * (64 * 1024 * 1024) + b"}"
    with pytest.raises(InvalidDefinitionsError, match="over the limit"):
        FlagsEngine(big)


@pytest.mark.parametrize(
    "definitions",
    [
        '{"flags": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"flags": [{"key": "a", "filters": {"payloads": {"true": ' + "[" * 100_000 + "]" * 100_000 + "}}}]}",
        '{"flags": [{"key": "a", "filters": {"payloads": {"true": "' + "[" * 100_000 + "]" * 100_000 + '"}}}]}',
        '{"flags": [{"key": "a", "filters": {"groups": [{"properties": [{"key": "p", "value": '
        + "[" * 100_000 + "]" * 100_000 + "}]}]}}]}",
    ],
)
def test_deeply_nested_documents_do_not_crash(definitions):
    # Refused, or loaded with the offending flag skipped: never a stack overflow.
    try:
        e = FlagsEngine(definitions)
    except InvalidDefinitionsError:
        return
    assert e.get_feature_flag("a", "u") in (None, False)


@pytest.mark.parametrize("definitions", [None, 5, 1.5, ["flags"], object()])
def test_definitions_of_the_wrong_type(definitions):
    with pytest.raises(TypeError, match="definitions must be"):
        FlagsEngine(definitions)


@pytest.mark.parametrize("distinct_id", [None, True, False, ["u"], {"id": 1}, b"u", object()])
def test_bad_distinct_id(engine, distinct_id):
    with pytest.raises(TypeError, match="distinct_id"):
        engine.get_feature_flag("beta", distinct_id)
    with pytest.raises(TypeError, match="distinct_id"):
        engine.get_all_flags(distinct_id)


def test_nan_distinct_id(engine):
    with pytest.raises(ValueError, match="distinct_id"):
        engine.get_feature_flag("beta", float("nan"))


@pytest.mark.parametrize("key", [None, 5, b"beta", ["beta"]])
def test_bad_flag_key(engine, key):
    with pytest.raises(TypeError, match="flag key"):
        engine.get_feature_flag(key, "u")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"person_properties": ["plan", "pro"]}, "person_properties"),
        ({"person_properties": "plan=pro"}, "person_properties"),
        ({"groups": ["company"]}, "groups"),
        ({"groups": {5: "acme"}}, "group types"),
        ({"group_properties": [1]}, "group_properties"),
        ({"group_properties": {"company": [1]}}, r"group_properties\['company'\]"),
        ({"device_id": 5}, "device_id"),
        ({"now": "2026-01-01T00:00:00Z"}, "now"),
    ],
)
def test_bad_argument_types(engine, kwargs, match):
    with pytest.raises(TypeError, match=match):
        engine.get_feature_flag("company-flag", "u", **kwargs)


@pytest.mark.parametrize("keys", ["beta", 5, [1], ["beta", None]])
def test_bad_flag_key_lists(engine, keys):
    with pytest.raises(TypeError, match="flag keys"):
        engine.get_all_flags("u", flag_keys_to_evaluate=keys)
    with pytest.raises(TypeError, match="flag keys"):
        engine.evaluate_flags("u", flag_keys=keys)


def test_errors_leave_the_engine_usable(engine):
    with pytest.raises(TypeError):
        engine.get_feature_flag("beta", None)
    assert engine.get_feature_flag("beta", "u", person_properties={"plan": "pro"}) is True


@pytest.mark.parametrize("detached", [False, True])
def test_a_rust_panic_becomes_internal_error(detached):
    with pytest.raises(InternalError, match="internal error in hogflags") as info:
        hogflags._hogflags._panic_for_test(detached)
    assert isinstance(info.value, RuntimeError)


def test_exception_hierarchy():
    assert issubclass(InvalidDefinitionsError, ValueError)
    assert issubclass(InvalidDefinitionsError, HogflagsError)
    assert issubclass(InternalError, RuntimeError)
