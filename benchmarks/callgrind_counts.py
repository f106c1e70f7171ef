#!/usr/bin/python3
"""Second opinion for benchmarks (a) and (b): instructions per event, counted by
callgrind, which is reproducible on a shared machine where timings are not.

(a) For each dispatch variant, k and mix (--mix: uniform by default, or a
    comma-separated list, or "all"), runs `ee_bench_dispatch
    --profile` under valgrind --tool=callgrind twice, with R and 2R passes over
    the same batch, and reports (Ir(2R) - Ir(R)) / (R * batch): set-up cancels out.
(b) With --load, runs one load-test child per variant with N and 2N events and
    reports (Ir(2N) - Ir(N)) / N: every thread's instructions per event, end to
    end (valgrind runs the threads one at a time, so waiting costs differ from a
    real run; the count is the work, not the time).

Usage: callgrind_counts.py --dispatch PATH [--load PATH] --json FILE [--reps R] [--batch B]
       [--mix uniform|skewed_first|skewed_last|LIST|all] [--ks K,...] [--variants V,...]
Stdlib only; skips (and says so) when valgrind is not installed.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys

VARIANTS = ["engine", "chain", "chain_sv", "vector_fn", "map_fn", "virtual", "virtual_fused", "engine_fold",
            "engine_tree"]
KS = [1, 4, 8, 16, 32, 64, 256]
MIXES = ["uniform", "skewed_first", "skewed_last"]


def instructions(dispatch, variant, k, mix, reps, batch):
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", dispatch,
                           "--batch", str(batch), "--profile", variant, str(k), mix, str(reps)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} k={k}: exit {proc.returncode}: {proc.stderr[-500:]}")
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if not match:
        raise RuntimeError(f"{variant} k={k}: no instruction count in valgrind's output")
    return int(match.group(1))


def load_instructions(load, variant, n):
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", load, "--child", variant,
                           "--n", str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not match:
        raise RuntimeError(f"load {variant} n={n}: exit {proc.returncode}: {proc.stderr[-500:]}")
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dispatch", required=True)
    parser.add_argument("--load", help="ee_bench_load, to count the load test's instructions too")
    parser.add_argument("--load-n", type=int, default=20000)
    parser.add_argument("--json", required=True)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--mix", default="uniform", help="uniform, skewed_first, skewed_last, a list, or all")
    parser.add_argument("--ks", help="comma-separated k values (default: all of " + ",".join(map(str, KS)) + ")")
    parser.add_argument("--variants", help="comma-separated variants (default: all; engine and chain always)")
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        print("callgrind_counts: valgrind is not installed; skipped", file=sys.stderr)
        with open(args.json, "w") as f:
            json.dump({"benchmark": "dispatch_instructions", "skipped": "valgrind not installed"}, f, indent=2)
        return 0
    rows = []
    mixes = MIXES if args.mix == "all" else args.mix.split(",")
    ks = [int(k) for k in args.ks.split(",")] if args.ks else KS
    variants = VARIANTS
    if args.variants:
        variants = ["engine", "chain"] + [v for v in args.variants.split(",") if v not in ("engine", "chain")]
    print(f"{'k':<3} {'mix':<12} {'variant':<13} {'Ir/event':>9} {'x engine':>9}")
    for mix in mixes:
        for k in ks:
            if k == 1 and mix != "uniform":
                continue  # one type: every mix is the same
            per_event = {}
            for variant in variants:
                low = instructions(args.dispatch, variant, k, mix, args.reps, args.batch)
                high = instructions(args.dispatch, variant, k, mix, 2 * args.reps, args.batch)
                per_event[variant] = (high - low) / (args.reps * args.batch)
            for variant in variants:
                ratio = per_event[variant] / per_event["engine"]
                rows.append({"k": k, "mix": mix, "variant": variant, "ir_per_event": round(per_event[variant], 1),
                             "ratio_to_engine": round(ratio, 3),
                             "ratio_to_chain": round(per_event[variant] / per_event["chain"], 3)})
                print(f"{k:<3} {mix:<12} {variant:<13} {per_event[variant]:9.1f} {ratio:9.2f}", flush=True)
    load_rows = []
    if args.load:
        print(f"{'load variant':<12} {'Ir/event':>9} {'x raw':>7}")
        per_event = {}
        for variant in ("engine", "engine_view", "raw"):
            low = load_instructions(args.load, variant, args.load_n)
            high = load_instructions(args.load, variant, 2 * args.load_n)
            per_event[variant] = (high - low) / args.load_n
        for variant, value in per_event.items():
            load_rows.append({"variant": variant, "ir_per_event": round(value, 0),
                              "ratio_to_raw": round(value / per_event["raw"], 3)})
            print(f"{variant:<12} {value:9.0f} {value / per_event['raw']:7.2f}", flush=True)
    with open(args.json, "w") as f:
        json.dump({"benchmark": "dispatch_instructions", "mix": ",".join(mixes), "reps": args.reps, "batch": args.batch,
                   "rows": rows, "load_n": args.load_n, "load_rows": load_rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
