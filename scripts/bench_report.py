#!/usr/bin/env python3
"""Turns the JSON lines of the cross-language benchmark into BENCHMARKS.md's generated section and a plot.

`scripts/bench.sh` (`make bench`) runs each language and leaves target/bench/results/{rust,c,python,node}.jsonl;
this script reads whatever is there, so a language that failed shows as "not run" instead of stopping the
report. Every ratio divides two figures of the same run. Only the text between `<!-- bench:begin -->` and
`<!-- bench:end -->` is rewritten (the markers are inserted after the intro the first time), so the
hand-written sections stay as they are.

Usage: scripts/bench_report.py [--results DIR] [--markdown FILE] [--plot PNG] [--stdout]
Needs only the standard library; matplotlib for the plot (skipped, and said so, without it).
"""

import argparse
import datetime
import json
import os
import platform
import re
import sys
from typing import Any, Dict, List, Optional, Tuple

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
LANGUAGES = ("rust", "c", "python", "node")
IMPL_ORDER = ("hogflags-rust", "sha1-floor", "serde_json-floor", "hogflags-c", "hogflags-c-context",
              "hogflags-python", "posthog-python", "posthog-python-bare", "hogflags-node", "posthog-node",
              "posthog-node-internal")
WORKLOADS = {
    "w1_one_flag": "w1: one flag (3 person filters, 50 % rollout), per call",
    "w2_all_flags": "w2: all 100 flags of a mixed document, per user",
    "w2_one_flag": "w2: one (rotating) flag of the 100-flag document, per call",
    "w3_load_1000": "w3: parse + compile 1 000 flags",
    "w3_load_10000": "w3: parse + compile 10 000 flags",
}

Rows = Dict[Tuple[str, str], Dict[str, Any]]


# ---- reading -------------------------------------------------------------------------------------------

def read_results(results_dir: str) -> Tuple[Rows, Dict[str, str]]:
    """All rows keyed by (impl, workload), and the status of each language ("ok" or why it is missing).

    A malformed line is skipped rather than fatal: one bad line must not hide a whole language."""
    rows: Rows = {}
    status: Dict[str, str] = {}
    for lang in LANGUAGES:
        path = os.path.join(results_dir, f"{lang}.jsonl")
        if not os.path.exists(path):
            status[lang] = "not run"
            continue
        count = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and "impl" in row and "workload" in row:
                    row["_language"] = lang
                    rows[(row["impl"], row["workload"])] = row
                    count += 1
        status[lang] = "ok" if count else "not run (no results in its output)"
    return rows, status


