"""Runs the PostHog-compatible test server (tests/server, a Rust binary) on 127.0.0.1 for the client tests.

The binary is `$HOGFLAGS_TEST_SERVER`, or target/debug/hogflags-test-server (built with cargo if missing).
It exits when our end of its stdin closes, so a dying test run cannot leave it behind.
"""

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
PROJECT_KEY = "phc_test_project_key"
SECRET_KEY = "phs_test_secret_key"


def server_binary() -> str:
    env = os.environ.get("HOGFLAGS_TEST_SERVER")
    if env:
        return env
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    path = target / "debug" / "hogflags-test-server"
    if not path.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "hogflags-test-server"], cwd=REPO, check=True)
    return str(path)


class TestServer:
    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [server_binary(), "--exit-on-stdin-eof", "--project-key", PROJECT_KEY, "--secret-key", SECRET_KEY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), f"test server said {line!r}"
        self.url = line.split("listening on ", 1)[1]

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
        return json.loads(text) if text.strip() else None

    def reset(self, definitions: Dict[str, Any]) -> None:
        self.request("POST", "/_control/reset", {})
        self.request("POST", "/_control/definitions", definitions)

    def set_definitions(self, definitions: Dict[str, Any]) -> None:
        self.request("POST", "/_control/definitions", definitions)

    def faults(self, faults: List[Dict[str, Any]]) -> None:
        self.request("POST", "/_control/faults", faults)

    def person(self, distinct_id: str, properties: Dict[str, Any]) -> None:
        self.request("POST", "/_control/persons", {"distinct_id": distinct_id, "properties": properties})

    def quota_limited(self, enabled: bool) -> None:
        self.request("POST", "/_control/quota_limited", {"enabled": enabled})

    def stats(self) -> Dict[str, Any]:
        return self.request("GET", "/_control/stats")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def flag(key: str, value: Optional[bool] = True, prop: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    """A flag at 100 % rollout: always true (`value=True`), inactive (`False`), or needing `prop == "pro"`."""
    props = [] if prop is None else [{"key": prop, "value": "pro", "operator": "exact", "type": "person"}]
    f = {"id": sum(map(ord, key)), "key": key, "active": value is not False,
         "filters": {"groups": [{"properties": props, "rollout_percentage": 100}]}}
    f.update(extra)
    return f
