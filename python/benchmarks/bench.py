"""hogflags vs posthog-python's own local evaluation, on the shared workload files of the cross-language report.

The workloads are the JSON files written by the Rust generator (same definitions and users for every
language):

  cargo run --release -p hogflags-tools --bin gen_workloads -- target/bench/workloads

  w1_one_flag    w1: one flag (3 person filters, 50 % rollout), one flag per call
  w2_all_flags   w2: the 100-flag mixed document, all flags for one user per call
  w2_one_flag    w2: one flag per call, the key rotating (flag i*7 % 100 for call i), users cycled
  w3_load_N      w3: load an N-flag document from its bytes (hogflags.FlagsEngine(bytes) against
                 json.loads + Client._update_flag_state, what posthog-python's poller does)

Implementations: "hogflags-python"; "posthog-python", its public Client (get_feature_flag / get_all_flags,
only_evaluate_locally=True, events off, definitions set as its poller sets them, host on a closed local
port: no network); "posthog-python-bare", its evaluator Client._compute_flag_locally without the public
API around it. hogflags runs every user of a file; posthog, being slower, a fixed prefix of them where a
full pass would take long (w2_all_flags; every workload with --quick). The "calls" of each row say how many.

First both libraries evaluate the same (user, flag) pairs and the agreement is printed; below 99 % of the
pairs posthog decided, the script stops with exit status 1. Then each workload is timed: calls are timed
in batches (one call is too short for the clock), the per-call time of every batch gives the median and
p99, and the rounds of the implementations are interleaved (A B C A B C ...) so that load on the machine
hits all alike. Peak RSS is measured in a fresh subprocess per implementation and workload (`--rss`).

Run (needs hogflags and posthog in the same environment; see README.md):
  python benchmarks/bench.py --workloads DIR [--json OUT.jsonl] [--quick] [--threads]
"""

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

User = Tuple[str, Dict[str, Any]]
Batch = Sequence[Any]

HOG, PH, BARE = "hogflags-python", "posthog-python", "posthog-python-bare"
IMPLS = (HOG, PH, BARE)
W1, W2_ALL, W2_ONE, W3_1K, W3_10K = "w1_one_flag", "w2_all_flags", "w2_one_flag", "w3_load_1000", "w3_load_10000"
W3_SIZES = {W3_1K: 1_000, W3_10K: 10_000}
# Which implementations run which workload (the bare evaluator has nothing to do with loading).
IMPLS_OF = {W1: IMPLS, W2_ALL: IMPLS, W2_ONE: IMPLS, W3_1K: (HOG, PH), W3_10K: (HOG, PH)}
AGREEMENT_FLOOR = 0.99


@dataclass(frozen=True)
class Plan:
    """How much each side runs. `None` means every user of the file. posthog gets a fixed prefix where a full
    pass would take long: its rows then report fewer calls, and agreement covers exactly those users."""

    w1: Tuple[Optional[int], Optional[int]]  # (hogflags users, posthog users)
    w2_all: Tuple[Optional[int], int]
    w2_one: Tuple[int, int]  # calls (users are cycled)
    w2_agreement_users: int  # x 100 flags
    w3_reps: Dict[str, Tuple[int, int]]
    rounds: int
    wide_users: Tuple[int, int]  # (distinct users, calls)
    thread_seconds: float


FULL = Plan(w1=(None, None), w2_all=(None, 2_000), w2_one=(50_000, 50_000), w2_agreement_users=500,
            w3_reps={W3_1K: (30, 30), W3_10K: (6, 6)}, rounds=10, wide_users=(1_000, 20_000), thread_seconds=2.0)
QUICK = Plan(w1=(10_000, 2_000), w2_all=(500, 100), w2_one=(5_000, 1_000), w2_agreement_users=50,
             w3_reps={W3_1K: (5, 5), W3_10K: (2, 2)}, rounds=3, wide_users=(200, 2_000), thread_seconds=0.5)


# ---------------------------------------------------------------------------------------------- inputs