def read_run_info(results_dir: str) -> Dict[str, Any]:
    """What bench.sh recorded about the run (load at start, quick or full, failures); {} if absent."""
    try:
        with open(os.path.join(results_dir, "run.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _first_match(path: str, pattern: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return None


def machine_facts(run: Dict[str, Any]) -> Dict[str, str]:
    """CPU, cores, RAM, OS, kernel and the load average when the run started (now, if bench.sh did not say)."""
    mem_kb = _first_match("/proc/meminfo", r"MemTotal:\s+(\d+)")
    load = run.get("load_at_start") or (" ".join(f"{x:.2f}" for x in os.getloadavg()) + " (at report time)")
    return {
        "cpu": _first_match("/proc/cpuinfo", r"model name\s*:\s*(.*)") or platform.processor() or platform.machine(),
        "cores": str(os.cpu_count() or "?"),
        "ram": f"{int(mem_kb) / 1024 / 1024:.1f} GiB" if mem_kb else "?",
        "os": (_first_match("/etc/os-release", r'PRETTY_NAME="?([^"\n]*)') or platform.system()),
        "kernel": platform.release(),
        "load": load,
    }


def versions(rows: Rows) -> Dict[str, str]:
    """The union of the `versions` objects of every row (each language reports its own tools)."""
    merged: Dict[str, str] = {}
    for row in rows.values():
        for k, v in (row.get("versions") or {}).items():
            if v:
                merged.setdefault(k, str(v))
    return merged


# ---- figures -------------------------------------------------------------------------------------------

def fmt_ns(ns: Optional[float]) -> str:
    if ns is None:
        return "–"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def fmt_num(x: Optional[float]) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}".replace(",", " ") if x >= 100 else f"{x:.3g}"


def fmt_bool(x: Any) -> str:
    return {True: "yes", False: "**no**"}.get(x, "?") if isinstance(x, bool) else "?"


def fmt_ratio(x: Optional[float]) -> str:
    return "–" if x is None else (f"{x:.0f}×" if x >= 100 else f"{x:.3g}×")


def median(rows: Rows, impl: str, workload: str) -> Optional[float]:
    row = rows.get((impl, workload))
    value = row.get("median_ns") if row else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


# (label, numerator impl, denominator impl, workload, target op, target value). A speed-up divides the
# other library's time by hogflags'; an overhead divides hogflags' time by the floor's.
COMPARISONS = [
    ("speed-up vs posthog-python (`Client`)", "posthog-python", "hogflags-python", "w1_one_flag", ">=", 30),
    ("speed-up vs posthog-python (`Client`)", "posthog-python", "hogflags-python", "w2_all_flags", ">=", 30),
    ("speed-up vs posthog-python (`Client`)", "posthog-python", "hogflags-python", "w2_one_flag", None, None),
    ("speed-up vs posthog-python's bare evaluator", "posthog-python-bare", "hogflags-python", "w1_one_flag", ">=", 30),
    ("speed-up vs posthog-python's bare evaluator", "posthog-python-bare", "hogflags-python", "w2_all_flags", ">=", 30),
    ("speed-up vs posthog-node (`PostHog`)", "posthog-node", "hogflags-node", "w1_one_flag", ">=", 10),
    ("speed-up vs posthog-node (`PostHog`)", "posthog-node", "hogflags-node", "w2_all_flags", ">=", 10),
    ("speed-up vs posthog-node (`PostHog`)", "posthog-node", "hogflags-node", "w2_one_flag", None, None),
    ("speed-up vs posthog-node's internal evaluator", "posthog-node-internal", "hogflags-node", "w1_one_flag", ">=", 10),
    ("speed-up vs posthog-node's internal evaluator", "posthog-node-internal", "hogflags-node", "w2_all_flags", ">=", 10),
    ("load speed-up vs posthog-python", "posthog-python", "hogflags-python", "w3_load_1000", None, None),
    ("load speed-up vs posthog-python", "posthog-python", "hogflags-python", "w3_load_10000", None, None),
    ("load speed-up vs posthog-node", "posthog-node", "hogflags-node", "w3_load_1000", None, None),
    ("load speed-up vs posthog-node", "posthog-node", "hogflags-node", "w3_load_10000", None, None),
    ("core ÷ one SHA-1 (the floor)", "hogflags-rust", "sha1-floor", "w1_one_flag", "<=", 3),
    ("core load ÷ bare `serde_json` parse", "hogflags-rust", "serde_json-floor", "w3_load_1000", "<=", 2),
    ("core load ÷ bare `serde_json` parse", "hogflags-rust", "serde_json-floor", "w3_load_10000", "<=", 2),
    ("C ABI (JSON entry) ÷ core", "hogflags-c", "hogflags-rust", "w1_one_flag", None, None),
    ("C ABI (prebuilt context) ÷ core", "hogflags-c-context", "hogflags-rust", "w1_one_flag", None, None),
    ("C ABI (JSON entry) ÷ core", "hogflags-c", "hogflags-rust", "w2_all_flags", None, None),
]


def comparison_rows(rows: Rows) -> List[str]:
    """One table line per comparison: the ratio, the target and whether it is met ("not run" if a side is missing)."""
    out = []
    for label, num, den, workload, op, target in COMPARISONS:
        a, b = median(rows, num, workload), median(rows, den, workload)
        ratio = a / b if a and b else None
        goal = f"{'≥' if op == '>=' else '≤'} {target}×" if op else "–"
        if ratio is None:
            verdict = "not run"
        elif op is None:
            verdict = ""
        else:
            met = ratio >= target if op == ">=" else ratio <= target
            verdict = "**met**" if met else "**not met**"
        out.append(f"| {label} | {workload} | {fmt_ns(a)} / {fmt_ns(b)} | {fmt_ratio(ratio)} | {goal} | {verdict} |")
    return out


# ---- markdown ------------------------------------------------------------------------------------------

def cold_w1(rows: Rows) -> str:
    """The Rust w1 figure with contexts out of cache (the harness reports it beside the warm one)."""
    r = rows.get(("hogflags-rust", "w1_one_flag"), {})
    if not isinstance(r.get("cold_median_ns"), (int, float)):
        return "not measured"
    return f"{fmt_ns(r['cold_median_ns'])} (median; p99 {fmt_ns(r.get('cold_p99_ns'))})"


def header(rows: Rows, facts: Dict[str, str], vers: Dict[str, str], run: Dict[str, Any], status: Dict[str, str],
           plot_ok: bool, plot_rel: str) -> List[str]:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kind = {True: "quick run (`--quick`: fewer users and rounds, noisier)", False: "full run"}.get(run.get("quick"),
                                                                                              "run kind unknown")
    elapsed = f", {int(run['elapsed_s']) // 60} min {int(run['elapsed_s']) % 60} s" if "elapsed_s" in run else ""
    vtext = ", ".join(f"{k} {v}" for k, v in sorted(vers.items())) or "–"
    lines = [
        "## Cross-language benchmark (generated)",
        "",
        "Reproduce with one command (builds, installs the latest `posthog` and `posthog-node` into throwaway",
        "environments under `target/bench/`, runs every language on the same workload files, rewrites this section):",
        "",
        "```sh",
        "make bench          # or: make bench-quick (a smoke run), scripts/bench.sh [--quick]",
        "```",
        "",
        f"- **Run**: {now}, {kind}{elapsed}.",
        "  Generated by `scripts/bench_report.py` from `target/bench/results/`; do not edit between the `bench:` markers.",
        f"- **Machine**: {facts['cpu']}, {facts['cores']} cores, {facts['ram']} RAM, {facts['os']}, kernel"
        f" {facts['kernel']}; load average at start {facts['load']}.",
        f"- **Versions**: {vtext}.",
        "- **Languages**: " + ", ".join(f"{k} {v}" for k, v in status.items()) + ".",
        "- Each ratio divides two medians of this run, measured in the same process (Python, Node) or the same",
        "  binary (Rust). Times are per call (w1, w2) or per document (w3).",
        "- The Rust rows cycle through all the workload's users (100 000 for w1). For w1, hogflags and the",
        "  SHA-1 floor time each batch of 100 users after one untimed pass over it, so the contexts are in cache",
        "  as they are in a host that has just built them; read cold from the test's 180 MB of contexts, w1 is",
        f"  {cold_w1(rows)} per call.",
        "- The C rows call the C ABI from `bindings/c/bench/workloads.c` with the Rust rows' batch timing:",
        "  `hogflags-c` passes each user's JSON (`hf_engine_evaluate_json`, `hf_engine_evaluate_all_json`), so it",
        "  includes parsing the context and serializing the outcome; `hogflags-c-context` evaluates contexts",
        "  built beforehand, untimed (`hf_context_from_json`, then `hf_engine_evaluate_context`).",
        "",
    ]
    if plot_ok:
        lines += [f"![ns per evaluation, log scale]({plot_rel})", ""]
    return lines


def targets_section(rows: Rows) -> List[str]:
    return ["### Ratios and targets", "",
            "| comparison | workload | times (other / hogflags, or hogflags / floor) | ratio | target | |",
            "|---|---|---|---|---|---|", *comparison_rows(rows), ""]


def measurements_section(rows: Rows) -> List[str]:
    """Every row of every workload: median, p99, throughput, peak RSS (and RSS growth where reported)."""
    lines = ["### All measurements", "",
             "| workload | implementation | median | p99 | calls/s | peak RSS | calls |",
             "|---|---|---:|---:|---:|---:|---:|"]
    rank = {name: i for i, name in enumerate(IMPL_ORDER)}
    for workload in WORKLOADS:
        found = sorted((r for (i, w), r in rows.items() if w == workload), key=lambda r: rank.get(r["impl"], 99))
        if not found:
            lines.append(f"| {workload} | not run | | | | | |")
        for r in found:
            rss = f"{r['peak_rss_mb']:.0f} MB" if isinstance(r.get("peak_rss_mb"), (int, float)) else "–"
            if isinstance(r.get("rss_delta_mb"), (int, float)):
                rss += f" (+{r['rss_delta_mb']:.0f})"
            lines.append(f"| {workload} | {r['impl']} | {fmt_ns(r.get('median_ns'))} | {fmt_ns(r.get('p99_ns'))} |"
                         f" {fmt_num(r.get('throughput_per_s'))} | {rss} | {fmt_num(r.get('calls'))} |")
    lines += ["", "Workloads: " + "; ".join(f"`{k}` {v}" for k, v in WORKLOADS.items()) + ".",
              "Peak RSS is the whole process's high-water mark when the row was printed (it includes the users"
              " and documents loaded, and everything measured before in that process); `(+N)` is the growth the"
              " row itself caused, where the language reports it.", ""]
    return lines


def agreement_section(rows: Rows) -> List[str]:
    """Agreement of hogflags with the posthog library on every (user, flag) pair, as each language measured it."""
    found = [r for r in rows.values() if isinstance(r.get("agreement"), dict)]
    lines = ["### Agreement with posthog (checked before timing)", ""]
    if not found:
        return lines + ["Not run (no language reported agreement).", ""]
    lines += ["| implementation | workload | pairs | same | posthog undecided | hogflags undecided | different | rate |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(found, key=lambda r: (r["impl"], r["workload"])):
        a = r["agreement"]
        rate = a.get("rate")
        rate_s = f"{rate * 100:.2f} %" if isinstance(rate, (int, float)) else "–"
        lines.append(f"| {r['impl']} | {r['workload']} | {fmt_num(a.get('pairs'))} | {fmt_num(a.get('same'))} |"
                     f" {fmt_num(a.get('reference_undecided'))} | {fmt_num(a.get('hogflags_undecided'))} |"
                     f" {fmt_num(a.get('different'))} | {rate_s} |")
    return lines + ["", "The rate is `same ÷ (pairs − posthog undecided)`, as the language computed it.", ""]


def threads_section(rows: Rows) -> List[str]:
    """Throughput by thread count, for rows that carry a `threads` object (Python's GIL-free evaluation)."""
    found = [r for r in rows.values() if isinstance(r.get("threads"), dict)]
    if not found:
        return []
    lines = ["### Threads", "", "| implementation | workload | calls/s by thread count |", "|---|---|---|"]
    for r in found:
        per = ", ".join(f"{k}: {fmt_num(v) if isinstance(v, (int, float)) else json.dumps(v)}" for k, v in r["threads"].items())
        lines.append(f"| {r['impl']} | {r['workload']} | {per} |")
    return lines + [""]


def poll_section(rows: Rows) -> List[str]:
    """W4: the client's poll cycle against the local test server (Rust, manual driver)."""
    lines = ["### W4: the client's poll cycle (Rust, local test server on loopback)", ""]
    r304, r200 = rows.get(("hogflags-rust", "w4_poll_304")), rows.get(("hogflags-rust", "w4_poll_200"))
    if not r304 and not r200:
        return lines + ["Not run.", ""]
    if r304:
        p = r304.get("poll", {})
        lines.append(f"- **304 (unchanged)**: one `reload()` cycle {fmt_ns(r304.get('median_ns'))} median,"
                     f" {fmt_ns(r304.get('p99_ns'))} p99 over {fmt_num(r304.get('calls'))} cycles. Re-parsed documents:"
                     f" {p.get('reparsed', '?')}; snapshot unchanged (same `Arc`): {fmt_bool(p.get('snapshot_unchanged'))};"
                     f" server answered 304 {fmt_num(p.get('server_304'))} times.")
    if r200:
        p = r200.get("poll", {})
        busy, base, during = (p.get(k, {}) for k in ("cycle_during_evaluation", "evaluate_all_baseline",
                                                     "evaluate_all_during_swaps"))
        seen = p.get("evaluations_by_version", {})
        lines += [
            f"- **200 (changed document: w2, two versions alternating)**: fetch + parse + compile + swap"
            f" {fmt_ns(r200.get('median_ns'))} median, {fmt_ns(r200.get('p99_ns'))} p99 alone;"
            f" {fmt_ns(busy.get('median_ns'))} median, {fmt_ns(busy.get('p99_ns'))} p99 while"
            f" {p.get('evaluator_threads', '?')} threads evaluate ({fmt_num(p.get('swaps'))} swaps in all,"
            f" {p.get('pause_between_polls_ms', '?')} ms between polls).",
            f"- **Evaluators during the swaps** (`evaluate_all`, w2 users, on the client's current snapshot):"
            f" median {fmt_ns(during.get('median_ns'))} vs {fmt_ns(base.get('median_ns'))} without polling"
            f" ({fmt_ratio(p.get('median_ratio'))}), p99 {fmt_ns(during.get('p99_ns'))} vs {fmt_ns(base.get('p99_ns'))}"
            f" ({fmt_ratio(p.get('p99_ratio'))}). Evaluations by document version: A {fmt_num(seen.get('a'))},"
            f" B {fmt_num(seen.get('b'))}; both seen: {fmt_bool(p.get('saw_both_versions'))}.",
            "  On 2 cores the poller's parse competes with the two evaluator threads for CPU, which is most of"
            " what the ratios show: readers take no lock.",
        ]
    return lines + [""]


def section(rows: Rows, status: Dict[str, str], run: Dict[str, Any], plot_ok: bool, plot_rel: str) -> str:
    parts = header(rows, machine_facts(run), versions(rows), run, status, plot_ok, plot_rel)
    parts += targets_section(rows) + measurements_section(rows) + agreement_section(rows)
    parts += threads_section(rows) + poll_section(rows)
    failed = [k for k, v in status.items() if v != "ok"]
    if failed:
        parts += [f"Not run this time: {', '.join(failed)} (see `target/bench/logs/`).", ""]
    return "\n".join(parts).rstrip() + "\n"


def splice(document: str, generated: str) -> str:
    """Replaces the text between the markers; without markers, inserts them before the first `## ` heading
    (after the intro), so the hand-written sections are never touched."""
    block = f"{BEGIN}\n{generated}{END}"
    if BEGIN in document and END in document:
        start, end = document.index(BEGIN), document.index(END) + len(END)
        return document[:start] + block + document[end:]
    m = re.search(r"^## ", document, flags=re.M)
    at = m.start() if m else len(document)
    return document[:at] + block + "\n\n" + document[at:]


# ---- plot ----------------------------------------------------------------------------------------------

PLOT_WORKLOADS = (("w1_one_flag", "w1: one flag per call"), ("w2_all_flags", "w2: all 100 flags per user"))


def plot(rows: Rows, path: str) -> bool:
    """ns per evaluation per implementation, w1 and w2 side by side, log scale, each bar labelled.
    Returns False (and says why) when matplotlib is missing or there is nothing to draw."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench_report: matplotlib is not installed; no plot", file=sys.stderr)
        return False
    rank = {name: i for i, name in enumerate(IMPL_ORDER)}
    data = []
    for workload, title in PLOT_WORKLOADS:
        bars = sorted(((i, median(rows, i, w)) for (i, w) in rows if w == workload and median(rows, i, w)),
                      key=lambda b: rank.get(b[0], 99))
        data.append((title, bars))
    if not any(bars for _, bars in data):
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, (title, bars) in zip(axes, data):
        draw_panel(ax, title, bars)
    from matplotlib.patches import Patch
    legend = [Patch(color=c, label=l) for c, l in (("#1f77b4", "hogflags"), ("#ff7f0e", "posthog"), ("#999999", "floor"))]
    fig.legend(handles=legend, loc="lower center", ncol=3, frameon=False)
    fig.suptitle("median ns per call (lower is better, log scale) — `make bench`")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def draw_panel(ax: Any, title: str, bars: List[Tuple[str, float]]) -> None:
    """One workload: horizontal bars, hogflags blue, posthog orange, floors grey, value at the end of each."""
    ax.set_title(title)
    if not bars:
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    names = [b[0] for b in bars][::-1]
    values = [b[1] for b in bars][::-1]
    colors = ["#1f77b4" if n.startswith("hogflags") else "#999999" if n.endswith("floor") else "#ff7f0e" for n in names]
    ax.barh(names, values, color=colors)
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 8)
    ax.set_xlabel("ns per call")
    for y, v in enumerate(values):
        ax.text(v * 1.1, y, fmt_ns(v), va="center", fontsize=9)


# ---- main ----------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="target/bench/results")
    ap.add_argument("--markdown", default="BENCHMARKS.md")
    ap.add_argument("--plot", default="docs/benchmarks.png")
    ap.add_argument("--stdout", action="store_true", help="print the section instead of writing any file")
    args = ap.parse_args(argv)

    rows, status = read_results(args.results)
    run = read_run_info(args.results)
    for lang in (run.get("failed") or "").split(","):
        if lang in status and status[lang] == "ok":
            status[lang] = "ok (but its run reported a failure; see its log)"
    plot_ok = False if args.stdout else plot(rows, args.plot)
    plot_rel = os.path.relpath(args.plot, os.path.dirname(os.path.abspath(args.markdown)))
    generated = section(rows, status, run, plot_ok, plot_rel)
    if args.stdout:
        sys.stdout.write(generated)
        return 0
    with open(args.markdown, encoding="utf-8") as f:
        document = f.read()
    with open(args.markdown, "w", encoding="utf-8") as f:
        f.write(splice(document, generated))
    print(f"bench_report: wrote {args.markdown}" + (f" and {args.plot}" if plot_ok else " (no plot)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
