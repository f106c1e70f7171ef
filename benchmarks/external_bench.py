"""Benchmark (c): external Python plugins through pyevents, beside raw ZeroMQ floors (issue 23).

Every row is one run of a server process (ee_bench_external_floor, raw cppzmq, or
ee_bench_external_engine, the engine) beside a Python client process started from this
script (--client MODE), so each row runs in a fresh interpreter with the pyevents
package it names. Each round runs every row once, in turn (the order rotates by one row
per round); the figures are the medians over --rounds rounds. Sections:

fetch     payloads 100 B, 64 KiB, 1 MiB, 4 MiB. Floors: a REP answering every request
          with one frame of the size (prebuilt buffer, no copy), read by a pyzmq REQ;
          a PUSH streaming such frames to a pyzmq PULL. Both read with copy=False
          (zmq.Frame) and touch nothing. Rows: legacy get_next_msg (pyevents.events, one
          round trip per event), PluginClient's default (at least once)
          next_events(batch) and plain iteration (`for e in client`). Timed in Python,
          from the first event (or batch) received to the last. Ratio: to the better floor.
publish   payloads 100 B, 1 MiB. Floors: a pyzmq REQ sending frames (copy=False) to a REP
          answering "ok"; a pyzmq PUSH (copy=False) to a PULL. Rows: PluginClient.publish
          (one request per event), publish_many(frames), the buffered publisher
          (client.publisher()). Timed by the receiver (the floor, or a C++ plugin counting
          the published events in the engine), first event to last.
typed     a C++ plugin publishes Readings (reflective, like docs/python.md's) to a Python
          plugin that answers each with a Verdict (for e in client.events(): publish);
          a C++ plugin collects the Verdicts and checks every one. Round trips/s timed by
          the collector, with publish_typed, with the buffered publisher's publish_typed,
          and with publish_typed of the pyevents in --baseline-pyevents (if given; against
          --baseline-engine if given, e.g. both built from an older commit).
camera    camera-traps-shaped: a C++ plugin publishes 1 MiB Images, a Python plugin sums
          every byte (numpy.frombuffer(...).sum(), or a plain sum without numpy) and
          publishes a Score, a C++ plugin stores and checks each score. Images/s and MB/s,
          timed by the store, beside the fetch floors at the same size.

Every run must account for every event exactly (the engine exits non-zero otherwise) or
the script fails. Rows whose pyevents API is missing (publish_many, publisher) are
reported as "not available" and skipped.

Usage: external_bench.py --engine PATH [--floor PATH] --pyevents DIR
                         [--baseline-pyevents DIR [--baseline-engine PATH]]
                         [--rounds N] [--smoke] [--only SECTION,...] [--json OUT]
"""

import argparse
import inspect
import json
import os
import socket
import statistics
import subprocess
import sys
import time

KIB = 1024
MIB = 1024 * 1024
FETCH_SIZES = [100, 64 * KIB, MIB, 4 * MIB]
PUBLISH_SIZES = [100, MIB]
CAMERA_SIZE = MIB
FETCH_BATCH = 1000
SECTIONS = ("fetch", "publish", "typed", "camera")
FETCH_ROWS = ("legacy_next_msg", "client_next_events", "client_iteration", "client_next_events_nocopy",
              "client_iteration_nocopy")


# --------------------------------------------------------------------------- client side
# Runs in a child process: `external_bench.py --client MODE ...`; prints one JSON line.

