"""Benchmark (c): an external Python consumer through pyevents.

For each payload size, runs the engine (ee_bench_external_engine) with a
producer of N events and consumes them from Python twice, in separate runs:
one `next_msg` round trip per event (the original protocol, via the legacy
helper `get_next_msg`), at-most-once batch fetches (`next_msgs`, via
PluginClient(at_least_once=False).next_events) and at-least-once batch fetches
(`fetch`/ack, PluginClient's default). Reports events/s for each and the
ratios: batching over one at a time, and what acknowledging costs.

Usage: external_bench.py --engine PATH --pyevents DIR [--smoke] [--json OUT]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def consume(mode, port, count, batch):
    import zmq
    from pyevents import PluginClient
    from pyevents.events import get_next_msg, get_plugin_socket, send_quit_command

    received = 0
    if mode == "next_msg":
        context = zmq.Context()
        sock = get_plugin_socket(context, port, host="127.0.0.1")
        first = get_next_msg(sock)  # the clock starts at the first event: start-up is not measured
        start = time.perf_counter()
        received = 1 if first else 0
        while received < count:
            get_next_msg(sock)
            received += 1
        elapsed = time.perf_counter() - start
        send_quit_command(sock)
        sock.close(linger=1000)
        context.term()
    else:
        with PluginClient(port, host="127.0.0.1", at_least_once=(mode == "fetch")) as client:
            received = len(client.next_events(batch, timeout=None))
            start = time.perf_counter()
            while received < count:
                received += len(client.next_events(batch, timeout=None))
            elapsed = time.perf_counter() - start
    # The first event (or batch) is outside the timed span.
    return (received - (1 if mode == "next_msg" else 0)) / elapsed if elapsed > 0 else float("inf"), received


def run_case(engine, mode, size, count, batch):
    port = free_port()
    app = subprocess.Popen([engine, str(port), str(count), str(size)], stdout=subprocess.PIPE, text=True)
    try:
        rate, received = consume(mode, port, count, batch)
        out, _ = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    if app.returncode != 0 or received != count:
        raise SystemExit(f"{mode} size {size}: engine exited {app.returncode}, received {received} of {count}: {out}")
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--pyevents", required=True, help="directory containing the pyevents package")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    sys.path.insert(0, args.pyevents)

    batch = 1000
    sizes = [100, 10 * 1024]
    many = 2_000 if args.smoke else 300_000
    counts = {"next_msg": 2_000 if args.smoke else 30_000, "next_msgs": many, "fetch": many}
    rows = []
    for size in sizes:
        rates = {mode: run_case(args.engine, mode, size, counts[mode], batch) for mode in ("next_msg", "next_msgs", "fetch")}
        rows.append({"payload_bytes": size, "next_msg_events_per_s": rates["next_msg"],
                     "next_msgs_events_per_s": rates["next_msgs"], "fetch_events_per_s": rates["fetch"],
                     "batch": batch, "batch_over_single": rates["next_msgs"] / rates["next_msg"],
                     "fetch_over_next_msgs": rates["fetch"] / rates["next_msgs"]})
        print(f"payload {size:>6} B: next_msg {rates['next_msg']:>10,.0f} ev/s   "
              f"next_msgs({batch}) {rates['next_msgs']:>10,.0f} ev/s   fetch({batch}) {rates['fetch']:>10,.0f} ev/s   "
              f"batch/single {rows[-1]['batch_over_single']:.1f}x   fetch/next_msgs {rows[-1]['fetch_over_next_msgs']:.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"benchmark": "external", "smoke": args.smoke, "counts": counts, "rows": rows}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
