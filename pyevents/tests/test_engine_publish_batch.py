"""Batched publishing (``publish_batch``, docs/protocol.md) with the REAL engine (ee_test_engine).

Needs $EVENT_ENGINE_TEST_APP (see engine_fixture.py); fails without it.

Every test checks the accounting exactly: what a client sent is published (the external
plugin's ``published``) or refused (its ``events_refused``, or a whole batch answered with an
error and counted in ``rejected``), and what is published reaches the collector (``received``
plus ``unread`` plus ``after_end``), once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from engine_fixture import (  # noqa: F401  (fixtures are used by name)
    WAIT,
    RawClient,
    bulk_payload,
    plugin_env,
    start_engine,
)
from pyevents import BatchRefused, EngineGone, EngineTimeout, PluginClient, PublishRejected, protocol

UNDECLARED = "it does not start with the topic of an event this plugin may publish (TypeA, TypeC, Bulk)"


def texts(count: int, tag: str = "x") -> List[bytes]:
    return [b"TypeC%s-%d" % (tag.encode(), i) for i in range(count)]


def batch(session: str, sequence: int, events: List[bytes]) -> List[bytes]:
    return [protocol.publish_batch(session, sequence), *events]


class LosesSecondBatchReply(PluginClient):
    """A client whose second publish batch reaches the engine (and is published) but whose reply
    is lost for good: the connection is reset and EngineTimeout raised."""

    batches = 0

    def _request(self, request: Any, reply_timeout: Any, **options: Any) -> List[Any]:
        reply = super()._request(request, reply_timeout, **options)
        if isinstance(request, list):
            self.batches += 1
            if self.batches == 2:
                self._transport.teardown()
                raise EngineTimeout("reply lost (test)")
        return reply


def assert_collected_once(engine: Any, expected: List[bytes]) -> None:
    """The collector got exactly *expected* TypeC texts, in order, and the accounting adds up."""
    assert engine.collected_texts() == [event[len(b"TypeC"):].decode() for event in expected], engine.describe()
    plugin, collector = engine.report(), engine.report("collector")
    assert collector["received"] + collector["unread"] + collector["after_end"] == plugin["published"], \
        engine.describe()


def test_a_batch_is_published_in_order_and_answered_with_its_count(start_engine) -> None:
    events = texts(2500)
    engine = start_engine(collect=len(events))
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.publish_batch_events = 1000  # three requests: 1000, 1000, 500
        assert client.publish_many(events) == len(events)
    engine.assert_clean_exit()
    assert_collected_once(engine, events)
    report = engine.report()
    assert (report["published"], report["events_refused"], report["rejected"], report["batches_repeated"]) == \
        (2500, 0, 0, 0)


def test_refused_events_are_named_in_runs_and_the_others_published(start_engine) -> None:
    """Undeclared topics and empty frames are refused one by one; the reply says which and why."""
    good = texts(4, "ok")
    frames = [good[0], b"TypeBnot-mine", b"TypeBnot-mine-either", good[1], b"", good[2], b"nothing", good[3]]
    engine = start_engine(collect=len(good))
    with RawClient(engine.port) as raw:
        reply = raw.request(batch("raw", 1, frames))
        assert reply == [b"event-engine: published 1 4 4",
                         b"1 2 " + UNDECLARED.encode(),
                         b"4 4 an empty frame is not an event",
                         b"6 6 " + UNDECLARED.encode()]
        raw.quit()
    engine.assert_clean_exit()
    assert_collected_once(engine, good)
    report = engine.report()
    assert (report["published"], report["events_refused"], report["rejected"]) == (4, 4, 0)


def test_publish_many_raises_batch_refused_listing_every_refused_event(start_engine) -> None:
    good = texts(3, "p")
    frames = [good[0], b"TypeBno", good[1], b"TypeBno-2", good[2]]
    engine = start_engine(collect=len(good))
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.publish_batch_events = 2  # the refusals' indices count across batches
        with pytest.raises(BatchRefused) as refused:
            client.publish_many(frames)
    assert refused.value.published == 3
    assert refused.value.refused == [(1, UNDECLARED), (3, UNDECLARED)]
    assert refused.value.reason == UNDECLARED
    engine.assert_clean_exit()
    assert_collected_once(engine, good)
    assert (engine.report()["published"], engine.report()["events_refused"]) == (3, 2)


def test_a_batch_sent_again_after_a_lost_reply_is_answered_again_and_not_published_twice(start_engine) -> None:
    first, second = texts(3, "a"), texts(2, "b")
    engine = start_engine(collect=len(first) + len(second))
    with RawClient(engine.port) as raw:
        assert raw.request(batch("s1", 1, first)) == [b"event-engine: published 1 3 0"]
    with RawClient(engine.port) as again:  # a new connection, as a client retrying after a lost reply
        assert again.request(batch("s1", 1, first)) == [b"event-engine: published 1 3 0"]
        assert again.request(batch("s1", 1, first[:1])) == [b"event-engine: published 1 3 0"]  # the number decides
        assert again.request(batch("s1", 2, second)) == [b"event-engine: published 2 2 0"]
        stale = again.request(batch("s1", 1, first))  # older than the session's last: a mistake
        assert len(stale) == 1 and stale[0].startswith(protocol.REPLY_ERROR_PREFIX)
        again.quit()
    engine.assert_clean_exit()
    assert_collected_once(engine, first + second)
    report = engine.report()
    assert (report["published"], report["batches_repeated"], report["rejected"], report["events_refused"]) == \
        (5, 2, 1, 0)


def test_an_older_batch_number_of_a_session_is_refused_whole(start_engine) -> None:
    engine = start_engine(collect=2)
    with RawClient(engine.port) as raw:
        assert raw.request(batch("s", 5, texts(1, "five"))) == [b"event-engine: published 5 1 0"]
        reply = raw.request(batch("s", 4, texts(1, "four")))
        assert len(reply) == 1 and reply[0].startswith(protocol.REPLY_ERROR_PREFIX)
        assert b"batch 4 of this session comes after batch 5" in reply[0]
        # Another session is independent of this one.
        assert raw.request(batch("t", 1, texts(1, "t"))) == [b"event-engine: published 1 1 0"]
        raw.quit()
    engine.assert_clean_exit()
    assert_collected_once(engine, texts(1, "five") + texts(1, "t"))
    report = engine.report()
    assert (report["published"], report["rejected"], report["batches_repeated"]) == (2, 1, 0)


def test_the_client_sends_a_batch_again_when_its_reply_is_lost(start_engine) -> None:
    """PluginClient retries with the same session and number; the engine answers from memory."""

    class LosesFirstBatchReply(PluginClient):
        lost = 0

        def _request(self, request: Any, reply_timeout: Any, **options: Any) -> List[Any]:
            reply = super()._request(request, reply_timeout, **options)
            if isinstance(request, list) and not self.lost:  # the engine published it; its reply is "lost"
                self.lost += 1
                self._teardown()
                raise EngineTimeout("reply lost (test)")
            return reply

    events = texts(10, "r")
    engine = start_engine(collect=len(events))
    with LosesFirstBatchReply(engine.port, timeout=WAIT) as client:
        assert client.publish_many(events) == len(events)
        assert client.lost == 1
    engine.assert_clean_exit()
    assert_collected_once(engine, events)
    report = engine.report()
    assert (report["published"], report["batches_repeated"]) == (10, 1)


def test_batches_over_the_limits_are_refused_whole_and_nothing_is_published(start_engine) -> None:
    engine = start_engine(collect=1, max_message_size=4096)
    with RawClient(engine.port) as raw:
        # Each frame is within max_message_size, the batch is not.
        reply = raw.request(batch("big", 1, [b"TypeC" + b"y" * 3000, b"TypeC" + b"z" * 3000]))
        assert len(reply) == 1 and b"more than the application's max_message_size (4096)" in reply[0]
        too_many = raw.request(batch("many", 1, [b"TypeCn"] * (protocol.MAX_BATCH + 1)))
        assert len(too_many) == 1 and b"a batch carries at most 100000 events" in too_many[0]
        empty = raw.request([protocol.publish_batch("none", 1)])
        assert len(empty) == 1 and b"this one has none" in empty[0]
        malformed = raw.request([b"plugin_command: publish_batch bad/session 1", b"TypeCm"])
        assert len(malformed) == 1 and b"publish_batch takes a session" in malformed[0]
        zero = raw.request([b"plugin_command: publish_batch s 0", b"TypeCm"])
        assert len(zero) == 1 and zero[0].startswith(protocol.REPLY_ERROR_PREFIX)
        # The refused batches were not remembered: the same numbers work now.
        assert raw.request(batch("big", 1, [b"TypeCok"])) == [b"event-engine: published 1 1 0"]
        raw.quit()
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["ok"]
    report = engine.report()
    assert (report["published"], report["rejected"], report["events_refused"]) == (1, 5, 0)


def test_a_client_killed_mid_batch_publishes_all_of_it_or_none(start_engine, tmp_path: Path) -> None:
    """ZeroMQ delivers a multipart message whole or not at all: a batch cut by a SIGKILL (at
    several moments of its transfer) is never half published, and the engine carries on."""
    count, size = 60, 256 * 1024
    script = tmp_path / "killed_mid_batch.py"
    script.write_text(
        "import os, signal, sys, time, zmq\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from engine_fixture import bulk_payload\n"
        "from pyevents import protocol\n"
        "ctx = zmq.Context(); s = ctx.socket(zmq.REQ); s.connect('tcp://127.0.0.1:%s' % sys.argv[1])\n"
        f"frames = [protocol.publish_batch('killed', 1)] + [b'Bulk' + bulk_payload({size}, i) for i in range({count})]\n"
        "s.send_multipart(frames, copy=False)\n"
        "time.sleep(float(sys.argv[3]))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    engine = start_engine(collect=10**6, max_message_size=64 << 20, queue_bytes=1 << 30)
    # A connection of the plugin's stays up throughout, so the killed ones do not end the plugin.
    keeper = PluginClient(engine.port, timeout=WAIT)
    assert keeper.publish_many([b"TypeCbefore"]) == 1
    delays = [0.0, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5]
    for delay in delays:
        plugin = subprocess.Popen([sys.executable, str(script), str(engine.port), str(Path(__file__).parent),
                                   str(delay)], env=plugin_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            plugin.wait(WAIT)
        finally:
            if plugin.poll() is None:
                plugin.kill()
                plugin.wait(WAIT)
        assert plugin.returncode == -signal.SIGKILL, plugin.stderr.read() if plugin.stderr else ""
    # Whatever arrived, the port still serves.
    with keeper:
        assert keeper.publish_many([b"TypeCafter"]) == 1
    engine.wait_collected(2, "TypeC")
    engine.stop()
    report, collector = engine.report(), engine.report("collector")
    bulk = engine.collected("Bulk")
    whole_batches, rest = divmod(report["published"] - 2, count)
    assert rest == 0 and whole_batches <= len(delays), engine.describe()
    assert len(bulk) <= whole_batches * count
    assert all(record["pattern"] == "ok" and record["size"] == size for record in bulk)
    assert [record["index"] for record in bulk] == [i % count for i in range(len(bulk))]
    assert collector["received"] + collector["unread"] + collector["after_end"] == report["published"]
    assert report["events_refused"] == 0
    print(f"batches that arrived whole: {whole_batches} of {len(delays)}")


def test_buffered_publisher_flushes_by_count_bytes_time_before_waiting_and_at_the_end(start_engine) -> None:
    engine = start_engine(collect=8)
    with PluginClient(engine.port, timeout=WAIT) as client:
        by_count = client.publisher(max_events=2, max_delay=3600)
        by_count.publish(b"TypeCc-0")
        assert by_count.pending == 1
        by_count.publish(b"TypeCc-1")  # the second event fills it
        assert (by_count.pending, by_count.published) == (0, 2)
        by_count.close()

        by_bytes = client.publisher(max_events=1000, max_bytes=20, max_delay=3600)
        by_bytes.publish(b"TypeCb-0123456")
        assert by_bytes.pending == 1
        by_bytes.publish(b"TypeCb-7")  # 22 bytes now
        assert by_bytes.pending == 0
        by_bytes.close()

        at_once = client.publisher(max_delay=0)
        at_once.publish_event("TypeC", "t-0")
        assert at_once.pending == 0
        at_once.close()

        waiting = client.publisher(max_delay=3600)
        waiting.publish_event("TypeC", "w-0")
        assert client.next_event(timeout=0) is None  # the client flushed before asking for events
        assert waiting.pending == 0
        waiting.close()

        with client.publisher(max_delay=3600) as block:
            block.publish_event("TypeC", "e-0")
            block.publish_event("TypeC", "e-1")
            assert block.pending == 2
        assert block.published == 2
        with pytest.raises(Exception, match="closed"):
            block.publish(b"TypeClate")
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["c-0", "c-1", "b-0123456", "b-7", "t-0", "w-0", "e-0", "e-1"]
    assert engine.report()["published"] == 8


def test_buffered_refusals_raise_on_flush_with_indices_from_the_oldest(start_engine) -> None:
    engine = start_engine(collect=2)
    with PluginClient(engine.port, timeout=WAIT) as client:
        with client.publisher(max_delay=3600) as out:
            out.publish(b"TypeCfine-1")
            out.publish(b"TypeBrefused")
            out.publish(b"TypeCfine-2")
            with pytest.raises(BatchRefused) as refused:
                out.flush()
            assert (refused.value.published, refused.value.refused) == (2, [(1, UNDECLARED)])
            assert (out.pending, out.published) == (0, 2)
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["fine-1", "fine-2"]
    assert (engine.report()["published"], engine.report()["events_refused"]) == (2, 1)


def test_publish_many_checks_events_before_sending_any(start_engine) -> None:
    engine = start_engine(collect=1)
    with PluginClient(engine.port, timeout=WAIT) as client:
        with pytest.raises(ValueError, match="empty"):
            client.publish_many([b"TypeCa", b""])
        with pytest.raises(ValueError, match="reserved for commands"):
            client.publish_many([b"TypeCa", b"plugin_command: quit"])
        with pytest.raises(TypeError):
            client.publish_many([b"TypeCa", "TypeC as str"])  # type: ignore[list-item]
        payload = bytearray(b"TypeCbuffer")
        assert client.publish_many([memoryview(payload)]) == 1
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["buffer"]
    assert engine.report()["published"] == 1


def test_bulk_payloads_cross_in_batches_intact(start_engine) -> None:
    count, size = 12, 3 << 20
    engine = start_engine(collect=count, max_message_size=64 << 20, queue_bytes=1 << 30)
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.publish_batch_bytes = 16 << 20  # five per batch
        events = [b"Bulk" + bulk_payload(size, i) for i in range(count)]
        assert client.publish_many(events) == count
        # They come back too (the plugin subscribes Bulk): fetched, checked byte for byte.
        got = []
        while len(got) < count:
            got += client.next_events(count, timeout=WAIT)
        assert [zlib.crc32(event) for event in got] == [zlib.crc32(event) for event in events]
    engine.assert_clean_exit()
    bulk = engine.collected("Bulk")
    assert [(r["index"], r["size"], r["pattern"]) for r in bulk] == [(i, size, "ok") for i in range(count)]
    report = engine.report()
    assert (report["published"], report["received"], report["unread"]) == (count, count, 0)


def test_a_batch_whose_refusals_are_scattered_is_refused_whole(start_engine) -> None:
    """Refusals that alternate would make a reply of a frame per event (many times the request):
    over 1,000 runs of refusals, the batch is refused whole before anything is published."""
    scattered = [b"" if i % 2 else b"TypeBno" for i in range(2_002)]  # 2,002 runs
    engine = start_engine(collect=1)
    with RawClient(engine.port) as raw:
        reply = raw.request(batch("huge", 1, [b"TypeCnot-kept", *scattered]))
        assert len(reply) == 1 and b"refused events form 2002 runs, more than 1000" in reply[0]
        within = raw.request(batch("huge", 1, [b"TypeCkept", *scattered[:1000]]))  # 1,000 runs: fine
        assert within[0] == b"event-engine: published 1 1 1000" and len(within) == 1 + 1000
        assert raw.request(batch("huge", 1, [b"TypeCkept", *scattered[:1000]])) == within  # remembered
        raw.quit()
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["kept"]
    report = engine.report()
    assert (report["published"], report["events_refused"], report["rejected"], report["batches_repeated"]) == \
        (1, 1000, 1, 1)


def test_a_dealer_batch_with_empty_events_is_read_as_a_batch(start_engine) -> None:
    """Without a REQ delimiter the batch starts right after the routing id, whatever empty frames
    (refused events) it holds: every event is published or refused, none lost."""
    import zmq

    engine = start_engine(collect=2)
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.RCVTIMEO, int(WAIT * 1000))
    try:
        dealer.connect(f"tcp://127.0.0.1:{engine.port}")
        dealer.send_multipart([protocol.publish_batch("dealer", 1), b"TypeCa", b"", b"TypeCb"])
        assert dealer.recv_multipart() == [b"event-engine: published 1 2 1", b"1 1 an empty frame is not an event"]
    finally:
        dealer.close()
        context.term()
    with PluginClient(engine.port, timeout=WAIT) as client:
        client.ping()
    engine.wait_collected(2, "TypeC")
    engine.stop()
    assert engine.collected_texts() == ["a", "b"]
    report = engine.report()
    assert (report["published"], report["events_refused"], report["rejected"]) == (2, 1, 0)


def test_a_stop_refuses_the_rest_of_a_batch_and_every_event_is_counted(start_engine) -> None:
    """A stop in the middle of a batch: what was handed on is published, the rest refused as
    'stopping' in one run to the end, and the reply still reaches the client."""
    count = protocol.MAX_BATCH
    engine = start_engine(collect=10**6, hwm=2)  # the collector's small inbox holds the batch back
    result: List[Any] = []
    with RawClient(engine.port) as raw:
        import threading

        sender = threading.Thread(target=lambda: result.append(raw.request(batch("stop", 1, texts(count, "s")))))
        sender.start()
        engine.wait_collected(100, "TypeC")
        engine.process.send_signal(signal.SIGTERM)
        sender.join(WAIT)
        assert not sender.is_alive() and result, engine.describe()
    engine.finish()
    parsed = protocol.parse_batch_reply(result[0])
    assert parsed is not None, result[0][:3]
    sequence, accepted, runs = parsed
    assert sequence == 1 and 100 <= accepted < count
    assert runs == [(accepted, count - 1, "the application is stopping; not published")]
    report, collector = engine.report(), engine.report("collector")
    assert (report["published"], report["events_refused"]) == (accepted, count - accepted)
    assert report["publishes_abandoned"] in (0, 1)  # the refused event the stop caught waiting, if any
    assert collector["received"] + collector["unread"] + collector["after_end"] == accepted


def test_the_buffered_publisher_of_docs_python_md_answers_every_event(start_engine) -> None:
    """docs/python.md's snippet, as it is there: one answer per event, published in batches."""
    count = 300
    engine = start_engine(emit_a=count, collect=count)
    with PluginClient(engine.port, timeout=WAIT) as probe:
        contract = probe.load_contract()
        port = engine.port
        probe.close(timeout=0)
    with PluginClient(port, contract=contract) as client, client.publisher(max_events=500) as out:
        for event in client.events(timeout=30):  # ends after 30 s without an event
            out.publish_typed("TypeC", f"seen {event.value}")
            if out.published + out.pending == count:
                break
    engine.assert_clean_exit()
    assert engine.collected_texts() == [f"seen A-{i}" for i in range(count)]
    report = engine.report()
    assert (report["received"], report["published"], report["events_refused"]) == (count, count, 0)


