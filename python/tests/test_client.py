"""FlagsClient against the local PostHog-compatible test server: polling, ETag, faults, `/flags` fallback,
events, logging, secrets."""

import logging
import sys
import threading
import time

import pytest

import hogflags
from hogflags import ClientError, ConfigurationError, FlagsClient
from testserver import PROJECT_KEY, SECRET_KEY, flag

DOC = {
    "flags": [
        flag("everyone"),
        flag("off", False),
        flag("beta", filters={
            "groups": [{"properties": [{"key": "plan", "value": "pro", "operator": "exact", "type": "person"}],
                        "rollout_percentage": 100}],
            "payloads": {"true": '{"color": "blue"}'}}),
        flag("static", filters={"groups": [{"properties": [{"key": "id", "value": 7, "type": "cohort"}],
                                            "rollout_percentage": 100}]}),
    ],
    "group_type_mapping": {"0": "company"},
    "cohorts": {},
}


def eventually(check, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        time.sleep(interval)


@pytest.fixture
def served(server):
    server.reset(DOC)
    return server


def test_polls_definitions_and_evaluates_locally(served, make_client):
    c = make_client()
    assert c.wait_until_ready(5) is True
    assert c.status["ready"] and c.status["flags_loaded"] == 4 and c.status["etag"]
    assert c.get_feature_flag("everyone", "u1") is True
    assert c.get_feature_flag("off", "u1") is False
    assert c.get_feature_flag("beta", "u1", person_properties={"plan": "pro"}) is True
    r = c.get_feature_flag_result("beta", "u1", person_properties={"plan": "pro"})
    assert r.locally_evaluated and r.payload == {"color": "blue"} and r.reason_code == "condition_match"
    assert served.stats()["flags_requests"] == 0  # all decided locally
    assert sorted(c.engine.flag_keys) == ["beta", "everyone", "off", "static"]


def test_picks_up_new_definitions_and_uses_etags(served, make_client):
    c = make_client()
    assert c.wait_until_ready(5)
    eventually(lambda: served.stats()["definitions_304"] >= 2)  # polls revalidate with If-None-Match
    etag = c.status["etag"]
    assert served.stats()["last_if_none_match"].strip('W/"') == etag.strip('W/"')
    served.set_definitions({"flags": [flag("everyone", False), flag("new")]})
    eventually(lambda: c.get_feature_flag("new", "u1", only_evaluate_locally=True) is True)
    assert c.get_feature_flag("everyone", "u1", only_evaluate_locally=True) is False
    assert c.status["etag"] != etag


def test_reload_fetches_at_once(served, make_client):
    c = make_client(poll_interval=3600)
    assert c.wait_until_ready(5)
    served.set_definitions({"flags": [flag("fresh")]})
    assert c.get_feature_flag("fresh", "u", only_evaluate_locally=True) is None
    c.reload_feature_flags()
    assert c.get_feature_flag("fresh", "u") is True


def test_remote_fallback_for_undecided_flags(served, make_client):
    c = make_client()
    assert c.wait_until_ready(5)
    served.person("u-remote", {"plan": "pro"})
    # Locally the plan is unknown; /flags knows the person.
    r = c.get_feature_flag_result("beta", "u-remote", person_properties={"unread": "sent anyway"})
    assert r is not None and r.enabled and not r.locally_evaluated
    stats = served.stats()
    assert stats["flags_requests"] == 1
    body = stats["last_flags_request"]
    assert body["distinct_id"] == "u-remote"
    # The /flags request carries every property passed, not only those the definitions read.
    assert body["person_properties"]["unread"] == "sent anyway"
    assert body["flag_keys_to_evaluate"] == ["beta"]


def test_only_evaluate_locally_never_asks_flags(served, make_client):
    c = make_client()
    assert c.wait_until_ready(5)
    assert c.get_feature_flag("beta", "u", only_evaluate_locally=True) is None
    assert c.get_all_flags("u", only_evaluate_locally=True) == {"everyone": True, "off": False}
    local_only = make_client(only_evaluate_locally=True)
    assert local_only.wait_until_ready(5)
    assert local_only.get_feature_flag("beta", "u") is None
    ev = local_only.evaluate_flags("u")
    assert ev.unresolved["beta"].kind == "missing_property"
    assert ev.unresolved["static"].kind == "missing_cohort"
    assert served.stats()["flags_requests"] == 0


def test_bulk_merge_asks_flags_once_for_undecided_keys(served, make_client):
    c = make_client()
    assert c.wait_until_ready(5)
    served.person("u-bulk", {"plan": "pro"})
    flags = c.get_all_flags("u-bulk")
    assert flags["beta"] is True and flags["everyone"] is True and flags["off"] is False
    stats = served.stats()
    assert stats["flags_requests"] == 1
    assert sorted(stats["last_flags_request"]["flag_keys_to_evaluate"]) == ["beta", "static"]
    ev = c.evaluate_flags("u-bulk")
    assert ev.flags["beta"] is True
    # The test server cannot resolve the static cohort either: PostHog's shape for a failed flag.
    assert ev.unresolved["static"].kind == "evaluation_failed"
    payloads = c.get_all_flags_and_payloads("u-bulk")
    assert payloads["featureFlagPayloads"] == {"beta": {"color": "blue"}}
    assert c.get_all_flags("u-bulk", flag_keys_to_evaluate=["everyone", "nope"]) == {"everyone": True}


def test_before_definitions_every_flag_comes_from_flags(served, make_client):
    served.faults([{"target": "definitions", "kind": "status", "status": 503, "count": 1000}])
    c = make_client(poll_interval=3600)
    served.person("u-early", {"plan": "pro"})
    assert c.get_feature_flag("beta", "u-early") is True
    assert c.get_all_flags("u-early")["everyone"] is True


def test_events_are_reported_once(served, make_client):
    events = []
    c = make_client(on_feature_flag_called=events.append)
    assert c.wait_until_ready(5)
    assert c.get_feature_flag("everyone", "u-ev", groups={"company": 5}) is True
    assert c.get_feature_flag("everyone", "u-ev", groups={"company": 5}) is True  # deduplicated
    assert c.feature_enabled("off", "u-ev") is False
    c.get_feature_flag("everyone", "u-other", send_feature_flag_events=False)
    c.get_feature_flag_payload("beta", "u-ev", person_properties={"plan": "pro"})  # no event by default
    assert [e["properties"]["$feature_flag"] for e in events] == ["everyone", "off"]
    e = events[0]
    assert e["event"] == "$feature_flag_called" and e["distinct_id"] == "u-ev"
    assert e["groups"] == {"company": "5"}
    p = e["properties"]
    assert p["$feature_flag_response"] is True and p["locally_evaluated"] is True
    assert p["$feature/everyone"] is True and p["$groups"] == {"company": "5"}
    assert "$feature_flag_definitions_loaded_at" in p


def test_a_failing_callback_does_not_break_evaluation(served, make_client, monkeypatch):
    def boom(event):
        raise RuntimeError("callback failed")

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    c = make_client(on_feature_flag_called=boom)
    assert c.wait_until_ready(5)
    assert c.get_feature_flag("everyone", "u") is True
    assert [str(r.exc_value) for r in reported] == ["callback failed"]


def test_server_errors_keep_the_last_definitions_and_are_reported(served, make_client, caplog):
    errors = []
    c = make_client(on_error=errors.append)
    assert c.wait_until_ready(5)
    with caplog.at_level(logging.WARNING, logger="hogflags"):
        served.faults([{"target": "definitions", "kind": "status", "status": 500, "count": 3}])
        eventually(lambda: len(errors) >= 1)
        assert c.get_feature_flag("everyone", "u") is True  # last good definitions
    assert isinstance(errors[0], ClientError) and errors[0].code == "server_error"
    assert any(r.name == "hogflags" and "500" in r.getMessage() for r in caplog.records)
    eventually(lambda: c.status["consecutive_failures"] == 0)  # recovered


@pytest.mark.parametrize("kind", [{"kind": "malformed"}, {"kind": "truncated"}, {"kind": "drop"}])
def test_broken_definitions_responses_keep_the_last_definitions(served, make_client, kind):
    errors = []
    c = make_client(on_error=errors.append, definitions_timeout=1.0)
    assert c.wait_until_ready(5)
    served.faults([{"target": "definitions", "count": 2, **kind}])
    eventually(lambda: errors)
    assert c.get_feature_flag("everyone", "u") is True


def test_bad_secret_key(served, make_client):
    c = make_client(secret_key="phs_wrong")
    with pytest.raises(ClientError) as info:
        c.wait_until_ready(5)
    assert info.value.code == "unauthorized"
    assert "phs_wrong" not in str(info.value)
    assert c.get_feature_flag("everyone", "u", only_evaluate_locally=True) is None


def test_flags_timeout_and_quota(served, make_client):
    c = make_client(feature_flags_request_timeout_seconds=0.3)
    assert c.wait_until_ready(5)
    served.faults([{"target": "flags", "kind": "hang", "hang_ms": 5000, "count": 2}])
    start = time.monotonic()
    assert c.get_feature_flag("beta", "u") is None
    assert time.monotonic() - start < 3
    served.request("POST", "/_control/clear_faults", {})
    served.faults([{"target": "flags", "kind": "status", "status": 500, "count": 1}])
    ev = c.evaluate_flags("u")
    assert ev.unresolved["beta"].kind == "remote_error" and "500" in ev.unresolved["beta"].detail
    assert ev.flags["everyone"] is True  # local answers stay
    served.quota_limited(True)
    ev = c.evaluate_flags("u")
    assert ev.unresolved["beta"].kind == "quota_limited"
    served.quota_limited(False)


def test_disk_cache_serves_before_the_network(served, make_client, tmp_path):
    cache = tmp_path / "defs.json"
    first = make_client(cache_path=str(cache))
    assert first.wait_until_ready(5)
    first.shutdown()
    assert cache.exists()
    updates = []
    offline = make_client(cache_path=cache, host="http://127.0.0.1:9", on_definitions_updated=updates.append)
    assert offline.wait_until_ready(0.5)
    assert offline.get_feature_flag("everyone", "u", only_evaluate_locally=True) is True
    assert updates and updates[0]["from_cache"] is True and updates[0]["flags"] == 4


def test_manual_mode_ticks(served, make_client):
    c = make_client(manual=True)
    assert c.status["fetches"] == 0
    t = c.tick()
    assert t["fetched"] is True and t["error"] is None and t["next_tick_in"] >= 0
    assert c.get_feature_flag("everyone", "u") is True
    assert c.wait_until_ready(1)


def test_shutdown_and_context_manager(served):
    with FlagsClient(PROJECT_KEY, secret_key=SECRET_KEY, host=served.url, poll_interval=0.1) as c:
        assert c.wait_until_ready(5)
    assert c.get_feature_flag("everyone", "u", only_evaluate_locally=True) is True  # last definitions
    with pytest.raises(ClientError) as info:
        c.reload_feature_flags()
    assert info.value.code == "shut_down"
    c.shutdown()  # idempotent


def test_threads_share_a_client_while_definitions_change(served, make_client):
    c = make_client(poll_interval=0.05)
    assert c.wait_until_ready(5)
    errors = []
    stop = threading.Event()

    def worker():
        try:
            while not stop.is_set():
                v = c.get_feature_flag("everyone", "u", only_evaluate_locally=True)
                assert v in (True, False)
                flags = c.get_all_flags("u", only_evaluate_locally=True)
                assert flags.get("everyone") in (True, False)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for i in range(10):
        served.set_definitions({"flags": [flag("everyone", i % 2 == 0)]})
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_secrets_never_shown(served, make_client, caplog):
    with caplog.at_level(logging.DEBUG, logger="hogflags"):
        c = make_client(on_error=lambda e: None)
        assert c.wait_until_ready(5)
        served.faults([{"target": "definitions", "kind": "status", "status": 403, "count": 1}])
        eventually(lambda: served.stats()["faults_injected"] >= 1)
        c.get_feature_flag("beta", "u")
    shown = [repr(c), str(c), repr(c.status)] + [r.getMessage() for r in caplog.records]
    for text in shown:
        assert SECRET_KEY not in text and PROJECT_KEY not in text, text
    assert "phc_…(redacted)" in repr(c)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"secret_key": "phc_project_key_by_mistake"}, ConfigurationError),
        ({"host": "ftp://example"}, ConfigurationError),
        ({"secret_key": SECRET_KEY, "personal_api_key": "phx_x"}, ValueError),
        ({"poll_interval": -1}, ValueError),
        ({"poll_interval": float("nan")}, ValueError),
        ({"on_error": "not callable"}, TypeError),
        ({"host": 5}, TypeError),
    ],
)
def test_bad_settings(kwargs, error):
    base = {"secret_key": SECRET_KEY, "host": "http://127.0.0.1:9"}
    base.update(kwargs)
    with pytest.raises(error):
        FlagsClient(PROJECT_KEY, **base)
    with pytest.raises(TypeError):
        FlagsClient(5, secret_key=SECRET_KEY, host="http://127.0.0.1:9")


