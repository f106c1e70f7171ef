"""Hostile peers on the publish and subscribe ports (and raw TCP on every port), against the
REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.  The
peers are in hostile.py.  What docs/security.md promises, checked here:

* a stuck subscriber on the subscribe port affects no other subscriber;
* no frame from a peer changes another peer's subscriptions (stray frames and
  fake unsubscriptions on the subscribe port are ignored);
* memory is bounded in bytes: every TCP socket refuses messages larger than
  max_message_size, so a peer holds at most one partial message of that size;
* random bytes and broken ZMTP handshakes on any port neither crash the
  engine nor change its counters, and normal clients are served afterwards.
"""

from __future__ import annotations

import random
from typing import Any, Dict, List

import pytest
import zmq

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    Engine,
    a_event,
    bulk_payload,
    start_engine,
)
from hostile import (
    LOG_LINES_LIMIT,
    assert_alive,
    field,
    GiB,
    MiB,
    RawPeer,
    Watched,
    connect_and_vanish,
    endpoint,
    engine_tx_queues,
    frame_header,
    garbage_connections,
    poll_until,
    wait_engine_subscribed,
    wait_port_open,
    xpub_publisher,
    zmq_socket,
)
from pyevents import PluginClient


def receive_all(sub: zmq.Socket, count: int, engine: Engine, *, what: str = "events",
                skip: bytes = b"TypeAprobe") -> List[bytes]:
    """*count* frames from *sub* (ignoring leftover probes); fails, with what came, if one is
    more than WAIT seconds late or the engine exits first."""
    got: List[bytes] = []
    while len(got) < count:
        poll_until(lambda: bool(sub.poll(10)),
                   f"{what}: the subscriber to receive frame {len(got)} of {count} (last ones: "
                   f"{[frame[:30] for frame in got[-3:]]!r})", engine=engine)
        frame = sub.recv()
        if not frame.startswith(skip):
            got.append(frame)
    return got


def probe_until_received(send_probe, receivers: List[zmq.Socket], engine: Engine, what: str) -> None:
    """Send probes until each of *receivers* has one waiting (slow joiners: a subscription
    reaches the engine some time after connect)."""
    sent = [0]

    def arrived() -> bool:
        send_probe(b"TypeAprobe-%d" % sent[0])
        sent[0] += 1
        return all(r.poll(20) for r in receivers)

    poll_until(arrived, what, engine=engine)


# --------------------------------------------------------------------------- 2. a stuck subscriber


FILLERS = 400
FILLER_SIZE = 64 * 1024


def test_a_stuck_tcp_subscriber_costs_a_healthy_one_nothing(start_engine) -> None:
    """Two SUBs on the subscribe port, both subscribed to TypeA: one never reads (RCVHWM 1,
    a small kernel buffer), the other reads everything.  First FILLERS TypeA of 64 KiB go
    through the publish port one at a time (the healthy one must get each; together they are
    more than the engine's high-water mark, 200 messages, plus the kernel's buffers, at most
    4 MiB, hold for the stuck one), then "go" starts the emitter's N TypeA.  The healthy SUB gets all N, in order; the RUN
    line counts at least N events offered to TCP subscribers."""
    count = 2000
    # The collector ends the run on its second TypeC ("go", then "end"), once the test has
    # every event: the subscribe port is best effort, an engine that ends may drop what it
    # still holds for TCP subscribers.
    engine = start_engine(external=False, hwm=200, emit_a=count, emit_jitter_ms=1, emit_on_go=True, collect=2)
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    context = zmq.Context()
    try:
        stuck = zmq_socket(context, zmq.SUB)
        stuck.setsockopt(zmq.RCVHWM, 1)
        stuck.setsockopt(zmq.RCVBUF, 4096)
        stuck.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        stuck.connect(endpoint("127.0.0.1", subscribe_port))
        healthy = zmq_socket(context, zmq.SUB)
        healthy.setsockopt(zmq.RCVHWM, 0)
        healthy.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        healthy.connect(endpoint("127.0.0.1", subscribe_port))
        publisher = xpub_publisher(context, publish_port)
        wait_engine_subscribed(publisher, engine)

        # Both subscriptions are in once each has a probe (the stuck one's is never read).
        probe_until_received(publisher.send, [healthy, stuck], engine, "a probe to reach both subscribers")
        filler = b"TypeAfiller-" + bytes(FILLER_SIZE)
        for i in range(FILLERS):
            publisher.send(filler)
            got = receive_all(healthy, 1, engine, what=f"filler {i} of {FILLERS} (64 KiB each) while the stuck "
                                                          f"subscriber holds on to what it was sent")
            assert got == [filler], f"filler {i}: {got[0][:40]!r}"
        # The stuck subscriber is really stuck: the engine has bytes for it that it does not take.
        assert any(queued > 0 for queued in engine_tx_queues(subscribe_port)), (
            f"no send queue on the subscribe port: the stuck subscriber is not stuck, the test proves nothing\n"
            f"{engine.describe()}")

        publisher.send(b"TypeCgo")
        got = receive_all(healthy, count, engine, what="the emitter's TypeA beside a stuck subscriber")
        assert got == [a_event(i) for i in range(count)], (
            f"the healthy subscriber missed {len(set(a_event(i) for i in range(count)) - set(got))} events")
        publisher.send(b"TypeCend")
        engine.wait_collected(2, "TypeC")
        for s in (stuck, healthy, publisher):
            s.close(linger=0)
    finally:
        context.destroy(linger=0)  # closes whatever an early failure left open

    assert engine.finish() == 0, engine.describe()
    run = engine.run_record()
    assert field(engine, run, "tcp_events_offered") >= count, engine.describe()


