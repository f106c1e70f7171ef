"""Where the time of an external Python consumer goes, for large payloads (issue 23).

Runs the engine of benchmark (c) (ee_bench_external_engine: a producer of N events of a
given size for the external plugin "consumer") and consumes them from Python in one of
several ways, printing MB/s (10^6 bytes of payload per second; the clock starts after the
first reply, so start-up is not measured):

  fetch          PluginClient().next_events(batch): the default, at least once, bytes
  fetch_nocopy   PluginClient(copy=False).next_events(batch): memoryview payloads
  iterate        for event in PluginClient(): fetch_batch events per request, bytes
  next_msgs      PluginClient(at_least_once=False).next_events(batch)
  raw_fetch      a bare pyzmq REQ socket sending the fetch command, recv_multipart(copy=False):
                 the engine's side alone, without pyevents
  next_msg       the legacy get_next_msg(), one round trip per event

--cpu also prints the CPU time per GB of payload of the consumer process (all its threads)
and of the engine process (its producer included), which a loaded machine disturbs less than
the rates.

With --floors FLOORS (a binary of /tmp-style raw floors: `FLOORS rep PORT SIZE` answering
every request with one frame, `FLOORS push PORT SIZE COUNT` streaming them), also:

  rep_floor      pyzmq REQ against a raw REP, recv(copy=False)
  push_floor     pyzmq PULL against a raw PUSH, recv(copy=False)

--profile MODE runs one mode under cProfile and prints the top functions.

Usage: fetch_profile.py --engine PATH --pyevents DIR [--floors PATH] [--sizes 65536,1048576]
                        [--modes fetch,fetch_nocopy] [--bytes 2e9] [--batch 1000] [--profile MODE]
"""

import argparse
import cProfile
import os
import pstats
import resource
import socket
import subprocess
import sys
import time

FETCH_BYTES = "default"
CPU = {}  # mode: [(consumer CPU ms per GB, engine CPU ms per GB)] of the runs of the current size
MODES = ("fetch", "fetch_nocopy", "iterate", "next_msgs", "raw_fetch", "next_msg", "rep_floor", "push_floor")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def consume(mode, port, count, batch, touch):
    """Consume *count* events; return (events timed, seconds)."""
    import zmq
    from pyevents import PluginClient
    from pyevents.events import get_next_msg, get_plugin_socket, send_quit_command

    def read(events):
        if touch:  # read every byte, as a scoring plugin would
            import numpy
            for e in events:
                numpy.frombuffer(e, dtype=numpy.uint8).sum()
    if mode in ("fetch", "fetch_nocopy", "next_msgs"):
        kwargs = {"copy": False} if mode == "fetch_nocopy" else {}
        with PluginClient(port, host="127.0.0.1", at_least_once=(mode != "next_msgs"), **kwargs) as client:
            if FETCH_BYTES != "default":
                client.fetch_bytes = FETCH_BYTES
            received = len(client.next_events(batch, timeout=None))
            start = time.perf_counter()
            timed = count - received
            while received < count:
                events = client.next_events(batch, timeout=None)
                read(events)
                received += len(events)
            return timed, time.perf_counter() - start
    if mode == "iterate":
        with PluginClient(port, host="127.0.0.1") as client:
            if FETCH_BYTES != "default":
                client.fetch_bytes = FETCH_BYTES
            client.next_event()
            received, start = 1, time.perf_counter()
            for event in client:
                received += 1
                if received == count:
                    break
            return count - 1, time.perf_counter() - start
    if mode == "raw_fetch":
        context = zmq.Context()
        sock = context.socket(zmq.REQ)
        sock.connect(f"tcp://127.0.0.1:{port}")
        received, last, start = 0, 0, None
        while received < count:
            sock.send(b"plugin_command: fetch %d 1000 %d" % (batch, last))
            reply = sock.recv_multipart(copy=False)
            first = int(bytes(reply[0]).split()[2])
            events = reply[1:]
            if events:
                last = first + len(events) - 1
            received += len(events)
            if start is None:
                start, timed = time.perf_counter(), count - received
        elapsed = time.perf_counter() - start
        sock.send(b"plugin_command: ack %d" % last)
        sock.recv()
        sock.send(b"plugin_command: quit")
        sock.recv()
        sock.close(linger=1000)
        context.term()
        return timed, elapsed
    if mode == "next_msg":
        context = zmq.Context()
        sock = get_plugin_socket(context, port, host="127.0.0.1")
        get_next_msg(sock)
        start = time.perf_counter()
        for _ in range(count - 1):
            get_next_msg(sock)
        elapsed = time.perf_counter() - start
        send_quit_command(sock)
        sock.close(linger=1000)
        context.term()
        return count - 1, elapsed
    raise ValueError(mode)


