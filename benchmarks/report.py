#!/usr/bin/python3
"""Merges the benchmark outputs of one run into results.json and results.md.

Reads, from --results-dir, whichever of these exist: dispatch.json,
instructions.json, load_test.json, external.json, compile_time.json. Adds the machine (CPU model
and cores from /proc/cpuinfo, compilers, libzmq) and checks the issue's targets.
Missing inputs are reported as such, not as errors (a smoke run has fewer).

With --plots DIR it also draws, from the same inputs, the pictures of docs/benchmarks.md
(matplotlib, Agg, SVG; the same inputs give byte-identical files):
  bench-dispatch.svg      (a) ns per event against k, uniform mix (dispatch.json)
  bench-payload.svg       (c) fetch throughput against payload size (external.json)
  bench-compile-time.svg  (d) compile CPU time against handlers (compile_time.json)
A plot whose input is missing is not drawn (and said so).

The inputs of the plots on docs/benchmarks.md are kept in benchmarks/results/, so they can be
redrawn without running anything:
  report.py --results-dir benchmarks/results --plots docs/images --plots-only

Usage: report.py --results-dir DIR [--source-dir REPO] [--plots DIR [--plots-only]]
Stdlib only, except --plots (matplotlib; Debian: python3-matplotlib).
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

VARIANT_LABELS = {
    "engine": "(1) event_engine dispatch",
    "chain": "(2) hand-written chain (memcmp)",
    "chain_sv": "(2b) hand-written chain (string_view::starts_with)",
    "vector_fn": "(3a) vector<{prefix, std::function}>",
    "map_fn": "(3b) unordered_map<string, std::function>",
    "virtual": "(4) vector<unique_ptr<handler_base>>, virtual filter() + handle() (Rust-shaped)",
    "virtual_fused": "(4b) vector<unique_ptr<handler_base>>, one virtual try_handle() (most favourable)",
    "engine_fold": "(1f) event_engine dispatch with the plan forced to the fold (the dispatch before issue 11)",
    "engine_tree": "(1t) event_engine dispatch with the plan forced to the decision tree",
}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def run(command):
    try:
        return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(source_dir):
    info = {"cores": os.cpu_count(), "cpu_model": "unknown", "kernel": platform.release(),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["gxx"] = (run(["g++", "--version"]).splitlines() or ["not found"])[0]
    info["clangxx"] = (run(["clang++", "--version"]).splitlines() or ["not found"])[0]
    zmq = run(["pkg-config", "--modversion", "libzmq"])
    info["libzmq"] = zmq or "unknown"
    if source_dir:
        info["commit"] = run(["git", "-C", source_dir, "rev-parse", "--short", "HEAD"]) or "unknown"
        info["worktree_dirty"] = bool(run(["git", "-C", source_dir, "status", "--porcelain", "--", "include"]))
    try:
        with open("/proc/loadavg") as f:
            info["loadavg_at_report"] = f.read().split()[:3]
    except OSError:
        pass
    return info


def fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def verdict(ok):
    return "met" if ok else "**missed**"


def dispatch_section(data, ir, targets):
    out = ["## (a) Dispatch overhead", ""]
    if not data:
        return out + ["No dispatch results in this run.", ""]
    rows = data["rows"]
    out.append(f"ns/event = lower decile over {data['rounds']} interleaved rounds (batch of {data['batch']} "
               f"frames, about {data['trial_ms']} ms per trial; on a shared machine other processes only add "
               "time, so the least disturbed trials estimate the cost). `x (1)` = a variant's ns / the engine's; "
               "`paired` (in the JSON) = median of per-round ratios, a cross-check.")
    out.append("")
    mixes = []
    for r in rows:
        if r["mix"] not in mixes:
            mixes.append(r["mix"])
    ks = sorted({r["k"] for r in rows})
    variants = [v for v in VARIANT_LABELS if any(r["variant"] == v for r in rows)]
    for mix in mixes:
        out.append(f"### Topic mix: {mix}")
        out.append("")
        out.append("| k | (1) engine ns | (2) chain ns | (1)/(2) | " +
                   " | ".join(f"{v} x (1)" for v in variants if v != "engine") + " |")
        out.append("|---:|---:|---:|---:|" + "---:|" * (len(variants) - 1))
        for k in ks:
            by = {r["variant"]: r for r in rows if r["k"] == k and r["mix"] == mix}
            if not by:
                continue
            engine, chain = by.get("engine"), by.get("chain")
            cells = [str(k), fmt(engine["ns_per_event"], 1), fmt(chain["ns_per_event"], 1),
                     fmt(engine["ratio_to_chain"])]
            cells += [fmt(by[v]["ratio_to_engine"]) for v in variants if v != "engine"]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    # Targets (issue 11): never more than 1.1x the hand-written chain, at most 0.5x of it
    # at k = 64 (uniform), and at k >= 16 at least 3x faster than every run-time registry.
    worst = max((r for r in rows if r["variant"] == "engine"), key=lambda r: r["ratio_to_chain"])
    targets.append({"benchmark": "dispatch", "target": "(1) within 1.1x of (2) at every k (every mix)",
                    "value": f"worst {worst['ratio_to_chain']:.2f} (k={worst['k']}, {worst['mix']})",
                    "met": worst["ratio_to_chain"] <= 1.1})
    at64 = next((r for r in rows if r["variant"] == "engine" and r["k"] == 64 and r["mix"] == "uniform"), None)
    if at64:
        targets.append({"benchmark": "dispatch", "target": "(1) at most 0.5x (2) at k=64 (uniform)",
                        "value": f"{at64['ratio_to_chain']:.2f}x", "met": at64["ratio_to_chain"] <= 0.5})
    for v in ("vector_fn", "map_fn", "virtual"):
        big = [r for r in rows if r["variant"] == v and r["k"] >= 16]
        if not big:
            continue
        low = min(big, key=lambda r: r["ratio_to_engine"])
        targets.append({"benchmark": "dispatch", "target": f"{VARIANT_LABELS[v]} >= 3x slower than (1) at k>=16 "
                                                           "(every mix)",
                        "value": f"lowest {low['ratio_to_engine']:.2f}x (k={low['k']}, {low['mix']})",
                        "met": low["ratio_to_engine"] >= 3.0})
    if ir and ir.get("rows"):
        irv = [v for v in VARIANT_LABELS if any(r["variant"] == v for r in ir["rows"])]
        ir_mixes = []
        for r in ir["rows"]:
            if r["mix"] not in ir_mixes:
                ir_mixes.append(r["mix"])
        for mix in ir_mixes:
            out.append(f"### Instructions per event (callgrind, {mix} mix)")
            out.append("")
            out.append("Counted, not timed: reproducible on a shared machine. `x (1)` = instructions / engine's.")
            out.append("")
            out.append("| k | " + " | ".join(f"{v} Ir" for v in irv) + " | (1)/(2) | " +
                       " | ".join(f"{v} x (1)" for v in irv if v not in ("engine",)) + " |")
            out.append("|---:|" + "---:|" * (len(irv) * 2))
            for k in sorted({r["k"] for r in ir["rows"] if r["mix"] == mix}):
                by = {r["variant"]: r for r in ir["rows"] if r["k"] == k and r["mix"] == mix}
                cells = [str(k)] + [fmt(by[v]["ir_per_event"], 0) for v in irv]
                cells.append(fmt(by["engine"]["ir_per_event"] / by["chain"]["ir_per_event"]))
                cells += [fmt(by[v]["ratio_to_engine"]) for v in irv if v != "engine"]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
    elif ir and ir.get("skipped"):
        out += [f"Instruction counts skipped: {ir['skipped']}.", ""]
    out.append("Variants: " + "; ".join(f"{k} = {v}" for k, v in VARIANT_LABELS.items()) + ".")
    out.append("")
    return out


def load_section(data, ir, targets):
    out = ["## (b) End to end: the load test", ""]
    if not data:
        return out + ["No load-test results in this run.", ""]
    out.append(f"Medians over {data['trials']} trial(s) per variant, each run in its own process (peak RSS is "
               f"that process's VmHWM). Latency sampled on every {data['latency_stride']}th event: hop 1 = "
               "producer publish to the operator's handler, e2e = to the accumulator's handler (two hops).")
    out.append("")
    out.append("| N | variant | exact | events/s | x raw | wall s | hop1 p50 us | hop1 p99 us | e2e p50 us | "
               "e2e p99 us | peak RSS MiB |")
    out.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in data["rows"]:
        exact = "yes" if r["ok"] else ("no (informative)" if r.get("informative") else "**no**")
        out.append(f"| {r['n']} | {r['variant']} | {exact} | {r['events_per_s']:.0f} | "
                   f"{r['throughput_ratio_to_raw']:.2f} | {r['seconds']:.3f} | {r['hop1_p50_us']:.0f} | "
                   f"{r['hop1_p99_us']:.0f} | {r['e2e_p50_us']:.0f} | {r['e2e_p99_us']:.0f} | "
                   f"{r['peak_rss_mib']:.1f} |")
    out.append("")
    if ir and ir.get("load_rows"):
        out.append(f"Instructions per event, every thread, end to end (callgrind, N = {ir['load_n']} and "
                   f"{2 * ir['load_n']}, difference / N): " +
                   ", ".join(f"{r['variant']} {r['ir_per_event']:.0f} ({r['ratio_to_raw']:.2f}x raw)"
                             for r in ir["load_rows"]) + ".")
        out.append("")
    for n in sorted({r["n"] for r in data["rows"]}):
        engine = next((r for r in data["rows"] if r["n"] == n and r["variant"] == "engine"), None)
        raw = next((r for r in data["rows"] if r["n"] == n and r["variant"] == "raw"), None)
        if engine and raw:
            targets.append({"benchmark": "load_test", "target": f"engine >= 0.9x raw throughput, N={n}",
                            "value": f"{engine['throughput_ratio_to_raw']:.2f}x (median of per-trial ratios)",
                            "met": engine["throughput_ratio_to_raw"] >= 0.9})
            targets.append({"benchmark": "load_test", "target": f"exact counts in both, N={n}",
                            "value": f"engine {'exact' if engine['ok'] else 'NOT exact'}, "
                                     f"raw {'exact' if raw['ok'] else 'NOT exact'}",
                            "met": engine["ok"] and raw["ok"]})
    return out


def external_section(data, targets):
    out = ["## (c) External plugins: Python through pyevents, beside raw ZeroMQ floors", ""]
    if not data:
        return out + ["No external-plugin results in this run.", ""]
    if "fetch" not in data:  # an older external.json
        return out + ["external.json is in an older format; rerun benchmarks/external_bench.py.", ""]

    def rate(entry, size):
        if not entry:
            return "-"
        if "skipped" in entry:
            return "not available"
        if size >= 64 * 1024:
            return f"{entry['mb_per_s']:,.0f} MB/s"
        return f"{entry['events_per_s']:,.0f}/s"

    def ratio(value):
        return "-" if value is None else f"{value:.2f}x"

    out.append(f"Medians of {data['rounds']} round(s), every row once per round, alternated; load average "
               f"{' '.join(data.get('loadavg_start') or [])} at the start. Fetch: timed by the Python consumer; "
               f"publish, typed, camera: by the receiving C++ plugin (or floor). Ratios: to the better of the two raw "
               f"floors (at 100 B, fetch: to the PUSH floor). Every run accounted for every event exactly.")
    out.append("")
    out.append("| payload | REQ/REP floor | PUSH floor | legacy `get_next_msg` | `next_events` | iteration "
               "| `next_events`, `copy=False` | iteration, `copy=False` |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in data["fetch"]:
        size, rs = f["payload_bytes"], f["rows"]
        ratios = f["ratio_to_push_floor"] if size < 64 * 1024 else f["ratio_to_better_floor"]
        cells = [f"{rate(rs.get(n), size)} ({ratio(ratios.get(n))})"
                 for n in ("legacy_next_msg", "client_next_events", "client_iteration", "client_next_events_nocopy",
                           "client_iteration_nocopy")]
        out.append(f"| {size:,} B | {rate(rs.get('req_floor'), size)} | {rate(rs.get('push_floor'), size)} | "
                   + " | ".join(cells) + " |")
        if f.get("target_met") is not None:
            value = ratios.get("client_next_events")
            targets.append({"benchmark": "external", "target": f"{f['target']}, {size:,} B",
                            "value": ratio(value), "met": bool(f["target_met"])})
    out.append("")
    if data.get("publish"):
        out.append("| payload | REQ->REP floor | PUSH->PULL floor | `publish` | `publish_many` | buffered publisher |")
        out.append("|---:|---:|---:|---:|---:|---:|")
        for p in data["publish"]:
            size, rs = p["payload_bytes"], p["rows"]
            cells = [rate(rs.get("publish_one"), size)]
            for n in ("publish_many", "buffered_publisher"):
                cells.append(f"{rate(rs.get(n), size)} ({ratio(p['ratio_to_publish_one'].get(n))} of `publish`, "
                             f"{ratio(p['ratio_to_better_floor'].get(n))} of the floor)")
            out.append(f"| {size:,} B | {rate(rs.get('rep_in_floor'), size)} | {rate(rs.get('pull_floor'), size)} | "
                       + " | ".join(cells) + " |")
            against = p["ratio_to_publish_one"] if size < 64 * 1024 else p["ratio_to_better_floor"]
            values = [against.get(n) for n in ("publish_many", "buffered_publisher") if against.get(n) is not None]
            if values:
                best, need = max(values), (10 if size < 64 * 1024 else 0.8)
                targets.append({"benchmark": "external", "target": f"{p['target']}, {size:,} B",
                                "value": ratio(best), "met": best >= need})
        out.append("")
    if data.get("typed"):
        t = data["typed"]
        out.append("| typed round trip (Reading -> Python -> Verdict) | round trips/s | / baseline |")
        out.append("|---|---:|---:|")
        for n, e in t["rows"].items():
            out.append(f"| {n} | {rate(e, 0)} | {ratio(t['ratio_to_baseline'].get(n))} |")
        values = [v for v in t["ratio_to_baseline"].values() if v is not None]
        if values:
            targets.append({"benchmark": "external", "target": "typed Python plugin >= 5x the baseline",
                            "value": ratio(max(values)), "met": max(values) >= 5})
        out.append("")
    if data.get("camera"):
        c = data["camera"]
        out.append(f"| camera-traps shape, {c['image_bytes']:,} B images | images/s | MB/s | / better fetch floor |")
        out.append("|---|---:|---:|---:|")
        for n, e in c["rows"].items():
            if "skipped" in e:
                out.append(f"| {n} | not available | | |")
            else:
                out.append(f"| {n} | {e['events_per_s']:,.0f} | {e['mb_per_s']:,.0f} | "
                           f"{ratio(c['ratio_to_better_fetch_floor'].get(n))} |")
        out.append("")
    for m in data.get("missing", []):
        out.append(f"- {m}")
    if data.get("widest_spread"):
        spread, key = data["widest_spread"]
        out.append(f"- Widest spread between rounds (fastest / slowest run of one row): {spread:.2f} ({key}).")
    return out + [""]


def compile_section(data, targets):
    out = ["## (d) Compile time", ""]
    if not data:
        return out + ["No compile-time results in this run.", ""]
    out.append(f"Least CPU time of {data.get('repeat', 1)} compile(s) per cell (`{data['flags']}`), run one at a "
               f"time, measured with {data['time_tool']}: "
               "CPU = user + sys seconds of the compiler, peak = its maximum RSS. Each app: E events, P plugins, "
               "each plugin subscribed to E/4 events (E*P/4 handlers).")
    out.append("")
    rows = data["rows"]
    for compiler in sorted({r["compiler"] for r in rows}):
        mine = [r for r in rows if r["compiler"] == compiler]
        out.append(f"### {mine[0].get('compiler_version', compiler)}")
        out.append("")
        out.append("| app (E x P) | handlers | engine CPU s | raw CPU s | engine / raw | engine peak MiB | "
                   "raw peak MiB |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        programs = []
        for r in mine:
            if r["program"] not in programs:
                programs.append(r["program"])
        for program in programs:
            e = next((r for r in mine if r["program"] == program and r["spelling"] == "engine"), None)
            w = next((r for r in mine if r["program"] == program and r["spelling"] == "raw"), None)
            def cpu(r):
                return "fails: " + r["error"][:90] if r and "error" in r else fmt(r["cpu_s"] if r else None)
            def rss(r):
                return "-" if not r or "error" in r else fmt(r["peak_rss_mib"], 0)
            ratio = (fmt(e["cpu_s"] / w["cpu_s"]) if e and w and "error" not in e and "error" not in w
                     and w["cpu_s"] > 0 else "-")
            handlers = (e or w)["handlers"]
            out.append(f"| {program} | {handlers} | {cpu(e)} | {cpu(w)} | {ratio} | {rss(e)} | {rss(w)} |")
        out.append("")
        big = next((r for r in mine if r["events"] == 128 and r["plugins"] == 32 and r["spelling"] == "engine"),
                   None)
        if big is not None:
            if "error" in big:
                targets.append({"benchmark": "compile_time",
                                "target": f"128-event, 32-plugin app compiles ({compiler}) in < 30 s and < 2 GiB",
                                "value": "does not compile: " + big["error"][:120], "met": False})
            else:
                targets.append({"benchmark": "compile_time",
                                "target": f"128-event, 32-plugin app compiles ({compiler}) in < 30 s and < 2 GiB",
                                "value": f"{big['cpu_s']:.1f} s CPU ({big['wall_s']:.1f} s wall), "
                                         f"{big['peak_rss_mib']:.0f} MiB",
                                "met": big["cpu_s"] < 30 and big["peak_rss_mib"] < 2048})
    if data.get("growth"):
        out.append("### Growth")
        out.append("")
        out.append("Least-squares exponent b in (cost above the headers-only program) ~ (E x P)^b over the grid "
                   "points that compiled; b <= 1 is no worse than linear.")
        out.append("")
        out.append("| compiler | spelling | headers-only CPU s | CPU exponent | peak-RSS exponent | "
                   "CPU ms per handler (grid order) |")
        out.append("|---|---|---:|---:|---:|---|")
        for g in data["growth"]:
            out.append(f"| {g['compiler']} | {g['spelling']} | {fmt(g['baseline_cpu_s'])} | "
                       f"{fmt(g['cpu_exponent'])} | {fmt(g['rss_exponent'])} | "
                       f"{', '.join(fmt(v, 0) for v in g['cpu_ms_per_handler'])} |")
            if g["spelling"] == "engine" and g["cpu_exponent"] is not None:
                targets.append({"benchmark": "compile_time",
                                "target": f"growth no worse than linear in E x P ({g['compiler']})",
                                "value": f"exponent {g['cpu_exponent']:.2f}", "met": g["cpu_exponent"] <= 1.0})
        out.append("")
    return out


# ---------------------------------------------------------------------------
# Plots (--plots). Deterministic: a fixed SVG hash salt, no date, no random ids.

PLOT_DISPATCH_VARIANTS = [  # (variant, legend, style)
    ("engine", "event_engine dispatch", {"color": "C0", "marker": "o", "linewidth": 2.2}),
    ("chain", "hand-written if/else chain (floor)", {"color": "C7", "marker": "s", "linestyle": "--"}),
    ("vector_fn", "vector<{prefix, std::function}>", {"color": "C1", "marker": "^"}),
    ("map_fn", "unordered_map<string, std::function>", {"color": "C2", "marker": "v"}),
    ("virtual", "virtual filter() + handle() (Rust-shaped)", {"color": "C3", "marker": "D"}),
]
PLOT_FETCH_ROWS = [  # (row, legend, style)
    ("push_floor", "raw ZeroMQ PUSH -> pyzmq PULL (floor)", {"color": "C7", "marker": "s", "linestyle": "--"}),
    ("req_floor", "raw ZeroMQ REP -> pyzmq REQ (floor)", {"color": "C7", "marker": "x", "linestyle": ":"}),
    ("client_next_events", "pyevents next_events()", {"color": "C0", "marker": "o", "linewidth": 2.2}),
    ("client_next_events_nocopy", "pyevents next_events(), copy=False", {"color": "C1", "marker": "^"}),
    ("client_iteration", "pyevents `for e in client`", {"color": "C2", "marker": "v"}),
    ("legacy_next_msg", "legacy get_next_msg()", {"color": "C3", "marker": "D"}),
]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"svg.hashsalt": "event_engine", "svg.fonttype": "none", "font.size": 10,
                         "axes.grid": True, "grid.alpha": 0.3, "figure.figsize": (7.0, 4.2)})
    return plt


def _finish(plt, fig, ax, path, xlabel, ylabel, title):
    """Labels @p ax, adds the legend and writes @p fig to @p path as SVG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    print(f"report: drew {path}")