# --------------------------------------------------------------------------- 3. stray frames


STRAYS = {
    "junk-frames": [b"\x02junk", b"junk", b"", b"\xff" * 10],
    "fake-unsubscribe": [b"\x00TypeA", b"\x00TypeA", b"\x00"],
}


@pytest.mark.parametrize("strays", list(STRAYS))
def test_stray_frames_on_the_subscribe_port_change_no_one_elses_subscriptions(start_engine, strays: str) -> None:
    """An XSUB on the subscribe port sends frames that are not subscriptions (or unsubscribes
    from what it never subscribed), subscribes to TypeA (so a probe reaching it shows its
    frames were taken in), and leaves.  A real SUB subscribed to TypeA then receives every one
    of the N events the emitter publishes."""
    count = 1000
    engine = start_engine(external=False, emit_a=count, emit_jitter_ms=1, emit_on_go=True, collect=2)  # "go", "end"
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    context = zmq.Context()
    try:
        sub = zmq_socket(context, zmq.SUB)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        sub.connect(endpoint("127.0.0.1", subscribe_port))
        publisher = xpub_publisher(context, publish_port)
        wait_engine_subscribed(publisher, engine)
        probe_until_received(publisher.send, [sub], engine, "a probe to reach the real subscriber")

        hostile = Watched(zmq_socket(context, zmq.XSUB))
        hostile.socket.connect(endpoint("127.0.0.1", subscribe_port))
        hostile.wait_for([zmq.EVENT_HANDSHAKE_SUCCEEDED], "the hostile XSUB to connect", engine=engine)
        for frame in STRAYS[strays]:
            hostile.socket.send(frame)
        hostile.socket.send(b"\x01TypeA")
        probe_until_received(publisher.send, [sub, hostile.socket], engine,
                             "a probe to reach both subscribers after the stray frames (with the bug, the "
                             "engine stops forwarding to TCP subscribers)")
        hostile.close()

        publisher.send(b"TypeCgo")
        got = receive_all(sub, count, engine, what="the emitter's TypeA after the stray frames")
        assert got == [a_event(i) for i in range(count)]
        publisher.send(b"TypeCend")
        engine.wait_collected(2, "TypeC")
        sub.close(linger=0)
        publisher.close(linger=0)
    finally:
        context.destroy(linger=0)  # closes whatever an early failure left open
    assert engine.finish() == 0, engine.describe()


# --------------------------------------------------------------------------- 5. oversized frames


DEFAULT_MAX_MESSAGE_SIZE = 16 * MiB
#: What the engine may take without any hostile peer: code, libzmq, thread stacks, buffers.
RSS_BASE = 150 * MiB
#: Bytes of a frame announced as 1 GiB that a half-sending peer actually sends.
PARTIAL_BODY = 200 * MiB
#: Whole oversized frames per port, each from a new ZeroMQ socket.
OVERSIZED_PER_PORT = 3
#: The size of all but the first of them (the first is just over the limit).
OVERSIZED = 64 * MiB


