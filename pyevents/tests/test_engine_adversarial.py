"""Hostile peers on an external plugin's port, against the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  The
hostile peers are in hostile.py; the other ports are attacked in
test_engine_hostile_tcp.py, and with CURVE in test_engine_hostile_curve.py.

What docs/security.md promises for every peer, checked here:

* a peer that floods requests and never reads a reply neither crashes nor
  stalls the engine; it is cut off and reported (``requests_ignored``,
  ``peers_cut_off``), and everyone else is served meanwhile;
* a stranger (a ping, garbage, a refused request) is not taken for the
  plugin's process, so leaving does not make the plugin "disconnected";
* a flood of refused requests is counted, not logged line by line;
* a consumer killed with SIGKILL at random points, again and again, loses no
  event (at-least-once ``fetch``), and the report accounts for every event.
"""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List, Optional

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    RawClient,
    a_event,
    plugin_env,
    start_engine,
)
from hostile import (
    LOG_LINES_LIMIT,
    Flooder,
    assert_alive,
    concurrent_requests,
    field,
    poll_until,
    wait_engine_subscribed,
    xpub_publisher,
)
from pyevents import PluginClient, protocol

COLLECTED_B = 'COLLECTED {"type":"TypeB"'


# --------------------------------------------------------------------------- 1. a flooding non-reader


#: Requests the flooder sends at most (it stops once the engine cut it off). The engine bounds
#: each connection's kernel buffers (external_bridge::socket_buffer_bytes, 256 KiB each way,
#: doubled by Linux), so a non-reader is cut off within about 25,000 unread replies (22 bytes
#: each on the wire, a pong), and at most about as many requests more sit unread in buffers on
#: the way in: a correct engine cuts the flooder off well before this many, on any host (with
#: the system's default buffers it took some 250,000).
FLOOD_LIMIT = 100_000
#: Only a guard against a hang: the flood stops if the engine takes nothing from the flooder
#: for this long (it reads requests at its own pace, however slow the machine).
FLOOD_NO_PROGRESS_SECONDS = 120.0


def test_a_flooding_non_reader_is_cut_off_while_everyone_else_is_served(start_engine) -> None:
    """A DEALER sends REQ-framed pings and publishes of a declared event (TypeA, every tenth
    request) until the
    engine cuts it off (or FLOOD_LIMIT), never reads a reply, and closes only
    at the end.

    Meanwhile: the engine does not abort; the internal collector receives every TypeB the
    emitter publishes (started by "go" just before the flood); a well-behaved PluginClient on
    the same port pings, publishes and receives; the run ends normally; and the report names
    the flooder: requests_ignored > 0 or peers_cut_off >= 1.
    """
    count_b = 1500
    # TypeA goes only to the plugin itself (not to the collector, whose count ends the run);
    # a queue limit above the flood keeps the plugin's own publishes from waiting on its queue.
    engine = start_engine(emit_b=count_b, emit_jitter_ms=1, emit_on_go=True, collect=2,
                          queue_limit=FLOOD_LIMIT + 10_000, disconnect_grace_ms=600_000)
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.ping()
        flooder = Flooder(engine.port)
        try:
            flooder.wait_connected(engine)
            client.publish_event("TypeC", "go")  # the emitter's TypeB flow while the flood goes on
            # Pings, and publishes (every tenth). Not fetches: a flooder's next_msg, answered before it is cut off,
            # legitimately takes the plugin's events (at most once; without keys every local
            # process is trusted), and could take the client's own event checked below.
            bodies = (b"TypeAflood-%d" % i if i % 10 == 9 else protocol.PING for i in range(FLOOD_LIMIT))
            # Flood until the engine says it cut the flooder off (its log), or the bound: the
            # engine takes requests at its own pace (it publishes each), so a pause of the
            # flooder's send is not yet a full reply queue.
            progressed = time.monotonic()
            while ("it is cut off" not in engine.stderr and flooder.sent < FLOOD_LIMIT and engine.alive()
                   and time.monotonic() - progressed < FLOOD_NO_PROGRESS_SECONDS):
                before = flooder.sent
                flooder.flood(itertools.islice(bodies, 5_000), stall_ms=100)
                if flooder.sent > before:
                    progressed = time.monotonic()
            sent = flooder.sent
            assert_alive(engine, f"during the flood ({sent} requests sent, none read)")

            # While the flooder still sits there, unread: the collector gets every TypeB ...
            poll_until(lambda: engine.count_lines(COLLECTED_B) >= count_b or not engine.alive(),
                       f"the collector to receive all {count_b} TypeB while the flooder is connected",
                       engine=engine)
            assert_alive(engine, "while the flooder was connected")
            # ... and the well-behaved client on the same port is answered.
            client.ping()
            client.publish_event("TypeA", "mine")
            got: List[bytes] = []
            while b"TypeAmine" not in got:  # behind whatever of the flood the engine accepted
                batch = client.next_events(protocol.MAX_BATCH, timeout=WAIT)
                assert batch, f"the client's own TypeA never came back ({len(got)} events fetched)\n{engine.describe()}"
                got += batch
            client.publish_event("TypeC", "done")
            engine.wait_collected(2, "TypeC")
        finally:
            flooder.close()

    status = engine.finish()
    assert status == 0, (f"the engine exited with status {status} (-6 or 134: an abort) after the flooder sent "
                         f"{flooder.sent} requests and closed (its send blocked: {flooder.blocked})\n{engine.describe()}")
    report = engine.report()
    assert report["outcome"] == "finished", engine.describe()
    ignored = field(engine, report, "requests_ignored")
    cut_off = field(engine, report, "peers_cut_off")
    assert ignored > 0 or cut_off >= 1, (
        f"the flooder ({flooder.sent} requests, replies never read, its send blocked: {flooder.blocked}) "
        f"was not reported: requests_ignored={ignored}, peers_cut_off={cut_off}\n{engine.describe()}")
    assert report["rejected"] == 0, engine.describe()
    assert engine.collected_texts() == ["go", "done"]
    assert engine.count_lines(COLLECTED_B) == count_b
    assert engine.report("collector")["outcome"] == "finished"