def flush_losing_second_reply(client: LosesSecondBatchReply, frames: List[bytes],
                              per_batch: int) -> Tuple[Any, Any]:
    """Buffers *frames* in a publisher of *client*, *per_batch* to a batch and no retries, and
    flushes: the flush fails on batch 2's lost reply. The publisher and pytest's ExceptionInfo."""
    client.publish_batch_events = per_batch
    client.publish_retries = 0
    out = client.publisher(max_events=1000, max_delay=3600)
    for frame in frames:
        out.publish(frame)
    with pytest.raises(EngineTimeout) as failed:
        out.flush()
    return out, failed


def test_a_flush_that_fails_keeps_only_the_unconfirmed_and_sends_them_under_the_old_number(start_engine) -> None:
    """Batch 2 of 3 is published but its reply is lost for good: publish_many says how many were
    confirmed, the publisher keeps the rest, and the next flush sends batch 2 again under its
    number, so the engine answers it from memory: every event published once."""

    events = texts(30, "k")
    engine = start_engine(collect=len(events))
    with LosesSecondBatchReply(engine.port, timeout=WAIT) as client:
        out, failed = flush_losing_second_reply(client, events, per_batch=10)
        assert (getattr(failed.value, "handled", None), getattr(failed.value, "published", None)) == (10, 10)
        assert (out.pending, out.published) == (20, 10)
        assert out.flush() == 20
        assert (out.pending, out.published) == (0, 30)
        out.close()
    engine.assert_clean_exit()
    assert_collected_once(engine, events)
    report = engine.report()
    assert (report["published"], report["batches_repeated"]) == (30, 1)


