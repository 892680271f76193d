"""hogflags vs posthog-python's own local evaluation, in the same process, on identical definitions and users.

Workloads (core/benches/workload.rs, ported in workload.py):
  one_flag   the single 3-filter flag at 50 % rollout, one flag per call, 1 000 users
  all_flags  the 100-flag mixed document, all flags for one user per call, 200 users
  mixed_one  the 100-flag mixed document, one (rotating) flag per call

First both libraries evaluate every (user, flag) pair and the agreement rate is printed; then each side is
timed (best of several rounds; each round runs every user once). posthog-python runs through its public
`Client` API with only_evaluate_locally=True and events off, its definitions set directly on the client
(`_update_flag_state`, what its poller calls), the host pointed at a closed local port: no network. Its
bare evaluator (`Client._compute_flag_locally`, no public-API overhead) is timed too, as a second baseline.

Run (needs hogflags and posthog in the same environment; see README.md):
  python benchmarks/bench.py [--quick] [--threads]
"""

import argparse
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hogflags  # noqa: E402
import posthog  # noqa: E402
from posthog.client import Client  # noqa: E402
from posthog.feature_flags import InconclusiveMatchError  # noqa: E402

from workload import Rng, full_properties, mixed_document, single_flag_document  # noqa: E402

User = Tuple[str, Dict[str, Any]]


def posthog_client(doc: Dict[str, Any]) -> Client:
    client = Client(
        "phc_benchmark",
        host="http://127.0.0.1:9",  # nothing listens there; no request is expected anyway
        personal_api_key="phx_benchmark",
        enable_local_evaluation=False,  # no poller: definitions are set below, as the poller would
        send=False,
        disable_geoip=True,
    )
    client._update_flag_state(
        {
            "flags": doc["flags"],
            "group_type_mapping": doc.get("group_type_mapping", {}),
            "cohorts": doc.get("cohorts", {}),
        }
    )
    return client


def single_users(n: int) -> List[User]:
    rng = Rng(5)
    users = []
    for i in range(n):
        domain = "example.com" if rng.below(4) else "other.org"
        props = {
            "plan": ["pro", "enterprise", "free"][rng.below(3)],
            "email": f"user-{i}@{domain}",
            "age": 10 + rng.below(60),
            "country": "DE",
            "$browser": "Firefox",
        }
        users.append((f"user-{i}", props))
    return users


def mixed_users(n: int) -> List[User]:
    rng = Rng(11)
    return [(f"user-{i}", dict(full_properties(rng, i))) for i in range(n)]


def posthog_value(client: Client, key: str, user: User) -> Any:
    return client.get_feature_flag(
        key, user[0], person_properties=user[1], only_evaluate_locally=True, send_feature_flag_events=False
    )


def agreement(name: str, engine: hogflags.FlagsEngine, client: Client, users: List[User]) -> float:
    keys = engine.flag_keys
    same = hog_only = ph_only = differ = 0
    examples = []
    for user in users:
        for key in keys:
            h = engine.get_feature_flag(key, user[0], person_properties=user[1])
            p = posthog_value(client, key, user)
            if h == p and type(h) is type(p):
                same += 1
            elif p is None:
                hog_only += 1
            elif h is None:
                ph_only += 1
            else:
                differ += 1
                if len(examples) < 3:
                    examples.append((key, user[0], h, p))
    total = same + hog_only + ph_only + differ
    rate = same / total
    print(
        f"agreement {name}: {rate:.2%} of {total} (user, flag) pairs identical; "
        f"decided only by hogflags {hog_only}, only by posthog {ph_only}, different values {differ}"
    )
    for ex in examples:
        print(f"  differs: flag {ex[0]} user {ex[1]}: hogflags {ex[2]!r}, posthog {ex[3]!r}")
    return rate


def best_ns(run: Callable[[], float], calls: int, rounds: int) -> float:
    """Best time per call over `rounds` runs of `run` (which times `calls` calls itself)."""
    best = min(run() for _ in range(rounds))
    return best / calls * 1e9


