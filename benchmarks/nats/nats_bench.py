#!/usr/bin/env python3
"""(e) The NATS bridge beside a direct ZeroMQ TCP link (docs/benchmarks.md): starts a
nats-server with JetStream on a free loopback port in a temporary directory, runs
ee_bench_nats against it `--trials` times, and prints (and with --json writes) the medians
and the ratios to the ZeroMQ link. Exits non-zero if a run failed or lost events.

    benchmarks/nats/nats_bench.py --bench build-bench/benchmarks/nats/ee_bench_nats
    benchmarks/nats/nats_bench.py --bench ... --smoke      # tiny sizes, checks only that it runs
"""

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", required=True)
    parser.add_argument("--server", default="nats-server")
    parser.add_argument("--events", type=int, default=50000)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.smoke:
        args.events, args.rounds, args.trials = 500, 50, 1

    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        config = Path(work) / "server.conf"
        config.write_text(f'listen: 127.0.0.1:{port}\njetstream {{ store_dir: "{work}/js" }}\n')
        server = subprocess.Popen([args.server, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.02)
            runs = []
            for _ in range(args.trials):
                out = subprocess.run([args.bench, "--url", f"nats://127.0.0.1:{port}", "--events", str(args.events),
                                      "--rounds", str(args.rounds)], check=True, capture_output=True, text=True,
                                     timeout=600)
                runs.append(json.loads(out.stdout)["results"])
        finally:
            server.terminate()
            server.wait()

    links = [row["link"] for row in runs[0]]
    summary = []
    failed = False
    for link in links:
        rows = [row for run in runs for row in run if row["link"] == link]
        failed |= any(row["received"] != row["events"] or row["rounds"] != args.rounds for row in rows)
        summary.append({
            "link": link,
            "events_per_s": statistics.median(r["events_per_s"] for r in rows),
            "rtt_p50_us": statistics.median(r["rtt_p50_us"] for r in rows),
            "rtt_p99_us": statistics.median(r["rtt_p99_us"] for r in rows),
            "received": min(r["received"] for r in rows),
            "events": args.events,
        })
    base = next(row for row in summary if row["link"] == "zmq-tcp")
    lines = ["| link | events/s | x ZeroMQ | RTT p50 (us) | x ZeroMQ | RTT p99 (us) | x ZeroMQ | received |",
             "|---|---|---|---|---|---|---|---|"]
    for row in summary:
        lines.append(f"| {row['link']} | {row['events_per_s']:,.0f} | {row['events_per_s'] / base['events_per_s']:.2f} "
                     f"| {row['rtt_p50_us']:.0f} | {row['rtt_p50_us'] / base['rtt_p50_us']:.2f} "
                     f"| {row['rtt_p99_us']:.0f} | {row['rtt_p99_us'] / base['rtt_p99_us']:.2f} "
                     f"| {row['received']}/{row['events']} |")
    print(f"{args.trials} trials (medians), {args.events} events of 100 B, {args.rounds} round trips")
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"trials": runs, "summary": summary}, indent=2))
    if failed:
        print("a run lost events or round trips", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