def test_errors_of_a_flush_before_waiting_come_from_the_publisher_not_the_fetch(start_engine) -> None:
    engine = start_engine(emit_a=1, collect=1)
    with PluginClient(engine.port, timeout=WAIT) as client:
        out = client.publisher(max_delay=3600)
        out.publish(b"TypeBnot-mine")
        out.publish(b"TypeCfine")
        assert client.next_event(timeout=WAIT) == b"TypeAA-0"  # flushed before waiting; no raise here
        assert out.pending == 0
        with pytest.raises(BatchRefused) as refused:
            out.publish(b"TypeCnever-buffered")  # the flush's refusal, raised by the next call
        assert (refused.value.published, refused.value.refused) == (1, [(0, UNDECLARED)])
        assert out.pending == 0 and out.published == 1
        out.close()
    engine.assert_clean_exit()
    assert engine.collected_texts() == ["fine"]
    assert (engine.report()["published"], engine.report()["events_refused"]) == (1, 1)


def test_a_plugin_answering_through_a_publisher_ends_when_the_engine_does(start_engine) -> None:
    """The README's loop: once the application has gone, the flush before the next fetch raises
    EngineGone, which ends the iteration (it once retried forever)."""
    import threading

    engine = start_engine(emit_a=1, collect=10**6)
    done = threading.Event()
    answered: List[bytes] = []
    errors: List[BaseException] = []

    def plugin() -> None:
        try:
            with PluginClient(engine.port) as client, client.publisher(max_delay=3600) as out:
                for raw in client:
                    answered.append(raw)
                    out.publish_event("TypeC", b"seen " + raw)
                    engine.stop()  # the application ends while the answer is buffered
        except EngineGone as e:  # the publisher's close says what it could not publish
            errors.append(e)
        done.set()

    thread = threading.Thread(target=plugin, daemon=True)
    thread.start()
    thread.join(WAIT)
    assert done.is_set(), "the plugin's loop did not end after the engine had gone"
    assert answered == [b"TypeAA-0"]
    assert len(errors) == 1 and "1 buffered events were not published" in str(errors[0])


