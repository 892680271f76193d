"""Hostile conditions: a throttling server, Ctrl-C during blocking calls, odd dict keys and broken logging.
Every bound asserted here is the one python/README.md states."""

import json
import logging
import os
import re
import signal
import sys
import threading
import time

import pytest

import hogflags
from hogflags import ClientError
from testserver import flag

DOC = {"flags": [flag("everyone"), flag("beta", prop="plan")], "group_type_mapping": {}, "cohorts": {}}


@pytest.fixture
def served(server):
    server.reset(DOC)
    return server


def status_429(retry_after, times=1):
    return {"target": "definitions", "kind": "status", "status": 429, "retry_after": retry_after, "count": times}


def test_reload_under_rate_limiting_returns_within_its_timeout(served, make_client):
    c = make_client(definitions_timeout=1.0, poll_interval=30)
    assert c.wait_until_ready(5)
    served.faults([status_429(4)])
    t = time.monotonic()
    with pytest.raises(ClientError) as e:
        c.reload_feature_flags()
    assert e.value.code == "rate_limited"
    assert time.monotonic() - t < 1.0 + 1.0
    # Inside the window: no request, no wait.
    before = served.stats()["definitions_requests"]
    t = time.monotonic()
    with pytest.raises(ClientError) as e:
        c.reload_feature_flags()
    assert e.value.code == "rate_limited"
    assert time.monotonic() - t < 0.2
    assert served.stats()["definitions_requests"] == before
    assert c.get_feature_flag("everyone", "u") is True


def test_a_huge_retry_after_is_bounded_by_max_backoff(served, make_client):
    c = make_client(max_backoff=1.0, poll_interval=0.2, definitions_timeout=1.0)
    assert c.wait_until_ready(5)
    served.faults([status_429(1e20)])
    t = time.monotonic()
    with pytest.raises(ClientError) as e:
        c.reload_feature_flags()
    assert e.value.code == "rate_limited"
    assert time.monotonic() - t < 2.0
    # The server is healthy again at once: polling resumes after max_backoff (1 s), not after an hour.
    before = served.stats()["definitions_requests"]
    time.sleep(3.0)
    assert served.stats()["definitions_requests"] >= before + 3


def test_max_retry_after_honours_longer_waits_when_asked(served, make_client):
    c = make_client(max_backoff=1.0, max_retry_after=60.0, poll_interval=0.2)
    assert c.wait_until_ready(5)
    served.faults([status_429(30)])
    with pytest.raises(ClientError):
        c.reload_feature_flags()
    before = served.stats()["definitions_requests"]
    time.sleep(1.5)
    assert served.stats()["definitions_requests"] == before


def interrupt_in(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread")
def test_ctrl_c_interrupts_blocking_calls(served, make_client):
    # Python leaves SIGINT ignored when it was ignored at start-up (a shell's background job): install the
    # KeyboardInterrupt handler a terminal session has, for this test only.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_interrupts_blocking_calls(served, make_client)
    finally:
        signal.signal(signal.SIGINT, previous)


def _ctrl_c_interrupts_blocking_calls(served, make_client):
    # wait_until_ready on a client that cannot become ready (definitions hang)
    served.faults([{"target": "definitions", "kind": "hang", "hang_ms": 20000, "count": 100}])
    c = make_client(definitions_timeout=10.0)
    interrupt_in(0.5)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        c.wait_until_ready(6)
    assert time.monotonic() - t < 1.0
    # reload waiting for a hanging fetch
    served.reset(DOC)
    ok = make_client(definitions_timeout=10.0, poll_interval=60)
    assert ok.wait_until_ready(5)
    served.faults([{"target": "definitions", "kind": "hang", "hang_ms": 20000}])
    interrupt_in(0.5)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ok.reload_feature_flags()
    assert time.monotonic() - t < 1.0
    # a /flags fallback against a hanging server
    served.faults([{"target": "flags", "kind": "hang", "hang_ms": 20000, "count": 2}])
    c2 = make_client(feature_flags_request_timeout_seconds=10.0)
    assert c2.wait_until_ready(5)
    interrupt_in(0.5)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        c2.get_feature_flag("not-defined-locally", "u")
    assert time.monotonic() - t < 1.0
    # manual mode: tick blocks on this thread
    served.faults([{"target": "definitions", "kind": "hang", "hang_ms": 20000}])
    m = make_client(manual=True, definitions_timeout=10.0)
    interrupt_in(0.5)
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        m.tick()
    assert time.monotonic() - t < 1.0
    # and the client still works afterwards
    assert ok.get_feature_flag("everyone", "u") is True


def regex_flag(key, pattern):
    return {"key": key, "active": True, "filters": {"groups": [{"properties": [
        {"key": "meta", "value": pattern, "operator": "regex", "type": "person"}], "rollout_percentage": 100}]}}


@pytest.mark.parametrize("key", [float("nan"), float("inf"), float("-inf"), 1.5, 1e20])
def test_float_dict_keys_are_written_as_json_dumps_writes_them(key):
    text = json.dumps({key: 1})
    (written,) = json.loads(text).keys()  # "NaN", "Infinity", "-Infinity", "1.5", "1e+20"
    engine = hogflags.FlagsEngine({"flags": [regex_flag("k", '"' + re.escape(written) + '"')]})
    assert engine.get_feature_flag("k", "u", person_properties={"meta": {key: 1}}) is True
    # and the same as the parsed JSON would be
    assert engine.get_feature_flag("k", "u", person_properties={"meta": json.loads(text)}) is True


def test_a_raising_logging_filter_does_not_fail_loading(monkeypatch):
    class Broken(logging.Filter):
        def filter(self, record):
            raise RuntimeError("broken filter")

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    logger = logging.getLogger("hogflags")
    broken = Broken()
    logger.addFilter(broken)
    try:
        doc = {"flags": [flag("everyone"), {"key": "bad", "active": True, "filters": {"groups": "nope"}}]}
        engine = hogflags.FlagsEngine(doc)
    finally:
        logger.removeFilter(broken)
    assert engine.get_feature_flag("everyone", "u") is True
    assert [k for k, _ in engine.skipped_flags] == ["bad"]
    assert any(isinstance(e, RuntimeError) and "broken filter" in str(e) for e in seen)