# --------------------------------------------------------------------------- 4. a stranger before the plugin


STRANGERS = {
    "ping": [protocol.PING],
    "garbage": [b"\x00\xff\xfe garbage", b"plugin_command: frobnicate", b""],
    "refused-publish": [b"TypeB42"],  # a topic the plugin may not publish
}


@pytest.mark.parametrize("stranger", list(STRANGERS))
def test_a_stranger_before_the_plugin_is_not_taken_for_it(start_engine, stranger: str) -> None:
    """A process connects, sends a ping (or garbage, or a refused publish), reads the answers
    and leaves; the plugin's real process comes after more than --disconnect-grace-ms.  The
    engine must still be waiting for it (not report it disconnected and end), and the plugin
    gets its events, quits, and is reported "finished"."""
    requests = STRANGERS[stranger]
    engine = start_engine(emit_a=3, disconnect_grace_ms=200, connect_timeout_ms=600_000)
    with RawClient(engine.port) as visitor:
        for request in requests:
            visitor.request(request)
    # With the bug, the engine counts the stranger as the plugin, declares the plugin gone
    # 200 ms after it left and exits; otherwise this bounded wait simply runs out.
    try:
        engine.process.wait(1.0)
    except subprocess.TimeoutExpired:
        pass
    assert_alive(engine, f"after a stranger ({stranger}) came and went, before the real plugin connected")

    with PluginClient(engine.port, timeout=WAIT) as client:
        assert [client.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3)]
    engine.assert_clean_exit()
    report = engine.report()
    assert report["received"] == 3, engine.describe()
    refused = sum(1 for r in requests if r != protocol.PING)
    assert report["rejected"] == refused, engine.describe()


# --------------------------------------------------------------------------- 6. log volume under a flood


#: Refused requests sent to the plugin port (each is answered and counted).
REFUSED_REQUESTS = 100_000
#: Refused frames sent to the publish port (undeclared topics, the engine's control topic).
REFUSED_PUBLISHES = 50_000
#: What "the log stays small" means here.