def read_bytes(workloads: str, name: str) -> bytes:
    path = os.path.join(workloads, name)
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        sys.exit(f"{path} is missing; write the workloads with\n"
                 f"  cargo run --release -p hogflags-tools --bin gen_workloads -- {workloads}")


def read_users(workloads: str, name: str) -> List[User]:
    return [(u["distinct_id"], u["person_properties"]) for u in json.loads(read_bytes(workloads, name))]


def definitions_file(workload: str) -> str:
    if workload in W3_SIZES:
        return f"w3_definitions_{W3_SIZES[workload]}.json"
    return "w1_definitions.json" if workload == W1 else "w2_definitions.json"


def users_file(workload: str) -> Optional[str]:
    return None if workload in W3_SIZES else ("w1_users.json" if workload == W1 else "w2_users.json")


def take(users: List[User], n: Optional[int]) -> List[User]:
    return users if n is None else users[:n]


def flag_keys(doc: bytes) -> List[str]:
    """The flag keys in document order (the order every language rotates through in w2_one_flag)."""
    return [f["key"] for f in json.loads(doc)["flags"]]


def work_items(workload: str, impl: str, plan: Plan, doc: bytes, users: List[User]) -> List[Any]:
    """The argument of every call `impl` makes in `workload`, built before any timing."""
    side = 0 if impl == HOG else 1
    if workload == W1:
        return [("bench-flag", did, props) for did, props in take(users, plan.w1[side])]
    if workload == W2_ALL:
        return take(users, plan.w2_all[side])
    if workload == W2_ONE:
        keys = flag_keys(doc)
        return [(keys[(i * 7) % len(keys)],) + users[i % len(users)] for i in range(plan.w2_one[side])]
    return [doc] * plan.w3_reps[workload][side]


# -------------------------------------------------------------------------------------- the libraries
# Imported inside functions, so that an --rss child imports only the library it measures.


def versions() -> Dict[str, str]:
    import hogflags
    import posthog

    return {"hogflags": hogflags.__version__, "posthog": posthog.VERSION, "python": platform.python_version()}


def posthog_client(doc: Optional[Dict[str, Any]] = None) -> Any:
    """A posthog-python Client that never touches the network, its definitions set as its poller sets them."""
    from posthog.client import Client

    client = Client(
        "phc_benchmark",
        host="http://127.0.0.1:9",  # nothing listens there; no request is expected anyway
        personal_api_key="phx_benchmark",
        enable_local_evaluation=False,  # no poller: definitions are set below, as the poller would
        send=False,
        disable_geoip=True,
    )
    if doc is not None:
        client._update_flag_state(
            {"flags": doc["flags"], "group_type_mapping": doc.get("group_type_mapping", {}),
             "cohorts": doc.get("cohorts", {})}
        )
    return client


def target(impl: str, workload: str, doc: bytes) -> Any:
    """What `impl` evaluates with: an engine or a client holding the definitions (an empty client for loads)."""
    if impl == HOG:
        import hogflags

        return None if workload in W3_SIZES else hogflags.FlagsEngine(doc)
    return posthog_client(None if workload in W3_SIZES else json.loads(doc))


def one_flag_runner(impl: str, t: Any) -> Callable[[Batch], None]:
    if impl == HOG:
        get = t.get_feature_flag

        def run(batch: Batch) -> None:
            for key, did, props in batch:
                get(key, did, person_properties=props)
    elif impl == PH:
        get = t.get_feature_flag

        def run(batch: Batch) -> None:
            for key, did, props in batch:
                get(key, did, person_properties=props, only_evaluate_locally=True, send_feature_flag_events=False)
    else:
        from posthog.feature_flags import InconclusiveMatchError

        compute, by_key = t._compute_flag_locally, t.feature_flags_by_key

        def run(batch: Batch) -> None:
            for key, did, props in batch:
                try:
                    compute(by_key[key], did, person_properties=props)
                except InconclusiveMatchError:
                    pass
    return run


