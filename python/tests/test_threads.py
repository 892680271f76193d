"""One engine shared by many threads: every answer equals the single-threaded one (the bulk paths run
without the GIL). Throughput is measured by the benchmark (benchmarks/bench.py --threads), not here."""

import json
import pathlib
import threading

import hogflags

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "mixed-100.json"


def test_threads_hammering_one_engine_get_the_same_answers():
    fixture = json.loads(FIXTURE.read_text())
    engine = hogflags.FlagsEngine(fixture["definitions"])  # 100 flags: the bulk paths release the GIL
    users = [(u["distinct_id"], u["person_properties"]) for u in fixture["users"][:40]]
    keys = engine.flag_keys
    expected_all = [engine.get_all_flags(d, person_properties=p) for d, p in users]
    expected_one = [[engine.get_feature_flag(k, d, person_properties=p) for k in keys[:10]] for d, p in users]
    expected_eval = [engine.evaluate_flags(d, person_properties=p) for d, p in users]
    assert any(expected_all) and any(v is not None for row in expected_one for v in row)

    errors = []
    start = threading.Barrier(8)

    def worker(slot: int) -> None:
        try:
            start.wait()
            for rep in range(30):
                i = (slot * 7 + rep) % len(users)
                d, p = users[i]
                assert engine.get_all_flags(d, person_properties=p) == expected_all[i]
                assert [engine.get_feature_flag(k, d, person_properties=p) for k in keys[:10]] == expected_one[i]
                ev = engine.evaluate_flags(d, person_properties=p)
                assert ev.flags == expected_eval[i].flags and ev.unresolved == expected_eval[i].unresolved
                assert engine.get_all_flags_and_payloads(d, person_properties=p)["featureFlags"] == expected_all[i]
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_engines_built_while_others_evaluate():
    doc = json.dumps(json.loads(FIXTURE.read_text())["definitions"])  # parsed anew by each build
    shared = hogflags.FlagsEngine(doc)
    want = shared.get_all_flags("u", person_properties={"email": "a@example.com"})
    errors = []

    def build() -> None:
        try:
            for _ in range(5):
                e = hogflags.FlagsEngine(doc)
                assert e.get_all_flags("u", person_properties={"email": "a@example.com"}) == want
        except BaseException as e:
            errors.append(e)

    def evaluate() -> None:
        try:
            for _ in range(200):
                assert shared.get_all_flags("u", person_properties={"email": "a@example.com"}) == want
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=f) for f in (build, build, evaluate, evaluate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