def refused_request(i: int) -> List[bytes]:
    kind = i % 6
    if kind == 0:
        return [b"plugin_command: frobnicate-%d" % i]  # unknown command
    if kind == 1:
        return [b"TypeB%d" % i]  # a topic this plugin may not publish
    if kind == 2:
        return [b"\xff\xfe\x80 undecodable %d" % i]  # binary, no topic at all
    if kind == 3:
        return [b"plugin_command: next_msgs 0"]  # a bad number
    if kind == 4:
        return [b""]  # empty
    return [b"TypeC", b"two frames %d" % i]  # not one frame


def test_a_flood_of_refused_requests_is_counted_not_logged_line_by_line(start_engine) -> None:
    """100,000 refused requests on the plugin port (unknown commands, undeclared or no topics,
    bad numbers, empty and two-frame requests, over 16 connections that each wait for the
    answer before the next request, as REQ sockets do) and 50,000 refused frames on the
    publish port (undeclared topics, the engine's own control topic): the engine's stderr
    stays under LOG_LINES_LIMIT lines, REPORT "rejected" equals exactly the refused requests
    that were answered, and RUN "tcp_publishes_refused" equals the refused frames."""
    engine = start_engine(disconnect_grace_ms=600_000)
    publish_port = engine.publish_port
    context = zmq.Context()
    try:
        publisher = xpub_publisher(context, publish_port)
        wait_engine_subscribed(publisher, engine)
        for i in range(REFUSED_PUBLISHES):
            publisher.send(b"TypeZundeclared-%d" % i if i % 5 else b"\xffevent_engine/probe/%d" % i)
        publisher.send(b"TypeAmarker")  # declared: once it arrives, every frame before it was handled
        with PluginClient(engine.port, timeout=WAIT) as client:
            assert client.next_event(timeout=WAIT) == b"TypeAmarker", engine.describe()

            replies = concurrent_requests(engine.port, [refused_request(i) for i in range(REFUSED_REQUESTS)],
                                          engine=engine)
            errors = [r for r in replies if len(r) == 1 and r[0].startswith(protocol.REPLY_ERROR_PREFIX)]
            others = [r for r in replies if not (len(r) == 1 and r[0].startswith(protocol.REPLY_ERROR_PREFIX))]
            assert not others, f"{len(others)} refused requests got another answer, e.g. {others[:3]!r}"
            client.ping()
        publisher.close(linger=0)
    finally:
        context.destroy(linger=0)  # closes whatever an early failure left open

    status = engine.finish()
    assert status == 0, engine.describe()
    lines = engine.stderr_line_count
    assert lines < LOG_LINES_LIMIT, (
        f"the engine wrote {lines} lines to stderr for {REFUSED_REQUESTS} refused requests and "
        f"{REFUSED_PUBLISHES} refused publishes (limit {LOG_LINES_LIMIT}): logs about peers must be "
        f"summarized, with the totals in the report\n{engine.describe()}")
    report = engine.report()
    assert report["outcome"] == "finished"
    assert report["rejected"] == len(errors), (
        f"rejected={report['rejected']}, refused requests answered={len(errors)}\n{engine.describe()}")
    run = engine.run_record()
    assert field(engine, run, "tcp_publishes_refused") == REFUSED_PUBLISHES, engine.describe()


# --------------------------------------------------------------------------- 8. kill -9 loop of a consumer


# Consumes with PluginClient (at least once: fetch/ack), printing each event as it is
# handed out, with a little work per event so a kill can land mid-batch; "quit" on stdin
# ends it normally.
CONSUMER = textwrap.dedent('''\
    import select, sys, time
    from pyevents import PluginClient

    port, pause = int(sys.argv[1]), float(sys.argv[2])
    with PluginClient(port, timeout=30.0) as client:
        print("READY", flush=True)
        while True:
            for event in client.next_events(50, timeout=0.05):
                print(event.decode(), flush=True)
                if pause:
                    time.sleep(pause)
            if select.select([sys.stdin], [], [], 0)[0] and sys.stdin.readline().strip() == "quit":
                break
    print("QUIT", flush=True)
''')

KILLS = 8


