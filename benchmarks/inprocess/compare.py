#!/usr/bin/python3
"""In-process delivery, before and after (issue 22; docs/benchmarks.md, "In-process delivery").

Builds benchmarks/inprocess/inprocess_bench.cpp (this checkout's copy) against two event_engine
source trees, "before" (a git worktree of --before-commit, default e54445f) and "after" (--after,
default this checkout), with each compiler (Release, -O2), then runs every case N rounds,
alternating before and after (the order swaps every round), each run in its own process, and
prints the medians and the ratios after/before and after/floor per case and compiler.

    benchmarks/inprocess/compare.py                      # after = this checkout, 5 rounds, ~10 min
    benchmarks/inprocess/compare.py --after /work/typed --json build/inprocess/compare.json
    benchmarks/inprocess/compare.py --smoke              # 1 round, tiny sizes (the builds dominate)

Standard library only. Exits non-zero if a build or a run failed or a run's counts were not exact.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

ENGINE_CASES = ["spsc16", "fanout16", "image1m", "latency", "idle"]
FLOOR_CASES = ["ring16", "ring16_shared"]

# (case, metric, label, compare with the floor, issue 22's target for after/before or None)
ROWS = [
    ("spsc16", "rate", "(a) 16 B 1->1, events/s", True, ">= 2.5, after/floor >= 0.5"),
    ("fanout16", "rate", "(b) 16 B 1->4, events/s per consumer", True, ">= 2.5"),
    ("image1m", "rate", "(c) 1 MiB 1->2, events/s per consumer", True, "(c)/(a) >= 0.5"),
    ("ring16", "rate", "(d) floor: SPSC ring of 16 B values, events/s", False, None),
    ("ring16_shared", "rate", "(d) SPSC ring, shared_ptr per event, events/s", False, None),
    ("latency", "p50_us", "(e) latency p50 at 10k/s, us", False, None),
    ("latency", "p99_us", "(e) latency p99 at 10k/s, us", False, "<= 1"),
    ("idle", "cpu_percent", "(f) idle CPU, % of one core", False, "after <= 1 %"),
    ("spsc16", "cpu_ns_per_event", "(g) CPU per event of (a), ns", False, None),
]


def run(cmd, **kwargs):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def before_tree(build_dir, commit):
    """A detached git worktree of @p commit under the build directory (made once)."""
    path = os.path.join(build_dir, "before-src")
    wanted = subprocess.run(["git", "-C", REPO, "rev-parse", commit + "^{commit}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    if os.path.isdir(path):
        have = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        if have == wanted:
            return path
        run(["git", "-C", REPO, "worktree", "remove", "--force", path])
    run(["git", "-C", REPO, "worktree", "add", "--detach", path, wanted])
    return path


def build(source_tree, build_dir, compiler):
    config = ["cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
              "-DEE_SOURCE_DIR=" + os.path.abspath(source_tree), "-DCMAKE_CXX_COMPILER=" + compiler]
    cache = os.path.join(build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache) as f:
            configured = [line.split("=", 1)[1].strip() for line in f if line.startswith("EE_SOURCE_DIR:")]
        if configured != [os.path.abspath(source_tree)]:
            shutil.rmtree(build_dir)  # configured for another tree: start again
    if not os.path.exists(cache):
        if subprocess.run(["sh", "-c", "command -v ninja"], capture_output=True).returncode == 0:
            config += ["-G", "Ninja"]
    run(config, stdout=subprocess.DEVNULL)
    run(["cmake", "--build", build_dir, "--target", "ee_bench_inprocess", "-j", "2"])
    return os.path.join(build_dir, "ee_bench_inprocess")


def run_case(binary, case, label, args, failures):
    cmd = [binary, "--case", case, "--label", label] + args
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        failures.append(f"{label} {case} ({binary}): exit {done.returncode}: {done.stderr.strip()[-400:]}")
        if not lines:
            return None
    result = json.loads(lines[-1])
    result["wall_s"] = round(time.monotonic() - started, 2)
    print(f"  {label:6} {case:14} " + " ".join(f"{k}={result[k]:.4g}" for k in ("rate", "p50_us", "p99_us", "cpu_percent")
                                               if isinstance(result.get(k), (int, float))), file=sys.stderr, flush=True)
    return result


def fmt(value, metric):
    if value is None:
        return "-"
    if metric == "rate" and value >= 1e6:
        return f"{value / 1e6:.2f} M"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def ratio(a, b):
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}" if a / b >= 0.1 or a == 0 else f"1/{b / a:.0f}"


def table(results, header, cases, compilers):
    """The medians and ratios as a Markdown table; also the medians by name."""

    def med(label, compiler, case, metric):
        values = [r[metric] for r in results.get((label, compiler, case), []) if metric in r]
        return statistics.median(values) if values else None

    medians = {}
    def spread(compiler, case, metric):
        """The lowest and highest after/before of the rounds (run i of each is round i)."""
        pairs = zip(results.get(("before", compiler, case), []), results.get(("after", compiler, case), []))
        ratios = sorted(a[metric] / b[metric] for b, a in pairs if b.get(metric))
        return f"{ratios[0]:.2f}-{ratios[-1]:.2f}" if ratios else ""

    out = [header, "",
           "| case | compiler | before | after | after/before | (rounds) | after/floor | target |",
           "|---|---|---:|---:|---:|---:|---:|---|"]
    for case, metric, title, vs_floor, target in ROWS:
        if case not in cases:
            continue
        for compiler in compilers:
            if case in FLOOR_CASES:
                floor = med("floor", compiler, case, metric)
                medians[f"{compiler}/{case}/{metric}/floor"] = floor
                out.append(f"| {title} | {compiler} | | {fmt(floor, metric)} | | | | |")
                continue
            before = med("before", compiler, case, metric)
            after = med("after", compiler, case, metric)
            floor = med("floor", compiler, "ring16", "rate") if vs_floor else None
            medians[f"{compiler}/{case}/{metric}/before"] = before
            medians[f"{compiler}/{case}/{metric}/after"] = after
            out.append(f"| {title} | {compiler} | {fmt(before, metric)} | {fmt(after, metric)} | "
                       f"{ratio(after, before)} | {spread(compiler, case, metric)} | "
                       f"{ratio(after, floor) if vs_floor else ''} | {target or ''} |")
    if "image1m" in cases and "spsc16" in cases:
        for compiler in compilers:
            parts = [ratio(med(label, compiler, "image1m", "rate"), med(label, compiler, "spsc16", "rate"))
                     for label in ("before", "after")]
            out.append(f"| (c)/(a): 1 MiB 1->2 per consumer / 16 B 1->1 | {compiler} | {parts[0]} | {parts[1]} "
                       f"| | | | after >= 0.5 |")
    out.append("")
    out.append("Medians of the rounds; (rounds): the lowest and highest after/before of single rounds; rates are "
               "per consumer, from the first to the last event received; after/floor divides by the SPSC ring of "
               "16-byte values (ring16) of the same compiler.")
    return "\n".join(out), medians


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--after", default=REPO, help="the event_engine tree to compare (default: this checkout)")
    parser.add_argument("--before-commit", default="e54445f", help="the engine before (default: e54445f)")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "inprocess"))
    parser.add_argument("--compilers", default="g++,clang++")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cases", default=",".join(FLOOR_CASES + ENGINE_CASES))
    parser.add_argument("--seconds", type=float, default=1.0, help="throughput cases: seconds of publishing")
    parser.add_argument("--latency-seconds", type=float, default=5.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--smoke", action="store_true", help="1 round, tiny sizes")
    parser.add_argument("--json", help="write every run's line and the medians here")
    parser.add_argument("--report", metavar="JSON", help="only print the table of an earlier run's --json file")
    args = parser.parse_args()
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        results = {}
        for line in saved["runs"]:
            results.setdefault((line["label"], line["cxx"], line["case"]), []).append(line)
        print(table(results, saved["header"], saved["cases"], saved["compilers"])[0])
        return 0
    if args.smoke:
        args.rounds = 1
    bench_args = ["--smoke"] if args.smoke else [
        "--seconds", str(args.seconds), "--latency-seconds", str(args.latency_seconds),
        "--idle-seconds", str(args.idle_seconds)]
    cases = args.cases.split(",")
    compilers = args.compilers.split(",")
    build_dir = os.path.abspath(args.build_dir)
    os.makedirs(build_dir, exist_ok=True)

    trees = {"before": before_tree(build_dir, args.before_commit), "after": os.path.abspath(args.after)}
    binaries = {}
    for compiler in compilers:
        for label, tree in trees.items():
            binaries[(label, compiler)] = build(tree, os.path.join(build_dir, f"{label}-{compiler}"), compiler)

    # results[(label, compiler, case)] = [line per round]; the floor runs once a round (its
    # code does not depend on the engine), from the after build, labelled "floor".
    results = {}
    failures = []
    for round_index in range(args.rounds):
        order = ["before", "after"] if round_index % 2 == 0 else ["after", "before"]
        for compiler in compilers:
            print(f"== round {round_index + 1}/{args.rounds}, {compiler}, {' then '.join(order)}",
                  file=sys.stderr, flush=True)
            for case in cases:
                labels = ["floor"] if case in FLOOR_CASES else order
                for label in labels:
                    binary = binaries[("after" if label == "floor" else label, compiler)]
                    line = run_case(binary, case, label, bench_args, failures)
                    if line is not None:
                        line["cxx"] = compiler
                        results.setdefault((label, compiler, case), []).append(line)
                        if not line.get("exact", False):
                            failures.append(f"{label} {compiler} {case}: counts not exact: {json.dumps(line)}")

    header = (f"after: {trees['after']}  before: {args.before_commit}  rounds: {args.rounds}  " +
              ("smoke" if args.smoke else
               f"seconds {args.seconds:g}, latency {args.latency_seconds:g} s, idle {args.idle_seconds:g} s"))
    text, medians = table(results, header, cases, compilers)
    print(text)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "cases": cases, "compilers": compilers, "after": trees["after"],
                       "before_commit": args.before_commit, "rounds": args.rounds, "smoke": args.smoke, "medians": medians, "failures": failures,
                       "runs": [dict(line, round=i + 1) for key in sorted(results) for i, line in
                                enumerate(results[key])]}, f, indent=1)
    for failure in failures:
        print("FAILED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
