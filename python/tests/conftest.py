import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

HERE = Path(__file__).resolve().parent


def person_flag(key: str, prop: str, operator: str, value: Any, **extra: Any) -> Dict[str, Any]:
    """A flag with one person-property filter at 100 % rollout."""
    flag = {
        "key": key,
        "active": True,
        "filters": {
            "groups": [
                {
                    "properties": [{"key": prop, "value": value, "operator": operator, "type": "person"}],
                    "rollout_percentage": 100,
                }
            ]
        },
    }
    flag.update(extra)
    return flag


def api_document() -> Dict[str, Any]:
    flags: List[Dict[str, Any]] = [
        {
            "id": 1,
            "key": "beta",
            "active": True,
            "version": 3,
            "filters": {
                "groups": [
                    {
                        "properties": [{"key": "plan", "value": "pro", "operator": "exact", "type": "person"}],
                        "rollout_percentage": 100,
                    }
                ],
                "payloads": {"true": json.dumps({"color": "blue"})},
            },
        },
        {"id": 2, "key": "off", "active": False, "filters": {"groups": [{"rollout_percentage": 100}]}},
        {"id": 3, "key": "everyone", "active": True, "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}},
        {
            "id": 4,
            "key": "multi",
            "active": True,
            "filters": {
                "groups": [{"properties": [], "rollout_percentage": 100, "variant": "test"}],
                "multivariate": {
                    "variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
                },
                "payloads": {"test": "[1, 2]"},
            },
        },
        {
            "id": 5,
            "key": "company-flag",
            "active": True,
            "filters": {
                "aggregation_group_type_index": 0,
                "groups": [
                    {
                        "properties": [
                            {"key": "size", "value": 10, "operator": "gt", "type": "group", "group_type_index": 0}
                        ],
                        "rollout_percentage": 100,
                    }
                ],
            },
        },
        {
            "id": 6,
            "key": "company-half",
            "active": True,
            "filters": {"aggregation_group_type_index": 0, "groups": [{"properties": [], "rollout_percentage": 50}]},
        },
        person_flag("by-id", "distinct_id", "exact", ["42"]),
        {"key": "half", "active": True, "filters": {"groups": [{"properties": [], "rollout_percentage": 50}]}},
        {
            "key": "static-cohort",
            "active": True,
            "filters": {"groups": [{"properties": [{"key": "id", "value": 99, "type": "cohort"}], "rollout_percentage": 100}]},
        },
        {
            "key": "device",
            "active": True,
            "bucketing_identifier": "device_id",
            "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]},
        },
        person_flag("recent", "signed_up", "is_date_after", "-30d"),
        # Value-conversion probes, all on property "p".
        person_flag("p-text-true", "p", "exact", ["true"]),
        person_flag("p-text-1", "p", "exact", ["1"]),
        person_flag("p-i64-max", "p", "exact", ["9223372036854775807"]),
        person_flag("p-u64-max", "p", "exact", ["18446744073709551615"]),
        person_flag("p-gt-1e19", "p", "gt", "10000000000000000000"),
        person_flag("p-gt-1", "p", "gt", "1"),
        person_flag("p-is-set", "p", "is_set", "is_set"),
        person_flag("p-is-not-v", "p", "is_not", "v"),
        person_flag("p-text-null", "p", "exact", ["null"]),
        person_flag("p-datetime", "p", "exact", ["2024-01-02T03:04:05+00:00"]),
        person_flag("p-date", "p", "exact", ["2024-01-02"]),
        person_flag("p-uuid", "p", "exact", ["12345678-1234-5678-1234-567812345678"]),
        person_flag("p-list", "p", "exact", ['["a","b"]']),
        person_flag("p-dict", "p", "exact", ['{"1":"x","a":[1,2.5,null,true]}']),
        person_flag("p-enum", "p", "exact", ["red"]),
    ]
    return {"flags": flags, "group_type_mapping": {"0": "company"}, "cohorts": {}}


@pytest.fixture(scope="session")
def doc() -> Dict[str, Any]:
    return api_document()


@pytest.fixture(scope="session")
def engine(doc):
    import hogflags

    return hogflags.FlagsEngine(doc)


@pytest.fixture(scope="session")
def server():
    from testserver import TestServer

    s = TestServer()
    yield s
    s.close()


@pytest.fixture
def make_client(server):
    """Builds FlagsClients against the test server (fast polling, no jitter) and shuts them down after."""
    import hogflags
    from testserver import PROJECT_KEY, SECRET_KEY

    made = []

    def make(**kwargs):
        kwargs.setdefault("secret_key", SECRET_KEY)
        kwargs.setdefault("host", server.url)
        kwargs.setdefault("poll_interval", 0.1)
        kwargs.setdefault("jitter", 0.0)
        kwargs.setdefault("use_system_proxy", False)
        c = hogflags.FlagsClient(kwargs.pop("project_api_key", PROJECT_KEY), **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.shutdown()
