#!/usr/bin/python3
"""The soak runner (scripts/soak.sh; docs/testing.md, "Soak runs").

Runs for --seconds: a three-node nats-server cluster (JetStream, routes on loopback, temporary
directories, as tests/nats/natsfix.py starts them), two soak applications
(tests/soak/soak_app.cpp) joined through it by their bridges (JetStream, stream R3): `source`
publishes Reading events at --rate a second to an internal plugin, an external plugin and
NATS; `sink` brings them in to an internal plugin and an external plugin. The external
plugins are Python processes (tests/soak/soak_plugin.py, pyevents' PluginClient). Meanwhile,
at random (--seed), an external plugin's process is SIGKILLed and restarted, and a NATS node
is SIGKILLed and restarted (one at a time; the next only once the restarted node reports
JetStream healthy). Every second it samples each application's RSS, open descriptors and
threads from /proc.

Then it stops the Producer, restarts any node that is down, waits until everything has
arrived (bounded: a hang fails), stops the plugins and the applications, and checks:

* nothing lost where the docs promise at least once: every Reading sent reached the source's
  internal plugin exactly once, the sink's internal plugin at least once (JetStream through
  the bridges), and both external plugins at least once (the at-least-once fetch, across
  SIGKILLs of their processes);
* every loss counted: for every plugin that subscribes, received + decode_failures + dropped +
  unread + after_end == what was published on its topics (docs/design.md), and the bridges'
  identities (docs/nats.md);
* RSS, descriptors and threads flat after warm-up: the run's samples in thirds, the first
  third is warm-up, and the maximum of the last third may exceed the maximum of the second
  third by at most --rss-tolerance-pct percent or --rss-tolerance-mib MiB, whichever is more
  (RSS), --fd-tolerance descriptors, --thread-tolerance threads; and, in runs of at least 10
  minutes (shorter ones are too noisy), the trend over the last two thirds (least squares, per
  minute) may be at most --rss-trend-kib KiB (RSS, default 256) and --fd-trend descriptors
  (default 0.5): a slow steady leak fails even when each third stays within the tolerance.

Prints a summary table; exits 1 with the reasons on any failure (the work directory, with
every log, is kept then), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "nats"))
from natsfix import NatsServer, die_with_parent, free_port  # noqa: E402  (the NATS tests' fixtures: same servers, same ports)

PYTHON = "/usr/bin/python3"  # has pyzmq (Debian's python3-zmq)
GUARD = 180.0  # seconds a final wait may take before it counts as a hang


def log(message: str) -> None:
    print(f"soak: {message}", flush=True)


class Failure(Exception):
    pass


def child_env(**extra: str) -> dict[str, str]:
    """The runner's environment for a child, without any EVENT_ENGINE_* variable (a host, keys, a
    log level set for something else must not reach the applications or plugins), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENT_ENGINE_")}
    env.update(extra)
    return env