def all_flags_runner(impl: str, t: Any) -> Callable[[Batch], None]:
    if impl == HOG:
        get = t.get_all_flags

        def run(batch: Batch) -> None:
            for did, props in batch:
                get(did, person_properties=props)
    elif impl == PH:
        get = t.get_all_flags

        def run(batch: Batch) -> None:
            for did, props in batch:
                get(did, person_properties=props, only_evaluate_locally=True)
    else:
        # The bare evaluator over every flag, the way get_all_flags loops (no public-API overhead).
        from posthog.feature_flags import InconclusiveMatchError

        compute, flags = t._compute_flag_locally, list(t.feature_flags)

        def run(batch: Batch) -> None:
            for did, props in batch:
                for flag in flags:
                    try:
                        compute(flag, did, person_properties=props)
                    except InconclusiveMatchError:
                        pass
    return run


def load_runner(impl: str, t: Any) -> Callable[[Batch], None]:
    if impl == HOG:
        import hogflags

        engine = hogflags.FlagsEngine

        def run(batch: Batch) -> None:
            for data in batch:
                engine(data)
    else:
        update = t._update_flag_state  # hashes the document, publishes it and indexes the flags by key

        def run(batch: Batch) -> None:
            for data in batch:
                update(json.loads(data))
    return run


def runner(impl: str, workload: str, t: Any) -> Callable[[Batch], None]:
    if workload in (W1, W2_ONE):
        return one_flag_runner(impl, t)
    return all_flags_runner(impl, t) if workload == W2_ALL else load_runner(impl, t)


def batch_size(workload: str) -> int:
    """Calls per timed batch: enough for the clock (one-flag calls take well under a microsecond)."""
    return {W1: 100, W2_ONE: 100, W2_ALL: 10}.get(workload, 1)


# ---------------------------------------------------------------------------------------------- agreement


@dataclass
class Agreement:
    """posthog-python's public Client is the reference: pairs it could not decide locally are counted apart."""

    pairs: int = 0
    same: int = 0
    reference_undecided: int = 0
    hogflags_undecided: int = 0
    different: int = 0
    examples: List[Tuple[str, str, Any, Any]] = field(default_factory=list)

    @property
    def rate(self) -> Optional[float]:
        decided = self.pairs - self.reference_undecided
        return self.same / decided if decided else None

    def as_json(self) -> Dict[str, Any]:
        return {"pairs": self.pairs, "same": self.same, "reference_undecided": self.reference_undecided,
                "hogflags_undecided": self.hogflags_undecided, "different": self.different, "rate": self.rate}


def agreement(label: str, engine: Any, client: Any, users: List[User], keys: List[str]) -> Agreement:
    a = Agreement()
    for did, props in users:
        for key in keys:
            h = engine.get_feature_flag(key, did, person_properties=props)
            p = client.get_feature_flag(key, did, person_properties=props, only_evaluate_locally=True,
                                        send_feature_flag_events=False)
            a.pairs += 1
            if p is None:
                a.reference_undecided += 1
            elif h is None:
                a.hogflags_undecided += 1
            elif h == p and type(h) is type(p):
                a.same += 1
            else:
                a.different += 1
                if len(a.examples) < 3:
                    a.examples.append((key, did, h, p))
    rate = f"{a.rate:.2%}" if a.rate is not None else "n/a"
    print(f"agreement {label}: {rate} of the {a.pairs - a.reference_undecided} (user, flag) pairs posthog decided "
          f"are identical ({len(users)} users x {len(keys)} flags); undecided by posthog {a.reference_undecided}, "
          f"by hogflags only {a.hogflags_undecided}, different values {a.different}")
    for key, did, h, p in a.examples:
        print(f"  differs: flag {key} user {did}: hogflags {h!r}, posthog {p!r}")
    return a


def all_flags_equal(engine: Any, client: Any, users: List[User]) -> int:
    """How many users get the same get_all_flags mapping from both (a check of the bulk path)."""
    return sum(
        engine.get_all_flags(did, person_properties=props)
        == client.get_all_flags(did, person_properties=props, only_evaluate_locally=True)
        for did, props in users
    )