def test_configuration_error_is_a_value_error():
    with pytest.raises(ValueError) as info:
        FlagsClient("", secret_key=SECRET_KEY, host="http://127.0.0.1:9")
    assert isinstance(info.value, hogflags.HogflagsError) and info.value.code == "config"


def test_evaluation_contexts_and_runtime(served, make_client):
    doc = {"flags": [flag("web-only", evaluation_contexts=["web"]), flag("mobile-only", evaluation_contexts=["mobile"]),
                     flag("server-beta", prop="plan", evaluation_runtime="server")],
           "group_type_mapping": {}, "cohorts": {}}
    served.reset(doc)
    served.person("u", {"plan": "pro"})
    c = make_client(evaluation_contexts=["web"])
    assert c.wait_until_ready(5)
    assert c.get_all_flags("u", only_evaluate_locally=True) == {"web-only": True}
    # the fallback declares the runtime and the contexts; the server answers the server-tagged flag
    assert c.get_feature_flag("server-beta", "u") is True
    sent = served.stats()["last_flags_request"]
    assert sent["evaluation_runtime"] == "server" and sent["evaluation_contexts"] == ["web"]
    assert sent["geoip_disable"] is True
    g = make_client(disable_geoip=False)
    assert g.wait_until_ready(5)
    g.get_feature_flag("server-beta", "u")
    assert served.stats()["last_flags_request"]["geoip_disable"] is False
    with pytest.raises(TypeError):
        make_client(evaluation_contexts="web")


