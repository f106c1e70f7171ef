"""PluginClient's at-least-once fetch against the protocol-conformance fixture (NOT the real engine).

The fixture (tests/protocol_fixture.py) numbers the events it sends with
``fetch``, keeps them until acknowledged and sends them again otherwise, as
docs/protocol.md specifies.  These tests check that the client acknowledges
exactly what it handed out, skips what it sees twice, loses nothing when a
reply is lost, and never lets an acknowledgement from one run of the
application reach the next.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Iterator, List, TypeVar

import pytest
import zmq

from protocol_fixture import FakeEngine
from pyevents import EngineGone, PluginClient, protocol

T = TypeVar("T")


def events(count: int, start: int = 0) -> List[bytes]:
    return [b"TypeA%d" % i for i in range(start, start + count)]


@pytest.fixture
def client(fake_engine: FakeEngine) -> Iterator[PluginClient]:
    c = PluginClient(fake_engine.port, timeout=5)
    try:
        yield c
    finally:
        c.close(timeout=0)


def through_reconnection(call: Callable[[], T], attempts: int = 5) -> T:
    """*call*, retried on EngineGone: after the fixture drops its connections, the client may
    notice it on its next request (EngineGone) or may already have reconnected."""
    for _ in range(attempts - 1):
        try:
            return call()
        except EngineGone:
            time.sleep(0.05)
    return call()


def fetches(fake_engine: FakeEngine) -> List[bytes]:
    return [r for r in fake_engine.requests if r.startswith(b"plugin_command: fetch")]


# ------------------------------------------------------------ acknowledging

def test_initial_state(client: PluginClient) -> None:
    assert client.at_least_once is True
    assert client.epoch is None
    assert client.last_event_number == 0
    assert client.duplicates_skipped == 0
    assert client.buffered == 0


def test_each_fetch_acknowledges_what_was_handed_out(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    assert [client.next_event(0) for _ in range(3)] == events(3)
    assert fake_engine.unacknowledged == [1, 2, 3]  # handed out, not acknowledged yet
    assert client.next_event(0) is None
    assert fake_engine.requests == [b"plugin_command: fetch 100 0 0", b"plugin_command: fetch 100 0 3"]
    assert fake_engine.unacknowledged == []
    assert fake_engine.received == 3
    assert client.last_event_number == 3
    assert client.epoch == fake_engine.epoch


def test_next_event_hands_out_a_batch_one_at_a_time(client: PluginClient, fake_engine: FakeEngine) -> None:
    client.fetch_batch = 2
    fake_engine.push(*events(5))
    got = []
    for expected_buffered in (1, 0, 1, 0, 0):
        got.append(client.next_event(0))
        assert client.buffered == expected_buffered
    assert got == events(5)
    assert fake_engine.requests == [b"plugin_command: fetch 2 0 0", b"plugin_command: fetch 2 0 2",
                                    b"plugin_command: fetch 2 0 4"]


def test_fetched_events_are_acknowledged_only_once_handed_out(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(5))
    assert client.next_event(0) == b"TypeA0"
    assert client.buffered == 4
    assert client.quit() is True
    assert fake_engine.requests == [b"plugin_command: fetch 100 0 0", b"plugin_command: ack 1", protocol.QUIT]
    assert fake_engine.unacknowledged == [2, 3, 4, 5]  # never handed out: the engine still has them


def test_next_events_hands_out_the_buffer_first_without_a_request(client: PluginClient,
                                                                  fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(5))
    assert client.next_event(0) == b"TypeA0"
    assert client.next_events(2) == events(2, 1)
    assert client.next_events(10) == events(2, 3)
    assert len(fake_engine.requests) == 1
    assert client.next_events(10) == []
    assert fake_engine.requests[-1] == b"plugin_command: fetch 10 0 5"


def test_context_manager_acknowledges_then_quits(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(4))
    with PluginClient(fake_engine.port, timeout=5) as c:
        for count, _ in enumerate(c, 1):
            if count == 2:
                break
    assert c.closed
    assert fake_engine.requests == [b"plugin_command: fetch 100 1000 0", b"plugin_command: ack 2", protocol.QUIT]
    assert fake_engine.unacknowledged == [3, 4]


def test_quit_sends_no_ack_when_everything_is_acknowledged(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(2))
    assert client.next_events(2) == events(2)
    assert client.next_events(2) == []  # acknowledges both
    client.quit()
    assert fake_engine.requests == [b"plugin_command: fetch 2 0 0", b"plugin_command: fetch 2 0 2", protocol.QUIT]


def test_close_acknowledges_without_quitting(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    c = PluginClient(fake_engine.port, timeout=5)
    assert c.next_event(0) == b"TypeA0"
    c.close()
    assert c.closed
    assert fake_engine.requests == [b"plugin_command: fetch 100 0 0", b"plugin_command: ack 1"]
    assert fake_engine.unacknowledged == [2, 3]


def test_close_with_zero_timeout_acknowledges_nothing(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    c = PluginClient(fake_engine.port, timeout=5)
    assert c.next_event(0) == b"TypeA0"
    c.close(timeout=0)
    assert fake_engine.requests == [b"plugin_command: fetch 100 0 0"]
    assert fake_engine.unacknowledged == [1, 2, 3]


def test_a_refused_ack_is_logged_and_quit_still_sent(client: PluginClient, fake_engine: FakeEngine,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    fake_engine.override = lambda r: [b"event-engine: error: nope"] if r.startswith(b"plugin_command: ack") else None
    fake_engine.push(*events(1))
    assert client.next_event(0) == b"TypeA0"
    with caplog.at_level(logging.WARNING, logger="pyevents.client"):
        assert client.quit() is True
    assert "could not acknowledge the events handed out up to number 1" in caplog.text
    assert "nope" in caplog.text
    assert fake_engine.requests[-2:] == [b"plugin_command: ack 1", protocol.QUIT]


def test_at_most_once_client_never_fetches_or_acks(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(2))
    with PluginClient(fake_engine.port, timeout=5, at_least_once=False) as c:
        assert c.next_event(0) == b"TypeA0"
        assert c.next_events(5) == [b"TypeA1"]
        assert c.epoch is None and c.last_event_number == 0
    assert fake_engine.requests == [b"plugin_command: next_msg_wait 0", b"plugin_command: next_msgs 5 0",
                                    protocol.QUIT]


@pytest.mark.parametrize("batch", [0, protocol.MAX_BATCH + 1, 2.0, True])
def test_fetch_batch_is_validated(client: PluginClient, batch: object) -> None:
    client.fetch_batch = batch  # type: ignore[assignment]
    with pytest.raises(ValueError, match="fetch_batch"):
        client.next_event(0)


# --------------------------------------------------------------- redelivery

def test_a_lost_reply_is_sent_again(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    fake_engine.lose_next_fetch_reply = True
    with pytest.raises(EngineGone):
        client.next_event(1)
    assert fake_engine.unacknowledged == [1, 2, 3]  # sent, kept for the next fetch
    assert through_reconnection(lambda: client.next_events(10, timeout=3)) == events(3)
    assert client.duplicates_skipped == 0
    assert client.next_event(0) is None
    assert fake_engine.unacknowledged == []


def test_a_lost_reply_loses_nothing_during_iteration(fake_engine: FakeEngine) -> None:
    """Iteration ends on EngineGone; a new loop (as a plugin that retries would run) gets everything."""
    fake_engine.push(*events(3))
    fake_engine.lose_next_fetch_reply = True
    with PluginClient(fake_engine.port, timeout=5) as c:
        c.wait_chunk = 0.05
        assert list(c) == []  # the reply was lost with the connection: EngineGone ends the loop
        seen = []
        for event in c:
            seen.append(event)
            if len(seen) == 3:
                break
    assert seen == events(3)
    assert fake_engine.unacknowledged == []


def test_duplicates_after_a_reconnection_are_skipped(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    assert client.next_events(3) == events(3)  # handed out; its acknowledgement would go with the next fetch
    fake_engine.drop_connection()
    fake_engine.push(*events(1, 3))
    assert through_reconnection(lambda: client.next_event(3)) == b"TypeA3"
    assert client.duplicates_skipped == 3
    assert client.last_event_number == 4
    # On the new connection the client acknowledged nothing until it saw the same epoch again.
    assert fetches(fake_engine)[-1] == b"plugin_command: fetch 100 1000 0"
    assert client.next_event(0) is None
    assert fetches(fake_engine)[-1] == b"plugin_command: fetch 100 0 4"
    assert fake_engine.unacknowledged == []


def test_a_reply_of_duplicates_only_is_followed_by_a_fetch_at_once(client: PluginClient,
                                                                   fake_engine: FakeEngine) -> None:
    client.fetch_batch = 3
    fake_engine.push(*events(3))
    assert client.next_events(3) == events(3)
    fake_engine.drop_connection()
    fake_engine.push(*events(1, 3))
    assert through_reconnection(lambda: client.next_event(0)) == b"TypeA3"  # timeout 0 and yet found
    assert fetches(fake_engine)[-2:] == [b"plugin_command: fetch 3 0 0", b"plugin_command: fetch 3 0 3"]
    assert client.duplicates_skipped == 3


def test_events_of_a_client_that_closed_unacknowledged_go_to_the_next_client(fake_engine: FakeEngine) -> None:
    first = PluginClient(fake_engine.port, timeout=5)
    fake_engine.push(*events(5))
    assert first.next_event(0) == b"TypeA0"
    assert first.next_event(0) == b"TypeA1"
    first.close(timeout=0)  # as if the process died: nothing acknowledged
    with PluginClient(fake_engine.port, timeout=5) as second:
        assert second.next_events(10) == events(5)  # at least once: A0 and A1 come again
        assert second.last_event_number == 5
    assert fake_engine.unacknowledged == []
    assert fake_engine.received == 5


def test_a_batch_whose_client_died_in_flight_goes_to_the_next_client(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(4))
    with zmq.Context() as ctx:
        dying = ctx.socket(zmq.REQ)
        dying.connect(f"tcp://127.0.0.1:{fake_engine.port}")
        dying.send(protocol.fetch(10, 0, 0))
        deadline = time.monotonic() + 5
        while fake_engine.unacknowledged != [1, 2, 3, 4]:
            assert time.monotonic() < deadline, fake_engine.unacknowledged
            time.sleep(0.01)
        dying.close(linger=0)  # never reads its reply
    with PluginClient(fake_engine.port, timeout=5) as c:
        assert c.next_events(10) == events(4)
        assert c.duplicates_skipped == 0
    assert fake_engine.unacknowledged == []


def test_a_timed_out_fetch_loses_nothing(fake_engine: FakeEngine) -> None:
    c = PluginClient(fake_engine.port, timeout=0.2)
    try:
        fake_engine.push(*events(2))
        fake_engine.stall_next = 30.0  # sits on the fetch until end_stall()
        with pytest.raises(Exception, match="did not answer"):
            c.next_event(0)
        fake_engine.end_stall()  # the fixture answers the abandoned fetch into the void
        assert fake_engine.stall_answered.wait(30.0)
        assert fake_engine.unacknowledged == [1, 2]
        # A fetch's reply may take its wait plus the 0.2 s timeout: with a long wait, the new
        # connection is not a race (the events are there, so the answer comes at once).
        c.wait_chunk = 30.0
        assert c.next_events(5, timeout=30.0) == events(2)
    finally:
        c.close()
    assert fake_engine.unacknowledged == []


# ------------------------------------------------------------------- epochs

def test_a_new_epoch_resets_the_numbering(client: PluginClient, fake_engine: FakeEngine,
                                          caplog: pytest.LogCaptureFixture) -> None:
    fake_engine.push(*events(3))
    assert client.next_events(3) == events(3)
    old_epoch = client.epoch
    new_epoch = fake_engine.restart()
    fake_engine.push(b"TypeBnew1", b"TypeBnew2")
    with caplog.at_level(logging.WARNING, logger="pyevents.client"):
        assert through_reconnection(lambda: client.next_events(10, timeout=3)) == [b"TypeBnew1", b"TypeBnew2"]
    assert "restarted" in caplog.text and old_epoch in caplog.text and new_epoch in caplog.text
    assert client.epoch == new_epoch != old_epoch
    assert client.last_event_number == 2  # numbers 1 and 2 of the new run: not taken for duplicates
    assert client.duplicates_skipped == 0
    assert 3 not in fake_engine.acks  # the old run's number never reached the new run


def test_an_old_runs_ack_never_reaches_a_restarted_application(client: PluginClient,
                                                               fake_engine: FakeEngine) -> None:
    """The new run sends events 1 and 2 and the reply is lost: an ack of the old run's 3 would make it
    forget them. The client acknowledges nothing until it has seen the new epoch."""
    fake_engine.push(*events(3))
    assert client.next_events(3) == events(3)
    fake_engine.restart()
    fake_engine.push(b"TypeBnew1", b"TypeBnew2")
    fake_engine.lose_next_fetch_reply = True
    with pytest.raises(EngineGone):
        through_reconnection(lambda: client.next_event(1), attempts=2)
    assert fake_engine.unacknowledged == [1, 2]
    assert through_reconnection(lambda: client.next_events(10, timeout=3)) == [b"TypeBnew1", b"TypeBnew2"]
    assert fake_engine.acks == [0, 0, 0]  # fetch of the 3 old events, lost fetch, this one


def test_quit_after_a_reconnection_checks_the_epoch_before_acknowledging(client: PluginClient,
                                                                         fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(2))
    assert client.next_events(2) == events(2)
    fake_engine.drop_connection()
    assert through_reconnection(client.quit) is True
    assert fake_engine.requests[-3:] == [protocol.fetch(1, 0, 0), b"plugin_command: ack 2", protocol.QUIT]
    assert fake_engine.unacknowledged == []


def test_quit_after_a_restart_acknowledges_nothing(client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(2))
    assert client.next_events(2) == events(2)
    fake_engine.restart()
    fake_engine.push(b"TypeBnew")
    assert through_reconnection(client.quit) is True
    assert fake_engine.requests[-2:] == [protocol.fetch(1, 0, 0), protocol.QUIT]
    assert fake_engine.unacknowledged == [1]  # the probe's event was not handed out: not acknowledged


# ------------------------------------------------------- zero-copy (copy=False)

@pytest.fixture
def view_client(fake_engine: FakeEngine) -> Iterator[PluginClient]:
    c = PluginClient(fake_engine.port, timeout=5, copy=False)
    try:
        yield c
    finally:
        c.close(timeout=0)


def as_bytes(views: List[memoryview]) -> List[bytes]:
    assert all(isinstance(v, memoryview) and v.readonly for v in views), [type(v) for v in views]
    return [bytes(v) for v in views]


def test_copy_false_hands_out_read_only_memoryviews(view_client: PluginClient, fake_engine: FakeEngine) -> None:
    assert view_client.copy is False
    fake_engine.push(*events(3))
    first = view_client.next_event(1)
    assert isinstance(first, memoryview) and first.readonly and first == b"TypeA0"
    assert isinstance(first.obj, zmq.Frame)  # the memory ZeroMQ received, not a copy
    assert as_bytes(view_client.next_events(1)) == events(1, 1)
    for event in view_client:  # iteration too
        assert as_bytes([event]) == [b"TypeA2"]
        break
    assert view_client.next_event(0) is None
    assert fake_engine.unacknowledged == []


def test_copy_false_a_lost_reply_is_sent_again(view_client: PluginClient, fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    fake_engine.lose_next_fetch_reply = True
    with pytest.raises(EngineGone):
        view_client.next_event(1)
    assert fake_engine.unacknowledged == [1, 2, 3]
    assert as_bytes(through_reconnection(lambda: view_client.next_events(10, timeout=3))) == events(3)
    assert view_client.duplicates_skipped == 0
    assert view_client.next_event(0) is None
    assert fake_engine.unacknowledged == []


def test_copy_false_duplicates_after_a_reconnection_are_skipped(view_client: PluginClient,
                                                                fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(3))
    kept = view_client.next_events(3)
    fake_engine.drop_connection()
    fake_engine.push(*events(1, 3))
    assert through_reconnection(lambda: view_client.next_event(3)) == b"TypeA3"
    assert view_client.duplicates_skipped == 3
    assert view_client.last_event_number == 4
    assert as_bytes(kept) == events(3)  # views handed out before the reconnection stay valid
    assert view_client.next_event(0) is None
    assert fake_engine.unacknowledged == []


def test_copy_false_at_most_once_hands_out_memoryviews_too(fake_engine: FakeEngine) -> None:
    with PluginClient(fake_engine.port, timeout=5, copy=False, at_least_once=False) as c:
        fake_engine.push(*events(2))
        assert as_bytes([c.next_event(1)]) == events(1)
        assert as_bytes(c.next_events(5, timeout=1)) == events(1, 1)


def test_copy_must_be_a_bool(fake_engine: FakeEngine) -> None:
    with pytest.raises(TypeError, match="copy must be True or False"):
        PluginClient(fake_engine.port, copy=0)  # type: ignore[arg-type]


# ------------------------------------------------------------- fetch_bytes

def test_fetch_bytes_bounds_the_next_fetch_by_the_last_replys_event_size(client: PluginClient,
                                                                         fake_engine: FakeEngine) -> None:
    big = [b"TypeA" + bytes([i]) * 45 for i in range(7)]  # 50 bytes each
    fake_engine.push(*big)
    client.fetch_bytes = 120
    assert client.next_events(3) == big[:3]  # nothing known yet: the count alone
    assert client.next_events(10) == big[3:5]  # 120 // 50: two per fetch
    assert client.next_events(10) == big[5:7]
    assert [r.split()[2] for r in fetches(fake_engine)] == [b"3", b"2", b"2"]
    client.fetch_bytes = None
    fake_engine.push(*big)
    assert client.next_events(10) == big
    assert fetches(fake_engine)[-1].split()[2] == b"10"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "4M"])
def test_fetch_bytes_is_validated(client: PluginClient, value: object) -> None:
    client.fetch_bytes = value  # type: ignore[assignment]
    with pytest.raises(ValueError, match="fetch_bytes"):
        client.next_event(0)


def test_copy_false_typed_events_decode_from_the_views(fake_engine: FakeEngine) -> None:
    from test_contract import MANIFEST, POSITION_PAYLOAD

    with PluginClient(fake_engine.port, timeout=5, copy=False, contract=MANIFEST) as c:
        fake_engine.push(b"Position" + POSITION_PAYLOAD, b"Blob\x00\x01")
        typed = c.events(timeout=1)
        position = next(typed)
        assert (position.x, position.where.site, position.where.tags) == (-2, "roof", [1, 513])
        blob = next(typed)
        assert (blob.name, blob.value) == ("Blob", b"\x00\x01")
    assert fake_engine.unacknowledged == []


# ------------------------------------------------------------ fetching ahead

def test_fetch_ahead_asks_for_what_follows_the_events_held_and_hands_out_each_once(
        fake_engine: FakeEngine, client: PluginClient) -> None:
    client.fetch_ahead = True
    client.fetch_batch = 10
    fake_engine.push(*events(25))
    got = [client.next_event(timeout=5) for _ in range(25)]
    assert got == events(25)
    sent = fetches(fake_engine)
    # After the first reply (1-10) the client asked for what follows 10 at once, not waiting.
    assert sent[0] == protocol.fetch(10, 1000, 0)
    assert sent[1] == protocol.fetch(10, 0, 0, 10)
    assert client.duplicates_skipped == 0
    client.quit()
    assert fake_engine.received == 25 and fake_engine.unacknowledged == []


def test_what_was_fetched_ahead_and_not_handed_out_is_not_acknowledged(fake_engine: FakeEngine) -> None:
    fake_engine.push(*events(8))
    first = PluginClient(fake_engine.port, timeout=5)
    first.fetch_ahead = True
    first.fetch_batch = 4
    assert first.next_event(timeout=5) == events(1)[0]  # 1-4 fetched, 5-8 asked for ahead
    first.quit()  # reads the reply ahead first (a REQ socket alternates); acknowledges 1 only
    assert fake_engine.received == 1
    assert fake_engine.unacknowledged == [2, 3, 4, 5, 6, 7, 8]
    with PluginClient(fake_engine.port, timeout=5) as second:  # the next process gets them all
        assert second.next_events(10, timeout=5) == events(7, 1)
    assert fake_engine.received == 8


def test_fetch_ahead_turns_itself_off_against_an_engine_that_refuses_it(
        fake_engine: FakeEngine, client: PluginClient, caplog: pytest.LogCaptureFixture) -> None:
    fake_engine.override = lambda r: ([b"event-engine: error: fetch takes three numbers"]
                                      if r.startswith(b"plugin_command: fetch") and r.count(b" ") == 5 else None)
    client.fetch_ahead = True
    client.fetch_batch = 3
    fake_engine.push(*events(7))
    with caplog.at_level(logging.INFO, logger="pyevents.client"):
        got = [client.next_event(timeout=5) for _ in range(7)]
    assert got == events(7)
    assert client.fetch_ahead is False
    assert "refused a fetch ahead" in caplog.text