@pytest.mark.parametrize("limit_flag", [1 * MiB, None], ids=["max-message-size-1MiB", "default-16MiB"])
def test_oversized_and_half_sent_frames_keep_the_engine_small(start_engine, limit_flag) -> None:
    """Per port (plugin, publish, subscribe): a raw peer completes a NULL handshake, announces
    a 1 GiB frame, sends PARTIAL_BODY of it and stalls; another announces a frame just under
    the limit and stalls one byte short; then OVERSIZED_PER_PORT whole frames over
    the limit (the first just over it, the others OVERSIZED) come from ZeroMQ sockets
    (DEALER/REQ, XPUB, XSUB), and the engine must drop each of those connections.

    Bound: RSS_BASE + max_message_size per hostile connection (each holds at most one
    partial message of at most max_message_size), on the engine's peak RSS (VmHWM), while the
    half-sent peers are still connected.  Then the engine still serves every port, and no
    oversized event was delivered."""
    limit = limit_flag or DEFAULT_MAX_MESSAGE_SIZE
    fine = limit // 2
    flags: Dict[str, Any] = dict(collect=1, disconnect_grace_ms=600_000)
    if limit_flag is not None:
        flags["max_message_size"] = limit_flag
    engine = start_engine(**flags)
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    ports = {"plugin": (engine.port, b"DEALER"), "publish": (publish_port, b"PUB"),
             "subscribe": (subscribe_port, b"XSUB")}
    hostile_connections = len(ports) * (2 + OVERSIZED_PER_PORT)
    bound = RSS_BASE + hostile_connections * limit

    def check_memory(when: str) -> None:
        memory = engine.memory()
        assert_alive(engine, when)
        assert memory is not None, engine.describe()
        assert memory["VmHWM"] <= bound, (
            f"{when}: the engine's peak RSS is {memory['VmHWM'] / MiB:.0f} MiB, above the bound "
            f"{bound / MiB:.0f} MiB = {RSS_BASE / MiB:.0f} MiB + {hostile_connections} hostile connections x "
            f"max_message_size {limit / MiB:g} MiB (at most one partial message per connection)\n{engine.describe()}")

    # 1. Half-sent frames, held open.
    stalled: List[RawPeer] = []
    context = zmq.Context()
    try:
        for name, (port, socket_type) in ports.items():
            wait_port_open(port, engine=engine)
            huge = RawPeer(port, timeout=10.0)
            stalled.append(huge)
            huge.null_handshake(socket_type)
            huge.send(frame_header(GiB))
            huge.send_zeros(PARTIAL_BODY)
            under = RawPeer(port, timeout=10.0)
            stalled.append(under)
            under.null_handshake(socket_type)
            under.send(frame_header(limit - 1024))
            under.send_zeros(limit - 1024 - 1)
        poll_until(lambda: all(peer.settled() for peer in stalled),
                   "the engine to read (or drop) what the half-sending peers sent", timeout=WAIT,
                   engine=engine)
        check_memory("with a frame announced as 1 GiB half-sent on every port")

        # 2. Whole frames over the limit (the first just over it, then 64 MiB): each connection
        # is dropped, nothing is delivered.
        senders: List[Watched] = []
        sizes = []
        for i in range(OVERSIZED_PER_PORT):
            over = limit + 64 * 1024 if i == 0 else OVERSIZED
            big = bytes(over)
            sizes += [over] * 3
            plugin_side = Watched(zmq_socket(context, zmq.REQ if i == 0 else zmq.DEALER))
            plugin_side.socket.connect(endpoint("127.0.0.1", engine.port))
            plugin_side.socket.send_multipart(([] if i == 0 else [b""]) + [b"Bulk" + big])
            publisher = Watched(xpub_publisher(context, publish_port))
            wait_engine_subscribed(publisher.socket, engine)
            publisher.socket.send(b"Bulk" + big)
            subscriber = Watched(zmq_socket(context, zmq.XSUB))
            subscriber.socket.connect(endpoint("127.0.0.1", subscribe_port))
            subscriber.socket.send(b"\x02" + big)
            senders += [plugin_side, publisher, subscriber]
        for number, sender in enumerate(senders):
            sender.wait_for([zmq.EVENT_DISCONNECTED],
                            f"the engine to drop connection {number} (port {list(ports)[number % 3]}), which sent a "
                            f"frame of {sizes[number]} bytes (limit {limit})", timeout=WAIT / 3, engine=engine)
            sender.close()
        check_memory("after whole frames over the limit on every port")

        # 3. Still serving, while the half-sent peers are connected.
        sub = zmq_socket(context, zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        sub.connect(endpoint("127.0.0.1", subscribe_port))
        normal = xpub_publisher(context, publish_port)
        wait_engine_subscribed(normal, engine)
        probe_until_received(normal.send, [sub], engine, "an event from the publish port to the subscribe port")
        with PluginClient(engine.port, timeout=WAIT) as client:
            client.ping()
            client.publish(b"Bulk" + bulk_payload(fine, 5))
            engine.wait_collected(1, "Bulk")
            check_memory("at the end")  # before the quit, which ends the run
        sub.close(linger=0)
        normal.close(linger=0)
    finally:
        for peer in stalled:
            peer.close()
        context.destroy(linger=0)  # closes whatever an early failure left open

    assert engine.finish() == 0, engine.describe()
    bulks = [(b["size"], b["index"], b["pattern"]) for b in engine.collected("Bulk")]
    assert bulks == [(fine, 5, "ok")], f"delivered: {bulks}\n{engine.describe()}"
    report = engine.report()
    assert report["outcome"] == "finished" and report["published"] == 1, engine.describe()


# --------------------------------------------------------------------------- 7. random bytes, broken handshakes


GARBAGE_PER_PORT = 48
VANISH_PER_PORT = 70


def test_random_bytes_and_broken_handshakes_on_every_port(start_engine) -> None:
    """On the plugin, publish and subscribe ports: GARBAGE_PER_PORT raw connections with random
    bytes, truncated greetings, wrong mechanisms ("CURVE", "PLAIN", ... to a NULL server) and
    versions, malformed or mistyped READYs, bad frames; then VANISH_PER_PORT connect-and-vanish
    connections.  The engine never exits; afterwards a PluginClient, a publisher and a
    subscriber work, nothing of the garbage was published or queued, the counters hold no
    more than the garbage could have caused, and the log stays small."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    engine = start_engine(emit_a=3, collect=1, disconnect_grace_ms=600_000)
    publish_port, subscribe_port = engine.publish_port, engine.subscribe_port
    ports = {"plugin": (engine.port, b"DEALER"), "publish": (publish_port, b"PUB"),
             "subscribe": (subscribe_port, b"XSUB")}
    framable: Dict[str, int] = {}
    for name, (port, socket_type) in ports.items():
        wait_port_open(port, engine=engine)
        done, framable[name] = garbage_connections(port, rng, count=GARBAGE_PER_PORT, socket_type=socket_type)
        assert_alive(engine, f"after garbage on the {name} port (seed {seed}): {done}")
        connect_and_vanish(port, VANISH_PER_PORT)
        assert_alive(engine, f"after connect-and-vanish on the {name} port")

    context = zmq.Context()
    probes = 0
    try:
        sub = zmq_socket(context, zmq.SUB)
        sub.setsockopt(zmq.SUBSCRIBE, b"TypeA")
        sub.connect(endpoint("127.0.0.1", subscribe_port))
        publisher = xpub_publisher(context, publish_port)
        wait_engine_subscribed(publisher, engine)
        with PluginClient(engine.port, timeout=WAIT) as client:
            assert [client.next_event(timeout=WAIT) for _ in range(3)] == [a_event(i) for i in range(3)]

            def publish_probe(frame: bytes) -> None:
                nonlocal probes
                client.publish(frame)
                probes += 1

            probe_until_received(publish_probe, [sub], engine, "an event from the plugin to a TCP subscriber")
            publisher.send(b"TypeCvia the publish port")
            engine.wait_collected(1, "TypeC")
        sub.close(linger=0)
        publisher.close(linger=0)
    finally:
        context.destroy(linger=0)  # closes whatever an early failure left open

    assert engine.finish() == 0, engine.describe()
    assert engine.collected_texts() == ["via the publish port"]
    assert engine.stderr_line_count < LOG_LINES_LIMIT, f"seed {seed}\n{engine.describe()}"
    report = engine.report()
    assert report["outcome"] == "finished", engine.describe()
    # Nothing of the garbage was published or queued: only the plugin's probes, which come
    # back to it (it subscribes to TypeA) and are unread at its quit, and the 3 emitted TypeA.
    assert report["published"] == probes, engine.describe()
    after_end = field(engine, report, "after_end")
    assert report["received"] + report["unread"] + report["dropped"] + after_end == 3 + probes, engine.describe()
    # Garbage that a NULL-mechanism socket can take as frames (after a good handshake, or from
    # what looks like a ZMTP 1.0/2.0 peer) reaches the engine as requests and publishes, which
    # it refuses or ignores: the counters move, by no more than such frames can number.
    moved = report["rejected"] + field(engine, report, "requests_ignored")
    assert moved <= framable["plugin"] // 2, (
        f"{moved} requests refused or ignored, but the garbage on the plugin port held at most "
        f"{framable['plugin'] // 2} frames (seed {seed})\n{engine.describe()}")
    run = engine.run_record()
    assert run["stopped"] is False
    refused = field(engine, run, "tcp_publishes_refused")
    assert refused <= framable["publish"] // 2, (
        f"{refused} publishes refused, but the garbage on the publish port held at most "
        f"{framable['publish'] // 2} frames (seed {seed})\n{engine.describe()}")
    assert field(engine, run, "connections_refused") >= 0
