"""What reaches a plugin, and in what order, with the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.

A synchronisation used below: the test engine's emitter publishes round by
round (A0 B0 C0 A1 B1 C1 ...) through one socket, and the engine forwards in
order, so once the collector has printed the last TypeC, every earlier event
is already queued for the external plugin.  That makes "nothing else came"
checks exact instead of timing-dependent.
"""

from __future__ import annotations

import random
import time
import zlib

import pytest

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    RawClient,
    a_event,
    b_event,
    bulk_payload,
    start_engine,
)
from pyevents import PluginClient, protocol

MiB = 1 << 20


def test_a_plugin_receives_its_own_events(start_engine) -> None:
    """It subscribes to TypeA and publishes TypeA: what it publishes comes back to it."""
    engine = start_engine(collect=1)
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.publish(b"TypeAself-1")
        client.publish_event("TypeA", "self-2")
        assert client.next_event(timeout=WAIT) == b"TypeAself-1"
        assert client.next_event(timeout=WAIT) == b"TypeAself-2"
        client.publish_event("TypeC", "done")  # TypeC: not subscribed, never comes back
        engine.wait_collected(1, "TypeC")
        assert client.next_event(timeout=0) is None
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["done"]
    report = engine.report()
    assert (report["received"], report["published"], report["unread"]) == (2, 3, 0)


def test_filter_before_queuing_and_events_from_before_the_first_connection(start_engine) -> None:
    """Only subscribed types are queued; what was published before the process connected is delivered."""
    rounds = 20
    engine = start_engine(emit_a=rounds, emit_b=rounds, emit_c=rounds, collect=rounds)
    engine.wait_emitted()
    engine.wait_collected(rounds, "TypeC")  # so everything is queued before anyone connected
    expected = [event for i in range(rounds) for event in (a_event(i), b_event(i))]

    with PluginClient(engine.port, timeout=WAIT) as client:
        got = []
        while len(got) < len(expected):
            batch = client.next_events(len(expected), timeout=WAIT)
            assert batch, f"no more events after {len(got)}"
            got += batch
        assert client.next_event(timeout=0) is None  # no TypeC, nothing twice
    assert got == expected
    assert not [event for event in got if event.startswith(b"TypeC")]

    engine.assert_clean_exit()
    report = engine.report()
    assert (report["received"], report["unread"], report["dropped"]) == (2 * rounds, 0, 0)
    assert len(engine.collected("TypeB")) == rounds  # the emitter's TypeB did go out, to the collector


def test_a_full_queue_holds_the_publisher_back_without_loss(start_engine) -> None:
    """Past --queue-limit (and a small high-water mark) the emitter waits; nothing is dropped."""
    count = 300
    engine = start_engine(emit_a=count, queue_limit=5, hwm=5)
    with PluginClient(engine.port, timeout=WAIT) as client:
        got = []
        while len(got) < count:
            batch = client.next_events(7, timeout=WAIT)
            assert batch, f"no more events after {len(got)}"
            got += batch
        engine.wait_emitted()
        assert client.next_event(timeout=0) is None
    assert got == [a_event(i) for i in range(count)]
    engine.assert_clean_exit()
    assert engine.report("emitter")["dropped"] == 0
    assert engine.report()["received"] == count


def test_polling_with_timeouts_loses_nothing(start_engine) -> None:
    """Many short next_event(timeout=...) polls while events arrive at random moments: each once, in order."""
    count = 80
    seed = random.randrange(1_000_000)
    # The emitter starts on "go", once the client polls: started with the engine, it could be
    # done before a slow machine had the client connected, and no poll would come back empty.
    engine = start_engine(emit_a=count, emit_jitter_ms=25, seed=seed, emit_on_go=True)
    rng = random.Random(seed)
    got = []
    polls = empty_polls = 0
    deadline = time.monotonic() + 2 * WAIT
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.publish_event("TypeC", "go")
        while len(got) < count and time.monotonic() < deadline:
            polls += 1
            if rng.random() < 0.25:
                batch = client.next_events(rng.randint(1, 4), timeout=rng.choice([0, 0.001, 0.01]))
                got += batch
                empty_polls += not batch
            else:
                event = client.next_event(timeout=rng.choice([0, 0.001, 0.003, 0.01, 0.03]))
                if event is None:
                    empty_polls += 1
                else:
                    got.append(event)
        engine.wait_emitted()
        for _ in range(3):
            assert client.next_event(timeout=0.01) is None  # nothing twice, nothing left behind
    assert got == [a_event(i) for i in range(count)], f"seed {seed}"
    assert empty_polls > 0, "the polls never timed out, so the test proved nothing about timeouts"
    engine.assert_clean_exit()
    report = engine.report()
    assert (report["received"], report["unread"], report["dropped"]) == (count, 0, 0)