# ---------------------------------------------------------------------------------------------- timing


@dataclass
class Contender:
    name: str
    items: List[Any]
    run: Callable[[Batch], None]


@dataclass
class Timing:
    calls: int
    median_ns: float
    p99_ns: float
    throughput_per_s: float


def percentile(sorted_values: List[float], p: float) -> float:
    """The nearest-rank percentile, rounding half up as the Rust harness does."""
    return sorted_values[int((len(sorted_values) - 1) * p + 0.5)]


def measure(contenders: List[Contender], batch: int, rounds: int, warmup_batches: int = 20) -> Dict[str, Timing]:
    """Times each contender's calls in batches of `batch`; its batches are split into `rounds` contiguous
    rounds, and the rounds of the contenders alternate. Per-call time = batch time / batch length; median and
    p99 are over batches; throughput = calls / the summed time of the rounds."""
    plans = {}
    for c in contenders:
        batches = [c.items[i:i + batch] for i in range(0, len(c.items), batch)]
        for b in batches[:min(warmup_batches, max(1, len(batches) // 5))]:
            c.run(b)  # warm-up: caches, allocator, lazily built state
        plans[c.name] = [batches[r * len(batches) // rounds:(r + 1) * len(batches) // rounds] for r in range(rounds)]
    samples: Dict[str, List[float]] = {c.name: [] for c in contenders}
    elapsed = {c.name: 0 for c in contenders}
    clock = time.perf_counter_ns
    for r in range(rounds):
        for c in contenders:
            run, out = c.run, samples[c.name]
            start = clock()
            for b in plans[c.name][r]:
                t = clock()
                run(b)
                out.append((clock() - t) / len(b))
            elapsed[c.name] += clock() - start
    result = {}
    for c in contenders:
        s = sorted(samples[c.name])
        result[c.name] = Timing(len(c.items), percentile(s, 0.5), percentile(s, 0.99),
                                len(c.items) / (elapsed[c.name] / 1e9))
    return result


def bench_workload(workload: str, plan: Plan, doc: bytes, users: List[User], targets: Dict[str, Any]) -> Dict[str, Timing]:
    contenders = [Contender(impl, work_items(workload, impl, plan, doc, users), runner(impl, workload, targets[impl]))
                  for impl in IMPLS_OF[workload]]
    loads = workload in W3_SIZES
    return measure(contenders, batch_size(workload), max(len(c.items) for c in contenders) if loads else plan.rounds,
                   warmup_batches=1 if loads else 20)


def bench_wide_dict(engine: Any, users: List[User], calls: int, rounds: int) -> Dict[str, Timing]:
    """The cost of a big property dict: only the keys the definitions read are converted. `users` are cycled
    up to `calls`; thousands of distinct 1005-key dicts would measure cache misses rather than conversion."""
    wide_extra = {f"unrelated_{k}": f"value {k}" for k in range(1000)}
    run = one_flag_runner(HOG, engine)
    narrow = [("bench-flag", did, props) for did, props in users]
    wide = [("bench-flag", did, {**props, **wide_extra}) for did, props in users]
    narrow, wide = (narrow * (calls // len(narrow)), wide * (calls // len(wide)))
    return measure([Contender("5 keys", narrow, run), Contender("1005 keys", wide, run)], 100, rounds)


def bench_threads(name: str, call: Callable[[User], Any], users: List[User], seconds: float) -> Dict[str, float]:
    """Total calls per second with 1, 2 and 4 threads sharing one engine."""
    results: Dict[str, float] = {}
    for threads in (1, 2, 4):
        counts = [0] * threads
        stop = threading.Event()
        start = threading.Barrier(threads + 1)

        def worker(slot: int) -> None:
            start.wait()
            n, i = 0, slot * 997
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
        results[str(threads)] = sum(counts) / (time.perf_counter() - t0)
    base = results["1"]
    print(f"  {name}: " + ", ".join(f"{t} thread(s) {r:,.0f}/s ({r / base:.2f}x)" for t, r in results.items()))
    return results


# -------------------------------------------------------------------------------------------- peak RSS


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's high-water mark (VmHWM). Not getrusage's ru_maxrss: exec keeps the larger of the old and
    new image's peaks, so a child of a big parent would report the parent's RSS at fork time."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak() -> bool:
    """Resets the process's high-water mark (Linux >= 4.0), so the peak after it belongs to the workload alone."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_child(impl: str, workload: str, workloads: str, plan: Plan) -> int:
    """`--rss`: in a fresh process, load the inputs, then import the library, build the engine or client and run
    the workload once; print the peak RSS and its growth over the state right after loading the inputs."""
    doc = read_bytes(workloads, definitions_file(workload))
    users_name = users_file(workload)
    users = read_users(workloads, users_name) if users_name else []
    items = work_items(workload, impl, plan, doc, users)
    gc.collect()
    loading_peak = peak_rss_mb()
    if reset_peak():
        baseline = current_rss_mb()
    else:
        baseline = loading_peak  # the delta can then hide under the loading's transient peak
    warnings.simplefilter("ignore", DeprecationWarning)
    run = runner(impl, workload, target(impl, workload, doc))
    for i in range(0, len(items), batch_size(workload)):
        run(items[i:i + batch_size(workload)])
    peak = peak_rss_mb()
    print(json.dumps({"peak_rss_mb": max(peak, loading_peak), "rss_delta_mb": max(0.0, peak - baseline)}))
    return 0


def measure_rss(impl: str, workload: str, workloads: str, quick: bool) -> Dict[str, float]:
    cmd = [sys.executable, os.path.abspath(__file__), "--rss", impl, workload, "--workloads", workloads]
    out = subprocess.run(cmd + (["--quick"] if quick else []), check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------- report


def print_table(rows: List[Dict[str, Any]]) -> None:
    print(f"\n{'workload':<15} {'implementation':<21} {'calls':>7} {'median':>11} {'p99':>11} {'calls/s':>11} "
          f"{'peak RSS':>9} {'Δ RSS':>8} {'median vs hogflags':>19}")
    hog = {r["workload"]: r["median_ns"] for r in rows if r["impl"] == HOG}
    for r in rows:
        ratio = r["median_ns"] / hog[r["workload"]]
        print(f"{r['workload']:<15} {r['impl']:<21} {r['calls']:>7} {fmt_ns(r['median_ns']):>11} "
              f"{fmt_ns(r['p99_ns']):>11} {r['throughput_per_s']:>11,.0f} {r['peak_rss_mb']:>6.1f} MB "
              f"{r['rss_delta_mb']:>5.1f} MB {ratio:>18.1f}x")


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e3:.2f} µs" if ns >= 1e3 else f"{ns:.0f} ns"


def check_agreement(w1_users: List[User], w2_users: List[User], docs: Dict[str, bytes], plan: Plan,
                    targets: Dict[str, Dict[str, Any]]) -> Dict[str, Agreement]:
    w1 = agreement(W1, targets[W1][HOG], targets[W1][PH], take(w1_users, plan.w1[1]), ["bench-flag"])
    sample = w2_users[:plan.w2_agreement_users]
    w2 = agreement("w2 (100 flags)", targets[W2_ALL][HOG], targets[W2_ALL][PH], sample, flag_keys(docs[W2_ALL]))
    equal = all_flags_equal(targets[W2_ALL][HOG], targets[W2_ALL][PH], sample)
    print(f"get_all_flags: the same mapping from both for {equal} of {len(sample)} w2 users")
    return {W1: w1, W2_ALL: w2, W2_ONE: w2}


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", required=True, help="directory written by the gen_workloads example")
    ap.add_argument("--json", metavar="OUT.jsonl", help="also write one JSON object per (implementation, workload)")
    ap.add_argument("--quick", action="store_true", help="small subsets and few rounds (a smoke run, < 60 s)")
    ap.add_argument("--threads", action="store_true", help="also measure throughput with 1, 2 and 4 threads")
    ap.add_argument("--rss", nargs=2, metavar=("IMPL", "WORKLOAD"), help=argparse.SUPPRESS)  # the child mode
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    # posthog deprecates get_feature_flag / personal_api_key; its warning call still runs on every call.
    warnings.simplefilter("ignore", DeprecationWarning)
    if args.rss:
        return rss_child(args.rss[0], args.rss[1], args.workloads, plan)

    ver = versions()
    print(f"hogflags {ver['hogflags']} vs posthog {ver['posthog']} (Python {ver['python']}), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; {plan.rounds} interleaved rounds{' (quick)' if args.quick else ''}")
    docs = {w: read_bytes(args.workloads, definitions_file(w)) for w in IMPLS_OF}
    w1_users, w2_users = read_users(args.workloads, "w1_users.json"), read_users(args.workloads, "w2_users.json")
    users = {W1: w1_users, W2_ALL: w2_users, W2_ONE: w2_users}
    # One engine / client per definitions document, shared by the implementations' workloads on it.
    targets = {w: {impl: target(impl, w, docs[w]) for impl in IMPLS_OF[w]} for w in IMPLS_OF if w != W2_ONE}
    targets[W2_ONE] = targets[W2_ALL]

    agree = check_agreement(w1_users, w2_users, docs, plan, targets)
    failed = [w for w, a in agree.items() if a.rate is None or a.rate < AGREEMENT_FLOOR]
    if failed:
        print(f"agreement below {AGREEMENT_FLOOR:.0%} on {', '.join(sorted(set(failed)))}: not timing", file=sys.stderr)
        return 1

    rows: List[Dict[str, Any]] = []
    for w in IMPLS_OF:
        timings = bench_workload(w, plan, docs[w], users.get(w, []), targets[w])
        for impl, t in timings.items():
            rss = measure_rss(impl, w, args.workloads, args.quick)
            row = {"impl": impl, "workload": w, "calls": t.calls, "median_ns": t.median_ns, "p99_ns": t.p99_ns,
                   "throughput_per_s": t.throughput_per_s, "peak_rss_mb": rss["peak_rss_mb"],
                   "rss_delta_mb": rss["rss_delta_mb"], "versions": ver}
            if impl == HOG and w in agree:
                row["agreement"] = agree[w].as_json()
            rows.append(row)
    print_table(rows)
    print("(calls: posthog runs a prefix of the users where it has fewer; peak RSS: a fresh process per row, which "
          "holds the workload's input files; Δ RSS: its growth after loading them = import + build + one pass)")

    wide = bench_wide_dict(targets[W1][HOG], w1_users[:plan.wide_users[0]], plan.wide_users[1], plan.rounds)
    print(f"\nproperty dict size (w1, hogflags, median per call, {plan.wide_users[0]} users cycled): "
          f"5 keys {fmt_ns(wide['5 keys'].median_ns)}, 1005 keys {fmt_ns(wide['1005 keys'].median_ns)}")

    if args.threads:
        print(f"\nthroughput of one shared engine (calls/s; {os.cpu_count()} CPUs on this machine):")
        w1_engine, w2_engine = targets[W1][HOG], targets[W2_ALL][HOG]
        # All flags of the 1 000-flag load document: long enough per call that the GIL is released.
        import hogflags  # this process measures hogflags here (the --rss children import one library each)

        big_engine = hogflags.FlagsEngine(read_bytes(args.workloads, "w3_definitions_1000.json"))
        for w, call, us in (
            (W1, lambda u: w1_engine.get_feature_flag("bench-flag", u[0], person_properties=u[1]), w1_users),
            (W2_ALL, lambda u: w2_engine.get_all_flags(u[0], person_properties=u[1]), w2_users),
            ("w3_all_flags_1000", lambda u: big_engine.get_all_flags(u[0], person_properties=u[1]), w2_users),
        ):
            rows.append({"impl": HOG, "workload": f"threads_{w}", "threads": bench_threads(w, call, us, plan.thread_seconds)})

    if args.json:
        with open(args.json, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"\n{len(rows)} JSON lines written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