def client_main(args):
    sys.path.insert(0, args.pyevents)
    import zmq

    mode, port, count, size = args.client, args.port, args.count, args.size
    endpoint = f"tcp://127.0.0.1:{port}"
    result = {"mode": mode, "count": count}
    clock = time.perf_counter

    if mode in ("req-floor", "push-floor", "rep-in-floor", "pull-floor"):
        context = zmq.Context()
        kind = {"req-floor": zmq.REQ, "push-floor": zmq.PULL, "rep-in-floor": zmq.REQ, "pull-floor": zmq.PUSH}[mode]
        sock = context.socket(kind)
        sock.rcvtimeo = sock.sndtimeo = 60_000  # fail rather than hang (zmq.Again)
        sock.connect(endpoint)
        received = 0
        if mode == "req-floor":
            sock.send(b"next")
            sock.recv(copy=False)
            start = clock()
            for _ in range(count - 1):
                sock.send(b"next")
                sock.recv(copy=False)
            received = count - 1
        elif mode == "push-floor":
            sock.recv(copy=False)
            start = clock()
            for _ in range(count - 1):
                sock.recv(copy=False)
            received = count - 1
        else:
            frame = b"x" * size
            start = clock()
            for _ in range(count):
                sock.send(frame, copy=False)
                if mode == "rep-in-floor":
                    sock.recv(copy=False)
            received = count
        result.update(events=received, seconds=clock() - start)
        sock.close(linger=-1)
        context.term()
        print(json.dumps(result))
        return 0

    from pyevents import PluginClient

    if mode == "legacy":
        from pyevents.events import get_next_msg, get_plugin_socket, send_quit_command
        context = zmq.Context()
        sock = get_plugin_socket(context, port, host="127.0.0.1")
        get_next_msg(sock)  # the clock starts at the first event: start-up is not measured
        start = clock()
        for _ in range(count - 1):
            get_next_msg(sock)
        result.update(events=count - 1, seconds=clock() - start)
        send_quit_command(sock)
        sock.close(linger=1000)
        context.term()
    elif mode in ("fetch-batch", "fetch-batch-nocopy"):
        with PluginClient(port, host="127.0.0.1", **nocopy(mode)) as client:
            received = first = len(client.next_events(args.batch, timeout=None))
            start = clock()
            while received < count:
                received += len(client.next_events(args.batch, timeout=None))
            result.update(events=received - first, seconds=clock() - start)
    elif mode in ("fetch-iter", "fetch-iter-nocopy"):
        with PluginClient(port, host="127.0.0.1", **nocopy(mode)) as client:
            received = 0
            for _event in client:
                received += 1
                if received == 1:
                    start = clock()
                if received == count:
                    break
            result.update(events=received - 1, seconds=clock() - start)
    elif mode in ("publish-one", "publish-many", "publish-buffered"):
        frame = b"Payload" + b"x" * size
        with PluginClient(port, host="127.0.0.1") as client:
            start = clock()
            if mode == "publish-one":
                for _ in range(count):
                    client.publish(frame)
            elif mode == "publish-many":
                chunk = max(1, min(1000, (8 * MIB) // size))
                frames = [frame] * chunk
                left = count
                while left > 0:
                    published = client.publish_many(frames if left >= chunk else frames[:left])
                    left -= published
                result["chunk"] = chunk
            else:
                with client.publisher() as publisher:
                    for _ in range(count):
                        publisher.publish(frame)
            result.update(events=count, seconds=clock() - start)
    elif mode in ("typed-plain", "typed-buffered"):
        def verdict_of(reading, contract, verdict=None):
            samples = reading.samples
            return verdict(sensor=reading.sensor, sequence=reading.sequence, site=reading.location.site,
                           mean=sum(s.value for s in samples) / len(samples), remark=reading.note)
        result.update(answer_each(PluginClient(port, host="127.0.0.1", **nocopy(mode)), count, "Verdict", verdict_of,
                                  buffered=mode == "typed-buffered"))
    elif mode in ("camera-plain", "camera-buffered", "camera-buffered-nocopy"):
        try:
            import numpy

            def image_sum(payload):
                return int(numpy.frombuffer(payload, dtype=numpy.uint8, offset=8).sum())
            result["scored_with"] = "numpy.frombuffer(...).sum()"
        except ImportError:
            def image_sum(payload):
                return sum(memoryview(payload)[8:])
            result["scored_with"] = "sum(memoryview) (no numpy)"

        def score_of(image, contract, score=None):
            payload = image.value
            return score(image=int.from_bytes(payload[:8], "little"), sum=image_sum(payload))
        result.update(answer_each(PluginClient(port, host="127.0.0.1", **nocopy(mode)), count, "Score", score_of,
                                  buffered=mode != "camera-plain"))
    else:
        raise SystemExit(f"unknown client mode {mode}")
    print(json.dumps(result))
    return 0


def nocopy(mode):
    """PluginClient's arguments for a mode: copy=False (zero-copy payloads) for the *-nocopy modes."""
    return {"copy": False} if mode.endswith("-nocopy") else {}


def answer_each(client, count, answer, make, buffered):
    """The typed plugin: for each of *count* events from client.events(), publish_typed (directly,
    or through the buffered publisher) the *answer* event make(event, contract, type) returns."""
    with client:
        contract = client.load_contract()
        answer_type = contract.type(answer)
        publisher = client.publisher() if buffered else None
        publish = publisher.publish_typed if buffered else client.publish_typed
        received = 0
        for event in client.events():
            publish(make(event, contract, answer_type))
            received += 1
            if received == 1:
                start = time.perf_counter()
            if received == count:
                break
        if publisher is not None:
            publisher.flush()
        return {"events": received - 1, "seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- driver side

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def counts(smoke):
    """Events per run: a run takes a second or two at the rates of this machine."""
    def per_request(size):   # one round trip per event: ~10,000/s at small sizes
        return max(20, min(500, int(2e7 / size))) if smoke else max(300, min(20_000, int(3e9 / size)))

    def streaming(size):     # batches or streams
        return max(20, min(5_000, int(5e7 / size))) if smoke else max(500, min(1_000_000, int(4e9 / size)))
    return per_request, streaming, (300 if smoke else 20_000), (30 if smoke else 1_500)


class Row:
    def __init__(self, section, name, size, server, client, count, timed_by, pyevents, needs=None, batch=FETCH_BATCH,
                 engine=None):
        self.section, self.name, self.size, self.engine = section, name, size, engine
        self.server, self.client, self.count = server, client, count
        self.timed_by, self.pyevents, self.needs, self.batch = timed_by, pyevents, needs, batch
        self.rates = []
        self.runs = []

    @property
    def key(self):
        return f"{self.section}/{self.name}/{self.size}"


def build_rows(args, api):
    per_request, streaming, typed_count, camera_count = counts(args.smoke)
    pe, base = args.pyevents, args.baseline_pyevents
    rows = []
    if "fetch" in args.only:
        for size in FETCH_SIZES:
            rows += [Row("fetch", "req_floor", size, ("floor", "rep"), "req-floor", per_request(size), "client", pe),
                     Row("fetch", "push_floor", size, ("floor", "push"), "push-floor", streaming(size), "client", pe),
                     Row("fetch", "legacy_next_msg", size, ("engine", "fetch"), "legacy", per_request(size), "client", pe),
                     Row("fetch", "client_next_events", size, ("engine", "fetch"), "fetch-batch", streaming(size),
                         "client", pe),
                     Row("fetch", "client_iteration", size, ("engine", "fetch"), "fetch-iter", streaming(size),
                         "client", pe),
                     Row("fetch", "client_next_events_nocopy", size, ("engine", "fetch"), "fetch-batch-nocopy",
                         streaming(size), "client", pe, needs="copy"),
                     Row("fetch", "client_iteration_nocopy", size, ("engine", "fetch"), "fetch-iter-nocopy",
                         streaming(size), "client", pe, needs="copy")]
    if "publish" in args.only:
        for size in PUBLISH_SIZES:
            rows += [Row("publish", "rep_in_floor", size, ("floor", "rep-in"), "rep-in-floor", per_request(size),
                         "server", pe),
                     Row("publish", "pull_floor", size, ("floor", "pull"), "pull-floor", streaming(size), "server", pe),
                     Row("publish", "publish_one", size, ("engine", "publish"), "publish-one", per_request(size),
                         "server", pe),
                     Row("publish", "publish_many", size, ("engine", "publish"), "publish-many", streaming(size),
                         "server", pe, needs="publish_many"),
                     Row("publish", "buffered_publisher", size, ("engine", "publish"), "publish-buffered",
                         streaming(size), "server", pe, needs="publisher")]
    if "typed" in args.only:
        rows.append(Row("typed", "publish_typed", 0, ("engine", "typed"), "typed-plain", typed_count, "server", pe))
        if base:
            rows.append(Row("typed", "publish_typed_baseline", 0, ("engine", "typed"), "typed-plain", typed_count,
                            "server", base, engine=args.baseline_engine))
        rows.append(Row("typed", "buffered_publish_typed", 0, ("engine", "typed"), "typed-buffered", typed_count,
                        "server", pe, needs="publisher"))
    if "camera" in args.only:
        rows += [Row("camera", "publish_typed", CAMERA_SIZE, ("engine", "camera"), "camera-plain", camera_count,
                     "server", pe),
                 Row("camera", "buffered_publisher", CAMERA_SIZE, ("engine", "camera"), "camera-buffered",
                     camera_count, "server", pe, needs="publisher"),
                 Row("camera", "buffered_publisher_nocopy", CAMERA_SIZE, ("engine", "camera"),
                     "camera-buffered-nocopy", camera_count, "server", pe, needs="copy")]
    for row in rows:
        if row.needs and not api.get(row.needs):
            row.skipped = (f"not available: PluginClient.{row.needs} is missing from {row.pyevents}" if row.needs != "copy"
                           else f"not available: PluginClient(copy=False) is missing from {row.pyevents}")
        else:
            row.skipped = None
    return rows


def run_row(args, row):
    """One run of a row; returns events/s (the events after the first, over the time from the first to the last)."""
    port = free_port()
    kind, mode = row.server
    if kind == "floor":
        command = [args.floor, mode, str(port), str(row.count), str(row.size)]
    elif mode == "typed":
        command = [row.engine or args.engine, mode, str(port), str(row.count)]
    else:
        command = [row.engine or args.engine, mode, str(port), str(row.count), str(row.size)]
    timeout = 30 if args.smoke else 300
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client_out = client_err = ""
    try:
        client = subprocess.run([sys.executable, os.path.abspath(__file__), "--client", row.client, "--port", str(port),
                                 "--count", str(row.count), "--size", str(row.size), "--batch", str(row.batch),
                                 "--pyevents", row.pyevents], capture_output=True, text=True, timeout=timeout)
        client_out, client_err = client.stdout, client.stderr
        server_out, server_err = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server_out, server_err = server.communicate()
        raise SystemExit(f"{row.key}: timed out\nserver: {server_out}{server_err}\nclient: {client_out}{client_err}")
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    if client.returncode != 0 or server.returncode != 0:
        raise SystemExit(f"{row.key}: client exited {client.returncode}, server {' '.join(command)} exited "
                         f"{server.returncode}\nserver: {server_out}{server_err}\nclient: {client_out}{client_err}")
    measured = json.loads(client_out.strip().splitlines()[-1])
    line = server_out.strip().splitlines()[-1].split() if server_out.strip() else []
    fields = dict(zip(line[2::2], line[3::2]))  # "floor|engine <mode> name value name value ..."
    if fields.get("ok", "1") != "1":
        raise SystemExit(f"{row.key}: the server's counts were not exact: {server_out}")
    if row.timed_by == "server":
        if "first_to_last_s" not in fields:
            raise SystemExit(f"{row.key}: no timing from the server: {server_out}")
        seen = int(fields.get("frames", fields.get("events", 0)))
        if seen != row.count:
            raise SystemExit(f"{row.key}: the server saw {seen} events of {row.count}: {server_out}")
        events, seconds = seen - 1, float(fields["first_to_last_s"])
    else:
        events, seconds = measured["events"], measured["seconds"]
    rate = events / seconds if seconds > 0 else float("inf")
    row.runs.append({"events_per_s": rate, "events": events, "seconds": seconds, "server": server_out.strip(),
                     **{k: v for k, v in measured.items() if k in ("chunk", "scored_with")}})
    row.rates.append(rate)
    return rate


def median(values):
    return statistics.median(values) if values else None


def summarize(rows, args, api, started_load):
    by_key = {(r.section, r.name, r.size): r for r in rows}

    def entry(row):
        if row.skipped:
            return {"skipped": row.skipped}
        rate = median(row.rates)
        out = {"events_per_s": rate, "rates": row.rates, "count": row.count, "timed_by": row.timed_by,
               "spread": max(row.rates) / min(row.rates) if min(row.rates) > 0 else None}  # max/min over rounds
        if row.size:
            out["mb_per_s"] = rate * row.size / 1e6
        extra = {k: v for run in row.runs for k, v in run.items() if k in ("chunk", "scored_with")}
        out.update(extra)
        return out

    def rate_of(section, name, size):
        row = by_key.get((section, name, size))
        return median(row.rates) if row is not None and not row.skipped and row.rates else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    result = {"benchmark": "external", "smoke": args.smoke, "rounds": args.rounds, "fetch": [], "publish": [],
              "typed": None, "camera": None, "api": api, "pyevents": args.pyevents,
              "baseline_pyevents": args.baseline_pyevents, "baseline_engine": args.baseline_engine,
              "engine": args.engine, "fetch_batch": FETCH_BATCH,
              "loadavg_start": started_load, "loadavg_end": loadavg()}
    for size in sorted({r.size for r in rows if r.section == "fetch"}):
        rs = {r.name: entry(r) for r in rows if r.section == "fetch" and r.size == size}
        req, push = rate_of("fetch", "req_floor", size), rate_of("fetch", "push_floor", size)
        best = max(x for x in (req, push, 0) if x is not None) or None
        ratios = {name: ratio(rate_of("fetch", name, size), best) for name in FETCH_ROWS}
        ratios_push = {name: ratio(rate_of("fetch", name, size), push) for name in FETCH_ROWS}
        target = 0.7 if size < 64 * KIB else 0.8
        against = push if size < 64 * KIB else best
        result["fetch"].append({"payload_bytes": size, "rows": rs, "better_floor": "push" if push == best else "req",
                                "ratio_to_better_floor": ratios, "ratio_to_push_floor": ratios_push,
                                "target": f"client_next_events >= {target}x the "
                                          + ("PUSH floor" if size < 64 * KIB else "better floor"),
                                "target_met": (rate_of("fetch", "client_next_events", size) or 0) >= target * (against or 0)
                                if against else None})
    for size in sorted({r.size for r in rows if r.section == "publish"}):
        rs = {r.name: entry(r) for r in rows if r.section == "publish" and r.size == size}
        one = rate_of("publish", "publish_one", size)
        floors = [x for x in (rate_of("publish", "rep_in_floor", size), rate_of("publish", "pull_floor", size)) if x]
        best = max(floors) if floors else None
        batched = {name: rate_of("publish", name, size) for name in ("publish_many", "buffered_publisher")}
        result["publish"].append({
            "payload_bytes": size, "rows": rs,
            "ratio_to_publish_one": {n: ratio(v, one) for n, v in batched.items()},
            "ratio_to_better_floor": {n: ratio(rate_of("publish", n, size), best)
                                      for n in ("publish_one", "publish_many", "buffered_publisher")},
            "target": "batched >= 10x publish_one" if size < 64 * KIB else "batched >= 0.8x the better floor"})
    typed_rows = [r for r in rows if r.section == "typed"]
    if typed_rows:
        base = rate_of("typed", "publish_typed_baseline", 0)
        result["typed"] = {"rows": {r.name: entry(r) for r in typed_rows},
                           "ratio_to_baseline": {n: ratio(rate_of("typed", n, 0), base)
                                                 for n in ("publish_typed", "buffered_publish_typed")},
                           "target": ">= 5x the baseline (today's) round trips/s"}
    camera_rows = [r for r in rows if r.section == "camera"]
    if camera_rows:
        floors = [x for x in (rate_of("fetch", "req_floor", CAMERA_SIZE), rate_of("fetch", "push_floor", CAMERA_SIZE)) if x]
        best = max(floors) if floors else None
        result["camera"] = {"image_bytes": CAMERA_SIZE, "rows": {r.name: entry(r) for r in camera_rows},
                            "ratio_to_better_fetch_floor": {r.name: ratio(rate_of("camera", r.name, CAMERA_SIZE), best)
                                                            for r in camera_rows}}
    result["missing"] = sorted({r.skipped for r in rows if r.skipped})
    spreads = [(max(r.rates) / min(r.rates), r.key) for r in rows if r.rates and min(r.rates) > 0]
    result["widest_spread"] = max(spreads) if spreads and args.rounds > 1 else None
    return result


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[:3]
    except OSError:
        return None


def fmt_rate(entry, size):
    if entry is None:
        return "-"
    if "skipped" in entry:
        return "not available"
    if size and size >= 64 * KIB:
        return f"{entry['mb_per_s']:,.0f} MB/s ({entry['events_per_s']:,.0f}/s)"
    return f"{entry['events_per_s']:,.0f}/s"


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}x"


def print_tables(result):
    print()
    print("fetch (Python consumer): events/s or MB/s of payload; ratio to the better raw floor (at 100 B: to PUSH)")
    for f in result["fetch"]:
        rs, size = f["rows"], f["payload_bytes"]
        ratios = f["ratio_to_push_floor"] if size < 64 * KIB else f["ratio_to_better_floor"]
        print(f"  {size:>8} B  REQ/REP floor {fmt_rate(rs.get('req_floor'), size)}   PUSH floor "
              f"{fmt_rate(rs.get('push_floor'), size)}")
        for name in FETCH_ROWS:
            print(f"             {name:<26} {fmt_rate(rs.get(name), size):>32}  {fmt_ratio(ratios.get(name))}")
    if result["publish"]:
        print("publish (Python -> engine): timed by the receiver")
    for p in result["publish"]:
        rs, size = p["rows"], p["payload_bytes"]
        print(f"  {size:>8} B  REQ->REP floor {fmt_rate(rs.get('rep_in_floor'), size)}   PUSH->PULL floor "
              f"{fmt_rate(rs.get('pull_floor'), size)}")
        for name in ("publish_one", "publish_many", "buffered_publisher"):
            print(f"             {name:<20} {fmt_rate(rs.get(name), size):>32}  "
                  f"{fmt_ratio(p['ratio_to_better_floor'].get(name))} of the better floor, "
                  f"{fmt_ratio(p['ratio_to_publish_one'].get(name))} of publish_one")
    if result["typed"]:
        t = result["typed"]
        print("typed round trip (Reading -> Python -> Verdict), round trips/s")
        for name, e in t["rows"].items():
            print(f"             {name:<24} {fmt_rate(e, 0):>16}  {fmt_ratio(t['ratio_to_baseline'].get(name))} "
                  "of the baseline" if name != "publish_typed_baseline" else f"             {name:<24} "
                  f"{fmt_rate(e, 0):>16}")
    if result["camera"]:
        c = result["camera"]
        print(f"camera-traps shape ({c['image_bytes']} B images scored in Python)")
        for name, e in c["rows"].items():
            print(f"             {name:<24} {fmt_rate(e, c['image_bytes']):>32}  "
                  f"{fmt_ratio(c['ratio_to_better_fetch_floor'].get(name))} of the better fetch floor")
    for m in result["missing"]:
        print(f"  {m}")
    if result["widest_spread"]:
        print(f"widest spread between rounds (max/min): {result['widest_spread'][0]:.2f} ({result['widest_spread'][1]})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", help="ee_bench_external_engine")
    parser.add_argument("--floor", help="ee_bench_external_floor (default: beside --engine)")
    parser.add_argument("--pyevents", required=True, help="directory containing the pyevents package")
    parser.add_argument("--baseline-pyevents", help="another pyevents directory: the typed row again with it")
    parser.add_argument("--baseline-engine", help="with --baseline-pyevents: the engine that row runs against "
                                                  "(default: --engine)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; 1 with --smoke)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run: " + ",".join(SECTIONS))
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--json")
    # The client process (internal).
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=FETCH_BATCH, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main(args)
    if not args.engine:
        parser.error("--engine is required")
    if not args.floor:
        args.floor = os.path.join(os.path.dirname(args.engine), "ee_bench_external_floor")
    if args.rounds is None:
        args.rounds = 1 if args.smoke else 3
    if args.rounds < 1 or (not args.smoke and args.rounds < 3):
        parser.error("--rounds must be at least 3 (1 is allowed with --smoke)")
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in args.only:
        if s not in SECTIONS:
            parser.error(f"unknown section {s}; the sections are {', '.join(SECTIONS)}")
    args.pyevents = os.path.abspath(args.pyevents)
    if args.baseline_pyevents:
        args.baseline_pyevents = os.path.abspath(args.baseline_pyevents)
    if args.baseline_engine and not args.baseline_pyevents:
        parser.error("--baseline-engine needs --baseline-pyevents")

    sys.path.insert(0, args.pyevents)
    from pyevents import PluginClient
    api = {"publish_many": hasattr(PluginClient, "publish_many"), "publisher": hasattr(PluginClient, "publisher"),
           "copy": "copy" in inspect.signature(PluginClient).parameters}
    started_load = loadavg()
    rows = build_rows(args, api)
    active = [r for r in rows if not r.skipped]
    started = time.monotonic()
    for round_index in range(args.rounds):
        shift = round_index % len(active) if active else 0
        for row in active[shift:] + active[:shift]:
            rate = run_row(args, row)
            size = f"{row.size} B" if row.size else ""
            print(f"round {round_index + 1}/{args.rounds}  {row.section:<8}{row.name:<24}{size:>10}  "
                  f"{rate:>14,.0f} events/s" + (f"  {rate * row.size / 1e6:>8,.0f} MB/s" if row.size else ""),
                  flush=True)
    result = summarize(rows, args, api, started_load)
    result["seconds"] = time.monotonic() - started
    print_tables(result)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
