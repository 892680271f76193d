"""What a FlagsClient call costs over the engine alone, for flags the polled definitions decide (no network).

The client adds the snapshot load, the fallback decision, the result record and the $feature_flag_called
event (deduplicated: after the first call of a (user, flag, value) no event is emitted). This measures one
flag (3 person filters, the w1 workload's shape) and a bulk call on the 100-flag mixed document, with the
rounds of engine and client interleaved so that load hits both alike, and prints medians and ratios.

Run (needs the installed package and the test server binary):
  python benchmarks/client_overhead.py [--server PATH] [--rounds N]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time
import urllib.request

import hogflags

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROJECT_KEY, SECRET_KEY = "phc_bench_project", "phs_bench_secret"

ONE_FLAG = {
    "flags": [{"id": 1, "key": "w1", "active": True, "version": 1, "filters": {"groups": [{"properties": [
        {"key": "plan", "value": ["pro", "enterprise"], "operator": "exact", "type": "person"},
        {"key": "country", "value": "US", "operator": "exact", "type": "person"},
        {"key": "age", "value": 18, "operator": "gte", "type": "person"}], "rollout_percentage": 50}]}}],
    "group_type_mapping": {}, "cohorts": {},
}
PROPS = {"plan": "pro", "country": "US", "age": 30, "email": "a@example.com", "signup": "2024-01-01"}


def start_server(binary):
    proc = subprocess.Popen([binary, "--exit-on-stdin-eof", "--project-key", PROJECT_KEY, "--secret-key", SECRET_KEY],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().split("listening on ", 1)[1]
    return proc, url


def post(url, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    urllib.request.urlopen(req, timeout=10).read()


def per_call(fn, batch):
    start = time.perf_counter_ns()
    for _ in range(batch):
        fn()
    return (time.perf_counter_ns() - start) / batch


def compare(name, rows, rounds, batch):
    times = {label: [] for label, _ in rows}
    for _ in range(rounds):
        for label, fn in rows:
            times[label].append(per_call(fn, batch))
    base = statistics.median(times[rows[0][0]])
    for label, _ in rows:
        m = statistics.median(times[label])
        print(f"{name:<10} {label:<34} {m / 1000:8.3f} µs   {m / base:5.2f}× the engine")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", default=os.environ.get("HOGFLAGS_TEST_SERVER", str(ROOT / "target/release/hogflags-test-server")))
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    proc, url = start_server(args.server)
    try:
        mixed = json.loads((ROOT / "tests/fixtures/mixed-100.json").read_text())["definitions"]
        for doc, name, batch in ((ONE_FLAG, "one flag", 20000), (mixed, "100 flags", 200)):
            post(url, "/_control/definitions", doc)
            with hogflags.FlagsClient(PROJECT_KEY, secret_key=SECRET_KEY, host=url, poll_interval=3600) as client:
                assert client.wait_until_ready(10)
                engine = client.engine
                users = [f"user-{i}" for i in range(64)]
                it = iter(range(1 << 62))

                def uid():
                    return users[next(it) & 63]

                if name == "one flag":
                    rows = [
                        ("engine.get_feature_flag", lambda: engine.get_feature_flag("w1", uid(), person_properties=PROPS)),
                        ("client.get_feature_flag (no event)", lambda: client.get_feature_flag(
                            "w1", uid(), person_properties=PROPS, send_feature_flag_events=False)),
                        ("client.get_feature_flag (event)", lambda: client.get_feature_flag("w1", uid(), person_properties=PROPS)),
                    ]
                else:
                    rows = [
                        ("engine.get_all_flags", lambda: engine.get_all_flags(uid(), person_properties=PROPS)),
                        ("client.get_all_flags (local only)", lambda: client.get_all_flags(uid(), person_properties=PROPS, only_evaluate_locally=True)),
                        ("client.evaluate_flags (local only)", lambda: client.evaluate_flags(uid(), person_properties=PROPS, only_evaluate_locally=True)),
                    ]
                compare(name, rows, args.rounds, batch)
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