def test_quit_with_buffered_events_and_no_engine_returns_within_its_timeout() -> None:
    from engine_fixture import free_port

    client = PluginClient(free_port(), timeout=WAIT)  # nothing listens there
    out = client.publisher(max_delay=3600)
    out.publish(b"TypeClost")
    import threading

    result: List[bool] = []
    thread = threading.Thread(target=lambda: result.append(client.quit(timeout=0.5)), daemon=True)
    thread.start()
    thread.join(WAIT)
    assert result == [False]
    assert out.pending == 1  # not published, and said in a warning


def test_after_a_failure_refused_events_are_not_sent_again(start_engine) -> None:
    """Batch 1 has a refusal, batch 2's reply is lost for good: the publisher keeps what comes
    after batch 1 (handled: published or refused), not after the count published."""

    good = texts(9, "h")
    frames = [good[0], b"TypeBrefused", *good[1:]]  # batch 1: 4 frames, one refused; batch 2: 4; batch 3: 2
    engine = start_engine(collect=len(good))
    with LosesSecondBatchReply(engine.port, timeout=WAIT) as client:
        out, failed = flush_losing_second_reply(client, frames, per_batch=4)
        assert (getattr(failed.value, "handled", None), getattr(failed.value, "published", None)) == (4, 3)
        assert (out.pending, out.published) == (6, 3)
        assert out.flush() == 6
        out.close()
    engine.assert_clean_exit()
    assert_collected_once(engine, good)
    report = engine.report()
    assert (report["published"], report["events_refused"], report["batches_repeated"]) == (9, 1, 1)