def test_waiting_fetches_return_an_empty_frame_when_nothing_is_queued(start_engine) -> None:
    engine = start_engine()
    with RawClient(engine.port) as client:
        assert client.request(b"plugin_command: next_msg_wait 0") == [b""]
        assert client.request(b"plugin_command: next_msg_wait 50") == [b""]
        assert client.request(b"plugin_command: next_msgs 5 50") == [b""]
        assert client.request(b"plugin_command: next_msgs 5") == [b""]
        # And the connection is as good as new: an event published now is fetched.
        assert client.one(b"TypeAnow") == protocol.REPLY_PUBLISHED
        assert client.request(b"plugin_command: next_msg_wait %d" % int(WAIT * 1000)) == [b"TypeAnow"]
        client.quit()
    engine.assert_clean_exit()
    assert engine.report()["rejected"] == 0


def test_batch_fetch_returns_up_to_max_events_in_order(start_engine) -> None:
    """next_msgs: a multipart reply of up to <max> events; PluginClient.next_events the same."""
    count = 50
    engine = start_engine(emit_a=count, emit_c=count, collect=count)
    engine.wait_collected(count, "TypeC")  # every TypeA is queued now
    expected = [a_event(i) for i in range(count)]
    with RawClient(engine.port) as raw:
        assert raw.request(b"plugin_command: next_msgs 10") == expected[0:10]
        assert raw.request(b"plugin_command: next_msgs 10 1000") == expected[10:20]
        assert raw.request(b"plugin_command: next_msgs 1") == expected[20:21]
        assert raw.request(b"plugin_command: next_msgs 9 0") == expected[21:30]
    with PluginClient(engine.port, timeout=WAIT) as client:
        assert client.next_events(7) == expected[30:37]
        assert client.next_events(100) == expected[37:50]  # fewer than asked: what there is
        assert client.next_events(5) == []
        assert client.next_events(5, timeout=0.05) == []
    engine.assert_clean_exit()
    assert engine.report()["received"] == count


def test_payloads_of_several_mib_pass_both_ways_intact(start_engine) -> None:
    """4 MiB engine -> Python (two emitted Bulk events) and Python -> engine (collector checks it)."""
    size = 4 * MiB
    engine = start_engine(emit_bulk=2, bulk_size=size, collect=3)
    with PluginClient(engine.port, timeout=WAIT) as client:
        for index in range(2):
            event = client.next_event(timeout=WAIT)
            assert event is not None and len(event) == 4 + size
            assert event[:4] == b"Bulk"
            assert event[4:] == bulk_payload(size, index), f"Bulk {index} arrived damaged"
        mine = bulk_payload(size, 7)
        client.publish(b"Bulk" + mine)
        echoed = client.next_event(timeout=WAIT)  # it subscribes to Bulk too: it comes back
        assert echoed is not None and echoed[4:] == mine
        engine.wait_collected(3, "Bulk")
    engine.assert_clean_exit()
    bulks = engine.collected("Bulk")
    assert [(b["size"], b["index"], b["pattern"]) for b in bulks] == [(size, 0, "ok"), (size, 1, "ok"), (size, 7, "ok")]
    assert [b["crc32"] for b in bulks] == [
        f"{zlib.crc32(bulk_payload(size, index)):08x}" for index in (0, 1, 7)
    ]
    report = engine.report()
    assert (report["received"], report["published"]) == (3, 1)


@pytest.mark.parametrize("max_events", [1, 3])
def test_iterating_a_client_yields_events_until_quit(start_engine, max_events: int) -> None:
    """PluginClient iteration and batches see the same ordered stream as next_msg."""
    count = 12
    engine = start_engine(emit_a=count)
    got = []
    with PluginClient(engine.port, timeout=WAIT, event_names=["TypeA", "TypeB", "Bulk"]) as client:
        if max_events == 1:
            for raw in client:
                got.append(raw)
                assert client.decode(raw).topic == "TypeA"
                if len(got) == count:
                    break
        else:
            while len(got) < count:
                got += client.next_events(max_events, timeout=WAIT)
    assert got == [a_event(i) for i in range(count)]
    engine.assert_clean_exit()


def test_a_plugin_flooding_itself_neither_deadlocks_nor_loses(start_engine) -> None:
    """It publishes far past its own queue limit before reading any of it back: held, then all delivered."""
    count = 1000
    engine = start_engine(queue_limit=5, hwm=5)
    expected = [b"TypeAflood-%d" % i for i in range(count)]
    with PluginClient(engine.port, timeout=WAIT) as client:
        for event in expected:
            client.publish(event)
        got = []
        while len(got) < count:
            batch = client.next_events(100, timeout=WAIT)
            assert batch, f"no more events after {len(got)}"
            got += batch
        assert client.next_event(timeout=0) is None
    assert got == expected
    engine.assert_clean_exit()
    report = engine.report()
    assert (report["published"], report["received"], report["dropped"]) == (count, count, 0)


def test_next_events_with_a_max_above_the_engine_batch_limit_returns_what_there_is(start_engine) -> None:
    engine = start_engine(emit_a=3, emit_c=3, collect=3)
    engine.wait_collected(3, "TypeC")
    with PluginClient(engine.port, timeout=WAIT) as client:
        assert client.next_events(250_000, timeout=WAIT) == [a_event(i) for i in range(3)]
    engine.assert_clean_exit()