def plot_dispatch(plt, data, path, note):
    rows = [r for r in (data or {}).get("rows", []) if r["mix"] == "uniform"]
    if not rows:
        return False
    fig, ax = plt.subplots()
    for variant, label, style in PLOT_DISPATCH_VARIANTS:
        points = sorted((r["k"], r["ns_per_event"]) for r in rows if r["variant"] == variant)
        if points:
            ax.plot([k for k, _ in points], [ns for _, ns in points], label=label, **style)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ks = sorted({r["k"] for r in rows})
    ax.set_xticks(ks, [str(k) for k in ks])
    _finish(plt, fig, ax, path, "k: event types the plugin subscribes to (uniform mix)", "ns per event (lower decile)",
            "(a) Dispatch: one received frame to its typed handler" + note)
    return True


def _size_label(size):
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} B"


def plot_payload(plt, data, path, note):
    fetch = (data or {}).get("fetch") or []
    if not fetch:
        return False
    fig, ax = plt.subplots()
    sizes = [f["payload_bytes"] for f in fetch]
    for row, label, style in PLOT_FETCH_ROWS:
        points = [(f["payload_bytes"], f["rows"][row]["mb_per_s"]) for f in fetch
                  if row in f["rows"] and "mb_per_s" in f["rows"][row]]
        if points:
            ax.plot([s for s, _ in points], [m for _, m in points], label=label, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [_size_label(s) for s in sizes])
    ax.minorticks_off()
    _finish(plt, fig, ax, path, "payload size per event", "MB/s received by a Python plugin",
            "(c) External Python plugin: throughput against payload size" + note)
    return True