class Consumer:
    """One consumer process and the lines it printed (read on a thread)."""

    def __init__(self, script: Path, port: int, pause: float) -> None:
        self.process = subprocess.Popen([sys.executable, str(script), str(port), str(pause)], env=plugin_env(),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: List[str] = []
        self.stderr: Optional[str] = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def events(self) -> List[str]:
        return [line for line in list(self.lines) if line not in ("READY", "QUIT")]

    def describe(self) -> str:
        if self.process.poll() is None:
            err = "(running)"
        else:
            if self.stderr is None:
                self.stderr = self.process.stderr.read()
            err = self.stderr
        return f"consumer exit status {self.process.poll()}, {len(self.lines)} lines; stderr:\n{err}"

    def finish(self) -> None:
        self._reader.join(WAIT)
        if self.stderr is None and self.process.poll() is not None:
            self.stderr = self.process.stderr.read()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def test_a_consumer_killed_again_and_again_loses_no_event(start_engine, tmp_path: Path) -> None:
    """A PluginClient consumer is SIGKILLed at random points KILLS times and restarted each
    time while the emitter publishes; a last consumer reads until every event was seen.  Each
    event reaches some consumer at least once, and the report accounts for all of them:
    received + unread + dropped + after_end == published for the plugin."""
    count = 1500
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    engine = start_engine(emit_a=count, emit_jitter_ms=1, seed=seed, disconnect_grace_ms=600_000)
    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER)
    expected = {a_event(i).decode() for i in range(count)}
    seen: List[str] = []
    consumers: List[Consumer] = []

    def context() -> str:
        everything = set(seen) | (set(consumers[-1].events()) if consumers else set())
        missing = sorted(expected - everything, key=lambda e: int(e.rsplit("-", 1)[1]))
        return (f"seed {seed}; {len(missing)} event(s) not seen by any consumer, e.g. {missing[:5]}; "
                + (consumers[-1].describe() if consumers else "") + "\n" + engine.describe())

    try:
        for kill in range(KILLS):
            consumer = Consumer(script, engine.port, pause=0.001)
            consumers.append(consumer)
            poll_until(lambda: "READY" in consumer.lines or consumer.process.poll() is not None,
                       f"consumer {kill} to start", context=context, engine=engine)
            assert consumer.process.poll() is None, context()
            # Kill after a random number of events, 0 (maybe mid-fetch) to 120.
            after = rng.randint(0, 120)
            poll_until(lambda: len(consumer.events()) >= after or consumer.process.poll() is not None
                       or len(set(seen) | set(consumer.events())) >= count,
                       f"consumer {kill} to print {after} events", context=context, engine=engine)
            assert consumer.process.poll() is None, context()
            consumer.process.send_signal(signal.SIGKILL)
            consumer.process.wait(WAIT)
            consumer.finish()
            seen += consumer.events()

        last = Consumer(script, engine.port, pause=0.0)
        consumers.append(last)
        poll_until(lambda: expected <= set(seen) | set(last.events()) or last.process.poll() is not None,
                   f"the last consumer to see every one of the {count} events", context=context, engine=engine)
        assert last.process.poll() is None, context()
        last.process.stdin.write("quit\n")
        last.process.stdin.flush()
        last.process.wait(WAIT)
        last.finish()
        assert last.process.returncode == 0 and last.lines[-1:] == ["QUIT"], context()
        seen += last.events()
    finally:
        for consumer in consumers:
            if consumer.process.poll() is None:
                consumer.process.kill()
                consumer.process.wait()
            consumer.finish()

    missing = expected - set(seen)
    assert not missing, f"{len(missing)} event(s) never received, e.g. {sorted(missing)[:5]} (seed {seed})"
    assert set(seen) <= expected, f"unexpected lines: {sorted(set(seen) - expected)[:5]}"
    engine.wait_emitted()
    status = engine.finish()
    assert status == 0, engine.describe()
    report = engine.report()
    assert report["outcome"] == "finished", engine.describe()
    after_end = field(engine, report, "after_end")
    total = report["received"] + report["unread"] + report["dropped"] + after_end
    assert total == count, (
        f"received {report['received']} + unread {report['unread']} + dropped {report['dropped']} + "
        f"after_end {after_end} = {total}, but {count} events were published for the plugin "
        f"({len(seen) - count} duplicates seen; seed {seed})\n{engine.describe()}")