def interleaved(runs: Dict[str, Tuple[Callable[[], float], int]], calls: int) -> Dict[str, float]:
    """Best time per call of each contender, their rounds interleaved so that load on the machine hits all
    of them alike. `runs`: name -> (timed function, rounds)."""
    best: Dict[str, float] = {name: float("inf") for name in runs}
    for r in range(max(rounds for _, rounds in runs.values())):
        for name, (run, rounds) in runs.items():
            if r < rounds:
                best[name] = min(best[name], run())
    return {name: t / calls * 1e9 for name, t in best.items()}


def bench_one_flag(engine: hogflags.FlagsEngine, client: Client, users: List[User], key_for: Callable[[int], str],
                   rounds: int, posthog_rounds: int) -> Dict[str, float]:
    keyed = [(key_for(i), did, props) for i, (did, props) in enumerate(users)]
    flags_by_key = client.feature_flags_by_key

    def hog() -> float:
        get = engine.get_feature_flag
        t0 = time.perf_counter()
        for key, did, props in keyed:
            get(key, did, person_properties=props)
        return time.perf_counter() - t0

    def ph() -> float:
        get = client.get_feature_flag
        t0 = time.perf_counter()
        for key, did, props in keyed:
            get(key, did, person_properties=props, only_evaluate_locally=True, send_feature_flag_events=False)
        return time.perf_counter() - t0

    def ph_bare() -> float:
        compute = client._compute_flag_locally
        t0 = time.perf_counter()
        for key, did, props in keyed:
            try:
                compute(flags_by_key[key], did, person_properties=props)
            except InconclusiveMatchError:
                pass
        return time.perf_counter() - t0

    return interleaved(
        {"hogflags": (hog, rounds), "posthog": (ph, posthog_rounds), "posthog_bare": (ph_bare, posthog_rounds)},
        len(keyed),
    )


def bench_all_flags(engine: hogflags.FlagsEngine, client: Client, users: List[User], rounds: int,
                    posthog_rounds: int) -> Dict[str, float]:
    def hog() -> float:
        get = engine.get_all_flags
        t0 = time.perf_counter()
        for did, props in users:
            get(did, person_properties=props)
        return time.perf_counter() - t0

    def ph() -> float:
        get = client.get_all_flags
        t0 = time.perf_counter()
        for did, props in users:
            get(did, person_properties=props, only_evaluate_locally=True)
        return time.perf_counter() - t0

    # The bare evaluator over every flag, the way get_all_flags loops (no public-API overhead).
    flags = list(client.feature_flags)

    def ph_bare() -> float:
        compute = client._compute_flag_locally
        t0 = time.perf_counter()
        for did, props in users:
            for flag in flags:
                try:
                    compute(flag, did, person_properties=props)
                except InconclusiveMatchError:
                    pass
        return time.perf_counter() - t0

    # Sanity: both return the same mapping for the first user.
    did, props = users[0]
    h = engine.get_all_flags(did, person_properties=props)
    p = client.get_all_flags(did, person_properties=props, only_evaluate_locally=True)
    print(f"  get_all_flags of {did}: {len(h)} flags from hogflags, {len(p or {})} from posthog, equal: {h == p}")

    return interleaved(
        {"hogflags": (hog, rounds), "posthog": (ph, posthog_rounds), "posthog_bare": (ph_bare, posthog_rounds)},
        len(users),
    )


def bench_wide_dict(engine: hogflags.FlagsEngine, users: List[User], rounds: int) -> Dict[str, float]:
    """The cost of a big property dict: only the keys the definitions read are converted."""
    wide = [(did, {**props, **{f"unrelated_{k}": f"value {k}" for k in range(1000)}}) for did, props in users]

    def run(us: List[User]) -> Callable[[], float]:
        def go() -> float:
            get = engine.get_feature_flag
            t0 = time.perf_counter()
            for did, props in us:
                get("bench-flag", did, person_properties=props)
            return time.perf_counter() - t0

        return go

    return {"5 keys": best_ns(run(users), len(users), rounds), "1005 keys": best_ns(run(wide), len(wide), rounds)}