def plot_compile_time(plt, data, path, note):
    rows = [r for r in (data or {}).get("rows", []) if "error" not in r and r.get("spelling") in ("engine", "raw")
            and r.get("plugins", 0) > 1]  # the E x P grid, not the one-plugin dispatch point
    if not rows:
        return False
    fig, ax = plt.subplots()
    styles = {("g++", "engine"): {"color": "C0", "marker": "o", "linewidth": 2.2},
              ("g++", "raw"): {"color": "C0", "marker": "s", "linestyle": "--"},
              ("clang++", "engine"): {"color": "C1", "marker": "o", "linewidth": 2.2},
              ("clang++", "raw"): {"color": "C1", "marker": "s", "linestyle": "--"}}
    names = {"engine": "event_engine", "raw": "raw cppzmq, by hand"}
    for compiler in sorted({r["compiler"] for r in rows}):
        for spelling in ("engine", "raw"):
            points = sorted((r["handlers"], r["cpu_s"]) for r in rows
                            if r["compiler"] == compiler and r["spelling"] == spelling)
            if points:
                ax.plot([h for h, _ in points], [c for _, c in points], label=f"{compiler}: {names[spelling]}",
                        **styles.get((compiler, spelling), {"marker": "o"}))
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    _finish(plt, fig, ax, path, "handlers in the application (E events x P plugins / 4)",
            "compile CPU seconds (-O2, one file)", "(d) Compile time against application size" + note)
    return True