def consume_floor(mode, port, count):
    import zmq
    context = zmq.Context()
    sock = context.socket(zmq.REQ if mode == "rep_floor" else zmq.PULL)
    sock.connect(f"tcp://127.0.0.1:{port}")
    if mode == "rep_floor":
        sock.send(b"x")
        sock.recv(copy=False)
        start = time.perf_counter()
        for _ in range(count - 1):
            sock.send(b"x")
            sock.recv(copy=False)
        elapsed = time.perf_counter() - start
        sock.send(b"quit")
        sock.recv()
    else:
        sock.recv(copy=False)
        start = time.perf_counter()
        for _ in range(count - 1):
            sock.recv(copy=False)
        elapsed = time.perf_counter() - start
    sock.close(linger=0)
    context.term()
    return count - 1, elapsed


def run(args, mode, size, count):
    port = free_port()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = time.process_time()
    if mode.endswith("_floor"):
        cmd = [args.floors, "rep" if mode == "rep_floor" else "push", str(port), str(size)]
        if mode == "push_floor":
            cmd.append(str(count))
        app = subprocess.Popen(cmd)
        try:
            timed, elapsed = consume_floor(mode, port, count)
            cpu = time.process_time() - cpu_before
            app.wait(timeout=60)
        finally:
            if app.poll() is None:
                app.kill()
        note_cpu(mode, cpu, children_before, count * size / 1e9)
        return timed * size / elapsed / 1e6
    # malloc settings given to try on the consumer (e.g. GLIBC_TUNABLES) stay out of the engine
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES" and not k.startswith("MALLOC_")}
    app = subprocess.Popen([args.engine, str(port), str(count), str(size)], stdout=subprocess.PIPE, text=True,
                           env=env)
    try:
        if args.profile == mode:
            profile = cProfile.Profile()
            timed, elapsed = profile.runcall(consume, mode, port, count, args.batch, args.touch)
        else:
            timed, elapsed = consume(mode, port, count, args.batch, args.touch)
        cpu = time.process_time() - cpu_before
        out, _ = app.communicate(timeout=60)
    finally:
        if app.poll() is None:
            app.kill()
    if app.returncode != 0:
        raise SystemExit(f"{mode} size {size}: engine exited {app.returncode}: {out}")
    if args.profile == mode:
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)
    note_cpu(mode, cpu, children_before, count * size / 1e9)
    return timed * size / elapsed / 1e6


def note_cpu(mode, cpu, children_before, gigabytes):
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    CPU[mode].append((cpu / gigabytes * 1000, server_cpu / gigabytes * 1000))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--pyevents", required=True, help="directory containing the pyevents package")
    parser.add_argument("--floors")
    parser.add_argument("--sizes", default="65536,1048576,4194304")
    parser.add_argument("--modes", default="fetch,fetch_nocopy,raw_fetch")
    parser.add_argument("--bytes", type=float, default=2e9, help="payload bytes per run (default 2e9)")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--touch", action="store_true",
                        help="fetch, fetch_nocopy, next_msgs: sum every byte of every event (numpy.frombuffer)")
    parser.add_argument("--fetch-bytes", default="default",
                        help="PluginClient.fetch_bytes: a number, 'none' or 'default' (the client's own)")
    parser.add_argument("--profile", choices=MODES)
    parser.add_argument("--cpu", action="store_true", help="also print CPU time per GB of the consumer and engine")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode and size, alternated; best is shown")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.pyevents))
    global FETCH_BYTES
    if args.fetch_bytes in ("default", "none"):
        FETCH_BYTES = None if args.fetch_bytes == "none" else "default"
    else:
        FETCH_BYTES = int(float(args.fetch_bytes))
    modes = args.modes.split(",")
    for mode in modes:
        if mode not in MODES or (mode.endswith("_floor") and not args.floors):
            parser.error(f"unknown mode {mode!r} (or a floor without --floors)")
    for size in (int(s) for s in args.sizes.split(",")):
        count = max(100, int(args.bytes // size))
        best = {mode: 0.0 for mode in modes}
        CPU.clear()
        CPU.update({mode: [] for mode in modes})
        for _ in range(args.repeat):
            for mode in modes:
                best[mode] = max(best[mode], run(args, mode, size, count))
        print(f"{size:>8} B x {count:>6}: " + "   ".join(f"{mode} {best[mode]:>7,.0f} MB/s" for mode in modes),
              flush=True)
        if args.cpu:
            print(" " * 20 + "CPU ms per GB, least of the runs (consumer process / engine or floor process): " + "   ".join(
                f"{mode} {min(c for c, _ in CPU[mode]):,.0f}/{min(e for _, e in CPU[mode]):,.0f}"
                for mode in modes if CPU[mode]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