def on_signal(signum: int, _frame: Any) -> None:
    """SIGTERM/SIGHUP: as Ctrl-C (KeyboardInterrupt), so that main's cleanup (finally) stops every
    child; a second signal during the cleanup is ignored (the children die with the runner anyway:
    die_with_parent)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def wait_for(condition: Callable[[], bool], what: str, guard: float = GUARD) -> None:
    end = time.monotonic() + guard
    while not condition():
        if time.monotonic() > end:
            raise Failure(f"still waiting after {guard:.0f} s for: {what}")
        time.sleep(0.1)


class App:
    """A soak application process: its latest STATUS, its FINAL report, /proc samples."""

    def __init__(self, binary: Path, role: str, servers: list[str], ext_port: int, rate: float, work: Path,
                 disconnect_grace_ms: int) -> None:
        self.role = role
        self.ext_port = ext_port
        self.stderr_path = work / f"app-{role}.stderr"
        self._stderr = open(self.stderr_path, "wb")
        args = [str(binary), "--role", role, "--servers", ",".join(servers), "--ext-port", str(ext_port),
                "--rate", str(rate), "--disconnect-grace-ms", str(disconnect_grace_ms)]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                                        text=True, env=child_env(EVENT_ENGINE_LOG="info"),
                                        preexec_fn=die_with_parent())
        self.status: dict[str, Any] = {}
        self.final: dict[str, Any] | None = None
        self.samples: list[tuple[float, int, int, int]] = []  # (t, rss KiB, fds, threads)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("STATUS "):
                self.status = json.loads(line[7:])
            elif line.startswith("FINAL "):
                self.final = json.loads(line[6:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-chars:]

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def sample(self, t: float) -> None:
        pid = self.process.pid
        try:
            rss = threads = -1
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            return
        self.samples.append((t, rss, fds, threads))

    def stop(self) -> dict[str, Any]:
        if self.alive():
            self.send("quit")
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise Failure(f"{self.role} did not stop within 60 s of 'quit':\n{self.log_tail()}")
        self._reader.join(timeout=10)
        if self.final is None:
            raise Failure(f"{self.role} printed no FINAL report (exit {self.process.returncode}):\n{self.log_tail()}")
        return self.final

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait()
        self._stderr.close()


class Plugin:
    """An external plugin's process (soak_plugin.py), restarted under the same record file."""

    def __init__(self, app: App, work: Path, work_ms: float, at_most_once: bool = False) -> None:
        self.app = app
        self.work_ms = work_ms
        self.at_most_once = at_most_once
        self.name = f"{app.role}.ext"
        self.record = work / f"{self.name}.record"
        self.record.touch()
        self.stderr_path = work / f"{self.name}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.incarnation = 0
        self.kills = 0
        self._offset = 0
        self._seen = bytearray()
        self.records = 0  # numbers read from the record, duplicates included
        self.unique = 0
        self.partial_bytes = 0

    def start(self) -> None:
        self.incarnation += 1
        env = child_env(PYTHONPATH=str(ROOT / "pyevents"), PYTHONDONTWRITEBYTECODE="1")
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [PYTHON, str(HERE / "soak_plugin.py"), "--port", str(self.app.ext_port), "--record", str(self.record),
                 "--incarnation", f"{self.name}#{self.incarnation}", "--work-ms", str(self.work_ms)]
                + (["--at-most-once"] if self.at_most_once else []),
                stdin=subprocess.DEVNULL, stdout=stderr,
                stderr=stderr, env=env, preexec_fn=die_with_parent())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1

    def stop(self) -> int:
        """SIGTERM: the plugin acknowledges, quits and exits; returns its exit status."""
        assert self.process is not None
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise Failure(f"{self.name} did not exit within 30 s of SIGTERM")

    def log_tail(self, chars: int = 2000) -> str:
        return self.stderr_path.read_text(errors="replace")[-chars:]

    def read_record(self) -> None:
        """Takes in what the plugin's processes appended since the last call."""
        with open(self.record, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        whole = len(data) // 8 * 8
        self._offset += whole
        for (number,) in struct.iter_unpack("<Q", data[:whole]):
            self.records += 1
            if number >= len(self._seen):
                self._seen.extend(bytes(max(number + 1 - len(self._seen), len(self._seen))))
            if not self._seen[number]:
                self._seen[number] = 1
                self.unique += 1
        self.partial_bytes = len(data) - whole

    def missing(self, sent: int, limit: int = 10) -> list[int]:
        return [n for n in range(1, sent + 1) if n >= len(self._seen) or not self._seen[n]][:limit]


def plugin_entry(final: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in final["report"]["plugins"]:
        if entry["name"] == name:
            return entry
    raise Failure(f"{final['role']}: no plugin {name} in its report")


def accounted(entry: dict[str, Any]) -> int:
    return (entry["events_received"] + entry["decode_failures"] + entry["events_dropped"] + entry["events_unread"]
            + entry["events_after_end"])


TREND_MIN_SECONDS = 600.0  # runs shorter than this are too noisy for the trend check


def flat(samples: list[tuple[float, int, int, int]], column: int, tolerance: Callable[[int], float],
         trend_limit: float | None, run_seconds: float) -> tuple[bool, str]:
    """Two checks after warm-up (the first third): the last third's maximum is at most the middle
    third's plus `tolerance` (a jump), and, for runs of at least TREND_MIN_SECONDS, the trend (least
    squares over the last two thirds, per minute) is at most `trend_limit` (a slow steady leak,
    which the first check lets through a tolerance per third); `trend_limit` None: no trend check."""
    values = [s[column] for s in samples]
    third = len(values) // 3
    if third < 2:
        return False, "too few samples"
    first, middle, last = values[:third], values[third:2 * third], values[2 * third:]
    allowed = max(middle) + tolerance(max(middle))
    points = [(s[0], s[column]) for s in samples[third:]]
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    slope = 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread if spread else 0.0
    ok = max(last) <= allowed
    if trend_limit is None:
        trend = f"trend {slope:+.2f}/min"
    elif run_seconds < TREND_MIN_SECONDS:
        trend = f"trend {slope:+.2f}/min (not checked: runs under {TREND_MIN_SECONDS / 60:.0f} min are too noisy)"
    else:
        trend = f"trend {slope:+.2f}/min (allowed <= {trend_limit:g})"
        ok = ok and slope <= trend_limit
    return ok, f"{values[0]} first, max {max(first)}/{max(middle)}/{max(last)} by thirds, " \
               f"last third allowed <= {allowed:.0f}, {values[-1]} last, {trend}"


def main() -> int:
    parser = argparse.ArgumentParser(description="The soak runner (docs/testing.md).")
    parser.add_argument("--seconds", type=float, required=True, help="how long the load and the kills last")
    parser.add_argument("--app", required=True, help="the ee_soak_app binary")
    parser.add_argument("--rate", type=float, default=250.0, help="Readings a second (default 250)")
    parser.add_argument("--seed", type=int, default=None, help="the random schedule's seed (default: from the clock; printed)")
    parser.add_argument("--plugin-kill-every", type=float, nargs=2, default=(2.0, 6.0), metavar=("MIN", "MAX"),
                        help="seconds between two plugin SIGKILLs, uniform (default 2 6)")
    parser.add_argument("--node-kill-every", type=float, nargs=2, default=(12.0, 25.0), metavar=("MIN", "MAX"),
                        help="seconds from a node being healthy again to the next node SIGKILL, uniform (default 12 25)")
    parser.add_argument("--node-down", type=float, nargs=2, default=(1.0, 5.0), metavar=("MIN", "MAX"),
                        help="seconds a killed node stays down, uniform (default 1 5)")
    parser.add_argument("--rss-tolerance-pct", type=float, default=10.0)
    parser.add_argument("--rss-tolerance-mib", type=float, default=4.0)
    parser.add_argument("--fd-tolerance", type=int, default=8)
    parser.add_argument("--thread-tolerance", type=int, default=2)
    parser.add_argument("--rss-trend-kib", type=float, default=256.0,
                        help="largest RSS trend after warm-up, KiB a minute (default 256; checked in runs of 10 minutes or more)")
    parser.add_argument("--fd-trend", type=float, default=0.5,
                        help="largest open-descriptor trend after warm-up, a minute (default 0.5; checked in runs of 10 "
                             "minutes or more)")
    parser.add_argument("--drain-guard", type=float, default=GUARD,
                        help=f"seconds the end may wait for everything to arrive before that fails (default {GUARD:.0f})")
    parser.add_argument("--samples", help="also write the /proc samples here (CSV)")
    parser.add_argument("--disconnect-grace-ms", type=int, default=20000,
                        help="the applications' external_options::disconnect_grace (default 20000: a killed plugin's "
                             "process is restarted within 1.5 s)")
    parser.add_argument("--plugin-work-ms", type=float, default=50.0,
                        help="time an external plugin spends on each batch before recording it (default 50 ms: most "
                             "SIGKILLs land with a batch fetched and not yet acknowledged)")
    parser.add_argument("--plugins-at-most-once", action="store_true",
                        help="the external plugins fetch at most once (next_msgs): the checks must then fail")
    parser.add_argument("--keep", action="store_true", help="keep the work directory even when the run passes")
    args = parser.parse_args()
    if args.seconds < 15:
        parser.error("--seconds must be at least 15 (thirds of 5 s for the flatness check)")
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="ee-soak-"))
    log(f"{args.seconds:.0f} s at {args.rate:g} Readings/s, seed {seed}, work directory {work}")

    nodes: list[NatsServer] = []
    apps: list[App] = []
    plugins: list[Plugin] = []
    failures: list[str] = []
    figures: dict[str, Any] = {"seed": seed, "node_kills": 0, "plugin_kills": {}, "longest_sink_stall_s": 0.0}
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        route_ports = [free_port() for _ in range(3)]
        nodes = [NatsServer(work, f"n{i + 1}", True, route_ports[i], route_ports, monitor=True, die_with_parent=True)
                 for i in range(3)]
        for node in nodes:
            node.start()
        servers = [node.url for node in nodes]
        sink = App(Path(args.app), "sink", servers, free_port(), args.rate, work, args.disconnect_grace_ms)
        apps.append(sink)
        wait_for(lambda: sink.status.get("bridge", {}).get("subscribed") or not sink.alive(), "the sink's bridge subscribed", 90)
        source = App(Path(args.app), "source", servers, free_port(), args.rate, work, args.disconnect_grace_ms)
        apps.append(source)
        plugins = [Plugin(app, work, args.plugin_work_ms, args.plugins_at_most_once) for app in (source, sink)]
        for plugin in plugins:
            plugin.start()
        wait_for(lambda: source.status.get("bridge", {}).get("connected") or not source.alive(), "the source's bridge connected", 90)

        # The run: kills at random, a sample a second.
        start = time.monotonic()
        end = start + args.seconds
        next_sample = start
        next_report = start + 10
        next_plugin_kill = start + rng.uniform(*args.plugin_kill_every) / 2
        next_node_kill = start + rng.uniform(*args.node_kill_every) / 2
        down: tuple[NatsServer, float] | None = None  # a killed node and when it comes back
        recovering: NatsServer | None = None  # restarted, JetStream not yet reported healthy
        pending_plugin: tuple[Plugin, float] | None = None
        last_sink_progress, last_sink_unique = start, 0
        while True:
            now = time.monotonic()
            for app in apps:
                if not app.alive():
                    raise Failure(f"the {app.role} application exited ({app.process.returncode}) during the run:\n"
                                  f"{app.log_tail()}")
            for plugin in plugins:
                if plugin.process is not None and plugin.process.poll() is not None and \
                        (pending_plugin is None or pending_plugin[0] is not plugin):
                    raise Failure(f"{plugin.name} exited by itself ({plugin.process.returncode}):\n{plugin.log_tail()}")
            if now >= end:
                break
            if now >= next_sample:
                for app in apps:
                    app.sample(now - start)
                unique = sink.status.get("readings", {}).get("unique", 0)
                if unique > last_sink_unique:
                    last_sink_progress, last_sink_unique = now, unique
                elif source.status.get("sent", 0) > unique:
                    figures["longest_sink_stall_s"] = max(figures["longest_sink_stall_s"], now - last_sink_progress)
                next_sample += 1.0
            if now >= next_report:
                s, k = source.samples[-1] if source.samples else (0, 0, 0, 0), sink.samples[-1] if sink.samples else (0, 0, 0, 0)
                log(f"t={now - start:5.0f}s sent {source.status.get('sent', 0)}, sink has {last_sink_unique}; kills: "
                    f"plugins {sum(p.kills for p in plugins)}, nodes {figures['node_kills']}; RSS MiB source "
                    f"{s[1] / 1024:.1f} sink {k[1] / 1024:.1f}; fds {s[2]}/{k[2]}; threads {s[3]}/{k[3]}")
                next_report += 10
            if pending_plugin is None and now >= next_plugin_kill:
                plugin = rng.choice(plugins)
                plugin.kill()
                pending_plugin = (plugin, now + rng.uniform(0.1, 1.5))
            if pending_plugin is not None and now >= pending_plugin[1]:
                pending_plugin[0].start()
                pending_plugin = None
                next_plugin_kill = now + rng.uniform(*args.plugin_kill_every)
            if down is None and recovering is None and now >= next_node_kill:
                node = rng.choice(nodes)
                node.kill()
                figures["node_kills"] += 1
                down = (node, now + rng.uniform(*args.node_down))
            if down is not None and now >= down[1]:
                down[0].start()
                recovering, down = down[0], None
            if recovering is not None and healthy(recovering):
                recovering = None
                next_node_kill = now + rng.uniform(*args.node_kill_every)
            time.sleep(0.05)

        # The drain: no more kills, every node up, wait for everything to arrive.
        log("run over: the producer stops; waiting for every Reading to arrive everywhere")
        source.send("stop-sending")
        if pending_plugin is not None:
            pending_plugin[0].start()
        if down is not None:
            down[0].start()
        wait_for(lambda: source.status.get("sending_stopped", False), "the producer stopped")
        sent = source.status["sent"]

        def arrived() -> bool:
            for plugin in plugins:
                plugin.read_record()
            return (source.status["bridge"]["published"] == sent and source.status["readings"]["unique"] == sent
                    and sink.status["readings"]["unique"] == sent and all(p.unique == sent for p in plugins))
        try:
            wait_for(arrived, "every Reading at every receiver", args.drain_guard)
        except Failure as failure:
            failures.append(f"{failure}: sent {sent}; source bridge published {source.status['bridge']['published']}; "
                            f"source checker {source.status['readings']}; sink counter {sink.status['readings']}; "
                            + "; ".join(f"{p.name} has {p.unique} (missing e.g. {p.missing(sent)})" for p in plugins))
        for plugin in plugins:
            code = plugin.stop()
            if code != 0:
                failures.append(f"{plugin.name} exited {code} on SIGTERM:\n{plugin.log_tail()}")
        finals = {app.role: app.stop() for app in apps}
        for app in apps:
            app.sample(time.monotonic() - start)  # gone by now: nothing is added
        for plugin in plugins:
            plugin.read_record()
        failures += check(finals, sent, plugins, source, sink, figures, args)
    except (Failure, AssertionError) as failure:  # AssertionError: natsfix (a node that would not start)
        failures.append(str(failure))
    except KeyboardInterrupt as interrupt:  # Ctrl-C, SIGTERM, SIGHUP (on_signal)
        failures.append(f"interrupted ({interrupt or 'SIGINT'}): every child stopped")
    finally:
        for plugin in plugins:
            plugin.kill()
        for app in apps:
            app.kill()
        for node in nodes:
            node.stop()
    if args.samples:
        with open(args.samples, "w") as out:
            out.write("role,t_s,rss_kib,fds,threads\n")
            for app in apps:
                for t, rss, fds, threads in app.samples:
                    out.write(f"{app.role},{t:.0f},{rss},{fds},{threads}\n")
    if failures:
        log(f"FAILED (seed {seed}; logs kept in {work}):")
        for failure in failures:
            print(f"  - {failure}", flush=True)
        return 1
    log(f"PASSED (seed {seed})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def healthy(node: NatsServer) -> bool:
    """Whether a restarted node accepts clients and reports JetStream current (/healthz)."""
    if node.process is None or node.process.poll() is not None:
        return False
    try:
        return node.monitoring("healthz").get("status") == "ok"
    except Exception:  # 503 while JetStream catches up, refused while starting
        return False


def check(finals: dict[str, Any], sent: int, plugins: list[Plugin], source: App, sink: App, figures: dict[str, Any],
          args: argparse.Namespace) -> list[str]:
    """The end checks; prints the summary table; returns the failures."""
    failures: list[str] = []

    def expect(condition: bool, what: str) -> None:
        if not condition:
            failures.append(what)

    for role, final in finals.items():
        expect(final["error"] == "", f"{role}: run() failed: {final['error']}")
    src, snk = finals["source"], finals["sink"]
    if src["report"] is None or snk["report"] is None:
        return failures + ["no run report"]
    producer, checker, src_ext, out = (plugin_entry(src, n) for n in ("producer", "checker", "ext", "nats.out"))
    inbound, counter, snk_ext = (plugin_entry(snk, n) for n in ("nats.in", "counter", "ext"))
    ext_plugin = {p.app.role: p for p in plugins}

    # Every event accounted for, per subscriber (docs/design.md).
    for role, entry, published in (
            ("source", checker, producer["events_published"] + src_ext["events_published"]),
            ("source", src_ext, producer["events_published"]),
            ("source", out, producer["events_published"]),
            ("sink", counter, inbound["events_published"] + snk_ext["events_published"]),
            ("sink", snk_ext, inbound["events_published"])):
        expect(accounted(entry) == published,
               f"{role}: {entry['name']}: received + decode_failures + dropped + unread + after_end = {accounted(entry)}, "
               f"published on its topics {published}: {entry}")
    # The bridges' identities (docs/nats.md).
    b = src["bridge"]
    # unsent_at_stop: a counter newer than some bridges (absent: 0)
    expect(b["events_out"] == b["published"] + b["echoes_skipped"] + b["publish_failed"] + b["unconfirmed_at_stop"]
           + b.get("unsent_at_stop", 0),
           f"source bridge: events_out != published + echoes_skipped + publish_failed + unconfirmed_at_stop + unsent_at_stop: {b}")
    expect(out["events_received"] == b["events_out"], f"source: nats.out received {out['events_received']}, bridge events_out {b['events_out']}")
    i = snk["bridge"]
    expect(i["messages_in"] == i["events_in"] + i["own_skipped"] + i["not_imported"] + i["bad_messages"]
           + i["decode_failures"] + i["duplicates_skipped"] + i["abandoned_at_stop"],
           f"sink bridge: messages_in != events_in + own_skipped + ... + abandoned_at_stop: {i}")
    expect(inbound["events_published"] == i["events_in"], f"sink: nats.in published {inbound['events_published']}, bridge events_in {i['events_in']}")

    # Nothing lost where the docs promise at least once.
    expect(src["sent"] == sent == producer["events_published"] and src["not_sent"] == 0,
           f"source: sent {src['sent']} (not sent {src['not_sent']}), producer published {producer['events_published']}")
    expect(b["published"] == sent and b["publish_failed"] == 0 and b["unconfirmed_at_stop"] == 0
           and b.get("unsent_at_stop", 0) == 0,
           f"source bridge: {b['published']} of {sent} stored, {b['publish_failed']} failed, {b['unconfirmed_at_stop']} "
           f"unconfirmed, {b.get('unsent_at_stop', 0)} unsent at stop")
    r = src["readings"]
    expect(r["unique"] == sent and r["duplicates"] == 0 and r["bad"] == 0,
           f"source checker (internal, exactly once): {r} of {sent}")
    r = snk["readings"]
    expect(r["unique"] == sent and r["bad"] == 0, f"sink counter: {r} of {sent} (JetStream: at least once)")
    expect(r["total"] == i["events_in"], f"sink counter received {r['total']} Readings, the bridge brought in {i['events_in']}")
    for role, final, receiver in (("source", src, checker), ("sink", snk, counter)):
        expect(receiver["events_received"] == final["readings"]["total"] + final["readings"]["bad"] + final["progress"],
               f"{role}: {receiver['name']} events_received {receiver['events_received']} != its Readings + Progress")
    for role, entry in (("source", src_ext), ("sink", snk_ext)):
        plugin = ext_plugin[role]
        expect(plugin.unique == sent, f"{plugin.name}: {plugin.unique} of {sent} Readings (missing e.g. {plugin.missing(sent)})")
        expect(plugin.records >= entry["events_received"] and plugin.partial_bytes == 0,
               f"{plugin.name}: its record holds {plugin.records} numbers ({plugin.partial_bytes} stray bytes), "
               f"the engine counted {entry['events_received']} received (acknowledged, or sent at most once)")
        expect(entry["events_dropped"] == 0, f"{role}.ext: {entry['events_dropped']} dropped (full_policy::wait drops none)")
    for final in finals.values():
        for entry in final["report"]["plugins"]:
            expect(entry["events_dropped"] == 0 and entry["decode_failures"] == 0,
                   f"{final['role']}: {entry['name']} dropped {entry['events_dropped']}, decode failures {entry['decode_failures']}")

    # Flat after warm-up.
    rows = []
    for app in (source, sink):
        for column, what, tolerance, trend_limit in (
                (1, "RSS KiB", lambda peak: max(peak * args.rss_tolerance_pct / 100, args.rss_tolerance_mib * 1024),
                 args.rss_trend_kib),
                (2, "open fds", lambda _: args.fd_tolerance, args.fd_trend),
                (3, "threads", lambda _: args.thread_tolerance, None)):
            ok, text = flat(app.samples, column, tolerance, trend_limit, args.seconds)
            rows.append((f"{app.role} {what}", text + ("" if ok else "  NOT FLAT")))
            expect(ok, f"{app.role}: {what} not flat after warm-up: {text}")

    duplicates = {p.name: p.records - p.unique for p in plugins}
    table = [
        ("seed", str(figures["seed"])),
        ("Readings sent (source producer)", f"{sent} ({sent / args.seconds:.0f}/s)"),
        ("source checker (internal)", f"{src['readings']['unique']} unique, {src['readings']['duplicates']} duplicates"),
        ("source bridge", f"stored {b['published']}, failed {b['publish_failed']}, retries {b['publish_retries']}, "
                          f"stored duplicates {b['stored_duplicates']}, disconnects {b['disconnects']}, reconnects {b['reconnects']}"),
        ("sink bridge", f"messages in {i['messages_in']}, events in {i['events_in']}, duplicates skipped "
                        f"{i['duplicates_skipped']}, disconnects {i['disconnects']}, reconnects {i['reconnects']}"),
        ("sink counter (internal)", f"{snk['readings']['unique']} unique, {snk['readings']['duplicates']} duplicates"),
    ]
    for role, entry in (("source", src_ext), ("sink", snk_ext)):
        plugin = ext_plugin[role]
        table.append((f"{plugin.name} (Python)", f"{plugin.unique} unique, {duplicates[plugin.name]} duplicates, "
                      f"{plugin.kills} SIGKILLs, {plugin.incarnation} processes; engine: received {entry['events_received']}, "
                      f"unread {entry['events_unread']}, dropped {entry['events_dropped']}, published {entry['events_published']}"))
    table.append(("NATS node SIGKILLs", str(figures["node_kills"])))
    table.append(("longest sink stall", f"{figures['longest_sink_stall_s']:.0f} s (Readings sent, none new at the sink)"))
    losses = sum(e["events_dropped"] + e["events_unread"] + e["events_after_end"] + e["decode_failures"]
                 for f in finals.values() for e in f["report"]["plugins"])
    table.append(("losses counted (dropped + unread + after_end + decode_failures)", str(losses)))
    table += rows
    table.append(("verdict", "PASSED" if not failures else f"FAILED ({len(failures)} checks)"))
    width = max(len(k) for k, _ in table)
    print("\n" + "\n".join(f"  {k.ljust(width)}  {v}" for k, v in table) + "\n", flush=True)
    return failures


if __name__ == "__main__":
    sys.exit(main())