def draw_plots(out_dir, dispatch, external, compile_time):
    plt = _pyplot()
    os.makedirs(out_dir, exist_ok=True)
    drawn = 0
    for name, fn, data in (("bench-dispatch.svg", plot_dispatch, dispatch), ("bench-payload.svg", plot_payload, external),
                           ("bench-compile-time.svg", plot_compile_time, compile_time)):
        note = " [smoke]" if data and data.get("smoke") else ""
        if fn(plt, data, os.path.join(out_dir, name), note):
            drawn += 1
        else:
            print(f"report: {name} not drawn (no input)")
    return drawn


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", required=True)
    parser.add_argument("--source-dir", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parser.add_argument("--plots", metavar="DIR", help="also draw the SVG plots into DIR (needs matplotlib)")
    parser.add_argument("--plots-only", action="store_true",
                        help="with --plots: only draw the plots (write no results.md / results.json)")
    args = parser.parse_args()
    d = args.results_dir
    dispatch = load(os.path.join(d, "dispatch.json"))
    ir = load(os.path.join(d, "instructions.json"))
    load_test = load(os.path.join(d, "load_test.json"))
    compile_time = load(os.path.join(d, "compile_time.json"))
    external = load(os.path.join(d, "external.json"))
    if args.plots_only:
        if not args.plots:
            parser.error("--plots-only needs --plots DIR")
        return 0 if draw_plots(args.plots, dispatch, external, compile_time) > 0 else 1
    info = machine(args.source_dir)
    smoke = any(x and x.get("smoke") for x in (dispatch, load_test, compile_time, external))

    targets = []
    md = ["# event_engine benchmark results", ""]
    if smoke:
        md += ["**Smoke run**: tiny sizes and few iterations; the numbers only show that every benchmark runs.", ""]
    md += [f"- Machine: {info['cpu_model']}, {info['cores']} cores, Linux {info['kernel']}",
           f"- Compilers: {info['gxx']}; {info['clangxx']}",
           f"- libzmq {info['libzmq']}; commit {info.get('commit', '?')}"
           + (" (include/ modified)" if info.get("worktree_dirty") else ""),
           f"- Date: {info['date']}; load average at report time: {' '.join(info.get('loadavg_at_report', []))}",
           ""]
    body = dispatch_section(dispatch, ir, targets) + load_section(load_test, ir, targets) + \
        external_section(external, targets) + compile_section(compile_time, targets)
    md += ["## Targets", ""]
    if smoke:
        md += ["(Smoke sizes: these verdicts say nothing about performance.)", ""]
    if targets:
        md += ["| benchmark | target | result | |", "|---|---|---|---|"]
        for t in targets:
            md.append(f"| {t['benchmark']} | {t['target']} | {t['value']} | {verdict(t['met'])} |")
    else:
        md.append("No targets could be checked (no results).")
    md.append("")
    md += body

    harness_ok = all(x is None or x.get("ok", True) for x in (dispatch, load_test))
    merged = {"machine": info, "smoke": smoke, "harness_ok": harness_ok, "targets": targets,
              "dispatch": dispatch, "dispatch_instructions": ir, "load_test": load_test,
              "external": external, "compile_time": compile_time}
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(merged, f, indent=2)
    with open(os.path.join(d, "results.md"), "w") as f:
        f.write("\n".join(md))
    print(f"report: wrote {os.path.join(d, 'results.md')} and results.json")
    for t in targets:
        print(f"  [{'met' if t['met'] else 'MISSED'}] {t['benchmark']}: {t['target']}: {t['value']}")
    present = [name for name, x in (("dispatch", dispatch), ("load_test", load_test),
                                    ("external", external), ("compile_time", compile_time)) if x]
    if not present:
        print("report: no results found in " + d, file=sys.stderr)
        return 1
    if args.plots and draw_plots(args.plots, dispatch, external, compile_time) == 0:
        print("report: no plot drawn", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
