"""PluginClient against the protocol-conformance fixture (NOT the real engine).

These tests check the client's framing, chunked waiting, timeouts, socket
reset and error mapping against FakeEngine (tests/protocol_fixture.py), a
small REP server that implements the wire protocol as specified.  The
at-least-once fetch (numbering, duplicates, redelivery, acks) is tested in
test_client_fetch.py.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable, Iterator, List, Optional, TypeVar

import pytest
import zmq

from protocol_fixture import FakeEngine
from pyevents import (
    ClientClosed,
    EngineGone,
    EngineTimeout,
    PluginClient,
    ProtocolError,
    PublishRejected,
    protocol,
)

T = TypeVar("T")

#: Only a hang guard: how long a call that should return soon may take before the test fails
#: (no verdict here depends on how fast the machine is).
WAIT = 30.0


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[PluginClient]:
    c = PluginClient(fake_engine.port, "127.0.0.1", timeout=5)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(params=[True, False], ids=["fetch", "next_msg_wait"])
def any_client(request: pytest.FixtureRequest, fake_engine: FakeEngine) -> Iterator[PluginClient]:
    """A client fetching at least once (the default) or at most once (``at_least_once=False``)."""
    c = PluginClient(fake_engine.port, "127.0.0.1", timeout=5, at_least_once=request.param)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def at_most_once_client(fake_engine: FakeEngine) -> Iterator[PluginClient]:
    c = PluginClient(fake_engine.port, "127.0.0.1", timeout=5, at_least_once=False)
    try:
        yield c
    finally:
        c.close()


def within(seconds: float, call: Callable[[], T]) -> T:
    """Run *call* in a helper thread and fail (instead of hanging) if it takes longer than *seconds*."""
    outcome: List[object] = []

    def run() -> None:
        try:
            outcome.append(("ok", call()))
        except BaseException as e:  # noqa: BLE001 -- handed back to the test
            outcome.append(("err", e))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"call did not finish within {seconds} s"
    kind, value = outcome[0]  # type: ignore[misc]
    if kind == "err":
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]


def poll_until(condition: Callable[[], bool]) -> None:
    """Return once *condition* holds (checked every 5 ms); give up after WAIT (the test then fails on its own)."""
    deadline = time.monotonic() + WAIT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


def interrupt_when_stalling(fake_engine: FakeEngine) -> None:
    """Send SIGUSR1 to this (the main) thread once *fake_engine* sits on a request (stall_next)."""
    main = threading.get_ident()

    def interrupt() -> None:
        if fake_engine.stalling.wait(WAIT):
            signal.pthread_kill(main, signal.SIGUSR1)

    threading.Thread(target=interrupt, daemon=True).start()


def wait_ms_of(request: bytes) -> int:
    """The engine-side wait a next_msg_wait or fetch request asks for."""
    if request.startswith(b"plugin_command: next_msg_wait "):
        return int(request.rsplit(b" ", 1)[1])
    assert request.startswith(b"plugin_command: fetch "), request
    return int(request.split(b" ")[3])


# ------------------------------------------------------------------- basics

def test_ping(client: PluginClient, fake_engine: FakeEngine) -> None:
    assert client.ping() >= 0
    assert fake_engine.requests == [b"plugin_command: ping"]


def test_next_event_returns_a_queued_event(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(b"TypeAone", b"TypeBtwo")
    assert any_client.next_event() == b"TypeAone"
    assert any_client.next_event(0) == b"TypeBtwo"


def test_next_event_zero_timeout_only_checks(client: PluginClient, fake_engine: FakeEngine) -> None:
    assert client.next_event(timeout=0) is None
    assert fake_engine.requests == [b"plugin_command: fetch 100 0 0"]


def test_at_most_once_next_event_zero_timeout_only_checks(at_most_once_client: PluginClient,
                                                          fake_engine: FakeEngine) -> None:
    assert at_most_once_client.next_event(timeout=0) is None
    assert fake_engine.requests == [b"plugin_command: next_msg_wait 0"]


def test_next_event_timeout_is_split_into_chunks(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = any_client
    client.wait_chunk = 0.1
    start = time.monotonic()
    assert within(WAIT, lambda: client.next_event(timeout=0.35)) is None
    assert time.monotonic() - start >= 0.33  # it waited out its timeout (a slow machine only adds)
    waits = [wait_ms_of(r) for r in fake_engine.requests]
    # Whole chunks while more than a chunk is left, then what is left (how many of each
    # depends on how fast each round trip is, so that is not counted).
    partial = next((i for i, w in enumerate(waits) if w < 100), len(waits))
    assert waits[0] == 100 and all(0 <= w <= 100 for w in waits), waits
    assert all(w < 100 for w in waits[partial:]), waits  # no whole chunk after a partial one
    assert sum(waits) <= 360


def test_next_event_without_timeout_waits_in_chunks(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = any_client
    client.wait_chunk = 0.05
    # Pushed once the client has waited through three chunks (not after a time it may not reach).
    threading.Thread(target=lambda: (poll_until(lambda: len(fake_engine.requests) >= 4),
                                     fake_engine.push(b"TypeAlate")), daemon=True).start()
    assert within(WAIT, client.next_event) == b"TypeAlate"
    assert len(fake_engine.requests) >= 4
    assert all(wait_ms_of(r) == 50 for r in fake_engine.requests)


def test_event_arriving_during_a_wait_is_returned(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    # Pushed once the engine holds the waiting request (then it has 1 s to come), not at a
    # time the request may not have reached yet.
    threading.Thread(target=lambda: (poll_until(lambda: len(fake_engine.requests) >= 1),
                                     fake_engine.push(b"TypeAsoon")), daemon=True).start()
    assert any_client.next_event(timeout=3) == b"TypeAsoon"
    assert [wait_ms_of(r) for r in fake_engine.requests] == [1000]


def test_next_events_batches(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*[b"TypeA%d" % i for i in range(5)])
    assert client.next_events(3) == [b"TypeA0", b"TypeA1", b"TypeA2"]
    assert client.next_events(10) == [b"TypeA3", b"TypeA4"]
    assert client.next_events(10) == []
    assert fake_engine.requests == [  # each fetch acknowledges what the previous calls returned
        b"plugin_command: fetch 3 0 0",
        b"plugin_command: fetch 10 0 3",
        b"plugin_command: fetch 10 0 5",
    ]


def test_at_most_once_next_events_batches(at_most_once_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = at_most_once_client
    fake_engine.push(*[b"TypeA%d" % i for i in range(5)])
    assert client.next_events(3) == [b"TypeA0", b"TypeA1", b"TypeA2"]
    assert client.next_events(10) == [b"TypeA3", b"TypeA4"]
    assert client.next_events(10) == []
    assert fake_engine.requests == [
        b"plugin_command: next_msgs 3 0",
        b"plugin_command: next_msgs 10 0",
        b"plugin_command: next_msgs 10 0",
    ]


def test_next_events_waits_for_the_first(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = any_client
    client.wait_chunk = 0.05
    fake_engine.push_later(0.2, b"TypeAx", b"TypeAy")
    assert within(WAIT, lambda: client.next_events(5, timeout=None)) == [b"TypeAx", b"TypeAy"]
    start = time.monotonic()
    assert client.next_events(5, timeout=0.2) == []
    assert time.monotonic() - start >= 0.19


def test_iteration_yields_events_until_the_engine_is_gone(any_client: PluginClient,
                                                          fake_engine: FakeEngine) -> None:
    client = any_client
    client.wait_chunk = 0.05
    fake_engine.push(b"TypeA1", b"TypeA2", b"TypeA3")

    def iterate() -> List[bytes]:
        got = []
        for event in client:
            got.append(event)
            if len(got) == 3:  # the engine goes once the client has them all (not after a fixed 0.4 s)
                threading.Thread(target=fake_engine.stop, daemon=True).start()
        return got

    assert within(WAIT, iterate) == [b"TypeA1", b"TypeA2", b"TypeA3"]


def test_iteration_stops_after_quit_in_the_loop(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = any_client
    fake_engine.push(b"TypeA1", b"TypeA2")
    seen = []
    for event in client:
        seen.append(event)
        if len(seen) == 2:
            assert client.quit() is True
    assert seen == [b"TypeA1", b"TypeA2"]
    assert fake_engine.requests[-1] == protocol.QUIT
    assert fake_engine.unacknowledged == []


# ---------------------------------------------------------------- publishing

def test_publish(client: PluginClient, fake_engine: FakeEngine) -> None:
    assert client.publish(b"TypeChello") is None
    client.publish(bytearray(b"TypeC\x00\xff"))
    assert fake_engine.published == [b"TypeChello", b"TypeC\x00\xff"]


def test_publish_event_joins_topic_and_payload(client: PluginClient, fake_engine: FakeEngine) -> None:
    client.publish_event("TypeC", b"bytes")
    client.publish_event(b"TypeC", "text ä")
    client.publish_event("TypeC")
    assert fake_engine.published == [b"TypeCbytes", "TypeCtext ä".encode(), b"TypeC"]


def test_rejected_publish_raises_and_client_stays_usable(client: PluginClient, fake_engine: FakeEngine) -> None:
    with pytest.raises(PublishRejected) as info:
        client.publish_event("TypeA", b"not mine")
    assert info.value.reason == "plugin does not publish the topic of this event"
    assert "TypeA" not in str(fake_engine.published)
    assert client.ping() >= 0


def test_invalid_publish_sends_nothing(client: PluginClient, fake_engine: FakeEngine) -> None:
    for data in (b"", b"plugin_command: ping"):
        with pytest.raises(ValueError):
            client.publish(data)
    assert fake_engine.requests == []


# -------------------------------------------------------- quit / lifecycle

def test_context_manager_sends_quit_and_closes(fake_engine: FakeEngine) -> None:
    with PluginClient(fake_engine.port) as c:
        c.ping()
    assert c.closed
    assert fake_engine.requests == [protocol.PING, protocol.QUIT]


def test_context_manager_sends_quit_when_the_body_raises(fake_engine: FakeEngine) -> None:
    with pytest.raises(KeyError):
        with PluginClient(fake_engine.port) as c:
            raise KeyError("boom")
    assert c.closed
    assert fake_engine.requests == [protocol.QUIT]


def test_exit_does_not_hang_without_an_engine() -> None:
    with zmq.Context() as ctx, ctx.socket(zmq.REP) as probe:
        port = probe.bind_to_random_port("tcp://127.0.0.1")
    start = time.monotonic()

    def body() -> None:
        with PluginClient(port):
            pass

    within(WAIT, body)  # returns after quit's own 2 s timeout; this only catches a hang


def test_quit_returns_acknowledgement_and_closes(client: PluginClient, fake_engine: FakeEngine) -> None:
    assert client.quit() is True
    assert client.closed
    with pytest.raises(ClientClosed):
        client.ping()


def test_quit_with_unexpected_reply_returns_false(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.override = lambda r: [b"event-engine: error: nope"] if r == protocol.QUIT else None
    assert client.quit() is False
    assert client.closed


def test_shared_context_is_left_running(fake_engine: FakeEngine) -> None:
    context = zmq.Context()
    try:
        with PluginClient(fake_engine.port, context=context) as c:
            c.ping()
        assert not context.closed
    finally:
        context.term()


# ------------------------------------------------- timeouts and socket reset

@pytest.mark.parametrize("at_least_once", [True, False], ids=["fetch", "next_msg_wait"])
def test_timeout_resets_the_socket_and_the_client_stays_usable(fake_engine: FakeEngine, at_least_once: bool) -> None:
    c = PluginClient(fake_engine.port, timeout=0.2, at_least_once=at_least_once)
    try:
        fake_engine.stall_next = WAIT  # sits on the ping until end_stall()
        start = time.monotonic()
        with pytest.raises(EngineTimeout, match="reset") as info:
            c.ping()
        assert time.monotonic() - start >= 0.19
        assert fake_engine.stalling.is_set(), "the client waited for the late answer"
        assert isinstance(info.value, TimeoutError)
        fake_engine.end_stall()
        assert fake_engine.stall_answered.wait(WAIT)  # the fixture answered the old, abandoned request
        # Still usable. A fetch's reply may take its wait plus the timeout: with a long wait the
        # new connection and the answer are not a race against 0.2 s (a ping's would be).
        c.wait_chunk = WAIT
        fake_engine.push(b"TypeAafter")
        assert c.next_event(WAIT) == b"TypeAafter"
    finally:
        c.close()


@pytest.mark.parametrize("at_least_once", [True, False], ids=["fetch", "next_msg_wait"])
def test_fetch_timeout_allows_for_the_requested_wait(fake_engine: FakeEngine, at_least_once: bool) -> None:
    c = PluginClient(fake_engine.port, timeout=0.2, at_least_once=at_least_once)
    try:
        c.wait_chunk = 0.5
        assert c.next_event(timeout=0.5) is None  # 0.5 s engine-side wait > 0.2 s client timeout
    finally:
        c.close()


def test_timeout_without_any_engine() -> None:
    with zmq.Context() as ctx, ctx.socket(zmq.REP) as probe:
        port = probe.bind_to_random_port("tcp://127.0.0.1")
    c = PluginClient(port, timeout=0.2)
    try:
        with pytest.raises(EngineTimeout):
            c.ping()
        with pytest.raises(EngineTimeout):
            c.ping()  # usable (not stuck in "awaiting reply") after the reset
    finally:
        c.close()


def test_interrupted_request_leaves_a_usable_client(at_most_once_client: PluginClient,
                                                    fake_engine: FakeEngine) -> None:
    client = at_most_once_client

    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    client.wait_chunk = 0.1
    fake_engine.stall_next = WAIT  # the engine sits on the first request: it is pending when the signal comes
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        interrupt_when_stalling(fake_engine)
        with pytest.raises(Interrupted):
            client.next_event()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    # At most once: an event the engine hands to the abandoned request is lost
    # (like after a timeout), so only queue the next one once that request was answered.
    fake_engine.end_stall()
    assert fake_engine.stall_answered.wait(WAIT)
    fake_engine.push(b"TypeAok")
    assert client.next_event(timeout=3) == b"TypeAok"


def test_interrupted_fetch_loses_nothing(client: PluginClient, fake_engine: FakeEngine) -> None:
    """At least once: the event handed to the abandoned fetch is sent again to the next one."""
    class Interrupted(Exception):
        pass

    def handler(signum: int, frame: object) -> None:
        raise Interrupted

    client.wait_chunk = 0.5
    fake_engine.push(b"TypeAfirst")
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        # Interrupted while the fixture sits on the fetch...
        fake_engine.stall_next = WAIT
        interrupt_when_stalling(fake_engine)
        with pytest.raises(Interrupted):
            client.next_event()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    fake_engine.end_stall()  # ...which it answers after the interruption: to a closed socket
    assert fake_engine.stall_answered.wait(WAIT)
    assert fake_engine.unacknowledged == [1]
    assert client.next_event(timeout=3) == b"TypeAfirst"
    assert fake_engine.requests[-1] == b"plugin_command: fetch 100 500 0"  # not confirmed yet: acks nothing


# --------------------------------------------------------- engine goes away

def test_gone_engine_while_waiting(client: PluginClient, fake_engine: FakeEngine) -> None:
    # Stopped once it holds the client's waiting request (not at a time the request may not have reached).
    threading.Thread(target=lambda: (poll_until(lambda: len(fake_engine.requests) >= 1), fake_engine.stop()),
                     daemon=True).start()
    with pytest.raises(EngineGone, match="closed the connection") as info:
        within(WAIT, client.next_event)
    assert isinstance(info.value, ConnectionError)


def test_gone_engine_between_requests(client: PluginClient, fake_engine: FakeEngine) -> None:
    client.ping()
    fake_engine.stop()
    time.sleep(0.3)
    with pytest.raises(EngineGone):
        within(WAIT, client.ping)


def test_client_reconnects_to_a_restarted_engine(any_client: PluginClient, fake_engine: FakeEngine) -> None:
    client = any_client
    client.ping()
    fake_engine.stop()
    time.sleep(0.3)
    with pytest.raises(EngineGone):
        within(WAIT, client.ping)
    restarted = FakeEngine(port=fake_engine.port)
    try:
        restarted.push(b"TypeAagain")
        assert within(WAIT, lambda: client.next_event(3)) == b"TypeAagain"
    finally:
        restarted.stop()


# ---------------------------------------------------------- protocol errors

def _override_for(prefix: bytes, reply: List[bytes]) -> Callable[[bytes], Optional[List[bytes]]]:
    return lambda request: reply if request.startswith(prefix) else None


@pytest.mark.parametrize("reply, match", [
    ([b"event-engine: error: unknown command"], "legacy get_next_msg"),
    ([b"TypeAx", b"TypeAy"], "2 frames"),
])
def test_bad_next_event_replies(at_most_once_client: PluginClient, fake_engine: FakeEngine,
                                reply: List[bytes], match: str) -> None:
    client = at_most_once_client
    fake_engine.override = _override_for(b"plugin_command: next_msg_wait", reply)
    with pytest.raises(ProtocolError, match=match):
        client.next_event(0)
    fake_engine.override = None
    assert client.ping() >= 0


@pytest.mark.parametrize("reply, match", [
    ([b"event-engine: error: unknown command"], "next_msgs support"),
    ([b"TypeAx", b"TypeAy", b"TypeAz"], "3 events"),
    ([b"TypeAx", b""], "empty frame"),
])
def test_bad_next_events_replies(at_most_once_client: PluginClient, fake_engine: FakeEngine,
                                 reply: List[bytes], match: str) -> None:
    fake_engine.override = _override_for(b"plugin_command: next_msgs", reply)
    with pytest.raises(ProtocolError, match=match):
        at_most_once_client.next_events(2)


EPOCH = b"0123456789abcdef"


@pytest.mark.parametrize("reply, match", [
    ([b"event-engine: error: unknown command; the commands are next_msg, ..."], "at_least_once=False"),
    ([b"TypeAx"], "instead of 'event-engine: events"),
    ([b"event-engine: events 1"], "instead of 'event-engine: events"),
    ([b"event-engine: events 1 0123"], "instead of 'event-engine: events"),
    ([b"event-engine: events x " + EPOCH], "instead of 'event-engine: events"),
    ([b"event-engine: events 0 " + EPOCH, b"TypeAx"], "number 0"),
    ([b"event-engine: events 1 " + EPOCH, b"TypeAx", b"TypeAy", b"TypeAz"], "3 events"),
    ([b"event-engine: events 1 " + EPOCH, b"TypeAx", b""], "empty frame"),
    ([b""], "instead of 'event-engine: events"),
])
def test_bad_fetch_replies(client: PluginClient, fake_engine: FakeEngine, reply: List[bytes], match: str) -> None:
    fake_engine.override = _override_for(b"plugin_command: fetch", reply)
    with pytest.raises(ProtocolError, match=match):
        client.next_events(2)
    if match != "3 events":  # next_event() fetches up to fetch_batch (100) events
        with pytest.raises(ProtocolError, match=match):
            client.next_event(0)
    fake_engine.override = None
    assert client.ping() >= 0


@pytest.mark.parametrize("reply, match", [
    ([b"event-engine: error: unknown command: ping"], "refused ping"),
    ([b"pong"], "unexpected reply"),
])
def test_bad_ping_replies(client: PluginClient, fake_engine: FakeEngine, reply: List[bytes], match: str) -> None:
    fake_engine.override = _override_for(protocol.PING, reply)
    with pytest.raises(ProtocolError, match=match):
        client.ping()


def test_bad_publish_reply(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.override = _override_for(b"TypeC", [b"ok"])
    with pytest.raises(ProtocolError, match="publish"):
        client.publish(b"TypeCx")


def test_fixture_reports_errors_like_the_engine(fake_engine: FakeEngine) -> None:
    """Sanity check of the fixture itself with a raw REQ socket."""
    with zmq.Context() as ctx, ctx.socket(zmq.REQ) as sock:
        sock.connect(f"tcp://127.0.0.1:{fake_engine.port}")
        for request in (b"", b"plugin_command: xyz", b"plugin_command: next_msg_wait x", b"TypeA",
                        b"plugin_command: fetch 0 0 0", b"plugin_command: fetch 1 3600001 0",
                        b"plugin_command: fetch 1 0", b"plugin_command: ack x"):
            sock.send(request)
            assert sock.recv().startswith(protocol.REPLY_ERROR_PREFIX)
        sock.setsockopt(zmq.LINGER, 0)