def bench_threads(name: str, call: Callable[[User], Any], users: List[User], seconds: float) -> None:
    """Total calls per second with 1, 2 and 4 threads sharing one engine."""
    results = []
    for threads in (1, 2, 4):
        counts = [0] * threads
        stop = threading.Event()
        start = threading.Barrier(threads + 1)

        def worker(slot: int) -> None:
            start.wait()
            n = 0
            i = slot
            while not stop.is_set():
                for _ in range(100):
                    call(users[i % len(users)])
                    i += 1
                n += 100
            counts[slot] = n

        ts = [threading.Thread(target=worker, args=(s,)) for s in range(threads)]
        for t in ts:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for t in ts:
            t.join()
        elapsed = time.perf_counter() - t0
        results.append((threads, sum(counts) / elapsed))
    base = results[0][1]
    print(f"  {name}: " + ", ".join(f"{t} thread(s) {r:,.0f}/s ({r / base:.2f}x)" for t, r in results))


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer users and rounds (a smoke run)")
    ap.add_argument("--threads", action="store_true", help="also measure throughput with 1, 2 and 4 threads")
    args = ap.parse_args(argv)

    rounds, ph_rounds = (3, 2) if args.quick else (15, 5)
    n_single, n_mixed, n_agree = (200, 40, 40) if args.quick else (1000, 200, 200)
    print(f"hogflags {hogflags.__version__} vs posthog {posthog.VERSION} (Python {sys.version.split()[0]}), "
          f"{os.cpu_count()} CPUs; best of {rounds} rounds (posthog: {ph_rounds})")

    single_doc = single_flag_document()
    mixed_doc = mixed_document(100, 7)
    s_engine, s_client = hogflags.FlagsEngine(single_doc), posthog_client(single_doc)
    m_engine, m_client = hogflags.FlagsEngine(mixed_doc), posthog_client(mixed_doc)
    s_users, m_users = single_users(n_single), mixed_users(n_mixed)

    rates = [
        agreement("one_flag", s_engine, s_client, s_users),
        agreement("mixed_100", m_engine, m_client, m_users[:n_agree]),
    ]

    rows = []
    r = bench_one_flag(s_engine, s_client, s_users, lambda i: "bench-flag", rounds, ph_rounds)
    rows.append(("one_flag (get_feature_flag)", r))
    keys = m_engine.flag_keys
    r = bench_one_flag(m_engine, m_client, m_users * 5, lambda i: keys[(i * 7) % len(keys)], rounds, ph_rounds)
    rows.append(("mixed_one (get_feature_flag, 100-flag doc)", r))
    r = bench_all_flags(m_engine, m_client, m_users, rounds, ph_rounds)
    rows.append(("all_flags (get_all_flags, 100 flags)", r))

    print()
    print(f"{'workload':<44} {'hogflags':>12} {'posthog':>12} {'ratio':>8} {'posthog bare':>13} {'ratio':>8}")
    for name, r in rows:
        print(
            f"{name:<44} {r['hogflags'] / 1000:>9.2f} µs {r['posthog'] / 1000:>9.2f} µs "
            f"{r['posthog'] / r['hogflags']:>7.1f}x {r['posthog_bare'] / 1000:>10.2f} µs "
            f"{r['posthog_bare'] / r['hogflags']:>7.1f}x"
        )
    w = bench_wide_dict(s_engine, s_users, rounds)
    print(f"\nproperty dict size (one_flag, hogflags): 5 keys {w['5 keys']:.0f} ns, 1005 keys {w['1005 keys']:.0f} ns")

    if args.threads:
        print("\nthroughput of one shared engine (calls/s; 2 CPUs on this machine):")
        secs = 0.5 if args.quick else 2.0
        bench_threads("one_flag get_feature_flag",
                      lambda u: s_engine.get_feature_flag("bench-flag", u[0], person_properties=u[1]), s_users, secs)
        bench_threads("all_flags get_all_flags",
                      lambda u: m_engine.get_all_flags(u[0], person_properties=u[1]), m_users, secs)

    print()
    for name, r in rows:
        print(f"ratio {name.split()[0]}: {r['posthog'] / r['hogflags']:.1f}x vs posthog Client, "
              f"{r['posthog_bare'] / r['hogflags']:.1f}x vs posthog's bare evaluator")
    return 0 if min(rates) > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