def test_project_key_only_client_evaluates_through_flags(served):
    with FlagsClient(PROJECT_KEY, host=served.url, use_system_proxy=False) as c:
        t = time.monotonic()
        assert c.wait_until_ready(5) is False
        assert time.monotonic() - t < 0.5
        assert c.get_feature_flag("everyone", "u") is True
        assert c.get_feature_flag("beta", "u", person_properties={"plan": "pro"}) is True
        with pytest.raises(ConfigurationError):
            c.reload_feature_flags()
        assert served.stats()["definitions_requests"] == 0



def test_remote_config_payload(served, make_client):
    c = make_client()
    assert c.get_remote_config_payload("beta") == {"color": "blue"}
    assert c.get_remote_config_payload("everyone") is None
    with pytest.raises(ClientError) as e:
        make_client(secret_key="phs_wrong").get_remote_config_payload("beta")
    assert e.value.code == "api_error_401"
    with FlagsClient(PROJECT_KEY, host=served.url, use_system_proxy=False) as keyless:
        with pytest.raises(ConfigurationError):
            keyless.get_remote_config_payload("beta")


def test_evaluate_flags_reports_exposures_for_the_flags_read(served, make_client):
    events = []
    c = make_client(on_feature_flag_called=events.append)
    assert c.wait_until_ready(5)
    ev = c.evaluate_flags("u-batch", only_evaluate_locally=True)
    assert events == [], "evaluating sends nothing"
    assert ev.is_enabled("everyone") is True
    assert ev.is_enabled("off", True) is False, "a decided False wins over the default"
    assert ev.is_enabled("beta", True) is True, "no value: the default"
    assert ev.get_flag("nope") is None
    assert ev.get_flag("everyone") is True  # deduplicated: no second event
    assert ev.get_flag("static", send_feature_flag_events=False) is None  # a read without its event
    got = [(e["properties"]["$feature_flag"], e["properties"]["$feature_flag_response"],
            e["properties"].get("$feature_flag_error")) for e in events]
    assert got == [("everyone", True, None), ("off", False, None), ("beta", None, "local_evaluation_inconclusive"),
                   ("nope", None, "flag_missing")]
    assert all(e["distinct_id"] == "u-batch" for e in events)
    assert ev.get_flag_payload("beta") is None and len(events) == 4, "payload reads are not reads"
    accessed = ev.only_accessed()
    assert sorted(accessed.keys()) == ["everyone", "off"]
    assert accessed.unresolved_flags == {}, "a slice holds flags with a value only"
    only = ev.only(["off"])
    assert only.keys() == ["off"] and only.get_flag("off") is False
    assert only.get_flag("everyone") is None and len(events) == 4, "a key left out of a slice reports nothing"
    # An engine's evaluation has the same reads, without events.
    engine_ev = c.engine.evaluate_flags("u-batch")
    assert engine_ev.is_enabled("everyone") and engine_ev.only_accessed().keys() == ["everyone"]
    assert len(events) == 4
